import { type ParseArgsConfig, parseArgs } from "node:util";
import { StructreamError } from "../errors/index.ts";
import { isProviderId, type ProviderId } from "../providers/index.ts";
import { parseFault, SIM_BLOCKS, type SimBlock } from "../simulator/index.ts";

/** The commands of the CLI. */
export type Command = "run" | "parse" | "simulate";

/** The commands `parseCommandArgs` reads (`serve`, the demo server, parses its own). */
export const COMMANDS: readonly Command[] = ["run", "parse", "simulate"];

/** A command line that cannot be run as written (exit code 2). */
export class UsageError extends StructreamError {
  /** The command whose `--help` tells the right usage, when known. */
  readonly command: Command | undefined;

  constructor(message: string, command?: Command) {
    super("invalid_usage", message);
    this.command = command;
  }
}

/** Options shared by the commands that render a stream. */
export interface OutputArgs {
  /** NDJSON events on stderr even on a terminal. */
  json: boolean;
  /** `--snapshot-every <ms>`: NDJSON `partial` records carry the whole value at most this often. */
  snapshotEveryMs: number | undefined;
  /** Write the validated JSON here instead of stdout. */
  out: string | undefined;
  /** `--no-color`. */
  noColor: boolean;
  help: boolean;
}

/** How fast the simulator streams: `realtime`, `fast`, or deltas per second. */
export type PaceArg = { pace: "realtime" | "fast"; deltasPerSecond?: number };

/** `structream run`. */
export interface RunArgs extends OutputArgs {
  command: "run";
  schema: string | undefined;
  prompt: string | undefined;
  system: string | undefined;
  provider: Exclude<ProviderId, "text"> | undefined;
  model: string | undefined;
  baseUrl: string | undefined;
  apiKeyEnv: string | undefined;
  maxRetries: number | undefined;
  /** Idle time-out in ms. */
  timeoutMs: number | undefined;
  lenient: boolean;
  /** Use the built-in simulator even when a key is set. */
  simulator: boolean;
  fault: string | undefined;
  pace: PaceArg | undefined;
  seed: number | string | undefined;
  /** The simulator answers each retry differently (`divergeOnRetry`). */
  diverge: boolean;
  /** Blocks the simulator writes beside the answer (preamble, thinking, tools, server-tool). */
  blocks: SimBlock[] | undefined;
  /** Save the raw response body, with timings, for `parse --pace recorded`. */
  record: string | undefined;
}

/** How `parse` replays: all at once, at the recorded speed, or so many chunks a second. */
export type ReplayPace = { kind: "instant" } | { kind: "recorded" } | { kind: "rate"; perSecond: number };

/** `structream parse`. */
export interface ParseArgs extends OutputArgs {
  command: "parse";
  /** A path, or `-` for stdin. */
  file: string;
  provider: ProviderId | "auto";
  schema: string | undefined;
  lenient: boolean;
  pace: ReplayPace;
}

/** `structream simulate`. */
export interface SimulateArgs {
  command: "simulate";
  port: number;
  host: string | undefined;
  fault: string | undefined;
  pace: PaceArg | undefined;
  seed: number | string | undefined;
  /** Time to first byte, ms. */
  firstByteDelayMs: number | undefined;
  /** What a 429 asks the client to wait, ms. */
  retryAfterMs: number | undefined;
  /** Each retry gets a different answer (`divergeOnRetry`). */
  diverge: boolean;
  /** Blocks written beside every answer (preamble, thinking, tools, server-tool). */
  blocks: SimBlock[] | undefined;
  help: boolean;
}

export type CommandArgs = RunArgs | ParseArgs | SimulateArgs;

type Options = NonNullable<ParseArgsConfig["options"]>;

const OUTPUT_OPTIONS = {
  json: { type: "boolean" },
  "snapshot-every": { type: "string" },
  out: { type: "string", short: "o" },
  "no-color": { type: "boolean" },
  help: { type: "boolean", short: "h" },
} satisfies Options;

const RUN_OPTIONS = {
  ...OUTPUT_OPTIONS,
  schema: { type: "string", short: "s" },
  prompt: { type: "string", short: "p" },
  system: { type: "string" },
  provider: { type: "string" },
  model: { type: "string", short: "m" },
  "base-url": { type: "string" },
  "api-key-env": { type: "string" },
  "max-retries": { type: "string" },
  timeout: { type: "string" },
  lenient: { type: "boolean" },
  simulator: { type: "boolean" },
  fault: { type: "string" },
  pace: { type: "string" },
  seed: { type: "string" },
  diverge: { type: "boolean" },
  blocks: { type: "string" },
  record: { type: "string" },
} satisfies Options;

