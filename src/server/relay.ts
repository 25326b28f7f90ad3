import { isStructreamError, StructreamError } from "../errors/index.ts";
import { valueAt } from "../json/index.ts";
import { changeSize } from "../shared/index.ts";
import type { Progress, StreamEvent, StreamStatus } from "../stream/index.ts";
import {
  type DirectAnswer,
  type DirectBody,
  type DirectRequest,
  setDirectBody,
  setDirectServe,
} from "./direct.ts";
import {
  createMemoryEventLog,
  type EventLog,
  type LogCursor,
  type LogEntry,
  type LogEvent,
  type LogTail,
  type StreamMeta,
  syncAppendOf,
} from "./event-log.ts";
import { constantTimeEqual, ID_PATTERN, randomId, sha256Hex } from "./ids.ts";
import { createChangeApplier, diff, encodePatch, type WirePatchOp } from "./patch.ts";
import {
  decodeRelayEvent,
  formatSseEvent,
  INITIAL_STATE,
  type PublicError,
  type RelayState,
  reduceRelayState,
  toPublicError,
} from "./protocol.ts";

/**
 * What the relay consumes: anything async-iterable over {@link StreamEvent}s (a `structuredStream`,
 * or a hand-made sequence), with an optional `abort()` the relay calls for {@link Relay.abort}.
 */
export interface RelaySource {
  [Symbol.asyncIterator](): AsyncIterator<StreamEvent<unknown>>;
  /**
   * The events with `changes` on each partial (as `StructuredStream.events` gives them): the relay
   * then writes those as its patches instead of diffing snapshots.
   */
  events?(options: { changes: boolean }): AsyncIterator<StreamEvent<unknown>>;
  abort?(reason?: unknown): void;
}

/** Options of {@link createRelay}. */
export interface RelayOptions {
  /**
   * Where events are kept for resuming. Use {@link createRedisEventLog} when several instances
   * serve one application.
   * @defaultValue `createMemoryEventLog({ maxEvents: maxEventsPerStream })`
   */
  log?: EventLog;
  /**
   * Most streams this relay runs at once; `start` fails with `limit_exceeded` beyond.
   * @defaultValue 1_000
   */
  maxStreams?: number;
  /**
   * Events kept per stream by the default memory log (older ones are dropped; a client that falls
   * that far behind resyncs from a snapshot).
   * @defaultValue 10_000
   */
  maxEventsPerStream?: number;
  /**
   * Most SSE responses open at once; beyond, `handle` answers 503 with `Retry-After`.
   * @defaultValue 10_000
   */
  maxConnections?: number;
  /**
   * Fewest events between two `snapshot` events in a stream. A snapshot is also held back until the
   * events since the previous one weigh four times its size, so snapshots never cost more than a
   * fraction of the patches and the bytes sent stay linear in the answer's size.
   * @defaultValue 64
   */
  snapshotEvery?: number;
  /**
   * Interval of the `: ping` comments that keep idle connections open through proxies, in ms.
   * @defaultValue 15_000
   */
  keepAliveMs?: number;
  /**
   * Give each stream a secret token besides its id: `handle` then also requires
   * `Authorization: Bearer <token>` (or `?token=`). Without it the 128-bit id is the only key.
   * @defaultValue false
   */
  token?: boolean;
  /**
   * The SSE `retry:` hint sent on each connection (the client's first reconnection delay), in ms.
   * @defaultValue 1_000
   */
  retryMs?: number;
  /**
   * Turns an error into what clients see. The default ({@link toPublicError}) keeps the code and the
   * first line of the message with anything shaped like a secret redacted.
   */
  exposeError?: (error: unknown) => PublicError;
  /** Extra headers on every response (CORS, for instance). */
  headers?: HeadersInit;
  /**
   * Told about failures no client can be told about (the log refused an event).
   * @defaultValue `console.error`
   */
  onError?: (error: unknown, streamId: string) => void;
  /**
   * How long a running stream waits for its log to accept an event again (Redis unreachable)
   * before the relay gives up and aborts the stream, in ms. Meanwhile the stream is not read
   * further (the model's output waits in its bounded buffer) and writes are retried with backoff.
   * @defaultValue 30_000
   */
  logOutageMs?: number;
}

/** Options of {@link Relay.start}. */
export interface RelayStartOptions {
  /** Overrides {@link RelayOptions.token} for this stream. */
  token?: boolean;
}

/** A started stream: its id, and its token when it has one. */
export interface StartedStream {
  id: string;
  token?: string;
}

/** Options of {@link Relay.respond}. */
export interface RelayRespondOptions {
  /** The last event id the client has (0: none). */
  lastEventId?: number;
  /** Told to the client in the first `stream` event: where to reconnect. */
  resumeUrl?: string;
  /** Told to the client in the first `stream` event: the token to reconnect with. */
  token?: string;
  /** Extra headers on this response (added to the relay's `headers`). */
  headers?: HeadersInit;
}

/**
 * An SSE relay: runs structured streams once, whoever listens, writes their events to a log, and
 * serves them to any number of clients, each of which can resume where it was cut off.
 */
export interface Relay {
  /**
   * Starts consuming `source` now (whether or not anyone listens) and returns its id (and token).
   * @throws `limit_exceeded` when `maxStreams` streams are running, or the log is full.
   */
  start(source: RelaySource, options?: RelayStartOptions): Promise<StartedStream>;
  /**
   * Serves `GET .../<id>` (the id is the last path segment): the stream's events after
   * `Last-Event-ID` (header, or `?lastEventId=`) as `text/event-stream`; 204 when that id is the
   * stream's last event (so a plain `EventSource` stops reconnecting). `DELETE .../<id>` stops the
   * stream (202; 204 when it had already ended), with the same checks. 400 for a malformed id,
   * event id (or one beyond the last sent) or token, 401 without a required token, 403 for a wrong
   * one, 404 for an unknown stream, 405 for another method, 413 for a body, 414 for an overlong
   * URL, 503 with `Retry-After` beyond `maxConnections` or while the log is unreachable.
   */
  handle(request: Request): Promise<Response>;
  /** The SSE response for a stream, without checks (the caller has decided the client may read). */
  respond(id: string, options?: RelayRespondOptions): Response;
  /**
   * Stops a stream and its model call; its clients get a `stream-error` event with code `aborted`.
   * A stream that another instance runs is stopped through the shared log (Redis pub/sub), when
   * the log can (`EventLog.cancel`). Returns `true` when this instance runs the stream or the
   * request went to the log, `false` when neither.
   */
  abort(id: string, reason?: unknown): boolean;
  /** Resolves when every event of a stream this relay runs is in the log (at once for others). */
  finished(id: string): Promise<void>;
  /** Streams running now. */
  readonly running: number;
  /** SSE responses open now. */
  readonly connections: number;
  /** Aborts every running stream and ends every open response. */
  close(): Promise<void>;
}

const SSE_HEADERS: Record<string, string> = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-cache, no-transform",
  // nginx buffers responses unless told otherwise.
  "x-accel-buffering": "no",
};
const MAX_URL_LENGTH = 8_192;
const EVENT_ID = /^\d{1,15}$/;
/** Seconds a client waits before retrying a 503 (`Retry-After`). */
const RETRY_AFTER_SECONDS = "2";
/** The reason a client's cancel request (`DELETE`) gives. */
const CANCELLED = "Stopped by the client.";
const encoder = new TextEncoder();
/** Characters encoded per write of a large event. */
const PIECE = 16_384;
/** Most characters merged into one patch event (more starts the next one). */
const PATCH_MOST = 65_536;
/** Runs `task` in a later turn of the event loop (`setImmediate` where there is one: Node, Bun, Deno). */
const macrotask: (task: () => void) => void =
  typeof setImmediate === "function" ? (task) => void setImmediate(task) : (task) => void setTimeout(task, 0);
