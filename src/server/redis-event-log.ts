import { isStructreamError, StructreamError } from "../errors/index.ts";
import type { CancelListener, EventLog, LogEntry, LogTail, StreamMeta } from "./event-log.ts";

/**
 * The few methods of a Redis client the log uses. An `ioredis` client fits as it is (ioredis is an
 * optional peer dependency: structream never imports it).
 */
export interface RedisClientLike {
  call(command: string, args: (string | number)[]): Promise<unknown>;
  /** A new connection with the same options (each blocked reader needs its own). */
  duplicate(): RedisClientLike;
  disconnect(): void;
  /**
   * Event listeners (ioredis' `error`, `ready` and pub/sub `message`). The log adds an `error`
   * listener to every connection it opens, and to `redis` when it has none, so a lost connection is
   * never an unhandled `error` event; without `on`, cancelling across instances is not available.
   */
  on?(event: string, listener: (...args: never[]) => void): unknown;
  /** How many listeners an event has (ioredis, as a Node EventEmitter, has it). */
  listenerCount?(event: string): number;
}

/** Options of {@link createRedisEventLog}. */
export interface RedisEventLogOptions {
  /** A connected client, e.g. `new Redis(url)` from ioredis. The log never closes it. */
  redis: RedisClientLike;
  /**
   * Seconds a stream's keys live after its last event (refreshed as events arrive).
   * @defaultValue 600
   */
  ttlSeconds?: number;
  /**
   * Events kept per stream (`XADD MAXLEN ~`: Redis keeps at least this many, a few more while it
   * trims in whole blocks).
   * @defaultValue 10_000
   */
  maxLen?: number;
  /**
   * Prefix of every key. A stream uses `<prefix>{<id>}` (a Redis stream) and `<prefix>{<id>}:meta`;
   * the braces keep both in one Redis Cluster slot.
   * @defaultValue "structream:"
   */
  prefix?: string;
  /**
   * How long one `XREAD BLOCK` waits before the reader checks that the stream still exists, in ms.
   * @defaultValue 5_000
   */
  blockMs?: number;
  /**
   * Deadline of every Redis command, in ms (for `XREAD BLOCK`, on top of `blockMs`). A command that
   * misses it, or fails because Redis cannot be reached, fails with a `log_unavailable` error.
   * @defaultValue 2_000
   */
  timeoutMs?: number;
  /**
   * Idle reader connections kept for reuse.
   * @defaultValue 8
   */
  maxIdleConnections?: number;
  /**
   * Told about errors of the connections the log holds (Redis went away, a reconnection failed).
   * Commands fail with `log_unavailable` meanwhile; this is for logging.
   * @defaultValue ignore them
   */
  onConnectionError?: (error: unknown) => void;
}

type Fields = unknown[];

function text(value: unknown): string {
  return typeof value === "string"
    ? value
    : value instanceof Uint8Array
      ? new TextDecoder().decode(value)
      : String(value);
}

/** The entries of an XREAD reply for one key, whatever the protocol (RESP2, RESP3 as arrays or maps). */
function xreadEntries(reply: unknown): [unknown, Fields][] {
  if (reply === null || reply === undefined) return [];
  if (Array.isArray(reply)) {
    if (reply.length === 0) return [];
    // RESP2: [[key, entries]]; RESP3 map in ioredis' "legacy" mapping: [key, entries].
    const pair = Array.isArray(reply[0]) ? reply[0] : reply;
    return (pair[1] ?? []) as [unknown, Fields][];
  }
  if (typeof reply === "object") {
    const values = reply instanceof Map ? [...reply.values()] : Object.values(reply);
    return (values[0] ?? []) as [unknown, Fields][];
  }
  return [];
}

function toEntry(rawId: unknown, fields: Fields): LogEntry {
  const id = text(rawId);
  const seq = Number(id.slice(id.indexOf("-") + 1));
  const entry: LogEntry = { id: seq, type: "", data: "" };
  for (let i = 0; i + 1 < fields.length; i += 2) {
    const key = text(fields[i]);
    if (key === "t") entry.type = text(fields[i + 1]);
    else if (key === "d") entry.data = text(fields[i + 1]);
    else if (key === "e") entry.last = true;
  }
  return entry;
}

