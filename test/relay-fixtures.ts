/**
 * Hand-made structured streams for the relay's tests and benchmark: a final JSON value grown the
 * way the parser grows it (containers open empty, strings grow chunk by chunk, leaves appear
 * whole), as structurally shared snapshots, wrapped in the StreamEvent sequence of
 * docs/architecture.md. Deterministic for a seed.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createParser as createSseParser } from "eventsource-parser";
import { afterAll, beforeAll, expect } from "vitest";
import { subscribe } from "../src/client/index.ts";
import { StreamError } from "../src/errors/index.ts";
import { type PathSegment, toPointer } from "../src/json/index.ts";
import {
  createRelay,
  type FetchHandler,
  type Relay,
  type RelayOptions,
  type RelaySource,
  toNodeHandler,
} from "../src/server/index.ts";
import { type Simulator, type SimulatorOptions, startSimulator } from "../src/simulator/index.ts";
import type { Progress, StreamEvent, StreamStats } from "../src/stream/index.ts";
import { jsonDiff } from "./support/json-equal.ts";

/**
 * Waits until `condition()` holds, polling every few milliseconds. The bound only turns a hang into
 * a clear failure naming `what`; no test asserts a duration.
 */
export async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A small, fast, seedable PRNG (mulberry32). */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS =
  "the model writes a structured answer one token at a time while users watch fields appear".split(" ");

