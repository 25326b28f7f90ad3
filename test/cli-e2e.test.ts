/**
 * The CLI as a user runs it: `node dist/cli/main.js` in a child process, not on a terminal (so
 * stderr carries NDJSON events), against the simulator it starts in-process, for a complete
 * answer and for every fault the simulator injects.
 */
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSchema } from "../src/schema/index.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { ARTICLE_SCHEMA, type CliResult, cleanEnv, ensureBuilt, ROOT, runBuiltCli } from "./cli-support.ts";

const PROMPT = "Summarize the history of the printing press";
let dir: string;
let schema: Record<string, unknown>;

beforeAll(async () => {
  ensureBuilt();
  dir = await mkdtemp(join(tmpdir(), "structream-cli-"));
  schema = JSON.parse(await readFile(join(ROOT, ARTICLE_SCHEMA), "utf8"));
}, 200_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const run = (...args: string[]) =>
  runBuiltCli(["run", "--schema", ARTICLE_SCHEMA, "--prompt", PROMPT, "--pace", "fast", ...args]);

function types(result: CliResult): string[] {
  return result.events.map((e) => e.type);
}

function errorEvent(result: CliResult) {
  const error = result.events.at(-1)!;
  expect(error.type).toBe("error");
  return error as {
    type: "error";
    code: string;
    message: string;
    hint: string;
    exitCode: number;
    partial: unknown;
  };
}

async function expectValid(value: unknown): Promise<void> {
  const outcome = await compileSchema(schema).validateFinal(value);
  expect(outcome).not.toHaveProperty("issues");
}

describe("structream run against the built-in simulator", () => {
  it("prints exactly the validated JSON on stdout, events on stderr, and exits 0", async () => {
    const result = await run();
    expect(result.code).toBe(0);
    const complete = result.events.find((e) => e.type === "complete") as unknown as {
      value: unknown;
      stats: { deltas: number };
    };
    expect(result.stdout).toBe(`${JSON.stringify(complete.value, null, 2)}\n`);
    await expectValid(JSON.parse(result.stdout));
    expect(complete.stats.deltas).toBeGreaterThan(10);

    // The simulator says it answers, in one record; then the stream's life in order.
    expect(result.events[0]).toMatchObject({
      type: "info",
      message: expect.stringMatching(/built-in simulator answers/),
    });
    const seen = new Set(types(result));
    for (const type of ["status", "partial", "field", "complete"]) expect(seen).toContain(type);
    expect(types(result).at(-1)).toBe("complete");
    const statuses = result.events.filter((e) => e.type === "status").map((e) => e.status);
    expect(statuses).toEqual(["connecting", "streaming", "validating", "complete"]);
    const fields = result.events.filter((e) => e.type === "field").map((e) => e.pointer);
    for (const key of Object.keys(schema.properties as object)) expect(fields).toContain(`/${key}`);
    // Every line of stderr is an NDJSON record.
    for (const line of result.stderr.trimEnd().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
    const partials = result.events.filter((e) => e.type === "partial") as unknown as {
      progress: { percent: number };
    }[];
    expect(partials.at(-1)!.progress.percent).toBe(100);
  });

  it("writes the JSON to --out and nothing to stdout", async () => {
    const out = join(dir, "answer.json");
    const result = await run("--out", out);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    await expectValid(JSON.parse(await readFile(out, "utf8")));
  });

  it.each([["openai-responses"], ["anthropic"], ["gemini"], ["ollama"]])(
    "speaks the %s wire format through the simulator",
    async (provider) => {
      // --simulator: with --provider ollama, the CLI would call a local Ollama (it needs no key).
      const result = await run("--provider", provider, "--simulator");
      expect(result.code).toBe(0);
      expect(result.events[0]!.message).toContain(`(${provider})`);
      await expectValid(JSON.parse(result.stdout));
    },
  );

  it("loads a zod schema from a TypeScript module", async () => {
    const result = await runBuiltCli([
      "run",
      "--schema",
      "examples/article-summary.schema.ts",
      "--prompt",
      PROMPT,
      "--pace",
      "fast",
    ]);
    expect(result.code).toBe(0);
    await expectValid(JSON.parse(result.stdout));
  });

  it.each([
    ["sim-refusal", 3, "refusal"],
    ["sim-truncate", 4, "truncated"],
    ["sim-schema-violation", 5, "schema_mismatch"],
    ["sim-invalid-json", 6, "invalid_json"],
    ["sim-drop", 7, "connection_lost"],
    ["sim-429", 7, "rate_limited"],
    ["sim-500", 7, "provider_error"],
    ["sim-error-event", 7, "provider_error"],
    ["sim-malformed", 7, "provider_error"],
  ])(
    "fails %s with exit code %i (%s), nothing on stdout, and the reason as the last event",
    async (model, code, errorCode) => {
      const result = await run("--model", model, "--max-retries", "0");
      expect(result.code).toBe(code);
      expect(result.stdout).toBe("");
      const error = errorEvent(result);
      expect(error).toMatchObject({ code: errorCode, exitCode: code });
      expect(error.message.length).toBeGreaterThan(10);
      expect(error.hint).toMatch(/\.$/);
      expect(types(result)).not.toContain("complete");
    },
  );

  it("keeps what arrived before a truncation in the error's partial value", async () => {
    const result = await run("--model", "sim-truncate");
    const error = errorEvent(result);
    expect(error.partial).toMatchObject({ title: expect.any(String) });
  });

  it("times out a stalled stream after the retries (exit 7)", async () => {
    const result = await run("--model", "sim-stall", "--timeout", "300ms", "--max-retries", "1");
    expect(result.code).toBe(7);
    expect(types(result).filter((t) => t === "retry")).toHaveLength(1);
    expect(errorEvent(result)).toMatchObject({ code: "timeout" });
  });

  it("retries a transient fault and then succeeds, reporting the retry", async () => {
    for (const model of ["sim-drop-once", "sim-500-once"]) {
      const result = await run("--model", model);
      expect(result.code).toBe(0);
      const retries = result.events.filter((e) => e.type === "retry");
      expect(retries).toHaveLength(1);
      expect(retries[0]).toMatchObject({ attempt: 1, delayMs: expect.any(Number), code: expect.any(String) });
      await expectValid(JSON.parse(result.stdout));
    }
  });

  it("gives up after --max-retries", async () => {
    const result = await run("--model", "sim-drop", "--max-retries", "2");
    expect(result.code).toBe(7);
    expect(result.events.filter((e) => e.type === "retry").map((e) => e.attempt)).toEqual([1, 2]);
  });

  it("applies --fault to every request of the in-process simulator", async () => {
    const result = await run("--fault", "refusal");
    expect(result.code).toBe(3);
  });

  it("aborts cleanly on Ctrl-C, keeping what arrived (exit 130)", async () => {
    let sent = false;
    const result = await runBuiltCli(
      ["run", "--schema", ARTICLE_SCHEMA, "--prompt", PROMPT, "--pace", "40"],
      {
        onEvent: (event, child) => {
          if (!sent && event.type === "field") {
            sent = true;
            child.kill("SIGINT");
          }
        },
      },
    );
    expect(result.code).toBe(130);
    expect(result.stdout).toBe("");
    expect(errorEvent(result)).toMatchObject({
      code: "aborted",
      exitCode: 130,
      partial: { title: expect.any(String) },
    });
  });
});

describe("bad usage", () => {
  it.each([
    [["run", "--prompt", "x"], /--schema is required/],
    [["run", "--schema", ARTICLE_SCHEMA, "--prompt", "x", "--colour"], /Unknown option '--colour'/],
    [["run", "--schema", "nope.json", "--prompt", "x"], /nope\.json: no such file/],
    [["frobnicate"], /unknown command "frobnicate"/],
    [["simulate", "--port", "x"], /--port needs a whole number/],
  ])("%j exits 2 with one line that says what is wrong and where to look", async (args, message) => {
    const result = await runBuiltCli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/--help/);
  });

  it("prints the help of every command, with examples and the exit codes", async () => {
    for (const command of ["run", "parse", "simulate"]) {
      const result = await runBuiltCli([command, "--help"]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(new RegExp(`^Usage: structream ${command}`));
      expect(result.stdout).toContain("Examples:");
    }
    const main = await runBuiltCli(["--help"]);
    expect(main.code).toBe(0);
    expect(main.stdout).toContain("130  interrupted by Ctrl-C");
    expect((await runBuiltCli(["--version"])).stdout).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("structream parse", () => {
  let simulator: Simulator;
  let capture: string;
  let anthropicCapture: string;

  beforeAll(async () => {
    simulator = await startSimulator({ pace: "fast" });
    const chat = await fetch(`${simulator.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "recorder",
        stream: true,
        messages: [{ role: "user", content: PROMPT }],
        response_format: { type: "json_schema", json_schema: { name: "article", schema, strict: true } },
      }),
    });
    capture = join(dir, "chat.sse");
    await writeFile(capture, await chat.text());
    const messages = await fetch(`${simulator.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "recorder",
        stream: true,
        max_tokens: 4096,
        messages: [{ role: "user", content: PROMPT }],
        output_config: { format: { type: "json_schema", schema } },
      }),
    });
    anthropicCapture = join(dir, "anthropic.sse");
    await writeFile(anthropicCapture, await messages.text());
  });

  afterAll(async () => {
    await simulator.close();
  });

  it("renders a recorded SSE capture and prints its validated JSON", async () => {
    for (const file of [capture, anthropicCapture]) {
      const result = await runBuiltCli(["parse", file, "--schema", ARTICLE_SCHEMA]);
      expect(result.code).toBe(0);
      await expectValid(JSON.parse(result.stdout));
      const complete = result.events.find((e) => e.type === "complete") as unknown as { value: unknown };
      expect(JSON.parse(result.stdout)).toEqual(complete.value);
    }
  });

  it("reads stdin, raw JSON included, without a schema", async () => {
    const result = await runBuiltCli(["parse", "-"], { input: '{"title":"Hi","tags":["a","b"]}' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`${JSON.stringify({ title: "Hi", tags: ["a", "b"] }, null, 2)}\n`);
    expect(types(result)).toContain("field");
  });

  it("replays at a given pace", async () => {
    const started = Date.now();
    const result = await runBuiltCli(["parse", capture, "--pace", "2000"]);
    expect(result.code).toBe(0);
    const events = result.events.filter((e) => e.type === "partial").length;
    expect(events).toBeGreaterThan(5);
    expect(Date.now() - started).toBeGreaterThan(50);
  });

  it("replays a run saved with --record at the speed it arrived", async () => {
    const recording = join(dir, "run.ndjson");
    const recorded = await runBuiltCli([
      "run",
      "--schema",
      ARTICLE_SCHEMA,
      "--prompt",
      PROMPT,
      "--pace",
      "400",
      "--record",
      recording,
    ]);
    expect(recorded.code).toBe(0);
    const lines = (await readFile(recording, "utf8")).trimEnd().split("\n");
    const last = JSON.parse(lines.at(-1)!) as { t: number; chunk: string };
    expect(lines.length).toBeGreaterThan(20);
    expect(last.t).toBeGreaterThan(200);
    const started = Date.now();
    const replayed = await runBuiltCli([
      "parse",
      recording,
      "--schema",
      ARTICLE_SCHEMA,
      "--pace",
      "recorded",
    ]);
    expect(replayed.code).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(last.t);
    expect(replayed.stdout).toBe(recorded.stdout);
  });

  it("maps a recorded failure to its exit code", async () => {
    const result = await runBuiltCli(["parse", "-", "--provider", "text"], { input: '{"title": "Hi",}' });
    expect(result.code).toBe(6);
    expect(errorEvent(result)).toMatchObject({ code: "invalid_json", partial: { title: "Hi" } });
    const unknown = await runBuiltCli(["parse", "-"], { input: "<html><body>nope</body></html>" });
    expect(unknown.code).toBe(8);
  });
});

describe("structream simulate", () => {
  it("prints its URL, answers requests, and stops on Ctrl-C with exit 0", async () => {
    let url = "";
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["dist/cli/main.js", "simulate", "--port", "0", "--pace", "fast"], {
      cwd: ROOT,
      env: cleanEnv(),
    });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    url = await new Promise<string>((resolve) => {
      child.stdout.setEncoding("utf8").once("data", (chunk: string) => resolve(chunk.trim()));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${url}/health`);
    expect(await health.json()).toMatchObject({ status: "ok" });
    const result = await runBuiltCli([
      "run",
      "--schema",
      ARTICLE_SCHEMA,
      "--prompt",
      PROMPT,
      "--base-url",
      `${url}/v1`,
      "--model",
      "sim-truncate",
    ]);
    expect(result.code).toBe(4);
    expect(result.events.some((e) => e.type === "info")).toBe(false);
    const code = await new Promise<number | null>((resolve) => {
      child.on("close", (exit) => resolve(exit));
      child.kill("SIGINT");
    });
    expect(code).toBe(0);
    expect(stderr).toMatch(
      /POST \/v1\/chat\/completions openai-chat model=sim-truncate fault=truncate → 200/,
    );
  });

  it("prints each provider's exact --base-url, and run --base-url <that> works for each", async () => {
    const { spawn } = await import("node:child_process");
    const child = spawn(process.execPath, ["dist/cli/main.js", "simulate", "--pace", "fast"], {
      cwd: ROOT,
      env: cleanEnv(),
    });
    try {
      let stderr = "";
      const banner = await new Promise<string>((resolve) => {
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk;
          if (stderr.includes("Ctrl-C to stop")) resolve(stderr);
        });
      });
      const targets = [...banner.matchAll(/--provider (\S+) +--base-url (\S+)/g)].map((m) => [m[1]!, m[2]!]);
      expect(targets.map(([provider]) => provider).sort()).toEqual(
        ["anthropic", "gemini", "ollama", "openai-chat", "openai-responses"].sort(),
      );
      expect(Object.fromEntries(targets)).toMatchObject({
        anthropic: expect.stringMatching(/:\d+\/v1$/),
        gemini: expect.stringMatching(/:\d+\/v1beta$/),
        ollama: expect.stringMatching(/:\d+$/),
      });
      const results = await Promise.all(
        targets.map(([provider, baseUrl]) =>
          runBuiltCli([
            "run",
            "--schema",
            "examples/recipe.schema.json",
            "--prompt",
            "A recipe for lemon bread",
            "--provider",
            provider!,
            "--base-url",
            baseUrl!,
          ]),
        ),
      );
      for (const [i, result] of results.entries()) {
        expect(result.code, `${targets[i]!.join(" ")}\n${result.stderr.slice(-400)}`).toBe(0);
        expect(JSON.parse(result.stdout)).toHaveProperty("ingredients");
      }
    } finally {
      child.kill("SIGINT");
    }
  });
});