/**
 * Runs `task` once the current task and its promise reactions are done (`process.nextTick`, which
 * Node runs after the microtask queue drains; a macrotask where there is none).
 */
const afterTask: (task: () => void) => void =
  (globalThis as { process?: { nextTick?: (task: () => void) => void } }).process?.nextTick ?? macrotask;
/** Events whose data is shorter are queued for a reader as one string (the rest in parts, sliced). */
const SMALL = 1_024;
/** Events a stream writes at once in one turn of the event loop before it batches the rest. */
const BURST = 4;
const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** An SSE message up to its data: {@link formatSseEvent} is `sseHead(type, id) + data + "\n\n"`. */
function sseHead(type: string, id?: number): string {
  const name = type === "patch" ? "" : `event: ${type}\n`;
  return id === undefined ? `${name}data: ` : `id: ${id}\n${name}data: `;
}
const PING_TEXT = ": ping\n\n";
const PING = encoder.encode(PING_TEXT);

/** The text of the channels beside the answer, as a reader has it. */
interface ChannelTexts {
  reasoning: string;
  commentary: string;
}

/** An open SSE connection to a stream: written directly (Node), or through a web stream. */
interface Connection {
  direct: DirectBody;
  web(): ReadableStream<Uint8Array>;
}

/** What the relay decided about a request, the same on the web and Node paths. */
type Verdict =
  | { kind: "error"; status: number; code: string; message: string; header?: [string, string] }
  | { kind: "ended" }
  | { kind: "head" }
  | { kind: "cancelling"; id: string }
  | { kind: "open"; id: string; lastEventId: number };

interface Running {
  source: RelaySource;
  done: Promise<void>;
  abort(reason: unknown): void;
}

/** Equal for a primitive; same kind and size for a container (a field's value compared with the snapshot's). */
function sameShallow(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length;
  return !Array.isArray(b) && Object.keys(a).length === Object.keys(b).length;
}

function sameProgress(a: Progress | undefined, b: Progress): boolean {
  if (a === b) return true;
  if (a === undefined || a.completed !== b.completed || a.total !== b.total || a.percent !== b.percent)
    return false;
  if (a.pending === b.pending) return true;
  return (
    a.pending.length === b.pending.length && a.pending.every((p: string, i: number) => p === b.pending[i])
  );
}

/** A JSON error response: `{ "error": { "code", "message" } }`; every 503 carries `Retry-After`. */
function errorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
  if (status === 503 && !h.has("retry-after")) h.set("retry-after", RETRY_AFTER_SECONDS);
  h.set("content-type", "application/json; charset=utf-8");
  h.set("cache-control", "no-store");
  return new Response(JSON.stringify({ error: { code, message } }), { status, headers: h });
}

/**
 * Creates a relay. Mount {@link Relay.handle} on `GET /streams/:id` of any fetch-style server (Hono,
 * Next.js route handlers, Deno, Bun; node:http through {@link toNodeHandler}) and start streams
 * with {@link Relay.start}.
 *
 * @example
 * ```ts
 * const relay = createRelay({ token: true });
 * app.post("/api/answers", async (c) => {
 *   const { id, token } = await relay.start(structuredStream({ source, schema }));
 *   return c.json({ url: `/api/streams/${id}`, token });
 * });
 * app.get("/api/streams/:id", (c) => relay.handle(c.req.raw));
 * ```
 */
