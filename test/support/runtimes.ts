/**
 * The JavaScript runtimes the runtime tests start: Bun and Deno from their npm packages (`bun`,
 * `deno`; their postinstall step moves the platform binary in place, and when an npm that does
 * not run install scripts left it out, the platform package still holds it), workerd through
 * Miniflare (which finds workerd's binary itself).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const MODULES = fileURLToPath(new URL("../../node_modules/", import.meta.url));

function runs(path: string): boolean {
  if (!existsSync(path)) return false;
  const result = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 60_000 });
  return result.status === 0;
}

function firstThatRuns(candidates: readonly string[]): string | undefined {
  return candidates.map((c) => join(MODULES, c)).find(runs);
}

const arch = process.arch === "arm64" ? "aarch64" : "x64";

/** Bun's binary, or undefined when none of its packages holds one that runs here. */
export const bunPath: string | undefined = firstThatRuns([
  "bun/bin/bun.exe",
  `@oven/bun-${process.platform}-${arch}/bin/bun`,
  `@oven/bun-${process.platform}-${arch}-baseline/bin/bun`,
  `@oven/bun-${process.platform}-${arch}-musl/bin/bun`,
]);

/** Deno's binary, or undefined when none of its packages holds one that runs here. */
export const denoPath: string | undefined = firstThatRuns([
  "deno/deno",
  `@deno/${process.platform}-${process.arch}-glibc/deno`,
  `@deno/${process.platform}-${process.arch}/deno`,
  `@deno/${process.platform}-${process.arch}-musl/deno`,
]);

/** True when Miniflare and a workerd binary for this platform are installed. */
export const hasMiniflare: boolean =
  existsSync(join(MODULES, "miniflare/package.json")) && existsSync(join(MODULES, "workerd/package.json"));
