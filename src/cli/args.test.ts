import { describe, expect, it } from "vitest";
import { durationMs, parseCommandArgs, UsageError } from "./args.ts";
import { helpText } from "./help.ts";

const run = (...argv: string[]) => parseCommandArgs("run", argv);

describe("run arguments", () => {
  it("reads every flag, long and short", () => {
    const args = run(
      "-s",
      "schema.json",
      "-p",
      "Summarize",
      "--provider",
      "openai",
      "-m",
      "gpt-x",
      "--base-url",
      "http://localhost:8000/v1",
      "--api-key-env",
      "MY_KEY",
      "--max-retries",
      "3",
      "--timeout",
      "1.5",
      "--json",
      "-o",
      "out.json",
      "--no-color",
      "--lenient",
    );
    expect(args).toMatchObject({
      command: "run",
      schema: "schema.json",
      prompt: "Summarize",
      provider: "openai-chat",
      model: "gpt-x",
      baseUrl: "http://localhost:8000/v1",
      apiKeyEnv: "MY_KEY",
      maxRetries: 3,
      timeoutMs: 1500,
      json: true,
      out: "out.json",
      noColor: true,
      lenient: true,
      simulator: false,
    });
  });

  it("accepts --flag=value and the simulator's own flags", () => {
    const args = run(
      "--schema=s.json",
      "--prompt=hi",
      "--simulator",
      "--fault=drop-once",
      "--pace",
      "fast",
      "--seed",
      "7",
    );
    expect(args).toMatchObject({ simulator: true, fault: "drop-once", pace: { pace: "fast" }, seed: 7 });
    expect(run("-s", "s", "-p", "x", "--pace", "25")).toMatchObject({
      pace: { pace: "realtime", deltasPerSecond: 25 },
    });
  });

  it("lets --help through without the required flags", () => {
    expect(run("--help")).toMatchObject({ help: true });
    expect(run("-h")).toMatchObject({ help: true });
  });

  it.each([
    [["--prompt", "x"], /--schema is required/],
    [["--schema", "s.json"], /--prompt is required/],
    [["-s", "s", "-p", "x", "--bogus"], /Unknown option '--bogus'/],
    [["-s", "s", "-p", "x", "--provider", "cohere"], /--provider "cohere" is not one of/],
    [["-s", "s", "-p", "x", "--provider", "text"], /is not one of/],
    [["-s", "s", "-p", "x", "--max-retries", "two"], /--max-retries needs a whole number/],
    [["-s", "s", "-p", "x", "--timeout", "soon"], /--timeout needs a duration/],
    [["-s", "s", "-p", "x", "--fault", "explode"], /--fault: Unknown simulator fault/],
    [["-s", "s", "-p", "x", "--pace", "warp"], /--pace is/],
    [["-s", "s", "-p", "x", "--base-url", "localhost:8000"], /--base-url needs an http/],
    [["-s", "s", "-p", "x", "stray"], /Unexpected argument "stray"/],
    [["-s", "s", "-p", "x", "--simulator", "--base-url", "http://x"], /exclude each other/],
  ])("rejects %j as bad usage", (argv, message) => {
    expect(() => run(...argv)).toThrow(message);
    try {
      run(...argv);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).command).toBe("run");
    }
  });
});

describe("parse and simulate arguments", () => {
  it("reads a file or stdin, a provider and a replay pace", () => {
    expect(parseCommandArgs("parse", [])).toMatchObject({
      file: "-",
      provider: "auto",
      pace: { kind: "instant" },
    });
    expect(
      parseCommandArgs("parse", ["cap.sse", "--provider", "anthropic", "--pace", "recorded"]),
    ).toMatchObject({
      file: "cap.sse",
      provider: "anthropic",
      pace: { kind: "recorded" },
    });
    expect(parseCommandArgs("parse", ["-", "--pace", "30", "--provider", "text"])).toMatchObject({
      pace: { kind: "rate", perSecond: 30 },
      provider: "text",
    });
    expect(() => parseCommandArgs("parse", ["a", "b"])).toThrow(/one input/);
    expect(() => parseCommandArgs("parse", ["--pace", "-1"])).toThrow(UsageError);
  });

  it("reads the simulator's port, fault, pace and seed", () => {
    expect(
      parseCommandArgs("simulate", [
        "--port",
        "8787",
        "--fault",
        "429-once",
        "--pace",
        "fast",
        "--seed",
        "abc",
      ]),
    ).toEqual({
      command: "simulate",
      port: 8787,
      host: undefined,
      fault: "429-once",
      pace: { pace: "fast" },
      seed: "abc",
      firstByteDelayMs: undefined,
      retryAfterMs: undefined,
      diverge: false,
      blocks: undefined,
      help: false,
    });
    expect(
      parseCommandArgs("simulate", ["--first-byte-delay", "0", "--retry-after=250ms", "--diverge"]),
    ).toMatchObject({ firstByteDelayMs: 0, retryAfterMs: 250, diverge: true });
    expect(parseCommandArgs("simulate", ["--blocks", "thinking, tools"])).toMatchObject({
      blocks: ["thinking", "tools"],
    });
    expect(run("-s", "a.json", "-p", "x", "--simulator", "--blocks=preamble,server-tool")).toMatchObject({
      blocks: ["preamble", "server-tool"],
    });
    expect(() => run("-s", "a.json", "-p", "x", "--blocks", "thoughts")).toThrow(
      /--blocks: "thoughts" is not one of preamble, thinking/,
    );
    expect(() => parseCommandArgs("simulate", ["--port", "70000"])).toThrow(
      /--port needs a whole number from 0 to 65535/,
    );
  });
});

describe("durations", () => {
  it("reads seconds by default, and ms, s and m suffixes", () => {
    expect(durationMs("--timeout", "30", "run")).toBe(30_000);
    expect(durationMs("--timeout", "250ms", "run")).toBe(250);
    expect(durationMs("--timeout", "1.5s", "run")).toBe(1500);
    expect(durationMs("--timeout", "2m", "run")).toBe(120_000);
    expect(() => durationMs("--timeout", "0", "run")).toThrow(UsageError);
  });
});

describe("one parser, and no flag advertised that it rejects", () => {
  it.each(["run", "parse", "simulate"] as const)("accepts every flag the %s help lists", (command) => {
    // The option lines: "  -s, --schema <file>   ..." or "      --lenient   ...".
    const flags = new Set(
      [...helpText(command).matchAll(/^ {2}(?:-\w, | {4})(--[a-z][a-z-]+)/gm)].map((m) => m[1]!),
    );
    expect(flags.size).toBeGreaterThan(3);
    for (const flag of flags) {
      let message = "";
      try {
        parseCommandArgs(command, [flag, "1"]);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message, flag).not.toMatch(/Unknown option/);
    }
  });
});
