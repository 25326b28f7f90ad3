import { readFile } from "node:fs/promises";
import { basename, resolve } from "node:path";
import { structuredStream } from "../stream/index.ts";
import { type ParseArgs, type ReplayPace, UsageError } from "./args.ts";
import { drive } from "./drive.ts";
import { assertWritable, type CliIo, wantsColor, wantsLiveView } from "./io.ts";
import { type LoadedSchema, loadSchema } from "./load-schema.ts";

/** One piece of a recorded stream, with when it arrived (ms since the start) when known. */
export interface ReplayChunk {
  text: string;
  t?: number;
}

/** Chunks a second for `--pace recorded` when the capture has no timing. */
export const DEFAULT_REPLAY_RATE = 70;

function isTimedCapture(lines: string[]): boolean {
  if (lines.length === 0) return false;
  for (const line of lines) {
    let record: unknown;
    try {
      record = JSON.parse(line);
    } catch {
      return false;
    }
    const r = record as { t?: unknown; chunk?: unknown };
    if (typeof r !== "object" || r === null || typeof r.t !== "number" || typeof r.chunk !== "string")
      return false;
  }
  return true;
}

/**
 * Cuts a recorded stream into the chunks it is replayed in: a timed capture (NDJSON lines of
 * `{"t": ms, "chunk": "..."}`) into its own chunks with their times; an SSE capture into its
 * events; NDJSON (Ollama) into its lines; anything else (raw JSON text) into pieces of 8
 * characters, about a model's delta.
 *
 * @example
 * ```ts
 * splitRecording('data: {"a":1}\n\ndata: [DONE]\n\n'); // [{ text: 'data: {"a":1}\n\n' }, { text: "data: [DONE]\n\n" }]
 * ```
 */
export function splitRecording(text: string): ReplayChunk[] {
  const lines = text.split("\n").filter((line) => line.trim() !== "");
  if (isTimedCapture(lines)) {
    return lines.map((line) => {
      const { t, chunk } = JSON.parse(line) as { t: number; chunk: string };
      return { text: chunk, t };
    });
  }
  const normalized = text.replace(/\r\n/g, "\n");
  if (/^(data|event|id|retry):|^:/m.test(normalized) && normalized.includes("\n\n")) {
    return normalized
      .split(/(?<=\n\n)/)
      .filter((e) => e !== "")
      .map((e) => ({ text: e }));
  }
  if (lines.length > 1) return normalized.split(/(?<=\n)/).map((line) => ({ text: line }));
  const pieces: ReplayChunk[] = [];
  for (let i = 0; i < text.length; i += 8) pieces.push({ text: text.slice(i, i + 8) });
  return pieces;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * The chunks as an async iterable at the chosen pace: all at once; at their recorded times
 * (else {@link DEFAULT_REPLAY_RATE} a second); or so many a second. Waits end early when `signal`
 * aborts, so Ctrl-C is immediate.
 */
export async function* replay(
  chunks: readonly ReplayChunk[],
  pace: ReplayPace,
  signal?: AbortSignal,
): AsyncGenerator<string> {
  const start = Date.now();
  const timed = chunks.length > 0 && chunks.every((c) => c.t !== undefined);
  for (let i = 0; i < chunks.length; i++) {
    if (signal?.aborted) return;
    const chunk = chunks[i]!;
    if (pace.kind === "recorded" && timed) await sleep(start + chunk.t! - Date.now(), signal);
    else if (pace.kind === "recorded" && i > 0) await sleep(1000 / DEFAULT_REPLAY_RATE, signal);
    else if (pace.kind === "rate" && i > 0) await sleep(1000 / pace.perSecond, signal);
    if (signal?.aborted) return;
    yield chunk.text;
  }
}

async function readAll(input: AsyncIterable<string | Uint8Array>): Promise<string> {
  const decoder = new TextDecoder();
  let text = "";
  for await (const chunk of input)
    text += typeof chunk === "string" ? chunk : decoder.decode(chunk, { stream: true });
  return text + decoder.decode();
}

/**
 * `structream parse`: reads a recorded stream from a file or stdin and renders it as `run` does.
 * Read instantly from stdin, the stream is shown as it arrives (`curl ... | structream parse`).
 */
export async function parseCommand(args: ParseArgs, io: CliIo): Promise<number> {
  const fromStdin = args.file === "-";
  if (fromStdin && io.stdin.isTTY === true) {
    throw new UsageError(
      'parse reads a file, or stdin when a stream is piped in: "structream parse capture.sse".',
      "parse",
    );
  }
  let loaded: LoadedSchema | undefined;
  if (args.schema !== undefined) loaded = await loadSchema(args.schema, io.cwd, "parse");
  if (args.out !== undefined) await assertWritable("--out", args.out, io.cwd, "parse");

  let source: AsyncIterable<string | Uint8Array>;
  if (fromStdin && args.pace.kind === "instant") source = io.stdin;
  else {
    let text: string;
    try {
      text = fromStdin ? await readAll(io.stdin) : await readFile(resolve(io.cwd, args.file), "utf8");
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new UsageError(
        code === "ENOENT"
          ? `${args.file}: no such file.`
          : `${args.file} cannot be read: ${(error as Error).message}`,
        "parse",
      );
    }
    source = replay(splitRecording(text), args.pace, io.signal);
  }

  let bytes = 0;
  const counted = async function* () {
    for await (const chunk of source) {
      bytes += chunk.length;
      yield chunk;
    }
  };
  const stream = structuredStream({
    source: counted(),
    provider: args.provider,
    lenient: args.lenient,
    ...(loaded !== undefined ? { schema: loaded.schema } : {}),
  });
  return drive({
    stream,
    io,
    view: {
      command: "parse",
      ...(args.provider !== "auto" ? { provider: args.provider } : {}),
      origin: fromStdin ? "stdin" : basename(args.file),
      ...(loaded !== undefined ? { schema: loaded.compiled.jsonSchema } : {}),
    },
    mode: wantsLiveView(io.stderr, io.env, args.json) ? "live" : "ndjson",
    color: wantsColor(io.stderr, io.env, args.noColor),
    ...(args.out !== undefined ? { out: args.out } : {}),
    ...(args.snapshotEveryMs !== undefined ? { snapshotEveryMs: args.snapshotEveryMs } : {}),
    hint: (error) => {
      if (bytes === 0 && error.code !== "aborted") {
        return fromStdin
          ? 'Nothing arrived on stdin: pipe a recorded stream into it (curl -sN ... | structream parse -), or give a file: "structream parse capture.sse".'
          : `${args.file} is empty: give a recorded stream (structream run --record, or a provider's SSE saved with curl).`;
      }
      return PARSE_HINTS[error.code];
    },
  });
}

/** Hints for a recording's failures: there is no network, key or retry to check in a file. */
const PARSE_HINTS: Partial<Record<string, string>> = {
  connection_lost:
    "The recording ends before the provider's end signal: it was cut short. Record the whole response (structream run --record), or pass --provider text for bare JSON.",
  timeout: "The recording stopped arriving: check what writes to stdin.",
  rate_limited: "The recording holds the provider's rate-limit response, not an answer.",
  provider_error: "The recording holds the provider's error response, not an answer: see the message.",
};
