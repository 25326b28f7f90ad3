import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { StreamError } from "../errors/index.ts";
import type { StreamChange, StreamEvent, StructuredStream } from "../stream/index.ts";
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
  /**
   * NDJSON: a whole snapshot (`value`) on a `partial` record at most this often, in ms, beside its
   * patch (for consumers that want whole values). @defaultValue none
   */
  snapshotEveryMs?: number;
  /** One line said before the stream starts (e.g. that the simulator answers); `info` record in NDJSON. */
  notice?: { message: string; simulator?: string };
  /**
   * What to do about a failure, when the command knows better than the error code's usual hint
   * (`parse` of an empty stdin: the hint is about stdin, not the network). Undefined: the usual.
   */
  hint?: (error: StreamError) => string | undefined;
}

/** Shortest time between two NDJSON `partial` records, in ms. */
const PARTIAL_INTERVAL_MS = 50;

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

  let flushPartials = () => {};
  let completed = false;
  let value: unknown;
  let failure: StreamError | undefined;
  try {
    live?.update(view);
    // NDJSON carries the parser's changes, not snapshots: output linear in the answer.
    const events = live === undefined ? stream.events({ changes: true }) : stream;
    const snapshotEvery = options.snapshotEveryMs;
    let lastSnapshot = Number.NEGATIVE_INFINITY;
    let lastProgress: unknown;
    // Partials are written at most every PARTIAL_INTERVAL_MS, their patches merged (and before any
    // other record, so a field is never told before the patch that brings its value): one record
    // per 8-character delta would cost more bytes than the delta itself.
    let held: Extract<StreamEvent, { type: "partial" }> | undefined;
    let heldChanges: StreamChange[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    const writePartial = () => {
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      const event = held;
      if (event === undefined) return;
      held = undefined;
      const t = now() - start;
      let snapshot = false;
      if (snapshotEvery !== undefined && t - lastSnapshot >= snapshotEvery) {
        snapshot = true;
        lastSnapshot = t;
      }
      const merged: StreamEvent = {
        type: "partial",
        // Read only when a snapshot is due: reading it makes one.
        get value() {
          return event.value;
        },
        progress: event.progress,
        changes: heldChanges,
      };
      const record = toNdjsonRecord(merged, t, { snapshot });
      heldChanges = [];
      if (record === undefined) return;
      // Progress repeats on most chunks of a long value: said again only when it moved.
      if (event.progress === lastProgress) delete record.progress;
      lastProgress = event.progress;
      emit(record);
    };
    flushPartials = writePartial;
    for await (const event of events) {
      // The view is drawn only live; building it per event would read a snapshot per chunk.
      if (live !== undefined) view = applyEvent(view, event, now());
      // A field can complete without the value changing (its closing quote): progress moves on.
      if (event.type === "field" && stream.progress.completed > view.progress.completed) {
        view = { ...view, progress: stream.progress };
      }
      if (event.type === "complete") {
        completed = true;
        value = event.value;
      } else if (event.type === "error") failure = event.error;
      if (live !== undefined) live.update(view);
      else if (event.type === "partial") {
        held = event;
        for (const change of event.changes ?? []) {
          const tail = heldChanges[heldChanges.length - 1];
          if (change[0] === ">" && tail?.[0] === ">" && tail[1] === change[1]) {
            heldChanges[heldChanges.length - 1] = [">", tail[1], tail[2] + change[2]];
          } else heldChanges.push(change);
        }
        timer ??= setTimeout(writePartial, PARTIAL_INTERVAL_MS);
      } else {
        const record = toNdjsonRecord(event, now() - start);
        if (record !== undefined) writePartial();
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
    flushPartials();
  } finally {
    flushPartials();
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
