import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { ProviderId, RequestMessage } from "../providers/index.ts";
import { DEFAULT_BASE_URLS } from "../providers/index.ts";
import { type Simulator, simulatorBaseUrl, startSimulator } from "../simulator/index.ts";
import { structuredStream } from "../stream/index.ts";
import { type RunArgs, UsageError } from "./args.ts";
import { drive } from "./drive.ts";
import { assertWritable, type CliIo, wantsColor, wantsLiveView } from "./io.ts";
import { loadSchema } from "./load-schema.ts";
import { createRecorder, type Recorder } from "./record.ts";

type RealProvider = Exclude<ProviderId, "text">;

/** The model asked for when `--model` is not given. */
export const DEFAULT_MODELS: Readonly<Record<RealProvider, string>> = {
  "openai-chat": "gpt-4.1-mini",
  "openai-responses": "gpt-4.1-mini",
  anthropic: "claude-sonnet-4-5",
  gemini: "gemini-2.5-flash",
  ollama: "llama3.2",
};

/** The model the simulator answers as when `--model` is not given (any name not starting `sim-`). */
export const SIMULATOR_MODEL = "structream-sim";

/** The providers whose keys are looked for, in this order, when `--provider` is not given. */
const KEYED: readonly RealProvider[] = ["openai-chat", "anthropic", "gemini"];