/** A plausible answer: a title, a summary, a list of items with text, numbers and flags. */
export function randomAnswer(random: () => number, items = 5): unknown {
  const sentence = (n: number) =>
    Array.from({ length: n }, () => WORDS[Math.floor(random() * WORDS.length)]).join(" ") +
    (random() < 0.2 ? ' — «ünïcødé» 🎈 "quoted" / ~slash' : "");
  return {
    title: sentence(4),
    summary: sentence(20 + Math.floor(random() * 20)),
    items: Array.from({ length: items }, (_, i) => ({
      id: i + 1,
      name: sentence(3),
      description: sentence(10 + Math.floor(random() * 10)),
      score: Math.round(random() * 1000) / 10,
      done: random() < 0.5,
      tags: [sentence(1), sentence(1)],
    })),
    "a/b~c": null,
  };
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/** `root` with `value` at `path`, copying only the containers on the path. */
function setAt(root: unknown, path: readonly PathSegment[], value: unknown, depth = 0): unknown {
  if (depth === path.length) return value;
  const key = path[depth];
  if (Array.isArray(root)) {
    const copy = root.slice();
    copy[key as number] = setAt(root[key as number], path, value, depth + 1);
    return copy;
  }
  const record = root as Record<string, unknown>;
  const copy = { ...record };
  setOwn(
    copy,
    String(key),
    setAt(Object.hasOwn(record, key) ? record[key] : undefined, path, value, depth + 1),
  );
  return copy;
}

/** One step of growth: the new snapshot, and the fields that completed with it. */
export interface GrowthStep {
  value: unknown;
  fields: { path: PathSegment[]; value: unknown }[];
}

/**
 * The snapshots a parser shows while `target` streams in, strings cut in chunks of 1 to
 * `maxChunk` characters. Consecutive snapshots share every subtree that did not change.
 */
export function growSnapshots(target: unknown, random: () => number, maxChunk = 8): GrowthStep[] {
  const steps: GrowthStep[] = [];
  let root: unknown;
  const set = (path: PathSegment[], value: unknown) => {
    root = setAt(root, path, value);
    steps.push({ value: root, fields: [] });
  };
  const completed = (path: PathSegment[]) => {
    let node = root;
    for (const segment of path) node = (node as Record<string | number, unknown>)[segment];
    steps[steps.length - 1].fields.push({ path, value: node });
  };
  const grow = (value: unknown, path: PathSegment[]) => {
    if (typeof value === "string") {
      set(path, "");
      let shown = 0;
      while (shown < value.length) {
        shown = Math.min(value.length, shown + 1 + Math.floor(random() * maxChunk));
        // Never cut a surrogate pair: the parser holds a lone high surrogate back.
        if (shown < value.length && /[\uD800-\uDBFF]/.test(value[shown - 1])) shown++;
        set(path, value.slice(0, shown));
      }
    } else if (Array.isArray(value)) {
      set(path, []);
      for (let i = 0; i < value.length; i++) grow(value[i], [...path, i]);
    } else if (typeof value === "object" && value !== null) {
      set(path, {});
      for (const key of Object.keys(value)) grow((value as Record<string, unknown>)[key], [...path, key]);
    } else set(path, value);
    completed(path);
  };
  grow(target, []);
  return steps;
}

/** Options of {@link fakeStream}. */
export interface FakeStreamOptions {
  seed?: number;
  maxChunk?: number;
  /** Wait between steps (ms); 0 yields to the event loop with setImmediate. */
  delayMs?: number;
  /** End with this error instead of `complete` (after all steps). */
  failWith?: StreamError;
  /** Called when the first `field` event is emitted (performance.now()). */
  onFirstField?: (at: number) => void;
  /** Nothing is emitted before this settles (to start once a client listens). */
  gate?: Promise<unknown>;
}

/** A fake stream's record of what it emitted, for checks. */
export interface FakeStream extends RelaySource {
  /** The partial snapshots emitted, in order. */
  readonly partials: unknown[];
  /** Whether `abort()` was called. */
  readonly aborted: boolean;
}

// The step runs in the check phase (setImmediate), not in the timer's callback: Node runs timers
// that fall due while its timer phase runs in that same phase, so hundreds of streams doing their
// work inside 1 ms timers would starve the poll phase, and no new connection would be read for
// seconds (a harness artifact: a real model stream is driven by socket reads).
const sleep = (ms: number) =>
  new Promise<void>((resolve) =>
    ms > 0 ? setTimeout(() => setImmediate(resolve), ms) : setImmediate(resolve),
  );

/** A structured stream that grows `target` (see {@link growSnapshots}) and then completes with it. */
export function fakeStream(target: unknown, options: FakeStreamOptions = {}): FakeStream {
  const random = createRandom(options.seed ?? 1);
  const steps = growSnapshots(target, random, options.maxChunk ?? 8);
  const keys =
    typeof target === "object" && target !== null && !Array.isArray(target) ? Object.keys(target) : [];
  const total = Math.max(1, keys.length);
  let aborted = false;
  let abortReason: unknown;
  const partials: unknown[] = [];
  const startedAt = Date.now();
  const started = performance.now();

  async function* events(): AsyncGenerator<StreamEvent<unknown>> {
    await options.gate;
    yield { type: "status", status: "connecting" };
    await sleep(options.delayMs ?? 0);
    yield { type: "status", status: "streaming" };
    const done = new Set<string>();
    let firstField = true;
    for (const step of steps) {
      if (aborted) break;
      for (const field of step.fields) {
        if (field.path.length === 1) done.add(String(field.path[0]));
      }
      const pending = keys.filter((k) => !done.has(k)).map((k) => toPointer([k]));
      const completedCount =
        keys.length === 0 ? (step.fields.some((f) => f.path.length === 0) ? 1 : 0) : done.size;
      const progress: Progress = {
        completed: completedCount,
        total,
        percent: Math.min(99, Math.floor((completedCount / total) * 100)),
        pending,
      };
      partials.push(step.value);
      yield { type: "partial", value: step.value, progress };
      for (const field of step.fields) {
        if (firstField) {
          firstField = false;
          options.onFirstField?.(performance.now());
        }
        yield { type: "field", path: field.path, pointer: toPointer(field.path), value: field.value };
      }
      await sleep(options.delayMs ?? 0);
    }
    if (aborted) {
      yield { type: "status", status: "error" };
      const message = typeof abortReason === "string" ? abortReason : "The stream was aborted.";
      yield { type: "error", error: new StreamError("aborted", message) };
      return;
    }
    if (options.failWith !== undefined) {
      yield { type: "status", status: "error" };
      yield { type: "error", error: options.failWith };
      return;
    }
    yield { type: "status", status: "validating" };
    const value = steps.length > 0 ? steps[steps.length - 1].value : undefined;
    yield { type: "status", status: "complete" };
    const durationMs = performance.now() - started;
    const stats: StreamStats = {
      startedAt,
      durationMs,
      chunks: steps.length,
      bytes: JSON.stringify(target).length,
      deltas: steps.length,
      deltasPerSecond: durationMs > 0 ? (steps.length / durationMs) * 1000 : 0,
      retries: 0,
    };
    yield { type: "complete", value, stats };
  }

  return {
    partials,
    get aborted() {
      return aborted;
    },
    [Symbol.asyncIterator]: () => events(),
    abort(reason?: unknown) {
      aborted = true;
      abortReason = reason;
    },
  };
}

/** What a relay that re-sends the whole snapshot on every change would send (JSON characters). */
export function snapshotBytes(partials: readonly unknown[]): number {
  let total = 0;
  for (const value of partials) total += JSON.stringify(value)?.length ?? 0;
  return total;
}

// ---- real servers and clients ------------------------------------------------------------------

/** A node:http server on 127.0.0.1 with a free port that knows its sockets, to cut them. */
export interface TestServer {
  url: string;
  server: Server;
  sockets: Set<Socket>;
  /** Destroys every open socket (a network cut, as the client sees it). */
  cut(): void;
  /** Closes every connection and the server, and waits. */
  close(): Promise<void>;
  /** Bytes written to sockets so far (headers included). */
  bytesWritten(): number;
}

/** Cuts every connection of `server` once `events` has grown to each count, in turn. */
export async function cutAtCounts(
  server: TestServer,
  events: readonly unknown[],
  counts: number[],
): Promise<void> {
  for (const count of counts) {
    await until(() => events.length >= count, `${count} events`);
    server.cut();
  }
}

/** What {@link relayOverSimulator} sets up: read its fields inside tests (`beforeAll` sets them). */
export interface SimulatorRelay {
  sim: Simulator;
  relay: Relay;
  server: TestServer;
}

/**
 * A simulator, a relay (`keepAliveMs: 50`) and a real HTTP server for it, made before a file's
 * tests and closed after them. With `noSocketsLeft`, the teardown also checks that the server has
 * no socket left open.
 */
export function relayOverSimulator(
  options: SimulatorOptions,
  { noSocketsLeft = false }: { noSocketsLeft?: boolean } = {},
): SimulatorRelay {
  const env = {} as SimulatorRelay;
  beforeAll(async () => {
    env.sim = await startSimulator(options);
    env.relay = createRelay({ keepAliveMs: 50 });
    env.server = await serve((request) => env.relay.handle(request));
  });
  afterAll(async () => {
    await env.relay.close();
    await env.server.close();
    await env.sim.close();
    if (noSocketsLeft) expect(env.server.sockets.size).toBe(0);
  });
  return env;
}

/** Serves a fetch handler with node:http through structream's adapter. */
export async function serve(handler: FetchHandler): Promise<TestServer> {
  const server = createServer(toNodeHandler(handler));
  const sockets = new Set<Socket>();
  let closedBytes = 0;
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => {
      closedBytes += socket.bytesWritten;
      sockets.delete(socket);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    server,
    sockets,
    cut() {
      for (const socket of sockets) socket.destroy();
    },
    async close() {
      const closing = [...sockets].map((socket) =>
        socket.closed ? undefined : new Promise((resolve) => socket.once("close", resolve)),
      );
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await Promise.all([new Promise<void>((resolve) => server.close(() => resolve())), ...closing]);
    },
    bytesWritten() {
      let total = closedBytes;
      for (const socket of sockets) total += socket.bytesWritten;
      return total;
    },
  };
}

/** One SSE message as a tapped connection saw it. */
export interface TappedEvent {
  connection: number;
  id?: string;
  event: string;
  data: string;
}

/** Options of {@link tapFetch}. */
export interface TapOptions {
  /** Where connection `n` (0-based) goes: rewrite the URL (to another instance, say). */
  route?: (url: string, connection: number) => string;
  /** Cut connection `n` on the client side after this many chunks. */
  cutAfter?: (connection: number) => number | undefined;
  /** Each SSE message received, in order. */
  onEvent?: (event: TappedEvent) => void;
}

/** A real fetch that records every SSE message each connection delivered, and can cut or reroute. */
export function tapFetch(options: TapOptions = {}): typeof fetch & { connections: number } {
  let connections = 0;
  const tapped = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const n = connections++;
    tapped.connections = connections;
    const url = options.route?.(String(input), n) ?? String(input);
    const response = await fetch(url, init);
    if (response.body === null) return response;
    const onEvent = options.onEvent;
    const parser =
      onEvent === undefined
        ? undefined
        : createSseParser({
            onEvent: (m) =>
              options.onEvent?.({
                connection: n,
                ...(m.id === undefined ? {} : { id: m.id }),
                event: m.event ?? "message",
                data: m.data,
              }),
          });
    const decoder = new TextDecoder();
    const limit = options.cutAfter?.(n);
    let chunks = 0;
    const reader = response.body.getReader();
    const body = new ReadableStream<Uint8Array>({
      async pull(c) {
        if (limit !== undefined && chunks++ >= limit) {
          await reader.cancel();
          c.error(new TypeError("terminated (cut by the test)"));
          return;
        }
        try {
          const r = await reader.read();
          if (r.done) {
            c.close();
            return;
          }
          parser?.feed(decoder.decode(r.value, { stream: true }));
          c.enqueue(r.value);
        } catch (error) {
          c.error(error);
        }
      },
      cancel: (reason) => reader.cancel(reason),
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }) as typeof fetch & { connections: number };
  tapped.connections = 0;
  return tapped;
}

/**
 * Checks that a client's connections, put together, delivered every event id from 1 to the last
 * exactly once (a resume's opening snapshot repeats the last id the client had, and is not
 * counted). Returns a description of the first problem, or undefined.
 */
export function checkExactlyOnce(events: readonly TappedEvent[]): string | undefined {
  let last = 0;
  let current = -1;
  for (const e of events) {
    if (e.id === undefined) continue;
    const id = Number(e.id);
    if (e.connection !== current) {
      current = e.connection;
      if (e.event === "snapshot" && id === last) continue;
    }
    // A reader that fell behind a bounded log resyncs from a later snapshot, which carries the
    // whole state (documented on maxEventsPerStream); a slow machine makes this happen.
    if (e.event === "snapshot" && id > last) {
      last = id;
      continue;
    }
    if (id !== last + 1) return `connection ${e.connection}: got id ${id} after ${last} (${e.event})`;
    last = id;
  }
  return undefined;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Options of {@link runRelayLoad}. */
export interface RelayLoadOptions {
  /** Concurrent streams. */
  streams: number;
  /** Share of connections cut at a random point, 0–1. */
  dropRate?: number;
  /** Items per answer (its size). */
  items?: number;
  /** Pause between a stream's steps, ms. */
  delayMs?: number;
  seed?: number;
  /** The relay's options (the default memory log unless given). */
  relay?: RelayOptions;
}

/** What {@link runRelayLoad} measured. */
export interface RelayLoadResult {
  streams: number;
  /** Clients whose final value equals their answer exactly. */
  exact: number;
  /** Clients that saw every event id once (see {@link checkExactlyOnce}). */
  exactlyOnce: number;
  failures: string[];
  wallMs: number;
  streamsPerSecond: number;
  /** Time from the source's first field to the client's, p50 and p99 (ms). */
  firstFieldP50Ms: number;
  firstFieldP99Ms: number;
  connections: number;
  reconnects: number;
  /** Bytes the server wrote (HTTP included). */
  bytesSent: number;
  /** JSON bytes of every partial snapshot: what re-sending whole snapshots would have cost. */
  snapshotBytes: number;
  /** Peak heap above the baseline while the streams ran, whole process (bytes). */
  peakHeapBytes: number;
  /** Heap still held once every stream ended (the relay's event log of all N streams), after GC. */
  retainedHeapBytes: number;
}

/**
 * N concurrent streams through one relay on a real node:http server, read by N `subscribe` clients
 * over real fetch, with connections cut at random; every client must end with the exact value.
 */
export async function runRelayLoad(options: RelayLoadOptions): Promise<RelayLoadResult> {
  const random = createRandom(options.seed ?? 42);
  const relay = createRelay({ maxStreams: options.streams + 10, ...options.relay });
  const server = await serve((request) => relay.handle(request));
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage().heapUsed;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().heapUsed);
  }, 20);
  const started = performance.now();
  const failures: string[] = [];
  const sourceFirst: number[] = [];
  const clientFirst: number[] = [];
  let naiveBytes = 0;
  let exact = 0;
  let exactlyOnce = 0;
  let connections = 0;
  let reconnects = 0;
  try {
    const runs = Array.from({ length: options.streams }, async (_, i) => {
      const answer = randomAnswer(createRandom(Math.floor(random() * 2 ** 31)), options.items ?? 3);
      const dropAt = Math.floor(random() * 2 ** 31);
      let open!: () => void;
      const gate = new Promise<void>((resolve) => {
        open = resolve;
      });
      const source = fakeStream(answer, {
        seed: i + 1,
        gate,
        delayMs: options.delayMs ?? 1,
        onFirstField: (at) => {
          sourceFirst[i] = at;
        },
      });
      const { id } = await relay.start(source);
      const drops = createRandom(dropAt);
      const tapped: TappedEvent[] = [];
      const fetchFn = tapFetch({
        cutAfter: (n) =>
          n < 5 && drops() < (options.dropRate ?? 0) ? 1 + Math.floor(drops() * 60) : undefined,
        onEvent: (e) => tapped.push(e),
      });
      const s = subscribe(`${server.url}/streams/${id}`, {
        fetch: fetchFn,
        retry: { baseDelayMs: 5, maxDelayMs: 100, maxRetries: 10 },
      });
      s.on("field", () => {
        clientFirst[i] ??= performance.now();
      });
      // The model starts once the client listens: the first-field delay is then the relay's own.
      const stop = s.subscribe(() => {
        if (s.connection !== "connecting") open();
      });
      try {
        const value = await s.done;
        const problem = jsonDiff(value, answer);
        if (problem === undefined) exact++;
        else failures.push(`stream ${i}: ${problem}`);
        const order = checkExactlyOnce(tapped);
        if (order === undefined) exactlyOnce++;
        else failures.push(`stream ${i}: ${order}`);
      } catch (error) {
        failures.push(`stream ${i}: ${(error as Error).message}`);
      }
      stop();
      open();
      naiveBytes += snapshotBytes(source.partials);
      source.partials.length = 0;
      connections += s.stats.connections;
      reconnects += s.stats.reconnects;
    });
    await Promise.all(runs);
  } finally {
    clearInterval(sampler);
  }
  const wallMs = performance.now() - started;
  const added = clientFirst
    .map((at, i) => at - sourceFirst[i])
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b);
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc?.();
  const retained = process.memoryUsage().heapUsed - baseline;
  await relay.close();
  await server.close();
  return {
    streams: options.streams,
    exact,
    exactlyOnce,
    failures,
    wallMs,
    streamsPerSecond: (options.streams / wallMs) * 1000,
    firstFieldP50Ms: percentile(added, 50),
    firstFieldP99Ms: percentile(added, 99),
    connections,
    reconnects,
    bytesSent: server.bytesWritten(),
    snapshotBytes: naiveBytes,
    peakHeapBytes: peak - baseline,
    retainedHeapBytes: retained,
  };
}

/** `inner`'s events, holding back everything after the `at`-th until `gate` opens. */
export function pausable(inner: RelaySource, at: number, gate: Promise<unknown>): RelaySource {
  return {
    async *[Symbol.asyncIterator]() {
      let n = 0;
      for await (const event of inner as AsyncIterable<StreamEvent<unknown>>) {
        if (n++ === at) await gate;
        yield event;
      }
    },
    abort: (reason) => inner.abort?.(reason),
  };
}
