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
  // The tests that need these skip with a message when they are still absent.
  console.error(`structream tests: could not install ${missing.join(", ")}: ${error.message}`);
}
