import { StructreamError } from "../errors/index.ts";
import type { EventLog, LogEntry, StreamMeta } from "./event-log.ts";

/**
 * The few methods of a Redis client the log uses. An `ioredis` client fits as it is (ioredis is an
 * optional peer dependency: structream never imports it).
 */
export interface RedisClientLike {
  call(command: string, args: (string | number)[]): Promise<unknown>;
  /** A new connection with the same options (each blocked reader needs its own). */
  duplicate(): RedisClientLike;
  disconnect(): void;
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
   * Idle reader connections kept for reuse.
   * @defaultValue 8
   */
  maxIdleConnections?: number;
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

/**
 * An {@link EventLog} in Redis Streams, for several server instances behind one application: the
 * instance that runs a stream writes its events (`XADD`, with the sequence number as the entry id
 * `0-<n>`, so SSE ids are the same numbers as with the memory log), and any instance can serve a
 * client that resumes (`XREAD BLOCK` on a connection of its own per reader). Keys expire
 * `ttlSeconds` after the last event.
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * const relay = createRelay({ log: createRedisEventLog({ redis: new Redis(process.env.REDIS_URL) }) });
 * ```
 */
export function createRedisEventLog(options: RedisEventLogOptions): EventLog {
  const { redis } = options;
  const ttlSeconds = Math.max(1, Math.ceil(options.ttlSeconds ?? 600));
  const maxLen = Math.max(2, options.maxLen ?? 10_000);
  const prefix = options.prefix ?? "structream:";
  const blockMs = Math.max(1, options.blockMs ?? 5_000);
  const maxIdle = options.maxIdleConnections ?? 8;
  const streamKey = (id: string) => `${prefix}{${id}}`;
  const metaKey = (id: string) => `${prefix}{${id}}:meta`;
  /** Next id and last EXPIRE time of the streams this instance writes. */
  const writers = new Map<string, { next: number; expiredAt: number }>();
  const idle: RedisClientLike[] = [];
  const busy = new Set<RedisClientLike>();
  let closed = false;

  async function writerOf(streamId: string) {
    let writer = writers.get(streamId);
    if (writer === undefined) {
      // Written by a previous process of this instance: continue after the last stored id.
      const last = (await redis.call("XREVRANGE", [streamKey(streamId), "+", "-", "COUNT", 1])) as [
        unknown,
        Fields,
      ][];
      const next = Array.isArray(last) && last.length > 0 ? toEntry(last[0][0], []).id + 1 : 1;
      writer = { next, expiredAt: 0 };
      writers.set(streamId, writer);
    }
    return writer;
  }

  return {
    maxEvents: maxLen,

    async create(streamId, meta) {
      const ok = await redis.call("SET", [metaKey(streamId), JSON.stringify(meta), "NX", "EX", ttlSeconds]);
      if (ok === null) throw new StructreamError("stream_exists", `Stream ${streamId} already exists`);
      writers.set(streamId, { next: 1, expiredAt: Date.now() });
    },

    async meta(streamId) {
      const raw = await redis.call("GET", [metaKey(streamId)]);
      if (raw === null || raw === undefined) return undefined;
      try {
        const meta = JSON.parse(text(raw)) as StreamMeta;
        return typeof meta.tokenHash === "string" ? meta : undefined;
      } catch {
        return undefined;
      }
    },

    async append(streamId, event) {
      const writer = await writerOf(streamId);
      const id = writer.next++;
      const args: (string | number)[] = [
        streamKey(streamId),
        "MAXLEN",
        "~",
        maxLen,
        `0-${id}`,
        "t",
        event.type,
      ];
      args.push("d", event.data);
      if (event.last === true) args.push("e", "1");
      const pending: Promise<unknown>[] = [redis.call("XADD", args)];
      const now = Date.now();
      // EXPIRE on the first event, the last, and every quarter of the TTL between: enough to keep a
      // running stream alive without a second command per event.
      if (id === 1 || event.last === true || now - writer.expiredAt >= (ttlSeconds * 1000) / 4) {
        writer.expiredAt = now;
        pending.push(redis.call("EXPIRE", [streamKey(streamId), ttlSeconds]));
        pending.push(redis.call("EXPIRE", [metaKey(streamId), ttlSeconds]));
      }
      if (event.last === true) writers.delete(streamId);
      await Promise.all(pending);
      return id;
    },

    read(streamId, afterId, readOptions = {}) {
      const signal = readOptions.signal;
      // A function, not a property read: TypeScript would narrow `aborted` across awaits.
      const stopped = (): boolean => signal?.aborted === true;
      return {
        async *[Symbol.asyncIterator]() {
          if (closed || stopped()) return;
          const connection = idle.pop() ?? redis.duplicate();
          busy.add(connection);
          let inFlight = false;
          const onAbort = () => {
            // Interrupts a pending XREAD BLOCK: the connection cannot be reused after this.
            if (!inFlight) return;
            busy.delete(connection);
            connection.disconnect();
          };
          signal?.addEventListener("abort", onAbort, { once: true });
          try {
            let cursor = afterId;
            while (!stopped() && !closed) {
              let reply: unknown;
              inFlight = true;
              try {
                reply = await connection.call("XREAD", [
                  "COUNT",
                  1000,
                  "BLOCK",
                  blockMs,
                  "STREAMS",
                  streamKey(streamId),
                  `0-${cursor}`,
                ]);
              } catch (error) {
                if (stopped() || closed) return;
                throw error;
              } finally {
                inFlight = false;
              }
              const entries = xreadEntries(reply);
              if (entries.length === 0) {
                // Nothing for blockMs: stop if the stream expired (its writer may have died).
                const exists = await redis.call("EXISTS", [metaKey(streamId)]);
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
    },
  };
}
