/**
 * The tarball is the product: `npm pack` (whose `prepack` builds dist/ and the demo page from
 * scratch) in a copy of the repository, installed into a scratch project in the OS's temporary
 * folder as a user would, then every subpath imported, the CLI's `--version`, `run` against the
 * simulator, and `serve` with its page and assets. The copy keeps the pack's rebuild away from the
 * dist/ that other test files read while this one runs.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "node:child_process";
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cleanEnv, ROOT } from "./cli-support.ts";

const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
  name: string;
  version: string;
  exports: Record<string, unknown>;
};

/** npm as the test was started with (`npm test` sets npm_execpath), else the one on PATH. */
function npm(args: string[], cwd: string): string {
  const execpath = process.env.npm_execpath;
  const [command, argv] = execpath?.endsWith(".js") ? [process.execPath, [execpath, ...args]] : ["npm", args];
  try {
    return execFileSync(command, argv, {
      cwd,
      encoding: "utf8",
      env: cleanEnv({
        npm_config_audit: "false",
        npm_config_fund: "false",
        npm_config_update_notifier: "false",
      }),
      stdio: ["ignore", "pipe", "pipe"],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(
      `npm ${args.join(" ")} failed in ${cwd}: ${e.message}\n${e.stdout ?? ""}${e.stderr ?? ""}`,
    );
  }
}

let scratch: string;
let app: string;
let tarball: string;

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), "structream-tarball-"));
  // The files a fresh clone has (tracked, plus new files not ignored), without dist/ or demo/dist/.
  const copy = join(scratch, "repo");
  const files = execFileSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], {
    cwd: ROOT,
    encoding: "utf8",
  })
    .split("\0")
    .filter((f) => f !== "");
  for (const file of files) {
    const from = join(ROOT, file);
    const to = join(copy, file);
    mkdirSync(dirname(to), { recursive: true });
    try {
      cpSync(from, to, { dereference: false });
    } catch (error) {
      // A tracked file deleted in the working tree is not part of the package.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  symlinkSync(join(ROOT, "node_modules"), join(copy, "node_modules"), "dir");

  npm(["pack", "--pack-destination", scratch], copy);
  const packed = readdirSync(scratch).filter((f) => f.endsWith(".tgz"));
  expect(packed).toEqual([`${pkg.name}-${pkg.version}.tgz`]);
  tarball = join(scratch, packed[0]);

  app = join(scratch, "app");
  mkdirSync(app);
  writeFileSync(
    join(app, "package.json"),
    `${JSON.stringify({ name: "scratch-app", version: "1.0.0", private: true, type: "module" }, null, 2)}\n`,
  );
  // React for the `structream/react` subpath (an optional peer dependency).
  npm(["install", "--prefer-offline", "--no-save", tarball, "react@19"], app);
}, 600_000);

afterAll(() => {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
});

function bin(): string {
  return join(app, "node_modules", ".bin", "structream");
}

