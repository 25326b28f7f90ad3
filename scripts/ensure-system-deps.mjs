#!/usr/bin/env node
// Installs the Debian packages the test suite drives for real (Chromium, redis-server, tmux)
// when they are missing, so `npm install && npm test` works on a fresh machine.
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";

const wanted = [
  { pkg: "chromium", bin: "/usr/bin/chromium" },
  { pkg: "redis-server", bin: "/usr/bin/redis-server" },
  { pkg: "tmux", bin: "/usr/bin/tmux" },
];
const missing = wanted.filter((w) => !existsSync(w.bin)).map((w) => w.pkg);
if (missing.length === 0) process.exit(0);

const isCI = process.env.CI !== undefined && !["", "false", "0"].includes(process.env.CI);
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const sudo = isRoot ? [] : ["sudo"];
try {
  console.error(`structream tests: installing ${missing.join(", ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args) =>
    execFileSync(sudo[0] ?? args[0], sudo.length ? args : args.slice(1), { stdio: "inherit", env });
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", ...missing]);
} catch (error) {
  console.error(`structream tests: could not install ${missing.join(", ")}: ${error.message}`);
  // Under CI a suite that needs them fails anyway (test/support/requires.ts); stop here with the
  // cause instead. Locally those suites skip with a warning.
  if (isCI) process.exit(1);
}
const still = wanted.filter((w) => !existsSync(w.bin)).map((w) => w.pkg);
if (still.length > 0) {
  console.error(`structream tests: ${still.join(", ")} still missing after apt-get install`);
  if (isCI) process.exit(1);
}
