import { StructreamError } from "../errors/index.ts";

/** What the relay stores about a stream besides its events. */
export interface StreamMeta {
  /** SHA-256 of the stream's token (hex), or `""` when the stream has none. */
  tokenHash: string;
  /** `Date.now()` at creation. */
  createdAt: number;
}

/** One event as stored: its SSE `event:` name and `data:` line. */
export interface LogEvent {
  type: string;
  data: string;
  /** The stream's last event: readers stop after it. */
  last?: boolean;
}

/** A stored event with its id: the sequence number, 1 for the first event of a stream. */
export interface LogEntry extends LogEvent {
  id: number;
}

/** Where a stream's log ends: what `tail` answers. */
export interface LogTail {
  /** The id of the last stored event (0 before the first). */
  lastId: number;
  /** Whether that event is the stream's last (`complete` or `stream-error`). */
  ended: boolean;
}

/** Called when some instance asks to cancel a stream (see {@link EventLog.cancel}). */
export type CancelListener = (streamId: string, reason: string) => void;

/** Options of {@link EventLog.read}. */
export interface LogReadOptions {
  /** Ends the reading (a pending wait for the next event returns at once). */
  signal?: AbortSignal;
}

/**
 * A synchronous reader of one stream's entries, from {@link EventLog.follow}: the relay's fast path
 * for a log in this process (no promise per entry, no buffer: entries are taken when the reader can
 * send them, so a slow reader holds nothing).
 */
export interface LogCursor {
  /** The next stored entry, or `undefined` when none is stored yet (or none will come: see `done`). */
  next(): LogEntry | undefined;
  /** Whether nothing more will come: the stream's last entry was taken, or the stream is gone. */
  readonly done: boolean;
  /** Stops following (the `onAppend` callback is never called again). */
  close(): void;
}

/**
 * Where the relay keeps each stream's events, so that a client that reconnects gets exactly the
 * events after the last one it saw, from any server instance sharing the log.
 *
 * Ids are sequence numbers (1, 2, 3, ...) in every implementation, so the SSE `id:` a client keeps
 * means the same thing to every instance. Each stream has one writer (the instance that runs it).
 *
 * A log may drop a stream's oldest events (it is bounded); a reader then sees a gap in the ids,
 * and the relay resyncs the client from the next `snapshot` event.
 */
export interface EventLog {
  /** Most events kept per stream (older ones are dropped), when the log has such a bound. */
  readonly maxEvents?: number;
  /**
   * Registers a new stream.
   * @throws a `limit_exceeded` error when the log holds as many streams as it may.
   */
  create(streamId: string, meta: StreamMeta): Promise<void>;
  /** The stream's metadata, or `undefined` for an unknown or expired stream. */
  meta(streamId: string): Promise<StreamMeta | undefined>;
  /** Stores the stream's next event and returns its id. */
  append(streamId: string, event: LogEvent): Promise<number>;
  /**
   * The stream's events with ids above `afterId`: those stored, then the live ones as they are
   * appended, until the stream's last event (or `signal` aborts, or the stream expires).
   */
  read(streamId: string, afterId: number, options?: LogReadOptions): AsyncIterable<LogEntry>;
  /**
   * The same entries as {@link EventLog.read}, taken synchronously through a cursor; `onAppend` is
   * called (synchronously, so it must only take note) whenever the stream gains an entry or goes
   * away. Optional: a log in this process offers it, and the relay then reads without a promise per
   * entry; without it, the relay uses `read`.
   */
  follow?(streamId: string, afterId: number, onAppend: () => void): LogCursor;
  /**
   * The id of the stream's last event and whether the stream has ended, or `undefined` for an
   * unknown stream. The relay uses it to answer 400 for an id it never sent and 204 to a client that
   * reconnects after the end. Optional: without it, those checks are skipped.
   */
  tail?(streamId: string): Promise<LogTail | undefined>;
  /**
   * The nearest `snapshot` entry with an id at or before `id`, if the log still holds one: a resume
   * starts there instead of at the stream's first event. Optional: without it, a resume replays the
   * log from its start.
   */
  snapshotAtOrBefore?(streamId: string, id: number): Promise<LogEntry | undefined>;
  /**
   * Asks the instance that runs the stream, whichever it is, to stop it: every listener registered
   * with {@link EventLog.onCancel} on any instance sharing the log is told. Optional: without it,
   * `relay.abort(id)` stops only streams its own instance runs.
   */
  cancel?(streamId: string, reason: string): Promise<void>;
  /** Registers a listener for {@link EventLog.cancel} requests; returns the unregister function. */
  onCancel?(listener: CancelListener): () => void;
  /** Releases what the log holds (timers, connections). */
  close?(): Promise<void>;
}

