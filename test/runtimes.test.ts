/**
 * Runs where users deploy: one scenario (test/fixtures/runtimes/scenario.mjs: the parser, a stream
 * checked early and finally by a zod schema, the relay and the client) against the built dist/,
 * under Node with code generation from strings forbidden (as Cloudflare Workers and a strict CSP
 * forbid `new Function`), Bun, Deno, and workerd through Miniflare. Each must give the same report.
 * Under CI=true a runtime that cannot start fails the run (test/support/requires.ts).
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import { ensureBuilt, ROOT } from "./cli-support.ts";
import { expected } from "./fixtures/runtimes/scenario.mjs";
import { requires } from "./support/requires.ts";
import { bunPath, denoPath, hasMiniflare } from "./support/runtimes.ts";

const RUN = fileURLToPath(new URL("./fixtures/runtimes/run.mjs", import.meta.url));
const WORKER = fileURLToPath(new URL("./fixtures/runtimes/worker.mjs", import.meta.url));

beforeAll(() => {
  ensureBuilt();
});

function report(command: string, args: readonly string[], env: Record<string, string> = {}): unknown {
  const result = spawnSync(command, args, {
    cwd: ROOT,
    encoding: "utf8",
    timeout: 120_000,
    env: { ...process.env, NO_COLOR: "1", ...env },
  });
  if (result.status !== 0) {
    throw new Error(
      `${command} ${args.join(" ")} exited with ${result.status}:\n${result.stdout}${result.stderr}`,
    );
  }
  return JSON.parse(result.stdout.trim().split("\n").pop() ?? "");
}

describe("Node with code generation from strings forbidden", () => {
  it("parses, streams with a zod schema checked early and finally, and relays to the client", () => {
    const got = report(process.execPath, ["--disallow-code-generation-from-strings", RUN]);
    expect(got).toEqual({ codeGeneration: "forbidden", ...expected });
  });
});

requires(
  "bun",
  bunPath !== undefined,
  "npm install (the bun devDependency brings its binary)",
)("Bun", () => {
  it("parses, streams with a zod schema checked early and finally, and relays to the client", () => {
    const got = report(bunPath!, [RUN]);
    expect(got).toEqual({ codeGeneration: "allowed", ...expected });
  });
});

requires(
  "deno",
  denoPath !== undefined,
  "npm install (the deno devDependency brings its binary)",
)("Deno", () => {
  it("parses, streams with a zod schema checked early and finally, and relays to the client", () => {
    // node_modules is read as it is (package.json beside it); no lockfile written, nothing fetched.
    const got = report(denoPath!, ["run", "--no-lock", "--allow-read", "--allow-env", RUN], {
      DENO_NO_UPDATE_CHECK: "1",
    });
    expect(got).toEqual({ codeGeneration: "allowed", ...expected });
  });
});

requires(
  "miniflare and workerd",
  hasMiniflare,
  "npm install (the miniflare devDependency brings workerd)",
)("workerd through Miniflare", () => {
  it("parses, streams with a zod schema checked early and finally, and relays to the client", async () => {
    const bundle = await build({
      entryPoints: [WORKER],
      bundle: true,
      format: "esm",
      platform: "browser",
      conditions: ["workerd", "worker", "browser"],
      write: false,
      logLevel: "silent",
    });
    const { Miniflare } = await import("miniflare");
    const mf = new Miniflare({
      modules: true,
      script: bundle.outputFiles[0].text,
      compatibilityDate: "2025-01-01",
    });
    try {
      const response = await mf.dispatchFetch("http://worker.local/");
      const body = await response.text();
      expect([response.status, body.slice(0, 2_000)]).toEqual([200, expect.any(String)]);
      expect(JSON.parse(body)).toEqual({ codeGeneration: "forbidden", ...expected });
    } finally {
      await mf.dispose();
    }
  }, 120_000);
});