const PARSE_OPTIONS = {
  ...OUTPUT_OPTIONS,
  provider: { type: "string" },
  schema: { type: "string", short: "s" },
  lenient: { type: "boolean" },
  pace: { type: "string" },
} satisfies Options;

const SIMULATE_OPTIONS = {
  port: { type: "string" },
  host: { type: "string" },
  fault: { type: "string" },
  pace: { type: "string" },
  seed: { type: "string" },
  "first-byte-delay": { type: "string" },
  "retry-after": { type: "string" },
  diverge: { type: "boolean" },
  blocks: { type: "string" },
  help: { type: "boolean", short: "h" },
} satisfies Options;

/** `openai` is short for `openai-chat`. */
const PROVIDER_ALIASES: Record<string, ProviderId> = {
  openai: "openai-chat",
  claude: "anthropic",
  google: "gemini",
};

function providerArg(value: string, command: Command, allowText: boolean): ProviderId {
  const id = PROVIDER_ALIASES[value] ?? value;
  if (!isProviderId(id) || (!allowText && id === "text")) {
    const list = allowText
      ? "openai-chat, openai-responses, anthropic, gemini, ollama or text"
      : "openai (openai-chat), openai-responses, anthropic, gemini or ollama";
    throw new UsageError(`--provider "${value}" is not one of ${list}.`, command);
  }
  return id;
}

function integerArg(flag: string, value: string, min: number, max: number, command: Command): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${flag} needs a whole number from ${min} to ${max}, got "${value}".`, command);
  }
  return n;
}

/**
 * Reads a duration: a bare number is seconds; `ms`, `s` and `m` suffixes are understood.
 *
 * @example
 * ```ts
 * durationMs("--timeout", "1.5", "run"); // 1500
 * durationMs("--timeout", "250ms", "run"); // 250
 * ```
 */
export function durationMs(flag: string, value: string, command: Command, allowZero = false): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(value);
  const ms = match ? Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 }[match[2] ?? "s"] ?? 1000) : Number.NaN;
  if (!Number.isFinite(ms) || ms < 0 || (ms === 0 && !allowZero)) {
    throw new UsageError(`${flag} needs a duration such as 30, 30s, 500ms or 2m, got "${value}".`, command);
  }
  return Math.round(ms);
}

function simPaceArg(value: string, command: Command): PaceArg {
  if (value === "realtime" || value === "fast") return { pace: value };
  const n = Number(value);
  if (value.trim() !== "" && Number.isFinite(n) && n > 0) return { pace: "realtime", deltasPerSecond: n };
  throw new UsageError(
    `--pace is "realtime", "fast" or a number of deltas a second, got "${value}".`,
    command,
  );
}

function replayPaceArg(value: string | undefined): ReplayPace {
  if (value === undefined) return { kind: "instant" };
  if (value === "recorded" || value === "realtime") return { kind: "recorded" };
  if (value === "instant" || value === "fast") return { kind: "instant" };
  const n = Number(value);
  if (value.trim() !== "" && Number.isFinite(n) && n > 0) return { kind: "rate", perSecond: n };
  throw new UsageError(
    `--pace is "recorded", "instant" or a number of chunks a second, got "${value}".`,
    "parse",
  );
}

function faultArg(value: string, command: Command): string {
  try {
    parseFault(value);
  } catch (error) {
    throw new UsageError(`--fault: ${(error as Error).message}`, command);
  }
  return value;
}

function blocksArg(value: string, command: Command): SimBlock[] {
  const names = value.split(",").map((name) => name.trim());
  for (const name of names) {
    if (!(SIM_BLOCKS as readonly string[]).includes(name))
      throw new UsageError(`--blocks: "${name}" is not one of ${SIM_BLOCKS.join(", ")}.`, command);
  }
  return names as SimBlock[];
}

function seedArg(value: string): number | string {
  return /^-?\d+$/.test(value) ? Number(value) : value;
}

function parse<O extends Options>(
  command: Command,
  argv: readonly string[],
  options: O,
  positionals: boolean,
) {
  try {
    return parseArgs({ args: [...argv], options, strict: true, allowPositionals: positionals });
  } catch (error) {
    // Node's messages name the flag; drop its advice about "--" (not useful here).
    const message = (error as Error).message.replace(/\. To specify a positional argument.*$/s, ".");
    throw new UsageError(message, command);
  }
}

function output(values: Record<string, unknown>, command: Command): OutputArgs {
  const every = values["snapshot-every"] as string | undefined;
  return {
    json: values.json === true,
    snapshotEveryMs:
      every === undefined ? undefined : integerArg("--snapshot-every", every, 0, 86_400_000, command),
    out: values.out as string | undefined,
    noColor: values["no-color"] === true,
    help: values.help === true,
  };
}

/**
 * Reads one command's arguments (after the command name) with Node's `util.parseArgs`.
 *
 * @throws UsageError for an unknown flag, a missing or bad value, or a missing required flag.
 * @example
 * ```ts
 * parseCommandArgs("run", ["--schema", "s.json", "--prompt", "Summarize this"]);
 * ```
 */
export function parseCommandArgs(command: Command, argv: readonly string[]): CommandArgs {
  switch (command) {
    case "run":
      return parseRunArgs(argv);
    case "parse":
      return parseParseArgs(argv);
    case "simulate":
      return parseSimulateArgs(argv);
  }
}

function parseRunArgs(argv: readonly string[]): RunArgs {
  const { values, positionals } = parse("run", argv, RUN_OPTIONS, true);
  const args: RunArgs = {
    command: "run",
    ...output(values, "run"),
    schema: values.schema,
    prompt: values.prompt,
    system: values.system,
    provider:
      values.provider === undefined
        ? undefined
        : (providerArg(values.provider, "run", false) as Exclude<ProviderId, "text">),
    model: values.model,
    baseUrl: values["base-url"],
    apiKeyEnv: values["api-key-env"],
    maxRetries:
      values["max-retries"] === undefined
        ? undefined
        : integerArg("--max-retries", values["max-retries"], 0, 20, "run"),
    timeoutMs: values.timeout === undefined ? undefined : durationMs("--timeout", values.timeout, "run"),
    lenient: values.lenient === true,
    simulator: values.simulator === true,
    fault: values.fault === undefined ? undefined : faultArg(values.fault, "run"),
    pace: values.pace === undefined ? undefined : simPaceArg(values.pace, "run"),
    seed: values.seed === undefined ? undefined : seedArg(values.seed),
    diverge: values.diverge === true,
    blocks: values.blocks === undefined ? undefined : blocksArg(values.blocks, "run"),
    record: values.record,
  };
  if (args.help) return args;
  if (positionals.length > 0) {
    throw new UsageError(
      `Unexpected argument "${positionals[0]}": pass the prompt with --prompt "...".`,
      "run",
    );
  }
  if (args.schema === undefined)
    throw new UsageError("--schema is required (a JSON Schema file or a module).", "run");
  if (args.prompt === undefined || args.prompt.trim() === "") {
    throw new UsageError(
      '--prompt is required: what the model should answer, e.g. --prompt "Summarize ...".',
      "run",
    );
  }
  if (args.baseUrl !== undefined && !/^https?:\/\/[^/]/.test(args.baseUrl)) {
    throw new UsageError(`--base-url needs an http:// or https:// URL, got "${args.baseUrl}".`, "run");
  }
  if (args.simulator && args.baseUrl !== undefined) {
    throw new UsageError(
      "--simulator and --base-url exclude each other: the simulator has its own URL.",
      "run",
    );
  }
  return args;
}