/** Options of {@link createMemoryEventLog}. */
export interface MemoryEventLogOptions {
  /**
   * Most events kept per stream; older ones are dropped (the relay writes a `snapshot` at least
   * every `maxEvents / 2` events, so a client can always resync).
   * @defaultValue 10_000
   */
  maxEvents?: number;
  /**
   * How long an ended stream stays readable after its last event, in milliseconds. A running
   * stream never expires.
   * @defaultValue 300_000 (5 minutes)
   */
  ttlMs?: number;
  /**
   * Most streams held at once, running or ended. When full, the ended stream that expires first is
   * evicted; when none has ended, `create` fails with `limit_exceeded`.
   * @defaultValue 10_000
   */
  maxStreams?: number;
  /**
   * How long an ended stream keeps its whole history, in ms; after that it keeps only its last
   * snapshot and the events after it (a reader that resumes from before that snapshot resyncs from
   * it: the value is exact, the `field`/`progress` notifications before it are skipped). Clients
   * that were cut off near the end reconnect well within it.
   * @defaultValue 30_000
   */
  compactAfterMs?: number;
  /** Clock, for tests. @defaultValue `Date.now` */
  now?: () => number;
}

interface MemoryStream {
  meta: StreamMeta;
  entries: LogEntry[];
  /** Index of the first kept entry in `entries` (dropped ones are compacted away in batches). */
  head: number;
  nextId: number;
  ended: boolean;
  expiresAt: number;
  /** When an ended stream drops the history before its last snapshot. */
  compactAt: number;
  waiters: Set<() => void>;
  /** The `onAppend` callbacks of {@link EventLog.follow}. */
  followers: Set<() => void>;
  /** Removed from the log (expired, evicted, closed). */
  dropped: boolean;
}

function wake(stream: MemoryStream): void {
  for (const onAppend of stream.followers) onAppend();
  if (stream.waiters.size === 0) return;
  const waiters = [...stream.waiters];
  stream.waiters.clear();
  for (const resolve of waiters) resolve();
}

/**
 * An {@link EventLog} in this process's memory: bounded (events per stream, streams) and expiring.
 * Right for one server instance; use {@link createRedisEventLog} when several instances serve one
 * application, so a client can resume on any of them.
 *
 * @example
 * ```ts
 * const relay = createRelay({ log: createMemoryEventLog({ maxEvents: 5_000, ttlMs: 60_000 }) });
 * ```
 */
