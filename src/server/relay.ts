import { StructreamError } from "../errors/index.ts";
import { valueAt } from "../json/index.ts";
import type { Progress, StreamEvent, StreamStatus } from "../stream/index.ts";
import { createMemoryEventLog, type EventLog, type LogEntry } from "./event-log.ts";
import { constantTimeEqual, ID_PATTERN, randomId, sha256Hex } from "./ids.ts";
import { diff, encodePatch } from "./patch.ts";
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
   * `Last-Event-ID` (header, or `?lastEventId=`) as `text/event-stream`. 400 for a malformed id or
   * event id, 401 without a required token, 403 for a wrong one, 404 for an unknown stream, 405 for
   * another method, 413 for a body, 414 for an overlong URL, 503 beyond `maxConnections`.
   */
  handle(request: Request): Promise<Response>;
  /** The SSE response for a stream, without checks (the caller has decided the client may read). */
  respond(id: string, options?: RelayRespondOptions): Response;
  /** Aborts a stream this relay runs; its clients get an `error` event with code `aborted`. */
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
const MAX_TOKEN_LENGTH = 512;
const EVENT_ID = /^\d{1,15}$/;
const encoder = new TextEncoder();
const PING = encoder.encode(": ping\n\n");

interface Running {
  source: RelaySource;
  done: Promise<void>;
  abort(reason: unknown): void;
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

/** A JSON error response: `{ "error": { "code", "message" } }`. */
function errorResponse(status: number, code: string, message: string, headers?: HeadersInit): Response {
  const h = new Headers(headers);
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
  const running = new Map<string, Running>();
  const openResponses = new Set<() => void>();
  let connections = 0;
  let closed = false;

  function errorData(error: unknown): PublicError {
    try {
      return exposeError(error);
    } catch {
      return toPublicError(undefined);
    }
  }

  async function pump(id: string, source: RelaySource, aborted: Promise<unknown>): Promise<void> {
    let value: unknown;
    let status: StreamStatus = "idle";
    let progress: Progress | undefined;
    let since = 0;
    let bytesSince = 0;
    let lastSnapshotBytes = 0;
    let ended = false;

    const append = async (type: string, data: string, last = false) => {
      await log.append(id, last ? { type, data, last } : { type, data });
      if (last) {
        ended = true;
        return;
      }
      since++;
      bytesSince += data.length;
      if ((since >= snapshotEvery && bytesSince >= 4 * lastSnapshotBytes) || since >= snapshotAtMost) {
        const snapshot = JSON.stringify({ value, status, progress });
        await log.append(id, { type: "snapshot", data: snapshot });
        since = 0;
        bytesSince = 0;
        lastSnapshotBytes = snapshot.length;
      }
    };

    const write = async (event: StreamEvent<unknown>) => {
      switch (event.type) {
        case "status":
          if (event.status === status) return;
          status = event.status;
          return append("status", JSON.stringify({ status }));
        case "partial": {
          const ops = diff(value, event.value);
          // Progress first, so the client's partial event (on the patch) carries the new progress.
          // `value` and `progress` must always describe the log so far: a snapshot may follow any append.
          if (event.progress !== undefined && !sameProgress(progress, event.progress)) {
            progress = event.progress;
            await append("progress", JSON.stringify(progress));
          }
          value = event.value;
          if (ops.length > 0) await append("patch", JSON.stringify(encodePatch(ops)));
          return;
        }
        case "field": {
          // The client already holds the value when the patch that completed it came first.
          const known = valueAt(value, event.path);
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
        case "complete": {
          // The validated value is sent only when it differs from what the client has.
          const same = diff(value, event.value).length === 0;
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

    const iterator = source[Symbol.asyncIterator]();
    const ABORTED = Symbol("aborted");
    let abortReason: unknown;
    let isAborted = false;
    // One pending `next()` that an abort can cut short. (Promise.race against a shared abort promise
    // would leave one reaction on it per event for the life of the stream.)
    let interrupt: ((value: typeof ABORTED) => void) | undefined;
    void aborted.then((reason) => {
      isAborted = true;
      abortReason = reason;
      interrupt?.(ABORTED);
    });
    const next = () =>
      isAborted
        ? ABORTED
        : new Promise<IteratorResult<StreamEvent<unknown>> | typeof ABORTED>((resolve, reject) => {
            interrupt = resolve;
            iterator.next().then(resolve, reject);
          });
    let sourceDone = false;
    try {
      while (!ended) {
        const result = await next();
        interrupt = undefined;
        if (result === ABORTED) {
          const reason = abortReason;
          const message =
            typeof reason === "string"
              ? reason
              : reason instanceof Error
                ? reason.message
                : "The stream was aborted.";
          await append("error", JSON.stringify(errorData(new StructreamError("aborted", message))), true);
          break;
        }
        if (result.done === true) {
          sourceDone = true;
          break;
        }
        await write(result.value);
        if (ended) sourceDone = true;
      }
      if (!ended) {
        await append(
          "error",
          JSON.stringify(errorData(new StructreamError("truncated", "The stream ended without a result."))),
          true,
        );
      }
    } catch (error) {
      if (!ended) {
        try {
          await append("error", JSON.stringify(errorData(error)), true);
        } catch (logError) {
          onError(logError, id);
        }
      }
    } finally {
      // Stopped before the source did (abort, a log failure): make it stop too.
      if (!sourceDone) source.abort?.("The relay stopped reading the stream.");
      void Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }

  async function* connectionEvents(id: string, after: number, signal: AbortSignal): AsyncGenerator<string> {
    let state: RelayState = INITIAL_STATE;
    let stateKnown = true;
    let expected = 1;
    let started = false;
    let resyncing = false;
    let cursor = after;
    const snapshotOf = (s: RelayState, eventId: number) =>
      formatSseEvent(
        "snapshot",
        JSON.stringify({ value: s.value, status: s.status, progress: s.progress }),
        eventId,
      );

    for await (const entry of log.read(id, 0, { signal })) {
      if (entry.id !== expected) stateKnown = false;
      expected = entry.id + 1;
      if (entry.id <= after) {
        // The client has this one: only rebuild the state it had, to send it as a snapshot.
        if (entry.type === "snapshot") stateKnown = true;
        if (stateKnown) state = reduceEntry(state, entry);
        continue;
      }
      if (!started) {
        started = true;
        if (after > 0 && stateKnown) yield snapshotOf(state, after);
        else if (entry.id !== after + 1) resyncing = true;
      } else if (entry.id !== cursor + 1) {
        resyncing = true;
      }
      if (resyncing) {
        // Events between the client's and this one are gone: wait for a snapshot to resync from.
        if (entry.type !== "snapshot") continue;
        resyncing = false;
      }
      cursor = entry.id;
      yield formatSseEvent(entry.type, entry.data, entry.id);
    }
    // Everything was already sent (a resume after the end): the state tells the client it is over.
    if (!started && after > 0 && stateKnown && expected > 1) yield snapshotOf(state, after);
  }

  function reduceEntry(state: RelayState, entry: LogEntry): RelayState {
    try {
      const event = decodeRelayEvent(entry.type, entry.data);
      return event === undefined ? state : reduceRelayState(state, event);
    } catch {
      return state;
    }
  }

  function respond(id: string, respondOptions: RelayRespondOptions = {}): Response {
    const after = respondOptions.lastEventId ?? 0;
    const controller = new AbortController();
    const events = connectionEvents(id, after, controller.signal);
    let timer: ReturnType<typeof setInterval> | undefined;
    let done = false;
    let stream: ReadableStreamDefaultController<Uint8Array> | undefined;
    const finish = () => {
      if (done) return;
      done = true;
      connections--;
      openResponses.delete(closeFromRelay);
      if (timer !== undefined) clearInterval(timer);
      controller.abort();
    };
    const closeFromRelay = () => {
      finish();
      try {
        stream?.close();
      } catch {
        // Already closed or errored by the consumer.
      }
    };
    connections++;
    openResponses.add(closeFromRelay);
    const hello: Record<string, string> = { id };
    if (respondOptions.resumeUrl !== undefined) hello.url = respondOptions.resumeUrl;
    if (respondOptions.token !== undefined) hello.token = respondOptions.token;

    const body = new ReadableStream<Uint8Array>({
      start(c) {
        stream = c;
        c.enqueue(encoder.encode(`retry: ${retryMs}\n\n${formatSseEvent("stream", JSON.stringify(hello))}`));
        timer = setInterval(() => {
          try {
            c.enqueue(PING);
          } catch {
            finish();
          }
        }, keepAliveMs);
        // An idle keep-alive timer must not keep a process alive on its own.
        (timer as { unref?: () => void }).unref?.();
      },
      async pull(c) {
        try {
          const next = await events.next();
          if (done) return;
          if (next.done === true) {
            finish();
            c.close();
          } else c.enqueue(encoder.encode(next.value));
        } catch (error) {
          // The log failed: end this response; the client reconnects and resumes.
          onError(error, id);
          finish();
          c.close();
        }
      },
      cancel() {
        finish();
        void events.return(undefined).catch(() => {});
      },
    });
    const headers = new Headers(options.headers);
    new Headers(respondOptions.headers).forEach((value, name) => {
      headers.set(name, value);
    });
    for (const [name, value] of Object.entries(SSE_HEADERS)) headers.set(name, value);
    return new Response(body, { status: 200, headers });
  }

  async function handle(request: Request): Promise<Response> {
    const extra = options.headers;
    if (request.method !== "GET" && request.method !== "HEAD") {
      const h = new Headers(extra);
      h.set("allow", "GET, HEAD");
      return errorResponse(
        405,
        "method_not_allowed",
        `${request.method} is not allowed: read a stream with GET`,
        h,
      );
    }
    if (request.url.length > MAX_URL_LENGTH) {
      return errorResponse(414, "uri_too_long", `The URL is longer than ${MAX_URL_LENGTH} characters`, extra);
    }
    const length = request.headers.get("content-length");
    if ((length !== null && length !== "0") || request.headers.has("transfer-encoding")) {
      return errorResponse(413, "body_not_allowed", "A stream request carries no body", extra);
    }
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return errorResponse(400, "malformed_url", "The request URL cannot be read", extra);
    }
    const id =
      url.pathname
        .split("/")
        .filter((s) => s !== "")
        .pop() ?? "";
    if (!ID_PATTERN.test(id)) {
      return errorResponse(400, "malformed_id", "A stream id is 22 base64url characters", extra);
    }
    const rawEventId = request.headers.get("last-event-id") ?? url.searchParams.get("lastEventId");
    let lastEventId = 0;
    if (rawEventId !== null && rawEventId !== "") {
      if (!EVENT_ID.test(rawEventId)) {
        return errorResponse(
          400,
          "malformed_event_id",
          "Last-Event-ID must be an event id this relay sent",
          extra,
        );
      }
      lastEventId = Number(rawEventId);
    }
    const authorization = request.headers.get("authorization");
    const bearer = authorization === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    const token = bearer ?? url.searchParams.get("token");
    if (token !== null && token !== undefined && token.length > MAX_TOKEN_LENGTH) {
      return errorResponse(400, "malformed_token", "The token is too long", extra);
    }
    const meta = await log.meta(id);
    if (meta === undefined)
      return errorResponse(404, "not_found", "No such stream (or it has expired)", extra);
    if (meta.tokenHash !== "") {
      if (token === null || token === undefined || token === "") {
        const h = new Headers(extra);
        h.set("www-authenticate", 'Bearer realm="structream"');
        return errorResponse(401, "unauthorized", "This stream needs its token (Authorization: Bearer)", h);
      }
      // Both sides are SHA-256 digests: equal length, compared without an early exit.
      if (!constantTimeEqual(await sha256Hex(token), meta.tokenHash)) {
        return errorResponse(403, "forbidden", "The token does not open this stream", extra);
      }
    }
    if (connections >= maxConnections || closed) {
      const h = new Headers(extra);
      h.set("retry-after", "5");
      return errorResponse(503, "too_many_connections", "The relay serves as many connections as it may", h);
    }
    if (request.method === "HEAD") {
      const h = new Headers(extra);
      for (const [name, value] of Object.entries(SSE_HEADERS)) h.set(name, value);
      return new Response(null, { status: 200, headers: h });
    }
    return respond(id, { lastEventId });
  }

  return {
    async start(source, startOptions = {}) {
      if (closed) throw new StructreamError("relay_closed", "The relay is closed");
      if (running.size >= maxStreams) {
        throw new StructreamError(
          "limit_exceeded",
          `The relay runs ${maxStreams} streams already (maxStreams)`,
        );
      }
      const id = randomId();
      const token = (startOptions.token ?? options.token ?? false) ? randomId() : undefined;
      await log.create(id, {
        tokenHash: token === undefined ? "" : await sha256Hex(token),
        createdAt: Date.now(),
      });
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
      for (const entry of running.values()) entry.abort("The relay closed.");
      await Promise.all([...running.values()].map((entry) => entry.done));
      for (const close of [...openResponses]) close();
      if (ownLog) await log.close?.();
    },
  };
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
