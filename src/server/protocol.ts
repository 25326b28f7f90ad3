import { isStructreamError, StructreamError } from "../errors/index.ts";
import type { PathSegment } from "../json/index.ts";
import type { FieldState, Progress, StreamStats, StreamStatus } from "../stream/index.ts";
import { applyPatch, decodePatch, diff, type PatchOp } from "./patch.ts";

/**
 * The SSE `event:` names of the relay protocol (docs/protocol.md).
 *
 * - `stream`: first on every connection, no `id`: the stream's id (and where to resume).
 * - `snapshot`: the whole state (`value`, `status`, `progress`); replaces what the client had.
 * - `patch`: operations that turn the last value into the next (compact wire form). Sent without an
 *   `event:` line (SSE's default type, `message`), to save bytes on the most frequent event.
 * - `status`, `progress`, `field`, `field-state`, `retry`, `rewind`: the stream's events of the
 *   same names (`rewind`: a retry's answer withdrew the values at `retracted`; the patch that
 *   replaces them follows).
 * - `reasoning`, `commentary`: `{ delta }`, a piece of the model's reasoning or of the text it
 *   wrote beside the answer (never the answer); adjacent pieces written together are merged.
 * - `complete` (the validated value), `stream-error` (code and message): the last event of a
 *   stream. (`error` is read too, from relays before 0.2; a name an `EventSource` also gives to its
 *   own connection errors.)
 * - `unavailable` (no id): the relay's event log cannot be reached; the relay ends the response
 *   and the client reconnects with backoff, resuming from its last event.
 */
export type RelayEventType =
  | "stream"
  | "snapshot"
  | "patch"
  | "status"
  | "progress"
  | "field"
  | "field-state"
  | "retry"
  | "rewind"
  | "reasoning"
  | "commentary"
  | "complete"
  | "stream-error"
  | "unavailable";

/** An error as the relay sends it: a stable code and a message for a person, nothing else. */
export interface PublicError {
  code: string;
  message: string;
}

/** A decoded relay event (the `data:` of one SSE message, read and checked). */
export type RelayEvent =
  | { type: "stream"; id: string; url?: string; token?: string }
  /**
   * `reasoning` / `commentary`: the whole text of that channel so far, when not empty (a client
   * that resyncs or resumes from the snapshot takes it as its text, so it ends exact without the
   * pieces before it).
   */
  | {
      type: "snapshot";
      value: unknown;
      status: StreamStatus;
      progress?: Progress;
      reasoning?: string;
      commentary?: string;
    }
  | { type: "patch"; ops: PatchOp[] }
  | { type: "status"; status: StreamStatus }
  | { type: "progress"; progress: Progress }
  /** Without `value`, the value is the one the client's snapshot holds at `path`. */
  | { type: "field"; path: PathSegment[]; value?: unknown }
  | { type: "field-state"; path: PathSegment[]; state: FieldState }
  | { type: "retry"; attempt: number; delayMs: number; error: PublicError }
  /** A retry's answer withdrew the values at `retracted` (JSON Pointers); the patch that replaces them follows. */
  | { type: "rewind"; retracted: string[]; attempt: number }
  /** A piece of the model's reasoning (`reasoning`) or of the text beside the answer (`commentary`). */
  | { type: "reasoning" | "commentary"; delta: string }
  /** Without `value`, the final value is the client's snapshot. */
  | { type: "complete"; value?: unknown; stats?: StreamStats }
  | { type: "error"; error: PublicError }
  /** Not a stream event: the relay cannot serve the stream now (its log is down); reconnect later. */
  | { type: "unavailable"; error: PublicError };

/** What a client (or the relay replaying its log) knows of a stream at one event id. */
export interface RelayState {
  value: unknown;
  status: StreamStatus;
  progress: Progress | undefined;
}

/** The state before the first event. */
export const INITIAL_STATE: RelayState = Object.freeze({
  value: undefined,
  status: "idle",
  progress: undefined,
});