/** True for the reply to an `XADD` whose id is already in the stream (a retried write that had landed). */
function isDuplicateId(error: unknown): boolean {
  return error instanceof Error && /equal or smaller than the target stream top item/i.test(error.message);
}

/**
 * An {@link EventLog} in Redis Streams, for several server instances behind one application: the
 * instance that runs a stream writes its events (`XADD`, with the sequence number as the entry id
 * `0-<n>`, so SSE ids are the same numbers as with the memory log), and any instance can serve a
 * client that resumes (`XREAD BLOCK` on a connection of its own per reader). Keys expire
 * `ttlSeconds` after the last event.
 *
 * Failure modes: every command has a deadline (`timeoutMs`) and fails with `log_unavailable` when
 * Redis is unreachable. A write after Redis lost the stream (a restart without persistence, an
 * expiry) fails with `log_reset`, after which the log writes the stream's metadata again and the
 * relay writes a snapshot, so clients resume exactly. Cancel requests travel by pub/sub on
 * `<prefix>cancel`, with a flag key `<prefix>{<id>}:cancel` read again after a reconnection (a
 * message published while the subscriber was away is not lost).
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * const redis = new Redis(process.env.REDIS_URL);
 * redis.on("error", (error) => console.warn("redis:", error.message));
 * const relay = createRelay({ log: createRedisEventLog({ redis }) });
 * ```
 */