function parseParseArgs(argv: readonly string[]): ParseArgs {
  const { values, positionals } = parse("parse", argv, PARSE_OPTIONS, true);
  if (positionals.length > 1) {
    throw new UsageError(
      `parse reads one input, got ${positionals.length}: ${positionals.join(" ")}.`,
      "parse",
    );
  }
  return {
    command: "parse",
    ...output(values, "parse"),
    file: positionals[0] ?? "-",
    provider:
      values.provider === undefined || values.provider === "auto"
        ? "auto"
        : providerArg(values.provider, "parse", true),
    schema: values.schema,
    lenient: values.lenient === true,
    pace: replayPaceArg(values.pace),
  };
}

function parseSimulateArgs(argv: readonly string[]): SimulateArgs {
  const { values, positionals } = parse("simulate", argv, SIMULATE_OPTIONS, true);
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, "simulate");
  return {
    command: "simulate",
    port: values.port === undefined ? 0 : integerArg("--port", values.port, 0, 65535, "simulate"),
    host: values.host,
    fault: values.fault === undefined ? undefined : faultArg(values.fault, "simulate"),
    pace: values.pace === undefined ? undefined : simPaceArg(values.pace, "simulate"),
    seed: values.seed === undefined ? undefined : seedArg(values.seed),
    firstByteDelayMs:
      values["first-byte-delay"] === undefined
        ? undefined
        : durationMs("--first-byte-delay", values["first-byte-delay"], "simulate", true),
    retryAfterMs:
      values["retry-after"] === undefined
        ? undefined
        : durationMs("--retry-after", values["retry-after"], "simulate", true),
    diverge: values.diverge === true,
    blocks: values.blocks === undefined ? undefined : blocksArg(values.blocks, "simulate"),
    help: values.help === true,
  };
}
