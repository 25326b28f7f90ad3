#!/usr/bin/env node
// `npm pack` / `npm publish`: the tarball is the product, so build what `files` lists from scratch
// (dist/ and demo/dist/ are gitignored; stale files from an old build must not ship).
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../", import.meta.url));
rmSync(new URL("../dist", import.meta.url), { recursive: true, force: true });
rmSync(new URL("../demo/dist", import.meta.url), { recursive: true, force: true });
const npm = process.env.npm_execpath;
const run = (script) =>
  npm?.endsWith(".js")
    ? execFileSync(process.execPath, [npm, "run", script], { cwd: root, stdio: ["ignore", 2, 2] })
    : execFileSync("npm", ["run", script], { cwd: root, stdio: ["ignore", 2, 2] });
run("build");
run("build:demo");