describe("the packed tarball installed into a scratch project", () => {
  it("holds the built library, the built demo page and the examples, and no tests", () => {
    const listing = execFileSync("tar", ["-tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(listing).toContain("package/dist/index.js");
    expect(listing).toContain("package/dist/index.d.ts");
    expect(listing).toContain("package/dist/cli/main.js");
    expect(listing).toContain("package/demo/dist/index.html");
    expect(listing).toContain("package/examples/recipe.schema.json");
    expect(listing.filter((f) => /\.test(-d)?\.tsx?$|\.test\.js$/.test(f))).toEqual([]);
  });

  it("imports every subpath of its exports map by package name", () => {
    const subpaths = Object.keys(pkg.exports)
      .filter((key) => !key.endsWith(".json"))
      .map((key) => (key === "." ? pkg.name : `${pkg.name}${key.slice(1)}`));
    const script = `for (const s of ${JSON.stringify(subpaths)}) { const m = await import(s); console.log(s + " " + Object.keys(m).length); }`;
    const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
      cwd: app,
      encoding: "utf8",
    });
    const lines = out.trim().split("\n");
    expect(lines.map((l) => l.split(" ")[0])).toEqual(subpaths);
    for (const line of lines) expect(Number(line.split(" ")[1])).toBeGreaterThan(0);
  });

  it("runs `structream --version`", () => {
    const out = execFileSync(bin(), ["--version"], { cwd: app, encoding: "utf8", env: cleanEnv() });
    expect(out.trim()).toBe(pkg.version);
  });

  it("runs `structream run` against the simulator with a shipped example schema", () => {
    const out = execFileSync(
      bin(),
      [
        "run",
        "--simulator",
        "--seed",
        "7",
        "--schema",
        "node_modules/structream/examples/article-summary.schema.json",
        "--prompt",
        "Summarize the history of the bicycle",
      ],
      { cwd: app, encoding: "utf8", env: cleanEnv(), stdio: ["ignore", "pipe", "pipe"] },
    );
    const value = JSON.parse(out) as Record<string, unknown>;
    expect(typeof value.title).toBe("string");
  });

  it("type-checks a consumer's imports of every subpath against the shipped declarations", () => {
    writeFileSync(
      join(app, "check.ts"),
      [
        'import { compileSchema, structuredStream, type StreamEvent } from "structream";',
        'import { createParser, type JsonParser } from "structream/json";',
        'import { createRelay } from "structream/server";',
        'import { subscribe } from "structream/client";',
        'import { startSimulator } from "structream/simulator";',
        'import { useStructuredStream } from "structream/react";',
        "const parser: JsonParser = createParser();",
        'parser.push("{}");',
        "export const used = [compileSchema, structuredStream, createRelay, subscribe, startSimulator, useStructuredStream, parser];",
        "export type Event = StreamEvent<{ title: string }>;",
        "",
      ].join("\n"),
    );
    writeFileSync(
      join(app, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2023", "DOM", "DOM.Iterable"],
          strict: true,
          noEmit: true,
          // The React subpath's declarations import React's types, which this app did not install.
          skipLibCheck: true,
          types: [],
        },
        files: ["check.ts"],
      }),
    );
    const tsc = join(ROOT, "node_modules", "typescript", "bin", "tsc");
    const result = spawnSync(process.execPath, [tsc, "-p", app], { cwd: app, encoding: "utf8" });
    expect(`${result.stdout}${result.stderr}`).toBe("");
    expect(result.status).toBe(0);
  });

  it("serves the demo page and every asset it references with 200", async () => {
    const child: ChildProcess = spawn(bin(), ["serve", "--port", "0"], {
      cwd: app,
      env: cleanEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        let err = "";
        child.stderr?.setEncoding("utf8").on("data", (d: string) => {
          err += d;
        });
        child.stdout?.setEncoding("utf8").on("data", (d: string) => {
          out += d;
          const match = /structream demo on (http:\/\/\S+)/.exec(out);
          if (match !== null) resolve(match[1]);
        });
        child.once("exit", (code) => reject(new Error(`serve exited with ${code}:\n${out}${err}`)));
      });
      const page = await fetch(`${url}/`);
      expect(page.status).toBe(200);
      const html = await page.text();
      expect(html).not.toMatch(/not built/i);
      const assets = [...html.matchAll(/(?:src|href)="(\.?\/?assets\/[^"]+)"/g)].map((m) => m[1]);
      expect(assets.length).toBeGreaterThan(0);
      for (const asset of assets) {
        const response = await fetch(new URL(asset, `${url}/`));
        expect([asset, response.status]).toEqual([asset, 200]);
        await response.arrayBuffer();
      }
      const health = await fetch(`${url}/api/config`);
      expect(health.status).toBe(200);
      await health.arrayBuffer();
    } finally {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    }
  });
});