export function createRelay(options: RelayOptions = {}): Relay {
  const ownLog = options.log === undefined;
  const log = options.log ?? createMemoryEventLog({ maxEvents: options.maxEventsPerStream ?? 10_000 });
  const maxStreams = options.maxStreams ?? 1_000;
  const maxConnections = options.maxConnections ?? 10_000;
  const snapshotEvery = Math.max(1, options.snapshotEvery ?? 64);
  // A bounded log must always hold a snapshot, or a client that falls behind cannot resync.
  const snapshotAtMost =
    log.maxEvents === undefined ? Number.POSITIVE_INFINITY : Math.max(1, Math.floor(log.maxEvents / 2));
  const keepAliveMs = options.keepAliveMs ?? 15_000;
  const retryMs = options.retryMs ?? 1_000;
  const exposeError = options.exposeError ?? toPublicError;
  const onError =
    options.onError ??
    ((error: unknown, streamId: string) => console.error(`structream relay: stream ${streamId}:`, error));
  const logOutageMs = options.logOutageMs ?? 30_000;
  /** The log's synchronous append, when it has one (a memory log). */
  const appendNow = syncAppendOf(log);
  const running = new Map<string, Running>();
  const openResponses = new Set<() => void>();
  /** Streams counted against `maxStreams` whose `log.create` has not returned yet. */
  let starting = 0;
  let connections = 0;
  let closed = false;
  // Cancel requests from any instance sharing the log reach the one that runs the stream.
  const stopListening = log.onCancel?.((id, reason) => {
    if (running.has(id)) abortLocal(id, reason === "" ? "The stream was cancelled." : reason);
  });

  function abortLocal(id: string, reason: unknown): boolean {
    const entry = running.get(id);
    if (entry === undefined) return false;
    const why = reason ?? "The stream was aborted.";
    if (entry.source.abort === undefined) entry.abort(why);
    else {
      entry.source.abort(why);
      // A source that ignores abort() is cut off after a grace period.
      const timer = setTimeout(() => entry.abort(why), 1_000);
      void entry.done.finally(() => clearTimeout(timer));
    }
    return true;
  }

  function errorData(error: unknown): PublicError {
    try {
      return exposeError(error);
    } catch {
      return toPublicError(undefined);
    }
  }

  /** A number that changes once per turn of the event loop (one timer for all streams). */
  let turn = 0;
  let turnTimer = false;
  function currentTurn(): number {
    if (!turnTimer) {
      turnTimer = true;
      macrotask(() => {
        turn++;
        turnTimer = false;
      });
    }
    return turn;
  }

  async function pump(id: string, source: RelaySource, aborted: Promise<unknown>): Promise<void> {
    // The value the log describes so far, kept from the changes written (no snapshot per patch).
    let doc = createChangeApplier();
    let value: unknown;
    let status: StreamStatus = "idle";
    let progress: Progress | undefined;
    let since = 0;
    let bytesSince = 0;
    let lastSnapshotBytes = 0;
    let ended = false;
    /**
     * The `reasoning` and `commentary` text queued so far, for the snapshots written into the stream:
     * a client that resyncs from one after a gap (a bounded log dropped events) ends with the same
     * text as one that read every event.
     */
    let reasoning = "";
    let commentary = "";
    /** The state the log describes (with the pending events), as a `snapshot` event's data. */
    const snapshotData = (): string => {
      const data: Record<string, unknown> = { value: current(), status, progress };
      if (reasoning !== "") data.reasoning = reasoning;
      if (commentary !== "") data.commentary = commentary;
      return JSON.stringify(data);
    };

    let stopping = false;
    /** The stream's last event is queued: nothing more is read from the source. */
    let closing = false;
    /**
     * Events made since the last write to the log, in order. What the stream produced within one
     * turn of the event loop goes to the log together (and so to each reader in one write), with
     * adjacent patches merged into one.
     */
    let pending: LogEvent[] = [];
    /** The operations of the last pending event while it is a patch (encoded when written). */
    let pendingOps: WirePatchOp[] | undefined;
    /** How many of `pendingOps` are in `doc` or `backlog` (applied when the value is needed). */
    let applied = 0;
    /**
     * Operations written but not yet applied to `doc`, consecutive appends to one string joined:
     * applied only when the value is needed (a snapshot, a field check), not once per event.
     */
    let backlog: WirePatchOp[] = [];
    const toBacklog = (ops: readonly WirePatchOp[], from: number) => {
      for (let i = from; i < ops.length; i++) {
        const op = ops[i];
        const last = backlog.length - 1;
        const tail = backlog[last];
        if (op[0] === ">" && tail !== undefined && tail[0] === ">" && tail[1] === op[1])
          backlog[last] = [">", op[1], tail[2] + op[2]];
        else backlog.push(op);
      }
    };
    /** The value the log describes with the pending events. */
    const current = (): unknown => {
      if (pendingOps !== undefined && applied < pendingOps.length) {
        toBacklog(pendingOps, applied);
        applied = pendingOps.length;
      }
      if (backlog.length > 0) {
        doc.apply(backlog);
        backlog = [];
        value = doc.value;
      }
      return value;
    };

    /**
     * Writes one event, riding out a log outage: a write that fails for want of the log is retried
     * with backoff for up to `logOutageMs` (the source is not read meanwhile). Anything else, or an
     * outage that lasts, fails the stream (and aborts its source). Returns `true` when the log lost
     * the stream (`log_reset`: Redis restarted without persistence) and a snapshot of the state
     * after the whole batch was written before the event, so readers resync from it.
     */
    const durably = async (event: LogEvent): Promise<boolean> => {
      const since = Date.now();
      let delay = 50;
      let resets = 0;
      let snapshotFirst = false;
      let reset = false;
      for (;;) {
        try {
          if (snapshotFirst) {
            await log.append(id, { type: "snapshot", data: snapshotData() });
            snapshotFirst = false;
            reset = true;
          }
          await log.append(id, event);
          return reset;
        } catch (error) {
          if (isStructreamError(error) && error.code === "log_reset" && resets++ < 3) {
            snapshotFirst = true;
            continue;
          }
          if (
            !isStructreamError(error) ||
            error.code !== "log_unavailable" ||
            stopping ||
            Date.now() - since >= logOutageMs
          )
            throw error;
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(1_000, delay * 2);
        }
      }
    };

    /**
     * The pieces of the last pending event while it is a `reasoning` or `commentary` event: joined
     * once, when it is sealed (re-encoding the event per piece would cost the square of its length).
     */
    let pendingText: string[] | undefined;
    let pendingTextSize = 0;
    /** Encodes the pending patch or text event: nothing more merges into it. */
    const sealPatch = () => {
      if (pendingText !== undefined) {
        pending[pending.length - 1].data = JSON.stringify({ delta: pendingText.join("") });
        pendingText = undefined;
        return;
      }
      if (pendingOps === undefined) return;
      if (applied < pendingOps.length) toBacklog(pendingOps, applied);
      pending[pending.length - 1].data = JSON.stringify(pendingOps);
      pendingOps = undefined;
    };
    /** Queues a piece of reasoning or commentary, merged into the pending event of the same channel. */
    const appendText = (type: "reasoning" | "commentary", delta: string) => {
      if (type === "reasoning") reasoning += delta;
      else commentary += delta;
      const tail = pending[pending.length - 1];
      if (pendingText !== undefined && tail?.type === type && pendingTextSize + delta.length <= PATCH_MOST) {
        pendingText.push(delta);
        pendingTextSize += delta.length;
        return;
      }
      sealPatch();
      pending.push({ type, data: "" });
      pendingText = [delta];
      pendingTextSize = delta.length;
    };

    /** Events a snapshot of the state after the batch already holds (skipped after a reset). */
    const inSnapshot = (type: string) =>
      type === "patch" ||
      type === "progress" ||
      type === "status" ||
      type === "rewind" ||
      type === "reasoning" ||
      type === "commentary";

    const snapshotDue = () =>
      (since >= snapshotEvery && bytesSince >= 4 * lastSnapshotBytes) || since >= snapshotAtMost;
    const snapshotWritten = (snapshot: string) => {
      since = 0;
      bytesSince = 0;
      lastSnapshotBytes = snapshot.length;
    };
    /** Writes `batch` from `start` through `log.append`, riding out failures (see `durably`). */
    const flushFrom = async (batch: LogEvent[], start: number) => {
      let reset = false;
      for (let i = start; i < batch.length; i++) {
        const event = batch[i];
        if (reset && inSnapshot(event.type)) continue;
        // The common case in one await; a failed write is retried (with backoff) by `durably`.
        try {
          await log.append(id, event);
        } catch {
          if (await durably(event)) reset = true;
        }
        if (event.last === true) {
          ended = true;
          return;
        }
        since++;
        bytesSince += event.data.length;
      }
      if (snapshotDue()) {
        const snapshot = snapshotData();
        await durably({ type: "snapshot", data: snapshot });
        snapshotWritten(snapshot);
      }
    };
    /**
     * Writes the pending events to the log, then a snapshot when one is due. `value`, `status` and
     * `progress` describe the log once the batch is in, so the snapshot goes after the whole batch.
     * A memory log takes the batch synchronously (`undefined`: no promise, no await per event); a
     * failure, or another log, goes the async way.
     */
    const flush = (): Promise<void> | undefined => {
      sealPatch();
      const batch = pending;
      pending = [];
      if (appendNow === undefined) return flushFrom(batch, 0);
      for (let i = 0; i < batch.length; i++) {
        const event = batch[i];
        try {
          appendNow(id, event);
        } catch {
          // Nothing was stored: the async way retries this event.
          return flushFrom(batch, i);
        }
        if (event.last === true) {
          ended = true;
          return undefined;
        }
        since++;
        bytesSince += event.data.length;
      }
      if (snapshotDue()) {
        const snapshot = snapshotData();
        try {
          appendNow(id, { type: "snapshot", data: snapshot });
        } catch {
          return durably({ type: "snapshot", data: snapshot }).then(() => snapshotWritten(snapshot));
        }
        snapshotWritten(snapshot);
      }
      return undefined;
    };

    const append = (name: string, data: string, last = false) => {
      // The stream's failure is `stream-error` on the wire: an event named `error` would reach an
      // EventSource's `onerror`, which also fires for every lost connection.
      const type = name === "error" ? "stream-error" : name;
      sealPatch();
      pending.push(last ? { type, data, last } : { type, data });
      if (last) closing = true;
    };

    /** Roughly how many characters the pending patch holds (see `changeSize`). */
    let pendingSize = 0;
    /** Queues a patch, merged into the pending one before it (consecutive appends to one string joined). */
    const appendPatch = (ops: readonly WirePatchOp[]) => {
      const size = changeSize(ops);
      // A patch stays a moderate event (a burst read late could otherwise make one of megabytes).
      if ((pendingOps !== undefined && pendingSize + size > PATCH_MOST) || pendingText !== undefined)
        sealPatch();
      pendingSize = pendingOps === undefined ? size : pendingSize + size;
      if (pendingOps === undefined) {
        pending.push({ type: "patch", data: "" });
        pendingOps = ops.slice();
        applied = 0;
        return;
      }
      for (const op of ops) {
        const last = pendingOps.length - 1;
        const tail = pendingOps[last];
        if (op[0] === ">" && tail !== undefined && tail[0] === ">" && tail[1] === op[1]) {
          pendingOps[last] = [">", op[1], tail[2] + op[2]];
          // The tail is in the document already: so must its new text be.
          if (last < applied) toBacklog([op], 0);
        } else pendingOps.push(op);
      }
    };

    const write = (event: StreamEvent<unknown>) => {
      switch (event.type) {
        case "status":
          if (event.status === status) return;
          status = event.status;
          return append("status", JSON.stringify({ status }));
        case "partial": {
          // The stream's own changes are the patch; only a source without them is diffed.
          let ops: WirePatchOp[];
          if (event.changes !== undefined) ops = event.changes;
          else ops = encodePatch(diff(current(), event.value));
          // Progress first, so the client's partial event (on the patch) carries the new progress.
          // `value` and `progress` must always describe the log so far: a snapshot may follow any write.
          if (event.progress !== undefined && !sameProgress(progress, event.progress)) {
            progress = event.progress;
            append("progress", JSON.stringify(progress));
          }
          if (event.changes !== undefined) {
            // Applied to `doc` when the value is next needed (once per batch for a long string).
            if (ops.length > 0) appendPatch(ops);
            return;
          }
          sealPatch();
          value = event.value;
          doc = createChangeApplier(value);
          backlog = [];
          if (ops.length > 0) {
            appendPatch(ops);
            applied = ops.length;
          }
          return;
        }
        case "field": {
          // The client already holds the value when the patch that completed it came first.
          const known = valueAt(current(), event.path);
          const same = known === event.value && known !== undefined;
          return append(
            "field",
            JSON.stringify(same ? { path: event.path } : { path: event.path, value: event.value }),
          );
        }
        case "field-state":
          return append("field-state", JSON.stringify({ path: event.path, state: event.state }));
        case "retry":
          return append(
            "retry",
            JSON.stringify({ attempt: event.attempt, delayMs: event.delayMs, error: errorData(event.error) }),
          );
        case "rewind":
          // Before the patch that replaces what it withdraws, as in the stream.
          return append("rewind", JSON.stringify({ retracted: event.retracted, attempt: event.attempt }));
        case "reasoning":
        case "commentary":
          // A thinking model writes a piece per token: merged, so it does not spend an event each.
          if (event.delta !== "") appendText(event.type, event.delta);
          return;
        case "complete": {
          // The validated value is sent only when it differs from what the client has.
          const same = diff(current(), event.value).length === 0;
          value = event.value;
          return append(
            "complete",
            JSON.stringify(same ? { stats: event.stats } : { value, stats: event.stats }),
            true,
          );
        }
        case "error":
          return append("error", JSON.stringify(errorData(event.error)), true);
      }
    };

    // The stream reports a chunk's `field` and `field-state` events as the parser meets them, then
    // the chunk's `partial`: hold the notifications about values the client cannot see yet until the
    // patch that brings them is written, so a client never hears of a value before it has it.
    const held: StreamEvent<unknown>[] = [];
    const flushHeld = () => {
      // After every partial: most of the time there is nothing held (no array made for nothing).
      if (held.length === 0) return;
      for (const event of held.splice(0)) write(event);
    };
    const ordered = (event: StreamEvent<unknown>) => {
      if (event.type === "field" || event.type === "field-state") {
        const visible =
          event.type === "field"
            ? sameShallow(valueAt(current(), event.path), event.value)
            : event.state !== "complete";
        if (held.length > 0 || !visible) held.push(event);
        else write(event);
        return;
      }
      if (event.type === "partial") {
        write(event);
        flushHeld();
        return;
      }
      flushHeld();
      write(event);
    };

    const iterator =
      typeof source.events === "function" ? source.events({ changes: true }) : source[Symbol.asyncIterator]();
    const ABORTED = Symbol("aborted");
    const FLUSH = Symbol("flush");
    type Next = IteratorResult<StreamEvent<unknown>> | typeof ABORTED | typeof FLUSH;
    let abortReason: unknown;
    let isAborted = false;
    // One pending `next()` that an abort or a due flush can cut short. (Promise.race against a shared
    // abort promise would leave one reaction on it per event for the life of the stream.)
    let interrupt: ((value: typeof ABORTED | typeof FLUSH) => void) | undefined;
    /** The source's `next()` not yet consumed (a wait cut short by a flush keeps it for the next). */
    let inflight: Promise<IteratorResult<StreamEvent<unknown>>> | undefined;
    void aborted.then((reason) => {
      // An abort (a cancel, the relay closing) ends the wait for a log that is down.
      stopping = true;
      isAborted = true;
      abortReason = reason;
      interrupt?.(ABORTED);
    });
    const next = (): Next | Promise<Next> =>
      isAborted
        ? ABORTED
        : new Promise<Next>((resolve, reject) => {
            interrupt = resolve;
            inflight ??= iterator.next();
            inflight.then(resolve, reject);
          });
    // Events are written as they come while they come one at a time (a model's pace: the lowest
    // latency); past a few in one turn of the event loop (a burst: a network chunk holding many
    // deltas, a source read faster than it is written), the rest of the turn's events wait for a
    // macrotask and go out together: one log write and one socket write per reader.
    let turnSeen = -1;
    let eventsThisTurn = 0;
    const inBurst = () => {
      const turn = currentTurn();
      if (turn !== turnSeen) {
        turnSeen = turn;
        eventsThisTurn = 0;
      }
      return ++eventsThisTurn > BURST;
    };
    let flushDue = false;
    let flushTimer: boolean | undefined;
    const scheduleFlush = () => {
      if (flushTimer !== undefined || flushDue) return;
      flushTimer = true;
      macrotask(() => {
        if (flushTimer === undefined) return;
        flushTimer = undefined;
        flushDue = true;
        interrupt?.(FLUSH);
      });
    };
    /** Most events written in one batch (a snapshot is checked after each batch). */
    const batchMost = Math.min(256, snapshotAtMost);
    let sourceDone = false;
    try {
      while (!closing) {
        if (
          flushDue ||
          pending.length >= batchMost ||
          (pending.length > 0 && since + pending.length >= snapshotAtMost)
        ) {
          flushDue = false;
          const flushing = flush();
          if (flushing !== undefined) await flushing;
          continue;
        }
        // In a burst, reading waits for the flush (a macrotask, as the burst's events wait anyway):
        // meanwhile the stream's queue merges the burst's partials into few, so the relay pays
        // per burst rather than per delta. Reasoning and commentary pieces are not merged there:
        // while the batch ends with one, reading goes on, and they merge into it here.
        const result =
          flushTimer !== undefined && !isAborted && pendingText === undefined
            ? await new Promise<Next>((resolve) => {
                interrupt = resolve;
              })
            : await next();
        interrupt = undefined;
        if (result === FLUSH) continue;
        if (result === ABORTED) {
          const reason = abortReason;
          const message =
            typeof reason === "string"
              ? reason
              : reason instanceof Error
                ? reason.message
                : "The stream was aborted.";
          append("error", JSON.stringify(errorData(new StructreamError("aborted", message))), true);
          break;
        }
        inflight = undefined;
        if (result.done === true) {
          sourceDone = true;
          break;
        }
        ordered(result.value);
        if (closing) sourceDone = true;
        else if (pending.length > 0) {
          if (inBurst()) scheduleFlush();
          else if (flushTimer === undefined) {
            const flushing = flush();
            if (flushing !== undefined) await flushing;
          }
        }
      }
      if (!closing) {
        append(
          "error",
          JSON.stringify(errorData(new StructreamError("truncated", "The stream ended without a result."))),
          true,
        );
      }
      await flush();
    } catch (error) {
      if (!ended) {
        // One try, not `durably`: when the log is what failed, waiting for it again helps no one.
        try {
          await log.append(id, { type: "stream-error", data: JSON.stringify(errorData(error)), last: true });
        } catch (logError) {
          onError(logError, id);
        }
      }
    } finally {
      flushTimer = undefined;
      // Stopped before the source did (abort, a log failure): make it stop too.
      if (!sourceDone) source.abort?.("The relay stopped reading the stream.");
      const release = () => void Promise.resolve(iterator.return?.()).catch(() => {});
      // A source that gave its last event has nothing left to stop: releasing it (a stream's cancel
      // and lock release) is cleanup, done after the deltas of the streams still running.
      if (ended && sourceDone) endSoon(release);
      else release();
    }
  }

  /** Entries of a log without `follow`, read through its async `read`, one at a time (no buffer). */
  function readCursor(id: string, from: number, onAppend: () => void, signal: AbortSignal): LogCursor {
    const iterator = log.read(id, from, { signal })[Symbol.asyncIterator]();
    let entry: LogEntry | undefined;
    let reading = false;
    let finished = false;
    let failed = false;
    let failure: unknown;
    const fill = () => {
      reading = true;
      iterator.next().then(
        (result) => {
          reading = false;
          if (result.done === true) finished = true;
          else entry = result.value;
          onAppend();
        },
        (error: unknown) => {
          reading = false;
          failed = true;
          failure = error;
          onAppend();
        },
      );
    };
    return {
      next() {
        if (failed) {
          failed = false;
          finished = true;
          throw failure;
        }
        if (entry !== undefined) {
          const taken = entry;
          entry = undefined;
          if (taken.last === true) finished = true;
          else fill();
          return taken;
        }
        if (!reading && !finished) fill();
        return undefined;
      },
      get done() {
        return finished && entry === undefined && !failed;
      },
      close() {
        finished = true;
        void Promise.resolve(iterator.return?.(undefined)).catch(() => {});
      },
    };
  }

  /**
   * The state after `entry`; `texts`, the reasoning and commentary text so far, follows it (a
   * log's snapshot holds the whole text, empty when it has none).
   */
  function reduceEntry(state: RelayState, entry: LogEntry, texts: ChannelTexts): RelayState {
    try {
      const event = decodeRelayEvent(entry.type, entry.data);
      if (event === undefined) return state;
      if (event.type === "reasoning" || event.type === "commentary") {
        texts[event.type] += event.delta;
        return state;
      }
      if (event.type === "snapshot") {
        texts.reasoning = event.reasoning ?? "";
        texts.commentary = event.commentary ?? "";
      }
      return reduceRelayState(state, event);
    } catch {
      return state;
    }
  }

  /** Direct (Node) connections with something new to send, written once the current task is done. */
  let dirty: (() => void)[] = [];
  let dirtyScheduled = false;
  const writeDirty = () => {
    dirtyScheduled = false;
    const due = dirty;
    dirty = [];
    for (const run of due) run();
  };
  /** Finished direct responses waiting to be ended, from `endingHead` on. */
  let ending: (() => void)[] = [];
  let endingHead = 0;
  let endingScheduled = false;
  const endSome = () => {
    endingScheduled = false;
    // An eighth of the queue per turn (at least 16): a queue that grows by R per turn stays under 8R.
    const count = Math.max(16, Math.ceil((ending.length - endingHead) / 8));
    for (let i = 0; i < count && endingHead < ending.length; i++) ending[endingHead++]();
    if (endingHead < ending.length) {
      endingScheduled = true;
      macrotask(endSome);
    } else {
      ending = [];
      endingHead = 0;
    }
  };
  /**
   * Runs the cleanup of a finished answer (ending a response whose client has every event, releasing
   * a source that gave its last event) in a later turn of the event loop, a bounded number per turn.
   * Ending a response costs about as much as sending a few events (the last chunk, the socket's
   * shutdown and close, Node's bookkeeping); when thousands of answers end together, doing it at
   * once would hold back the deltas of every answer still running. Nothing a client needs waits:
   * the `complete` (or `stream-error`) event is sent at once.
   */
  const endSoon = (end: () => void) => {
    ending.push(end);
    if (!endingScheduled) {
      endingScheduled = true;
      macrotask(endSome);
    }
  };
  /**
   * Runs `run` once the task that appended (a source's chunk, with its promise reactions) is done:
   * whatever it appended goes out in one write, at once. (Waiting for the end of the event loop's
   * turn instead made every delta wait for all the other streams' chunks: under load, most of its
   * latency.)
   */
  const writeSoon = (run: () => void) => {
    dirty.push(run);
    if (!dirtyScheduled) {
      dirtyScheduled = true;
      afterTask(writeDirty);
    }
  };

  /**
   * An SSE connection to a stream; it is already counted in `connections` (reserved
   * before the first await of `handle`) and is released on every path: the end of the stream, the
   * client's cancel, the relay's close, and a request whose client left before the response began.
   *
   * The events come from the log through a cursor and are encoded when the client can take them:
   * a client that stops reading holds at most one piece of text (and its socket's buffer), whatever
   * the stream writes meanwhile (a bounded log then drops the oldest; the client resyncs from a
   * snapshot). On Node, the direct body writes them straight to the socket; elsewhere the web stream
   * (made by `web()`, once) carries them.
   */
  function openConnection(
    id: string,
    respondOptions: RelayRespondOptions,
    requestSignal?: AbortSignal,
  ): Connection {
    const after = respondOptions.lastEventId ?? 0;
    /** Ends a read of a log without `follow` (made only for one). */
    let reads: AbortController | undefined;
    let mode: "idle" | "web" | "direct" = "idle";
    let timer: ReturnType<typeof setInterval> | undefined;
    let done = false;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    /** Ends the direct response (set by its `pipe`). */
    let endDirect: (() => void) | undefined;
    /** Told when the log may have more (set by the mode). */
    let notify = () => {};
    /** Where the entries come from; `undefined` until the resume point is known. */
    let cursor: LogCursor | undefined;
    const onAppend = () => notify();

    const finish = () => {
      if (done) return;
      done = true;
      connections--;
      openResponses.delete(closeFromRelay);
      requestSignal?.removeEventListener("abort", onGone);
      if (timer !== undefined) clearInterval(timer);
      reads?.abort();
      cursor?.close();
      notify();
    };
    const closeFromRelay = () => {
      finish();
      if (endDirect !== undefined) endDirect();
      else {
        try {
          stream?.close();
        } catch {
          // Already closed or errored by the consumer.
        }
      }
    };
    // The client went away, perhaps before anyone read the body (a socket closed right after its GET).
    const onGone = () => closeFromRelay();
    openResponses.add(closeFromRelay);
    if (requestSignal?.aborted === true) queueMicrotask(onGone);
    else requestSignal?.addEventListener("abort", onGone, { once: true });
    const hello: Record<string, string> = { id };
    if (respondOptions.resumeUrl !== undefined) hello.url = respondOptions.resumeUrl;
    if (respondOptions.token !== undefined) hello.token = respondOptions.token;

    // What is queued to send, in parts (a log entry's `data` string is shared by every reader: it is
    // sliced, never copied whole), and where in it.
    let parts: string[] = [];
    let part = 0;
    let offset = 0;
    /** Nothing more will be queued (the stream's end, or the log failed). */
    let ended = false;

    // The client's state, rebuilt from the entries it already has, to resume it with a snapshot.
    let state: RelayState = INITIAL_STATE;
    let stateKnown = true;
    let expected = 1;
    let started = false;
    let resyncing = false;
    let lastSent = after;
    /** Small events queued as one string (most events); `parts` holds the rest, sent in pieces. */
    let ready = "";
    const queue = (type: string, data: string, eventId?: number) => {
      if (parts.length === 0 && data.length < SMALL) ready += `${sseHead(type, eventId)}${data}\n\n`;
      else {
        if (ready !== "") {
          parts.push(ready);
          ready = "";
        }
        parts.push(sseHead(type, eventId), data, "\n\n");
      }
    };
    /** The reasoning and commentary text the client has, rebuilt with `state`. */
    const texts: ChannelTexts = { reasoning: "", commentary: "" };
    const queueSnapshot = (s: RelayState, eventId: number) => {
      const data: Record<string, unknown> = { value: s.value, status: s.status, progress: s.progress };
      // The text too, so a client that resumes without it (a reloaded page with its last id) ends
      // exact; one that has it takes it as is.
      if (texts.reasoning !== "") data.reasoning = texts.reasoning;
      if (texts.commentary !== "") data.commentary = texts.commentary;
      queue("snapshot", JSON.stringify(data), eventId);
    };

    const encode = (entry: LogEntry) => {
      if (entry.id !== expected) stateKnown = false;
      expected = entry.id + 1;
      if (entry.id <= after) {
        // The client has this one: only rebuild the state it had, to send it as a snapshot.
        if (entry.type === "snapshot") stateKnown = true;
        if (stateKnown) state = reduceEntry(state, entry, texts);
        return;
      }
      if (!started) {
        started = true;
        if (after > 0 && stateKnown) queueSnapshot(state, after);
        else if (entry.id !== after + 1) resyncing = true;
      } else if (entry.id !== lastSent + 1) {
        resyncing = true;
      }
      if (resyncing) {
        // Events between the client's and this one are gone: wait for a snapshot to resync from.
        if (entry.type !== "snapshot") return;
        resyncing = false;
      }
      lastSent = entry.id;
      queue(entry.type, entry.data, entry.id);
    };

    /** The log failed (Redis unreachable): say so, then end. The client retries and resumes exactly. */
    const unavailable = (error: unknown) => {
      onError(error, id);
      const code = isStructreamError(error) ? error.code : "log_unavailable";
      queue(
        "unavailable",
        JSON.stringify({
          code: code === "log_reset" ? "log_unavailable" : code,
          message: "The relay's event log is unavailable; reconnect later.",
        }),
      );
      ended = true;
      cursor?.close();
    };

    /** Up to `limit` characters of SSE text ready now ("" when none is). */
    const take = (limit: number): string => {
      let out = "";
      for (;;) {
        if (ready !== "" && parts.length === 0) {
          if (out.length + ready.length > limit && out !== "") return out;
          if (ready.length <= limit) {
            out += ready;
            ready = "";
          } else {
            parts.push(ready);
            ready = "";
          }
        }
        while (part < parts.length) {
          const room = limit - out.length;
          if (room <= 0) return out;
          const text = parts[part];
          if (offset === 0 && text.length <= room) {
            out += text;
            part++;
            continue;
          }
          let end = Math.min(text.length, offset + room);
          // Never split a surrogate pair: each half would encode as U+FFFD.
          if (end < text.length && end > offset && isHighSurrogate(text.charCodeAt(end - 1))) end--;
          out += text.slice(offset, end);
          if (end < text.length) {
            offset = end;
            return out;
          }
          part++;
          offset = 0;
        }
        if (part > 0) {
          parts = [];
          part = 0;
        }
        if (ready !== "") continue;
        if (ended || cursor === undefined || done || out.length >= limit) return out;
        let entry: LogEntry | undefined;
        try {
          entry = cursor.next();
        } catch (error) {
          unavailable(error);
          continue;
        }
        if (entry !== undefined) encode(entry);
        else if (cursor.done) {
          ended = true;
          // Everything was already sent (a resume after the end, with a log that has no `tail`): the
          // state tells the client it is over.
          if (!started && after > 0 && stateKnown && expected > 1) queueSnapshot(state, after);
        } else return out;
      }
    };

    const begin = (how: "web" | "direct", ping: () => void) => {
      mode = how;
      ready = `retry: ${retryMs}\n\n${formatSseEvent("stream", JSON.stringify(hello))}`;
      timer = setInterval(ping, keepAliveMs);
      // An idle keep-alive timer must not keep a process alive on its own.
      (timer as { unref?: () => void }).unref?.();
      void (async () => {
        let from = 0;
        if (after > 0 && log.snapshotAtOrBefore !== undefined) {
          // Rebuild the client's state from the nearest snapshot, not from the stream's first event.
          try {
            const snapshot = await log.snapshotAtOrBefore(id, after);
            if (snapshot !== undefined) {
              state = reduceEntry(INITIAL_STATE, snapshot, texts);
              from = snapshot.id;
            }
          } catch (error) {
            if (!done) unavailable(error);
            notify();
            return;
          }
        }
        if (done) return;
        expected = from + 1;
        if (log.follow !== undefined) cursor = log.follow(id, from, onAppend);
        else {
          reads = new AbortController();
          cursor = readCursor(id, from, onAppend, reads.signal);
        }
        notify();
      })();
    };

    let wakeWeb: (() => void) | undefined;
    const web = () =>
      new ReadableStream<Uint8Array>(
        {
          start(c) {
            stream = c;
          },
          async pull(c) {
            if (mode === "idle") {
              notify = () => wakeWeb?.();
              begin("web", () => {
                try {
                  c.enqueue(PING);
                } catch {
                  finish();
                }
              });
            }
            for (;;) {
              if (done) return;
              const text = take(PIECE);
              if (text !== "") {
                c.enqueue(encoder.encode(text));
                return;
              }
              if (ended) {
                finish();
                c.close();
                return;
              }
              await new Promise<void>((resolve) => {
                wakeWeb = resolve;
              });
              wakeWeb = undefined;
            }
          },
          cancel() {
            finish();
          },
        },
        // Nothing is read from the log before the consumer asks (and nothing at all on the direct path).
        { highWaterMark: 0 },
      );
    const direct: DirectBody = {
      pipe(target) {
        let resolveDone!: () => void;
        const piped = new Promise<void>((resolve) => {
          resolveDone = resolve;
        });
        if (done || mode !== "idle") {
          target.end();
          resolveDone();
          return { drained() {}, closed() {}, done: piped };
        }
        let blocked = false;
        let scheduled = false;
        endDirect = () => {
          try {
            target.end();
          } catch {
            // Ended or broken elsewhere: nothing more to send.
          }
          resolveDone();
        };
        const run = () => {
          scheduled = false;
          if (done) return;
          try {
            while (!blocked) {
              const text = take(PIECE);
              if (text === "") {
                // Everything is sent, the `complete` event too: ending the response can wait its turn.
                if (ended) endSoon(closeFromRelay);
                return;
              }
              // One write per batch: whatever the log gained since the last, in one string.
              if (!target.write(text)) blocked = true;
            }
          } catch {
            // The response was ended or broken elsewhere (a write after end): this reader is gone.
            closeFromRelay();
          }
        };
        notify = () => {
          if (scheduled || blocked || done) return;
          scheduled = true;
          writeSoon(run);
        };
        begin("direct", () => {
          try {
            target.write(PING_TEXT);
          } catch {
            closeFromRelay();
          }
        });
        // The first write carries the headers and the `stream` event together.
        run();
        return {
          drained() {
            blocked = false;
            notify();
          },
          closed() {
            finish();
            resolveDone();
          },
          done: piped,
        };
      },
    };
    return { direct, web };
  }

  /** The SSE response for a stream (see {@link openConnection}): a web body, and the direct one for Node. */
  function openResponse(
    id: string,
    respondOptions: RelayRespondOptions,
    requestSignal?: AbortSignal,
  ): Response {
    const connection = openConnection(id, respondOptions, requestSignal);
    const headers = new Headers(options.headers);
    new Headers(respondOptions.headers).forEach((value, name) => {
      headers.set(name, value);
    });
    for (const [name, value] of Object.entries(SSE_HEADERS)) headers.set(name, value);
    const response = new Response(connection.web(), { status: 200, headers });
    setDirectBody(response, connection.direct);
    return response;
  }

  function respond(id: string, respondOptions: RelayRespondOptions = {}): Response {
    connections++;
    return openResponse(id, respondOptions);
  }

  /** The relay's `headers` as Node takes them (computed once: every response carries them). */
  const extraRecord: Record<string, string | string[]> = {};
  {
    const extra = new Headers(options.headers);
    extra.forEach((value, name) => {
      if (name !== "set-cookie") extraRecord[name] = value;
    });
    const cookies = extra.getSetCookie();
    if (cookies.length > 0) extraRecord["set-cookie"] = cookies;
  }
  const sseRecord: Record<string, string | string[]> = { ...extraRecord, ...SSE_HEADERS };

  function logUnavailable(error: unknown, id: string): Verdict {
    onError(error, id);
    return {
      kind: "error",
      status: 503,
      code: "log_unavailable",
      message: "The relay's event log is unavailable; retry later",
    };
  }

  const refuse = (status: number, code: string, message: string, header?: [string, string]): Verdict =>
    header === undefined
      ? { kind: "error", status, code, message }
      : { kind: "error", status, code, message, header };

  /**
   * The checks of {@link Relay.handle}, shared by the web path and the Node path. An `open` verdict
   * has its connection counted already (reserved before the first await): the caller opens it at once.
   */
  async function check(request: DirectRequest): Promise<Verdict> {
    const method = request.method;
    if (method !== "GET" && method !== "HEAD" && method !== "DELETE") {
      return refuse(405, "method_not_allowed", `${method} is not allowed: read a stream with GET`, [
        "allow",
        "GET, HEAD, DELETE",
      ]);
    }
    if (request.url.length > MAX_URL_LENGTH) {
      return refuse(414, "uri_too_long", `The URL is longer than ${MAX_URL_LENGTH} characters`);
    }
    const length = request.header("content-length");
    if ((length !== undefined && length !== "0") || request.header("transfer-encoding") !== undefined) {
      return refuse(413, "body_not_allowed", "A stream request carries no body");
    }
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return refuse(400, "malformed_url", "The request URL cannot be read");
    }
    const id =
      url.pathname
        .split("/")
        .filter((s) => s !== "")
        .pop() ?? "";
    if (!ID_PATTERN.test(id)) return refuse(400, "malformed_id", "A stream id is 22 base64url characters");
    const rawEventId = request.header("last-event-id") ?? url.searchParams.get("lastEventId");
    let lastEventId = 0;
    if (rawEventId !== null && rawEventId !== "") {
      if (!EVENT_ID.test(rawEventId)) {
        return refuse(400, "malformed_event_id", "Last-Event-ID must be an event id this relay sent");
      }
      lastEventId = Number(rawEventId);
    }
    const authorization = request.header("authorization");
    let token: string | null = url.searchParams.get("token");
    if (authorization !== undefined) {
      const bearer = /^Bearer +(\S+) *$/i.exec(authorization)?.[1];
      if (bearer === undefined) {
        return refuse(400, "malformed_token", "Send the token as Authorization: Bearer <token>");
      }
      token = bearer;
    }
    // Tokens are what `start` made: 22 base64url characters. Anything else is malformed, not wrong.
    if (token !== null && token !== "" && !ID_PATTERN.test(token)) {
      return refuse(400, "malformed_token", "A token is 22 base64url characters");
    }
    if (closed) return refuse(503, "relay_closed", "The relay is shutting down");
    // Reserved before the first await, released on every path below: concurrent requests can never
    // exceed the limit, and a request that fails or whose client leaves is never left counted.
    const reading = method !== "DELETE";
    if (reading) {
      if (connections >= maxConnections) {
        return refuse(503, "too_many_connections", "The relay serves as many connections as it may");
      }
      connections++;
    }
    let handedOver = false;
    try {
      let meta: StreamMeta | undefined;
      try {
        meta = await log.meta(id);
      } catch (error) {
        return logUnavailable(error, id);
      }
      if (meta === undefined) return refuse(404, "not_found", "No such stream (or it has expired)");
      if (meta.tokenHash !== "") {
        if (token === null || token === "") {
          return refuse(401, "unauthorized", "This stream needs its token (Authorization: Bearer)", [
            "www-authenticate",
            'Bearer realm="structream"',
          ]);
        }
        // Both sides are SHA-256 digests: equal length, compared without an early exit.
        if (!constantTimeEqual(await sha256Hex(token), meta.tokenHash)) {
          return refuse(403, "forbidden", "The token does not open this stream");
        }
      }
      let tail: LogTail | undefined;
      if (log.tail !== undefined && (lastEventId > 0 || method === "DELETE")) {
        try {
          tail = await log.tail(id);
        } catch (error) {
          return logUnavailable(error, id);
        }
        if (tail === undefined) return refuse(404, "not_found", "No such stream (or it has expired)");
        if (lastEventId > tail.lastId) {
          return refuse(
            400,
            "malformed_event_id",
            `Last-Event-ID ${lastEventId} is beyond the stream's last event (${tail.lastId})`,
          );
        }
      }
      if (method === "DELETE") {
        if (tail?.ended === true) return { kind: "ended" };
        if (!abortLocal(id, CANCELLED) && log.cancel !== undefined) {
          try {
            await log.cancel(id, CANCELLED);
          } catch (error) {
            return logUnavailable(error, id);
          }
        }
        return { kind: "cancelling", id };
      }
      // The stream ended at the client's last event: nothing more will come. 204 tells a plain
      // EventSource to stop reconnecting (any other answer makes it replay the stream forever).
      if (tail?.ended === true && lastEventId >= tail.lastId) return { kind: "ended" };
      if (request.gone()) return refuse(499, "client_closed", "The client went away");
      if (method === "HEAD") return { kind: "head" };
      handedOver = true;
      return { kind: "open", id, lastEventId };
    } finally {
      if (reading && !handedOver) connections--;
    }
  }

  const cancellingBody = (id: string) => JSON.stringify({ id, status: "cancelling" });

  async function handle(request: Request): Promise<Response> {
    const verdict = await check({
      method: request.method,
      url: request.url,
      header: (name) => request.headers.get(name) ?? undefined,
      gone: () => request.signal.aborted,
    });
    const extra = options.headers;
    switch (verdict.kind) {
      case "open":
        return openResponse(verdict.id, { lastEventId: verdict.lastEventId }, request.signal);
      case "error": {
        const h = new Headers(extra);
        if (verdict.header !== undefined) h.set(verdict.header[0], verdict.header[1]);
        return errorResponse(verdict.status, verdict.code, verdict.message, h);
      }
      case "ended":
        return new Response(null, { status: 204, headers: new Headers(extra) });
      case "head": {
        const h = new Headers(extra);
        for (const [name, value] of Object.entries(SSE_HEADERS)) h.set(name, value);
        return new Response(null, { status: 200, headers: h });
      }
      case "cancelling": {
        const h = new Headers(extra);
        h.set("content-type", "application/json; charset=utf-8");
        h.set("cache-control", "no-store");
        return new Response(cancellingBody(verdict.id), { status: 202, headers: h });
      }
    }
  }

  /**
   * {@link handle} for Node (see `toNodeHandler(relay)`): the same checks and answers, without a web
   * `Request`, `Headers`, `AbortSignal`, `Response` or stream per connection.
   */
  async function serveDirect(request: DirectRequest): Promise<DirectAnswer> {
    const verdict = await check(request);
    switch (verdict.kind) {
      case "open":
        return {
          status: 200,
          headers: sseRecord,
          direct: openConnection(verdict.id, { lastEventId: verdict.lastEventId }).direct,
        };
      case "error": {
        const headers: Record<string, string | string[]> = { ...extraRecord };
        if (verdict.header !== undefined) headers[verdict.header[0]] = verdict.header[1];
        if (verdict.status === 503 && headers["retry-after"] === undefined)
          headers["retry-after"] = RETRY_AFTER_SECONDS;
        headers["content-type"] = "application/json; charset=utf-8";
        headers["cache-control"] = "no-store";
        return {
          status: verdict.status,
          headers,
          body: JSON.stringify({ error: { code: verdict.code, message: verdict.message } }),
        };
      }
      case "ended":
        return { status: 204, headers: extraRecord };
      case "head":
        return { status: 200, headers: sseRecord };
      case "cancelling":
        return {
          status: 202,
          headers: {
            ...extraRecord,
            "content-type": "application/json; charset=utf-8",
            "cache-control": "no-store",
          },
          body: cancellingBody(verdict.id),
        };
    }
  }

  const relay: Relay = {
    async start(source, startOptions = {}) {
      if (closed) {
        source.abort?.("The relay is closed.");
        throw new StructreamError("relay_closed", "The relay is closed");
      }
      // Reserved before the first await, so concurrent starts cannot pass the limit together.
      if (running.size + starting >= maxStreams) {
        // A stream refused here is one nobody will read: stop whatever it started.
        source.abort?.("The relay is busy.");
        throw new StructreamError(
          "limit_exceeded",
          `The relay runs ${maxStreams} streams already (maxStreams)`,
        );
      }
      starting++;
      const id = randomId();
      const token = (startOptions.token ?? options.token ?? false) ? randomId() : undefined;
      try {
        await log.create(id, {
          tokenHash: token === undefined ? "" : await sha256Hex(token),
          createdAt: Date.now(),
        });
      } catch (error) {
        // Nobody will ever read this stream: stop the model call it would make.
        source.abort?.("The relay could not record the stream.");
        throw isStructreamError(error)
          ? error
          : new StructreamError("log_unavailable", "The relay's event log is unavailable", { cause: error });
      } finally {
        starting--;
      }
      let abort!: (reason: unknown) => void;
      const aborted = new Promise<unknown>((resolve) => {
        abort = resolve;
      });
      const entry: Running = { source, abort, done: Promise.resolve() };
      running.set(id, entry);
      entry.done = pump(id, source, aborted)
        .catch((error) => onError(error, id))
        .finally(() => running.delete(id));
      return token === undefined ? { id } : { id, token };
    },

    handle,
    respond,

    abort(id, reason) {
      if (abortLocal(id, reason)) return true;
      // A log of this relay's own has no other instance to tell.
      if (ownLog || log.cancel === undefined) return false;
      const why =
        typeof reason === "string"
          ? reason
          : reason instanceof Error
            ? reason.message
            : "The stream was aborted.";
      void log.cancel(id, why).catch((error: unknown) => onError(error, id));
      return true;
    },

    finished(id) {
      return running.get(id)?.done ?? Promise.resolve();
    },

    get running() {
      return running.size;
    },

    get connections() {
      return connections;
    },

    async close() {
      closed = true;
      stopListening?.();
      for (const entry of running.values()) entry.abort("The relay closed.");
      await Promise.all([...running.values()].map((entry) => entry.done));
      for (const close of [...openResponses]) close();
      if (ownLog) await log.close?.();
    },
  };
  setDirectServe(relay, serveDirect);
  return relay;
}