const STATUSES = new Set<string>(["idle", "connecting", "streaming", "validating", "complete", "error"]);
const FIELD_STATES = new Set<string>(["pending", "streaming", "complete"]);

function protocolError(message: string): StructreamError {
  return new StructreamError("protocol_error", message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readPath(value: unknown): PathSegment[] {
  if (
    !Array.isArray(value) ||
    !value.every((s) => typeof s === "string" || (typeof s === "number" && s >= 0))
  ) {
    throw protocolError("A path must be an array of keys and indexes");
  }
  return value as PathSegment[];
}

function readProgress(value: unknown): Progress {
  if (
    !isObject(value) ||
    typeof value.completed !== "number" ||
    typeof value.total !== "number" ||
    typeof value.percent !== "number" ||
    !Array.isArray(value.pending)
  ) {
    throw protocolError("Malformed progress");
  }
  return value as unknown as Progress;
}

function readError(value: unknown): PublicError {
  if (!isObject(value) || typeof value.code !== "string" || typeof value.message !== "string") {
    throw protocolError("Malformed error");
  }
  return { code: value.code, message: value.message };
}

function readStatus(value: unknown): StreamStatus {
  if (typeof value !== "string" || !STATUSES.has(value))
    throw protocolError(`Unknown status ${JSON.stringify(value)}`);
  return value as StreamStatus;
}

/**
 * Reads one SSE message of the relay protocol (`type` is the SSE event name; an unnamed event,
 * `"message"`, is a patch). Returns `undefined` for an event name it does not
 * know (a newer server may add some), and throws a `protocol_error` for a known one whose data
 * is malformed.
 */
export function decodeRelayEvent(type: string, data: string): RelayEvent | undefined {
  let body: unknown;
  try {
    body = JSON.parse(data);
  } catch {
    throw protocolError(`The data of a "${type}" event is not JSON`);
  }
  switch (type) {
    case "message":
    case "patch":
      return { type: "patch", ops: decodePatch(body) };
    case "stream": {
      if (!isObject(body) || typeof body.id !== "string") throw protocolError("Malformed stream event");
      const event: RelayEvent = { type, id: body.id };
      if (typeof body.url === "string") event.url = body.url;
      if (typeof body.token === "string") event.token = body.token;
      return event;
    }
    case "snapshot": {
      if (!isObject(body)) throw protocolError("Malformed snapshot");
      const event: RelayEvent = { type, value: body.value, status: readStatus(body.status) };
      if (body.progress !== undefined) event.progress = readProgress(body.progress);
      for (const channel of ["reasoning", "commentary"] as const) {
        const text = body[channel];
        if (text === undefined) continue;
        if (typeof text !== "string") throw protocolError(`Malformed snapshot ${channel}`);
        event[channel] = text;
      }
      return event;
    }
    case "status":
      if (!isObject(body)) throw protocolError("Malformed status");
      return { type, status: readStatus(body.status) };
    case "progress":
      return { type, progress: readProgress(body) };
    case "field": {
      if (!isObject(body)) throw protocolError("Malformed field event");
      const event: RelayEvent = { type, path: readPath(body.path) };
      if ("value" in body) event.value = body.value;
      return event;
    }
    case "field-state":
      if (!isObject(body) || typeof body.state !== "string" || !FIELD_STATES.has(body.state)) {
        throw protocolError("Malformed field-state event");
      }
      return { type, path: readPath(body.path), state: body.state as FieldState };
    case "retry":
      if (!isObject(body) || typeof body.attempt !== "number" || typeof body.delayMs !== "number") {
        throw protocolError("Malformed retry event");
      }
      return { type, attempt: body.attempt, delayMs: body.delayMs, error: readError(body.error) };
    case "rewind":
      if (
        !isObject(body) ||
        typeof body.attempt !== "number" ||
        !Array.isArray(body.retracted) ||
        !body.retracted.every((p) => typeof p === "string" && (p === "" || p.startsWith("/")))
      ) {
        throw protocolError("Malformed rewind event");
      }
      return { type, retracted: body.retracted as string[], attempt: body.attempt };
    case "reasoning":
    case "commentary":
      if (!isObject(body) || typeof body.delta !== "string") throw protocolError(`Malformed ${type} event`);
      return { type, delta: body.delta };
    case "complete": {
      if (!isObject(body)) throw protocolError("Malformed complete event");
      const event: RelayEvent = { type };
      if ("value" in body) event.value = body.value;
      if (isObject(body.stats)) event.stats = body.stats as unknown as StreamStats;
      return event;
    }
    case "stream-error":
    case "error":
      return { type: "error", error: readError(body) };
    case "unavailable":
      return { type, error: readError(body) };
    default:
      return undefined;
  }
}

/**
 * The state after `event`. Values keep their structural sharing: a patch copies only the
 * containers it changes, and a snapshot is merged by {@link diff} so the parts that did not change
 * keep their identity.
 */
export function reduceRelayState(state: RelayState, event: RelayEvent): RelayState {
  switch (event.type) {
    case "snapshot": {
      const value = applyPatch(state.value, diff(state.value, event.value));
      const progress = sameProgress(state.progress, event.progress) ? state.progress : event.progress;
      if (value === state.value && progress === state.progress && event.status === state.status) return state;
      return { value, status: event.status, progress };
    }
    case "patch":
      return event.ops.length === 0 ? state : { ...state, value: applyPatch(state.value, event.ops) };
    case "status":
      return state.status === event.status ? state : { ...state, status: event.status };
    case "progress":
      return { ...state, progress: event.progress };
    case "complete":
      return { ...state, status: "complete", value: "value" in event ? event.value : state.value };
    case "error":
      return { ...state, status: "error" };
    default:
      return state;
  }
}

function sameProgress(a: Progress | undefined, b: Progress | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  return (
    a.completed === b.completed &&
    a.total === b.total &&
    a.percent === b.percent &&
    a.pending.length === b.pending.length &&
    a.pending.every((p, i) => p === b.pending[i])
  );
}

/** True for the events that end a stream (by their SSE `event:` name). */
export function isTerminal(type: string): boolean {
  return type === "complete" || type === "stream-error" || type === "error";
}

const SECRETS: RegExp[] = [
  // API keys in the shapes the big providers use (sk-..., sk-ant-..., pk_live_..., AIza...).
  /\b(?:sk|pk|rk)[-_][A-Za-z0-9_-]{8,}/g,
  /\bAIza[A-Za-z0-9_-]{20,}/g,
  /\b(?:Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+/gi,
  // Credentials in URLs (redis://user:pass@host).
  /\/\/[^/\s:@]+:[^/\s@]+@/g,
  // Any long opaque token (hex, base64): no error message needs one.
  /[A-Za-z0-9+/_=-]{32,}/g,
];

/**
 * The code and message a client may see for `error`. The message is the first line only (a stack
 * trace never leaves the server), at most 300 characters, with anything shaped like a key, a
 * bearer token or URL credentials replaced by `[redacted]`. An error that is not a structream
 * error says only that the stream failed: its message may hold anything.
 */
export function toPublicError(error: unknown): PublicError {
  if (!isStructreamError(error))
    return { code: "provider_error", message: "The stream failed on the server." };
  let message = String(error.message).split(/\r?\n|\r/, 1)[0] ?? "";
  for (const pattern of SECRETS) message = message.replace(pattern, "[redacted]");
  if (message.length > 300) message = `${message.slice(0, 299)}…`;
  return { code: /^[a-z][a-z0-9_]{0,63}$/.test(error.code) ? error.code : "provider_error", message };
}

/**
 * One SSE message. `data` must be a single line (JSON.stringify never writes a line break).
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function formatSseEvent(type: string, data: string, id?: number): string {
  // Patches, the bulk of a stream, travel as unnamed events (SSE's default type, "message"): the
  // `event:` line would be a fifth of their bytes.
  const name = type === "patch" ? "" : `event: ${type}\n`;
  return id === undefined ? `${name}data: ${data}\n\n` : `id: ${id}\n${name}data: ${data}\n\n`;
}