/** The API key and base URL the environment gives a provider, as the official SDKs read them. */
export function envFor(provider: ProviderId, env: CliIo["env"]): { apiKey?: string; baseURL?: string } {
  const pick = (...names: string[]) => names.map((n) => env[n]).find((v) => v !== undefined && v !== "");
  switch (provider) {
    case "openai-chat":
    case "openai-responses":
      return { apiKey: pick("OPENAI_API_KEY"), baseURL: pick("OPENAI_BASE_URL") };
    case "anthropic":
      return { apiKey: pick("ANTHROPIC_API_KEY"), baseURL: pick("ANTHROPIC_BASE_URL") };
    case "gemini":
      return { apiKey: pick("GEMINI_API_KEY", "GOOGLE_API_KEY") };
    case "ollama": {
      const host = pick("OLLAMA_HOST");
      return host === undefined ? {} : { baseURL: /^https?:\/\//.test(host) ? host : `http://${host}` };
    }
    default:
      return {};
  }
}

/** Who answers a `run`: a real service, or the built-in simulator. */
export type Target =
  | { kind: "provider"; provider: RealProvider; apiKey?: string; baseURL?: string }
  | { kind: "simulator"; provider: RealProvider; reason: "no-key" | "flag" };

/**
 * Decides who answers: `--base-url`, else a key in the environment (for `--provider`, or the first
 * of OpenAI, Anthropic, Gemini that has one), else `--provider ollama` (which needs no key), else
 * the built-in simulator. `--simulator` forces the simulator.
 *
 * @throws UsageError when `--api-key-env` names an unset variable, or simulator flags meet a real provider.
 */
export function resolveTarget(args: RunArgs, env: CliIo["env"]): Target {
  if (args.simulator) return { kind: "simulator", provider: args.provider ?? "openai-chat", reason: "flag" };
  let provider = args.provider;
  let apiKey: string | undefined;
  let envBase: string | undefined;
  if (args.apiKeyEnv !== undefined) {
    apiKey = env[args.apiKeyEnv];
    if (apiKey === undefined || apiKey === "") {
      throw new UsageError(`--api-key-env ${args.apiKeyEnv}: that environment variable is not set.`, "run");
    }
    provider ??= "openai-chat";
  } else if (provider !== undefined) {
    ({ apiKey, baseURL: envBase } = envFor(provider, env));
  } else {
    for (const candidate of KEYED) {
      const found = envFor(candidate, env);
      if (found.apiKey !== undefined) {
        provider = candidate;
        apiKey = found.apiKey;
        envBase = found.baseURL;
        break;
      }
    }
  }
  const real = args.baseUrl !== undefined || apiKey !== undefined || provider === "ollama";
  if (!real) return { kind: "simulator", provider: provider ?? "openai-chat", reason: "no-key" };
  const simOnly = [
    args.fault && "--fault",
    args.pace && "--pace",
    args.seed !== undefined && "--seed",
    args.diverge && "--diverge",
    args.blocks !== undefined && "--blocks",
  ].filter(Boolean);
  if (simOnly.length > 0) {
    throw new UsageError(
      `${simOnly.join(", ")} only apply to the simulator: add --simulator to use it.`,
      "run",
    );
  }
  const target: Target = { kind: "provider", provider: provider ?? "openai-chat" };
  if (apiKey !== undefined) target.apiKey = apiKey;
  const baseURL = args.baseUrl ?? (apiKey !== undefined || provider === "ollama" ? envBase : undefined);
  if (baseURL !== undefined) target.baseURL = baseURL;
  return target;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * `structream run`: loads the schema, picks who answers (see {@link resolveTarget}), starts the
 * simulator in-process when nobody else can, and drives the stream. Resolves to the exit code.
 */
export async function runCommand(args: RunArgs, io: CliIo): Promise<number> {
  const { schema, compiled } = await loadSchema(args.schema!, io.cwd, "run");
  const target = resolveTarget(args, io.env);
  // Before the call, not after it: a model's answer is paid for.
  if (args.out !== undefined) await assertWritable("--out", args.out, io.cwd, "run");
  if (args.record !== undefined) await assertWritable("--record", args.record, io.cwd, "run");
  const messages: RequestMessage[] = [];
  if (args.system !== undefined) messages.push({ role: "system", content: args.system });
  messages.push({ role: "user", content: args.prompt! });

  let simulator: Simulator | undefined;
  let notice: { message: string; simulator?: string } | undefined;
  let baseURL: string | undefined;
  let apiKey: string | undefined;
  let model: string;
  let origin: string;
  if (target.kind === "simulator") {
    simulator = await startSimulator({
      port: 0,
      pace: args.pace?.pace ?? "realtime",
      ...(args.pace?.deltasPerSecond !== undefined ? { deltasPerSecond: args.pace.deltasPerSecond } : {}),
      ...(args.fault !== undefined ? { fault: args.fault } : {}),
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.diverge ? { divergeOnRetry: true } : {}),
      ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
    });
    baseURL = simulatorBaseUrl(simulator.url, target.provider);
    apiKey = "simulator";
    model = args.model ?? SIMULATOR_MODEL;
    origin = "simulator";
    const why = target.reason === "flag" ? "--simulator" : "no API key or --base-url";
    notice = {
      message: `${why}: the built-in simulator answers at ${simulator.url} (${target.provider}).`,
      simulator: simulator.url,
    };
  } else {
    baseURL = target.baseURL;
    apiKey = target.apiKey;
    model = args.model ?? DEFAULT_MODELS[target.provider];
    origin = hostOf(baseURL ?? DEFAULT_BASE_URLS[target.provider]);
  }

  const recorder: Recorder | undefined = args.record === undefined ? undefined : createRecorder();
  try {
    const stream = structuredStream({
      schema,
      request: { model, messages },
      provider: target.provider,
      ...(apiKey !== undefined ? { apiKey } : {}),
      ...(baseURL !== undefined ? { baseURL } : {}),
      ...(args.maxRetries !== undefined ? { maxRetries: args.maxRetries } : {}),
      ...(args.timeoutMs !== undefined ? { idleTimeoutMs: args.timeoutMs } : {}),
      lenient: args.lenient,
      ...(recorder !== undefined ? { fetch: recorder.fetch } : {}),
    });
    const code = await drive({
      stream,
      io,
      view: {
        command: "run",
        provider: target.provider,
        model,
        origin,
        schema: compiled.jsonSchema,
        maxRetries: args.maxRetries ?? 2,
      },
      mode: wantsLiveView(io.stderr, io.env, args.json) ? "live" : "ndjson",
      color: wantsColor(io.stderr, io.env, args.noColor),
      ...(args.out !== undefined ? { out: args.out } : {}),
      ...(args.snapshotEveryMs !== undefined ? { snapshotEveryMs: args.snapshotEveryMs } : {}),
      ...(notice !== undefined ? { notice } : {}),
    });
    if (recorder !== undefined && args.record !== undefined) {
      try {
        await writeFile(resolve(io.cwd, args.record), recorder.toNdjson());
      } catch (error) {
        io.stderr.write(`structream: cannot write --record ${args.record}: ${(error as Error).message}\n`);
      }
    }
    return code;
  } finally {
    await simulator?.close();
  }
}
