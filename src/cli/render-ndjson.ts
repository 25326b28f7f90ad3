import type { StreamError } from "../errors/index.ts";
import type { StreamEvent } from "../stream/index.ts";
import { escapeJsonText } from "./text.ts";
import { describeError } from "./view-state.ts";

/**
 * One line of the CLI's machine-readable output. Every record has `type` and `t` (milliseconds
 * since the command started):
 * - `info`: `{ message, simulator? }`, e.g. that the built-in simulator answers;
 * - `status`: `{ status }` (connecting, streaming, validating, complete, error);
 * - `partial`: `{ patch, progress }`, what changed since the previous `partial` as patch
 *   operations (`["+", pointer, value]` add, `[">", pointer, text]` append, `["=", pointer, value]`
 *   set; applied in order to nothing they rebuild the value), plus `value`, the whole snapshot, on
 *   the records `--snapshot-every <ms>` asks for. Output stays linear in the answer: no record
 *   repeats what an earlier one said;
 *   `progress` is left out when it did not change since the previous `partial` record;
 * - `field`: `{ pointer, value? }`, a field completed (`value` for a string, number, boolean or
 *   null; an object's or array's value is already in the patches);
 * - `retry`: `{ attempt, delayMs, code, message }`;
 * - `complete`: `{ value, stats }`, the validated value (also written to stdout);
 * - `error`: `{ code, message, hint, exitCode, partial, ... }`, the failure and what arrived.
 */
export type NdjsonRecord = { type: string; t: number } & Record<string, unknown>;

function errorRecord(error: StreamError): Record<string, unknown> {
  const record: Record<string, unknown> = { ...describeError(error), partial: error.partial ?? null };
  if (error.issues !== undefined) record.issues = error.issues;
  if (error.status !== undefined) record.status = error.status;
  if (error.retryAfterMs !== undefined) record.retryAfterMs = error.retryAfterMs;
  if (error.refusal !== undefined) record.refusal = error.refusal;
  if (error.reason !== undefined) record.reason = error.reason;
  if (error.providerType !== undefined) record.providerType = error.providerType;
  if (error.parse !== undefined) record.parse = error.parse;
  return record;
}

/**
 * The NDJSON record of a stream event, or `undefined` for events the output leaves out
 * (`field-state`: the `field` and `partial` records carry the same news).
 *
 * @example
 * ```ts
 * toNdjsonRecord({ type: "status", status: "streaming" }, 12); // { type: "status", t: 12, status: "streaming" }
 * ```
 */
export function toNdjsonRecord(
  event: StreamEvent,
  t: number,
  options: { snapshot?: boolean } = {},
): NdjsonRecord | undefined {
  switch (event.type) {
    case "status":
      return { type: "status", t, status: event.status };
    case "partial": {
      // Without changes (an event not from `events({ changes: true })`) the snapshot is the news.
      if (event.changes === undefined)
        return { type: "partial", t, value: event.value ?? null, progress: event.progress };
      const record: NdjsonRecord = { type: "partial", t, patch: event.changes, progress: event.progress };
      if (options.snapshot === true) record.value = event.value ?? null;
      return record;
    }
    case "field": {
      const record: NdjsonRecord = { type: "field", t, pointer: event.pointer };
      // A container's value is in the patches already: repeating it would make deep answers quadratic.
      if (typeof event.value !== "object" || event.value === null) record.value = event.value;
      return record;
    }
    case "field-state":
      return undefined;
    case "retry":
      return {
        type: "retry",
        t,
        attempt: event.attempt,
        delayMs: event.delayMs,
        code: event.error.code,
        message: event.error.message,
      };
    case "rewind":
      // The retry's answer withdrew these values; the next `partial` record replaces them.
      return { type: "rewind", t, retracted: event.retracted, attempt: event.attempt };
    case "complete":
      return { type: "complete", t, value: event.value, stats: event.stats };
    case "error":
      return { type: "error", t, ...errorRecord(event.error) };
  }
}

/**
 * One record as a line of NDJSON (with its newline). Strings are JSON-escaped, so a value with
 * line breaks or control characters never breaks the one-record-per-line rule, and every control
 * class a terminal acts on (C0, DEL, C1, bidi controls) is written as `\uXXXX` ({@link escapeJsonText}).
 */
export function ndjsonLine(record: NdjsonRecord): string {
  return `${escapeJsonText(JSON.stringify(record))}\n`;
}