export function createRedisEventLog(options: RedisEventLogOptions): EventLog {
  const { redis } = options;
  const ttlSeconds = Math.max(1, Math.ceil(options.ttlSeconds ?? 600));
  const maxLen = Math.max(2, options.maxLen ?? 10_000);
  const prefix = options.prefix ?? "structream:";
  const blockMs = Math.max(1, options.blockMs ?? 5_000);
  const timeoutMs = Math.max(1, options.timeoutMs ?? 2_000);
  const maxIdle = options.maxIdleConnections ?? 8;
  const onConnectionError = options.onConnectionError ?? (() => {});
  const streamKey = (id: string) => `${prefix}{${id}}`;
  const metaKey = (id: string) => `${prefix}{${id}}:meta`;
  const cancelKey = (id: string) => `${prefix}{${id}}:cancel`;
  const cancelChannel = `${prefix}cancel`;
  /** The streams this instance writes: next id, last EXPIRE time, metadata (to write it again after a reset). */
  const writers = new Map<string, { next: number; expiredAt: number; meta?: StreamMeta; reset: boolean }>();
  const idle: RedisClientLike[] = [];
  const busy = new Set<RedisClientLike>();
  const cancelListeners = new Set<CancelListener>();
  let subscriber: RedisClientLike | undefined;
  let closed = false;

  if (redis.on !== undefined && (redis.listenerCount?.("error") ?? 0) === 0) {
    redis.on("error", (error: unknown) => onConnectionError(error));
  }

  function open(): RedisClientLike {
    const connection = redis.duplicate();
    connection.on?.("error", (error: unknown) => onConnectionError(error));
    return connection;
  }

  /** `command` on `client` within `deadline` ms; any failure to reach Redis is `log_unavailable`. */
  async function call(
    command: string,
    args: (string | number)[],
    client: RedisClientLike = redis,
    deadline = timeoutMs,
  ): Promise<unknown> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const reply = client.call(command, args);
    // The command may still settle after its deadline (ioredis queues commands while offline).
    reply.catch(() => {});
    try {
      return await Promise.race([
        reply,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new StructreamError(
                  "log_unavailable",
                  `Redis did not answer ${command} within ${deadline} ms`,
                ),
              ),
            deadline,
          );
        }),
      ]);
    } catch (error) {
      if (isStructreamError(error) || isDuplicateId(error)) throw error;
      throw new StructreamError(
        "log_unavailable",
        `Redis failed ${command}: ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async function writerOf(streamId: string) {
    let writer = writers.get(streamId);
    if (writer === undefined) {
      // Written by a previous process of this instance: continue after the last stored id.
      const last = (await call("XREVRANGE", [streamKey(streamId), "+", "-", "COUNT", 1])) as [
        unknown,
        Fields,
      ][];
      const next = Array.isArray(last) && last.length > 0 ? toEntry(last[0][0], []).id + 1 : 1;
      writer = { next, expiredAt: 0, reset: false };
      writers.set(streamId, writer);
    }
    return writer;
  }

  function parseMeta(raw: unknown): StreamMeta | undefined {
    if (raw === null || raw === undefined) return undefined;
    try {
      const meta = JSON.parse(text(raw)) as StreamMeta;
      return typeof meta.tokenHash === "string" ? meta : undefined;
    } catch {
      return undefined;
    }
  }

  async function checkCancelled(): Promise<void> {
    for (const streamId of [...writers.keys()]) {
      const reason = await call("GET", [cancelKey(streamId)]).catch(() => null);
      if (reason !== null && reason !== undefined) {
        for (const listener of [...cancelListeners]) listener(streamId, text(reason));
      }
    }
  }

  function subscribe(): void {
    if (subscriber !== undefined || redis.on === undefined || closed) return;
    const connection = open();
    subscriber = connection;
    let ready = 0;
    connection.on?.("message", ((channel: unknown, message: unknown) => {
      if (text(channel) !== cancelChannel) return;
      try {
        const { id, reason } = JSON.parse(text(message)) as { id?: unknown; reason?: unknown };
        if (typeof id !== "string") return;
        for (const listener of [...cancelListeners]) listener(id, typeof reason === "string" ? reason : "");
      } catch {
        // Not ours: ignore.
      }
    }) as (...args: never[]) => void);
    // After a reconnection (ioredis resubscribes by itself), read the flags of the streams this
    // instance runs: a request published while the connection was down reached nobody.
    connection.on?.("ready", () => {
      if (ready++ > 0) void checkCancelled();
    });
    void connection.call("SUBSCRIBE", [cancelChannel]).catch((error: unknown) => onConnectionError(error));
  }

  return {
    maxEvents: maxLen,

    async create(streamId, meta) {
      const ok = await call("SET", [metaKey(streamId), JSON.stringify(meta), "NX", "EX", ttlSeconds]);
      if (ok === null) throw new StructreamError("stream_exists", `Stream ${streamId} already exists`);
      writers.set(streamId, { next: 1, expiredAt: Date.now(), meta, reset: false });
    },

    async meta(streamId) {
      return parseMeta(await call("GET", [metaKey(streamId)]));
    },

    async append(streamId, event) {
      const writer = await writerOf(streamId);
      const id = writer.next;
      const recreate = writer.reset;
      const args: (string | number)[] = [streamKey(streamId)];
      // After the first event the stream must exist: if Redis lost it (a restart without
      // persistence, an expiry), XADD adds nothing and answers null instead of starting a stream
      // with a hole where its beginning was.
      if (id > 1 && !recreate) args.push("NOMKSTREAM");
      args.push("MAXLEN", "~", maxLen, `0-${id}`, "t", event.type, "d", event.data);
      if (event.last === true) args.push("e", "1");
      const pending: Promise<unknown>[] = [];
      if (recreate && writer.meta !== undefined) {
        pending.push(call("SET", [metaKey(streamId), JSON.stringify(writer.meta), "EX", ttlSeconds]));
      }
      let reply: unknown;
      try {
        reply = await call("XADD", args);
      } catch (error) {
        // A retry of a write that landed before its deadline: the event is there.
        if (!isDuplicateId(error)) throw error;
        reply = `0-${id}`;
      }
      if (reply === null) {
        writer.reset = true;
        throw new StructreamError(
          "log_reset",
          `Redis no longer holds stream ${streamId} (restarted without persistence, or expired)`,
        );
      }
      writer.next = id + 1;
      writer.reset = false;
      const now = Date.now();
      // EXPIRE on the first event, the last, and every quarter of the TTL between: enough to keep a
      // running stream alive without a second command per event.
      if (id === 1 || recreate || event.last === true || now - writer.expiredAt >= (ttlSeconds * 1000) / 4) {
        writer.expiredAt = now;
        pending.push(call("EXPIRE", [streamKey(streamId), ttlSeconds]));
        pending.push(call("EXPIRE", [metaKey(streamId), ttlSeconds]));
      }
      if (event.last === true) writers.delete(streamId);
      await Promise.all(pending);
      return id;
    },

    async tail(streamId) {
      const [meta, last] = await Promise.all([
        call("EXISTS", [metaKey(streamId)]),
        call("XREVRANGE", [streamKey(streamId), "+", "-", "COUNT", 1]),
      ]);
      if (Number(meta) === 0) return undefined;
      const entries = last as [unknown, Fields][];
      if (!Array.isArray(entries) || entries.length === 0) return { lastId: 0, ended: false };
      const entry = toEntry(entries[0][0], entries[0][1]);
      return { lastId: entry.id, ended: entry.last === true } satisfies LogTail;
    },

    async snapshotAtOrBefore(streamId, id) {
      // Snapshots are at most `maxEvents / 2` apart; read back in pages until one turns up.
      let end = `0-${id}`;
      for (let scanned = 0; scanned < maxLen + 1_000; ) {
        const page = (await call("XREVRANGE", [streamKey(streamId), end, "-", "COUNT", 256])) as [
          unknown,
          Fields,
        ][];
        if (!Array.isArray(page) || page.length === 0) return undefined;
        for (const [rawId, fields] of page) {
          const entry = toEntry(rawId, fields);
          if (entry.type === "snapshot") return entry;
        }
        scanned += page.length;
        const oldest = toEntry(page[page.length - 1][0], []).id;
        if (oldest <= 1) return undefined;
        end = `0-${oldest - 1}`;
      }
      return undefined;
    },

    async cancel(streamId, reason) {
      await Promise.all([
        call("SET", [cancelKey(streamId), reason, "EX", ttlSeconds]),
        call("PUBLISH", [cancelChannel, JSON.stringify({ id: streamId, reason })]),
      ]);
    },

    onCancel(listener) {
      cancelListeners.add(listener);
      subscribe();
      return () => {
        cancelListeners.delete(listener);
      };
    },

    read(streamId, afterId, readOptions = {}) {
      const signal = readOptions.signal;
      // A function, not a property read: TypeScript would narrow `aborted` across awaits.
      const stopped = (): boolean => signal?.aborted === true;
      return {
        async *[Symbol.asyncIterator]() {
          if (closed || stopped()) return;
          const connection = idle.pop() ?? open();
          busy.add(connection);
          let inFlight = false;
          const drop = () => {
            // A connection with a command in flight cannot be reused: its reply would come to the next.
            busy.delete(connection);
            connection.disconnect();
          };
          const onAbort = () => {
            // Interrupts a pending XREAD BLOCK.
            if (inFlight) drop();
          };
          signal?.addEventListener("abort", onAbort, { once: true });
          try {
            let cursor = afterId;
            while (!stopped() && !closed) {
              let reply: unknown;
              inFlight = true;
              try {
                reply = await call(
                  "XREAD",
                  ["COUNT", 1000, "BLOCK", blockMs, "STREAMS", streamKey(streamId), `0-${cursor}`],
                  connection,
                  blockMs + timeoutMs,
                );
              } catch (error) {
                if (stopped() || closed) return;
                drop();
                throw error;
              } finally {
                inFlight = false;
              }
              const entries = xreadEntries(reply);
              if (entries.length === 0) {
                // Nothing for blockMs: stop if the stream expired (its writer may have died).
                const exists = await call("EXISTS", [metaKey(streamId)]);
                if (Number(exists) === 0) return;
                continue;
              }
              for (const [rawId, fields] of entries) {
                const entry = toEntry(rawId, fields);
                cursor = entry.id;
                yield entry;
                if (entry.last === true) return;
                if (stopped()) return;
              }
            }
          } finally {
            signal?.removeEventListener("abort", onAbort);
            if (busy.delete(connection)) {
              if (!inFlight && !closed && idle.length < maxIdle) idle.push(connection);
              else connection.disconnect();
            }
          }
        },
      };
    },

    async close() {
      closed = true;
      for (const connection of [...idle, ...busy]) connection.disconnect();
      idle.length = 0;
      busy.clear();
      subscriber?.disconnect();
      subscriber = undefined;
      cancelListeners.clear();
    },
  };
}