let defaultRelay: Relay | undefined;

/** Options of {@link toEventStreamResponse}. */
export interface EventStreamResponseOptions {
  /**
   * The relay that runs the stream (mount its `handle` to let clients resume).
   * @defaultValue a process-wide relay with a memory log
   */
  relay?: Relay;
  /**
   * Where a client reconnects to resume: a URL, or a function of the stream id. Without it, a
   * client that is cut off cannot resume (reconnecting to a POST route would start another stream).
   */
  resumeUrl?: string | ((id: string) => string);
  /** Overrides the relay's `token` option for this stream (the token is sent in the `stream` event). */
  token?: boolean;
  /** Extra response headers. */
  headers?: HeadersInit;
}

/**
 * Turns a structured stream into a `text/event-stream` `Response`: the one-call way to relay a
 * stream from any fetch-style route handler. The stream runs once whoever listens, and the
 * response's first event tells the client the stream's id and where to resume.
 * Answers 503 when the relay runs as many streams as it may.
 *
 * @example
 * ```ts
 * // app/api/answer/route.ts (Next.js), with `relay.handle` mounted on /api/streams/[id]
 * export async function POST(request: Request) {
 *   const stream = structuredStream({ source: await callModel(request), schema });
 *   return toEventStreamResponse(stream, { relay, resumeUrl: (id) => `/api/streams/${id}` });
 * }
 * ```
 */
export async function toEventStreamResponse(
  stream: RelaySource,
  options: EventStreamResponseOptions = {},
): Promise<Response> {
  const relay = options.relay ?? (defaultRelay ??= createRelay());
  let started: StartedStream;
  try {
    started = await relay.start(stream, options.token === undefined ? {} : { token: options.token });
  } catch (error) {
    if (error instanceof StructreamError && error.code === "limit_exceeded") {
      stream.abort?.("The relay is busy.");
      const h = new Headers(options.headers);
      h.set("retry-after", "5");
      return errorResponse(503, "limit_exceeded", error.message, h);
    }
    throw error;
  }
  const resumeUrl =
    typeof options.resumeUrl === "function" ? options.resumeUrl(started.id) : options.resumeUrl;
  return relay.respond(started.id, {
    ...(resumeUrl === undefined ? {} : { resumeUrl }),
    ...(started.token === undefined ? {} : { token: started.token }),
    ...(options.headers === undefined ? {} : { headers: options.headers }),
  });
}