export function createMemoryEventLog(options: MemoryEventLogOptions = {}): EventLog {
  const maxEvents = Math.max(2, options.maxEvents ?? 10_000);
  const ttlMs = options.ttlMs ?? 300_000;
  const compactAfterMs = options.compactAfterMs ?? 30_000;
  const maxStreams = options.maxStreams ?? 10_000;
  const now = options.now ?? Date.now;
  const streams = new Map<string, MemoryStream>();
  const cancelListeners = new Set<CancelListener>();
  let lastSweep = 0;

  function drop(streamId: string, stream: MemoryStream): void {
    streams.delete(streamId);
    stream.dropped = true;
    wake(stream);
  }

  function sweep(force: boolean): void {
    const t = now();
    if (!force && t - lastSweep < 1_000) return;
    lastSweep = t;
    for (const [id, stream] of streams) {
      if (!stream.ended) continue;
      if (stream.expiresAt <= t) drop(id, stream);
      else if (stream.compactAt <= t) compact(stream);
    }
  }

  /** Keeps an ended stream's last snapshot and what follows it (the rest only costs memory now). */
  function compact(stream: MemoryStream): void {
    stream.compactAt = Number.POSITIVE_INFINITY;
    for (let i = stream.entries.length - 1; i > stream.head; i--) {
      if (stream.entries[i].type === "snapshot") {
        stream.entries = stream.entries.slice(i);
        stream.head = 0;
        return;
      }
    }
  }

  function live(streamId: string): MemoryStream | undefined {
    const stream = streams.get(streamId);
    if (stream === undefined) return undefined;
    if (stream.ended && stream.expiresAt <= now()) {
      drop(streamId, stream);
      return undefined;
    }
    return stream;
  }

  /** `append` without its promise (the relay's fast path for this log). */
  function appendNow(streamId: string, event: LogEvent): number {
    const stream = live(streamId);
    if (stream === undefined) throw new StructreamError("not_found", `Unknown stream ${streamId}`);
    if (stream.ended) throw new StructreamError("stream_ended", `Stream ${streamId} has ended`);
    const entry: LogEntry = { id: stream.nextId++, type: event.type, data: event.data };
    stream.entries.push(entry);
    if (event.last === true) {
      entry.last = true;
      stream.ended = true;
      stream.expiresAt = now() + ttlMs;
      stream.compactAt = now() + Math.min(ttlMs, compactAfterMs);
    }
    if (stream.entries.length - stream.head > maxEvents) {
      stream.head++;
      // Compact in batches: shifting on every append would cost O(maxEvents) per event.
      if (stream.head >= 1024 && stream.head * 2 >= stream.entries.length) {
        stream.entries = stream.entries.slice(stream.head);
        stream.head = 0;
      }
    }
    wake(stream);
    return entry.id;
  }

  const memoryLog: EventLog = {
    maxEvents,

    async create(streamId, meta) {
      sweep(streams.size >= maxStreams);
      if (streams.has(streamId))
        throw new StructreamError("stream_exists", `Stream ${streamId} already exists`);
      if (streams.size >= maxStreams) {
        let victim: [string, MemoryStream] | undefined;
        for (const entry of streams) {
          if (entry[1].ended && (victim === undefined || entry[1].expiresAt < victim[1].expiresAt))
            victim = entry;
        }
        if (victim === undefined) {
          throw new StructreamError(
            "limit_exceeded",
            `The event log holds ${maxStreams} running streams (maxStreams)`,
          );
        }
        drop(victim[0], victim[1]);
      }
      streams.set(streamId, {
        meta,
        entries: [],
        head: 0,
        nextId: 1,
        ended: false,
        expiresAt: Number.POSITIVE_INFINITY,
        compactAt: Number.POSITIVE_INFINITY,
        waiters: new Set(),
        followers: new Set(),
        dropped: false,
      });
    },

    async meta(streamId) {
      sweep(false);
      return live(streamId)?.meta;
    },

    async append(streamId, event) {
      return appendNow(streamId, event);
    },

    async tail(streamId) {
      const stream = live(streamId);
      return stream === undefined ? undefined : { lastId: stream.nextId - 1, ended: stream.ended };
    },

    async snapshotAtOrBefore(streamId, id) {
      const stream = live(streamId);
      const first = stream?.entries[stream.head];
      if (stream === undefined || first === undefined) return undefined;
      // Ids are consecutive: the entry with `id` is at an arithmetic position; walk back from it.
      for (let i = Math.min(stream.entries.length - 1, stream.head + id - first.id); i >= stream.head; i--) {
        if (stream.entries[i].type === "snapshot") return stream.entries[i];
      }
      return undefined;
    },

    async cancel(streamId, reason) {
      for (const listener of [...cancelListeners]) listener(streamId, reason);
    },

    onCancel(listener) {
      cancelListeners.add(listener);
      return () => {
        cancelListeners.delete(listener);
      };
    },

    follow(streamId, afterId, onAppend) {
      let cursor = afterId;
      let done = false;
      const followed = streams.get(streamId);
      // A callback of its own: the same function may follow twice.
      const listener = () => onAppend();
      followed?.followers.add(listener);
      const close = () => {
        done = true;
        followed?.followers.delete(listener);
      };
      return {
        next() {
          if (done) return undefined;
          // No lookup per entry: the followed stream says when it is gone (an ended one may expire).
          const stream = followed;
          if (stream === undefined || stream.dropped || (stream.ended && live(streamId) !== stream)) {
            close();
            return undefined;
          }
          const first = stream.entries[stream.head];
          // Ids are consecutive, so the next entry's position is arithmetic (compaction included).
          const index =
            first === undefined ? stream.entries.length : stream.head + Math.max(0, cursor + 1 - first.id);
          if (index >= stream.entries.length) {
            if (stream.ended) close();
            return undefined;
          }
          const entry = stream.entries[index];
          cursor = entry.id;
          if (entry.last === true) close();
          return entry;
        },
        get done() {
          return done;
        },
        close,
      };
    },

    read(streamId, afterId, readOptions = {}) {
      const signal = readOptions.signal;
      // A function, not a property read: TypeScript would narrow `aborted` across awaits.
      const stopped = (): boolean => signal?.aborted === true;
      return {
        async *[Symbol.asyncIterator]() {
          let cursor = afterId;
          // One abort listener for the whole read (EventTarget listeners are costly to add per wait).
          let wakeReader: (() => void) | undefined;
          const onAbort = () => wakeReader?.();
          signal?.addEventListener("abort", onAbort, { once: true });
          try {
            yield* entries();
          } finally {
            signal?.removeEventListener("abort", onAbort);
          }

          async function* entries(): AsyncGenerator<LogEntry> {
            while (!stopped()) {
              const stream = live(streamId);
              if (stream === undefined) return;
              const first = stream.entries[stream.head];
              if (first !== undefined) {
                // Ids are consecutive, so the next entry's position is arithmetic.
                let index = stream.head + Math.max(0, cursor + 1 - first.id);
                while (index < stream.entries.length) {
                  const entry = stream.entries[index];
                  cursor = entry.id;
                  yield entry;
                  if (entry.last === true || stopped()) return;
                  // The array may have been compacted while the consumer held the entry.
                  const head = stream.entries[stream.head];
                  index =
                    head === undefined
                      ? stream.entries.length
                      : stream.head + Math.max(0, cursor + 1 - head.id);
                }
              }
              if (stream.ended) return;
              await new Promise<void>((resolve) => {
                const done = () => {
                  stream.waiters.delete(done);
                  wakeReader = undefined;
                  resolve();
                };
                wakeReader = done;
                stream.waiters.add(done);
              });
            }
          }
        },
      };
    },

    async close() {
      for (const [id, stream] of streams) drop(id, stream);
    },
  };
  syncAppends.set(memoryLog, { append: memoryLog.append, appendNow });
  return memoryLog;
}

/** Logs in this process whose `append` can be done synchronously, with the `append` it stands for. */
const syncAppends = new WeakMap<
  EventLog,
  { append: EventLog["append"]; appendNow: (streamId: string, event: LogEvent) => number }
>();

/**
 * `log.append` without a promise, for a memory log whose `append` is its own (internal to
 * `server/`): the relay then writes a batch with no await per event. Throws what `append` would
 * reject with.
 */
export function syncAppendOf(log: EventLog): ((streamId: string, event: LogEvent) => number) | undefined {
  const sync = syncAppends.get(log);
  return sync !== undefined && sync.append === log.append ? sync.appendNow : undefined;
}
