import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { StreamError } from "../errors/index.ts";
import type { StructuredStream } from "../stream/index.ts";
import { EXIT } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { createLiveView } from "./live-view.ts";
import { ndjsonLine, toNdjsonRecord } from "./render-ndjson.ts";
import { safeJson, sanitize } from "./text.ts";
import { applyEvent, createViewState, describeError, tick, type ViewInit, withStats } from "./view-state.ts";

/** Options of {@link drive}. */
export interface DriveOptions {
  stream: StructuredStream<unknown>;
  io: CliIo;
  /** What the view shows before the first event. */
  view: Omit<ViewInit, "now">;
  /** `live`: the view redrawn on stderr; `ndjson`: one event per line on stderr. */
  mode: "live" | "ndjson";
  color: boolean;
  /** Write the validated JSON to this file (relative to `io.cwd`) instead of stdout. */
  out?: string;
  /** One line said before the stream starts (e.g. that the simulator answers); `info` record in NDJSON. */
  notice?: { message: string; simulator?: string };
  /**
   * What to do about a failure, when the command knows better than the error code's usual hint
   * (`parse` of an empty stdin: the hint is about stdin, not the network). Undefined: the usual.
   */
  hint?: (error: StreamError) => string | undefined;
}

/** The one plain line that reports an error: the cause and what to do. */
export function errorLine(
  error: { code: string; message: string },
  hint: string = describeError(error).hint,
): string {
  const message = sanitize(error.message).replace(/\s+$/, "");
  const cause = /[.!?]$/.test(message) ? message : `${message}.`;
  return `structream: ${error.code.replace(/_/g, " ")}: ${cause}${hint === "" ? "" : ` ${hint}`}\n`;
}

/**
 * Consumes a structured stream and shows it: the live view or NDJSON events on stderr, then the
 * validated JSON (2-space indented) on stdout or in `out`. Aborting `io.signal` aborts the
 * stream, and what arrived is printed as a partial value. Resolves to the exit code.
 */
export async function drive(options: DriveOptions): Promise<number> {
  const { stream, io } = options;
  const now = io.now ?? Date.now;
  const start = now();
  const stderr = io.stderr;
  let view = createViewState({ ...options.view, now: start });
  const emit = (record: Record<string, unknown> & { type: string; t: number }) =>
    stderr.write(ndjsonLine(record));

  if (options.notice !== undefined) {
    if (options.mode === "live") stderr.write(`structream: ${sanitize(options.notice.message)}\n`);
    else emit({ type: "info", t: 0, ...options.notice });
  }

  const live = options.mode === "live" ? createLiveView(stderr, { color: options.color, now }) : undefined;
  const ticker =
    live === undefined
      ? undefined
      : setInterval(() => {
          view = tick(view, now());
          live.update(view);
        }, 100);
  let interrupt = "";
  const abortExitCode = () => (io.signal?.reason === "SIGTERM" ? EXIT.terminated : EXIT.interrupted);
  const onAbort = () => {
    interrupt = io.signal?.reason === "SIGTERM" ? "Terminated (SIGTERM)." : "Interrupted (Ctrl-C).";
    stream.abort(interrupt);
  };
  if (io.signal?.aborted) onAbort();
  else io.signal?.addEventListener("abort", onAbort, { once: true });

  let completed = false;
  let value: unknown;
  let failure: StreamError | undefined;
  try {
    live?.update(view);
    for await (const event of stream) {
      view = applyEvent(view, event, now());
      // A field can complete without the value changing (its closing quote): progress moves on.
      if (event.type === "field" && stream.progress.completed > view.progress.completed) {
        view = { ...view, progress: stream.progress };
      }
      if (event.type === "complete") {
        completed = true;
        value = event.value;
      } else if (event.type === "error") failure = event.error;
      if (live !== undefined) live.update(view);
      else {
        const record = toNdjsonRecord(event, now() - start);
        // The record says the code the process exits with: 143 after SIGTERM, 130 after Ctrl-C.
        if (record?.type === "error" && event.type === "error" && event.error.code === "aborted")
          record.exitCode = abortExitCode();
        if (record?.type === "error" && event.type === "error") {
          const hint = options.hint?.(event.error);
          if (hint !== undefined) record.hint = hint;
        }
        if (record !== undefined) emit(record);
      }
    }
  } finally {
    if (ticker !== undefined) clearInterval(ticker);
    io.signal?.removeEventListener("abort", onAbort);
    if (!completed) view = withStats(view, stream.stats);
    live?.finish(view);
  }

  if (completed) {
    const json = `${safeJson(value, 2)}\n`;
    if (options.out === undefined) io.stdout.write(json);
    else {
      try {
        await writeFile(resolve(io.cwd, options.out), json);
      } catch (error) {
        stderr.write(`structream: cannot write --out ${options.out}: ${(error as Error).message}\n`);
        return EXIT.internal;
      }
    }
    return EXIT.ok;
  }

  const error = failure ?? stream.error;
  if (error === undefined) return EXIT.internal;
  if (error.code === "aborted") {
    // In NDJSON the error record carries the partial value; a person at a terminal gets it in plain text.
    if (live !== undefined) {
      stderr.write(`structream: ${interrupt || "Aborted."} Partial value (not validated):\n`);
      stderr.write(`${safeJson(error.partial ?? view.value ?? null, 2)}\n`);
    }
    return abortExitCode();
  }
  if (live !== undefined) stderr.write(errorLine(error, options.hint?.(error) ?? describeError(error).hint));
  return describeError(error).exitCode;
}
