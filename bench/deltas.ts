/**
 * The delta-native pipeline against the targets of issue 9, each as a ratio measured in one run
 * (so the machine's load cancels out):
 *
 * - relay on a long string (256 KB in 8-char deltas) against the stream alone, and 1 MB against 256 KB;
 * - a wide object through `structuredStream` with `for await`, 8,000 keys against 2,000;
 * - peak live heap growth of an answer read only through `await s.result` (4,000 keys; 1 MB);
 * - Ollama NDJSON against OpenAI SSE for one 8 MB answer in 16 KB chunks;
 * - `structream parse --json` output bytes against the answer's (60 KB);
 * - the whole stream with `for await` against the bare parser reading a snapshot per chunk (100 KB,
 *   in 64-char and in 4-char chunks), beside that row's floor (its parts with no stream around them);
 * - relay capacity: concurrent streams at a model's pace (70 deltas/s, 2 KB answers, one reader
 *   each over loopback HTTP in a worker thread) with the p99 latency the relay adds.
 *
 * Run alone: `node --expose-gc --import tsx bench/deltas.ts [capacity]`.
 */
import { performance as nodePerformance } from "node:perf_hooks";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { runCli } from "../src/cli/index.ts";
import { createParser } from "../src/json/index.ts";
import { compileSchema, createSchemaTracker } from "../src/schema/index.ts";
import { createRelay, toNodeHandler } from "../src/server/index.ts";
import { EventQueue } from "../src/shared/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import {
  type BenchContext,
  type BenchSuite,
  collectGarbage,
  formatBytes,
  markdownTable,
  measure,
  measurePair,
} from "./harness.ts";

/** `text` in pieces of `size` characters. */
function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function* each<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

const longString = (bytes: number) =>
  JSON.stringify({ summary: "lorem ipsum dolor sit amet ".repeat(bytes / 27) });
const wideObject = (keys: number) =>
  JSON.stringify(Object.fromEntries(Array.from({ length: keys }, (_, i) => [`key_${i}`, `v${i}`])));

/** A mixed answer of about `bytes`: a title, paragraphs, and a list of records. */
function mixedAnswer(bytes: number): string {
  const sections: unknown[] = [];
  let size = 0;
  for (let i = 0; size < bytes; i++) {
    const section = {
      heading: `Section ${i}`,
      body: "The quick brown fox jumps over the lazy dog. ".repeat(6),
      facts: [
        { label: "year", value: 1400 + i },
        { label: "place", value: `City ${i}` },
      ],
    };
    size += JSON.stringify(section).length;
    sections.push(section);
  }
  return JSON.stringify({ title: "A mixed answer", sections });
}

async function drain(iterable: AsyncIterable<unknown>): Promise<void> {
  for await (const _ of iterable);
}

// ---- 1. relay on a long string ---------------------------------------------------------------

async function relayOnce(text: string): Promise<void> {
  const relay = createRelay({ keepAliveMs: 600_000 });
  const { id } = await relay.start(structuredStream({ source: each(pieces(text, 8)), provider: "text" }));
  const body = relay.respond(id).body;
  if (body !== null) await drain(body as unknown as AsyncIterable<unknown>);
  await relay.close();
}

async function streamOnce(text: string, size: number, read = false): Promise<void> {
  await streamChunks(pieces(text, size), read);
}

/** The stream over chunks split beforehand (as the bare parser it is compared with gets them). */
async function streamChunks(chunks: string[], read = false): Promise<void> {
  const s = structuredStream({ source: each(chunks), provider: "text" });
  for await (const event of s) if (read && event.type === "partial") void event.value;
}

// ---- 3. memory -------------------------------------------------------------------------------

/** Peak live heap growth (sampled after a full GC every `every` chunks) while `await s.result`. */
async function peakHeapGrowth(text: string, size: number): Promise<number> {
  const chunks = pieces(text, size);
  const every = Math.max(1, Math.floor(chunks.length / 20));
  collectGarbage();
  const base = process.memoryUsage().heapUsed;
  let peak = 0;
  async function* sampled(): AsyncGenerator<string> {
    for (let i = 0; i < chunks.length; i++) {
      if (i % every === 0) {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().heapUsed - base);
      }
      yield chunks[i];
    }
    collectGarbage();
    peak = Math.max(peak, process.memoryUsage().heapUsed - base);
  }
  const s = structuredStream({ source: sampled(), provider: "text" });
  await s.result;
  return peak;
}

// ---- 4. NDJSON against SSE -------------------------------------------------------------------

function encodeChunks(text: string, size: number): Uint8Array[] {
  const bytes = new TextEncoder().encode(text);
  const out: Uint8Array[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

function ollamaBody(answer: string): string {
  const line = (content: string, done: boolean) =>
    `${JSON.stringify({ model: "m", message: { role: "assistant", content }, done, ...(done ? { done_reason: "stop" } : {}) })}\n`;
  return line(answer, false) + line("", true);
}

function sseBody(answer: string): string {
  const event = (delta: object, finish: string | null) =>
    `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  return `${event({ content: answer }, null)}${event({}, "stop")}data: [DONE]\n\n`;
}

async function wireOnce(chunks: Uint8Array[], provider: "ollama" | "openai-chat"): Promise<void> {
  await structuredStream({ source: each(chunks), provider }).result;
}

// ---- 5. parse --json -------------------------------------------------------------------------

async function parseJsonBytes(text: string): Promise<number> {
  let bytes = 0;
  const io = {
    stdin: {
      async *[Symbol.asyncIterator]() {
        yield* pieces(text, 8);
      },
    },
    stdout: { write: (s: string) => void (bytes += Buffer.byteLength(s)) },
    stderr: { write: (s: string) => void (bytes += Buffer.byteLength(s)) },
    env: {},
    cwd: process.cwd(),
  };
  const code = await runCli(["parse", "-", "--json"], io);
  if (code !== 0) throw new Error(`parse --json exited ${code}`);
  return bytes;
}

// ---- 6. the stream against the bare parser ---------------------------------------------------

function bareParser(chunks: string[]): void {
  const parser = createParser();
  for (const chunk of chunks) {
    parser.push(chunk);
    void parser.value;
  }
  parser.end();
}

/** The same, fed by the async source the stream reads (a model's chunks arrive asynchronously). */
async function bareParserAsync(chunks: string[]): Promise<void> {
  const parser = createParser();
  for await (const chunk of each(chunks)) {
    parser.push(chunk);
    void parser.value;
  }
  parser.end();
}

/** The schema a stream without one tracks its values with (it accepts any JSON). */
const anyJson = compileSchema({});

/**
 * What the stream's `for await` row cannot go below: the parts it is made of with nothing around
 * them. The async source, the parser with the schema tracker (a schema that accepts anything, as
 * for a stream without one), and a `for await` over the same events (a `field` and two
 * `field-state` events per value, a `partial` per chunk merged while unread, read on each).
 * Without `fieldStates`, the `field` events only.
 */
async function eventFloor(chunks: string[], fieldStates = true): Promise<void> {
  type FloorEvent = { type: string; value?: unknown };
  const queue = new EventQueue<FloorEvent>((last, next) =>
    last.type === "partial" && next.type === "partial" ? next : undefined,
  );
  const tracker = createSchemaTracker(anyJson, {
    validate: "final",
    onField: (path, pointer, value) => queue.push({ type: "field", path, pointer, value } as FloorEvent),
    onFieldState: fieldStates
      ? (path, pointer, state) => queue.push({ type: "field-state", path, pointer, state } as FloorEvent)
      : undefined,
  });
  const parser = createParser({
    onEvent: (event) =>
      event.type === "add" || event.type === "append" ? undefined : tracker.onParserEvent(event),
  });
  const partial = {
    type: "partial",
    get value() {
      return parser.value;
    },
  };
  const reading = (async () => {
    for await (const event of { [Symbol.asyncIterator]: () => ({ next: () => queue.next() }) })
      if (event.type === "partial") void event.value;
  })();
  for await (const chunk of each(chunks)) {
    parser.push(chunk);
    queue.push(partial);
  }
  parser.end();
  queue.close();
  await reading;
}

// ---- 7. relay capacity -----------------------------------------------------------------------

/** Absolute time in ms, comparable across threads. */
const clock = () => performance.timeOrigin + performance.now();

/**
 * CPU time of this process's main thread in ms (Linux: /proc; `NaN` elsewhere). Unlike event-loop
 * utilization it does not count the time the thread waits for a core other processes hold.
 */
async function mainThreadCpuMs(): Promise<number> {
  try {
    const { readFileSync } = await import("node:fs");
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // utime and stime (fields 14 and 15 of stat), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

/**
 * The readers, in a worker thread: one plain HTTP/1.1 GET per stream over loopback (node:http, as
 * a proxy or a server-side consumer would; a browser is not cheaper to emulate faithfully). Each
 * delta carries the time the model produced it; the reader records, for every delta, how long
 * after that it arrived.
 */
const READER = `
const { parentPort, workerData } = require("node:worker_threads");
const { get, Agent } = require("node:http");
const { performance } = require("node:perf_hooks");
const { url, streams, deltasPerAnswer } = workerData;
const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
const latencies = [];
// Deltas from the middle of each answer (10% to 90%): the steady state, without the spikes where
// every answer starts or ends together.
const steady = [];
let exact = 0;
const clock = () => performance.timeOrigin + performance.now();
function read(id, index) {
  return new Promise((resolve, reject) => {
    const request = get(url + "/streams/" + id, { agent }, (response) => {
      parentPort.postMessage({ connected: index });
      response.setEncoding("utf8");
      let buffer = "";
      let text = "";
      let scanned = 0;
      let position = 0;
      response.on("data", (chunk) => {
        const now = clock();
        buffer += chunk;
        let end;
        while ((end = buffer.indexOf("\\n\\n")) !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          // Patches are the unnamed (message) events.
          if ((type !== undefined && type !== "patch") || data === undefined) continue;
          for (const op of JSON.parse(data)) {
            if (op[0] === ">") text += op[2];
            else if (op[1] === "/t") {
              text = op[2];
              scanned = 0;
              position = 0;
            }
          }
          // Every delta completed by this event: "<production time>|".
          let bar;
          while ((bar = text.indexOf("|", scanned)) !== -1) {
            const stamp = Number(text.slice(scanned, bar));
            scanned = bar + 1;
            if (Number.isFinite(stamp)) {
              latencies.push(now - stamp);
              if (position >= 0.1 * deltasPerAnswer && position < 0.9 * deltasPerAnswer) steady.push(now - stamp);
            }
            position++;
          }
        }
      });
      response.on("end", () => {
        if (text.length >= 2000) exact++;
        resolve();
      });
      response.on("error", reject);
    });
    request.on("error", reject);
  });
}
parentPort.on("message", async (ids) => {
  const elu = performance.eventLoopUtilization();
  await Promise.all(ids.map(read));
  const busy = performance.eventLoopUtilization(elu).utilization;
  parentPort.postMessage({ done: true, latencies, steady, exact, busy });
});
`;

interface CapacityResult {
  streams: number;
  p50: number;
  p99: number;
  /** p99 of the deltas from 10% to 90% of each answer (not where the answers start or end together). */
  steadyP99: number;
  exact: number;
  serverBusy: number;
  readerBusy: number;
  /** Median time the model took to produce an answer, in ms (1,814 at its pace, more when starved). */
  span: number;
  /**
   * Time from the first answer's start to the 95th percentile's, in ms: the streams overlap fully
   * only when it is short (a reader whose connection the kernel had to retry, its SYN dropped in a
   * burst of 2,000, starts a second or more late; a few of those are common, many are not).
   */
  startSpread: number;
  /** Server thread CPU time per delta, in microseconds. */
  cpuPerDelta: number;
}

/** Deltas in an answer of the capacity test (16 characters each: 2 KB). */
const DELTAS_PER_ANSWER = 128;

/**
 * An answer at a model's pace: delta `i` is produced at `start + i / 70 s` and stamped with that
 * time; the deltas due together are yielded as one chunk. It starts when `gate` opens.
 */
async function* pacedAnswer(
  gate: Promise<void>,
  onStart: (start: number) => void,
  onEnd: (span: number) => void,
): AsyncGenerator<string> {
  const period = 1000 / 70;
  await gate;
  const start = clock();
  onStart(start);
  yield '{"t":"';
  let produced = 0;
  while (produced < DELTAS_PER_ANSWER) {
    const wait = start + (produced + 1) * period - clock();
    // Whole milliseconds: Node keeps one timer list per distinct duration.
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
    let chunk = "";
    const now = clock();
    while (produced < DELTAS_PER_ANSWER && start + (produced + 1) * period <= now) {
      produced++;
      chunk += `${(start + produced * period).toFixed(1).padStart(15, "0")}|`;
    }
    if (chunk !== "") yield chunk;
  }
  yield '"}';
  onEnd(clock() - start);
}

/**
 * `streams` answers at 70 deltas a second, each read by one client in a worker over loopback HTTP.
 *
 * The model keeps its pace whatever the relay does: delta `i` of an answer is produced at
 * `start + i / 70 s` and stamped with that time. A relay that falls behind does not slow the
 * model down (it would hide the delay); the deltas produced meanwhile are read together, as one
 * read of a provider's socket would return them, and each one's delay counts.
 */
async function relayCapacity(streams: number): Promise<CapacityResult> {
  const { createServer } = await import("node:http");
  const relay = createRelay({ keepAliveMs: 600_000, maxStreams: streams + 10, maxConnections: streams + 10 });
  // The relay itself, not `relay.handle`: Node requests are then served without web objects.
  const server = createServer(toNodeHandler(relay));
  // A backlog for every reader connecting at once (the default 511 resets some under load).
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4_096 }, resolve),
  );
  const address = server.address() as { port: number };
  const deltasPerAnswer = DELTAS_PER_ANSWER;
  const gates: (() => void)[] = [];
  const spans: number[] = [];
  const starts: number[] = [];
  // The answer starts once its reader is connected: what is measured is the relay's delay, not a
  // backlog read late.
  const paced = (index: number) =>
    pacedAnswer(
      new Promise<void>((resolve) => {
        gates[index] = resolve;
      }),
      (start) => starts.push(start),
      (span) => spans.push(span),
    );
  const ids: string[] = [];
  for (let i = 0; i < streams; i++) {
    // Each source starts once its reader could connect: the answers overlap fully.
    const started = relay.start(structuredStream({ source: paced(i), provider: "text" }));
    ids.push((await started).id);
  }
  const worker = new Worker(READER, {
    eval: true,
    workerData: { url: `http://127.0.0.1:${address.port}`, streams, deltasPerAnswer },
  });
  const elu = nodePerformance.eventLoopUtilization();
  const cpu = await mainThreadCpuMs();
  type Message = { connected?: number; latencies: number[]; steady: number[]; exact: number; busy: number };
  const done = new Promise<Message>((resolve) =>
    worker.on("message", (message: Message) => {
      if (message.connected !== undefined) gates[message.connected]?.();
      else resolve(message);
    }),
  );
  worker.postMessage(ids);
  const { latencies, steady, exact, busy: readerBusy } = await done;
  const busy = nodePerformance.eventLoopUtilization(elu).utilization;
  const cpuMs = (await mainThreadCpuMs()) - cpu;
  await worker.terminate();
  await relay.close();
  await new Promise((resolve) => server.close(resolve));
  latencies.sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  spans.sort((a, b) => a - b);
  starts.sort((a, b) => a - b);
  const at = (values: number[], q: number) =>
    values[Math.min(values.length - 1, Math.floor(q * values.length))] ?? Number.NaN;
  return {
    streams,
    p50: at(latencies, 0.5),
    p99: at(latencies, 0.99),
    steadyP99: at(steady, 0.99),
    exact,
    serverBusy: busy,
    readerBusy,
    span: at(spans, 0.5),
    startSpread: at(starts, 0.95) - (starts[0] ?? Number.NaN),
    cpuPerDelta: (cpuMs * 1000) / (streams * deltasPerAnswer),
  };
}

/**
 * Main-thread busy time per delta, in microseconds, over one second of the steady state, for
 * `streams` paced answers read in-process without HTTP: the sources alone, each through a
 * `structuredStream` read by `await s.result`, or read as the relay reads (`events({ changes: true })`).
 */
async function streamFloor(streams: number, mode: "source" | "result" | "events"): Promise<number> {
  const open = Promise.resolve();
  const ignore = () => {};
  const answers = Array.from({ length: streams }, async () => {
    const source = pacedAnswer(open, ignore, ignore);
    if (mode === "source") {
      for await (const _ of source);
      return;
    }
    const s = structuredStream({ source, provider: "text" });
    if (mode === "result") await s.result;
    else for await (const _ of s.events({ changes: true }));
  });
  // The answers last 1.8 s: measure from 0.6 s to 1.6 s, when every one is streaming.
  await new Promise((resolve) => setTimeout(resolve, 600));
  const elu = nodePerformance.eventLoopUtilization();
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const busy = nodePerformance.eventLoopUtilization(elu).utilization;
  await Promise.all(answers);
  return (busy * 1e6) / (streams * 70);
}

/**
 * Microseconds of the writing thread per `res.write` of 200 bytes to each of `connections` open
 * loopback HTTP responses (read by a worker), without anything else: what one write costs the relay.
 */
async function writeFloor(connections: number): Promise<number> {
  const { createServer } = await import("node:http");
  const open: import("node:http").ServerResponse[] = [];
  let ready!: () => void;
  const allOpen = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const server = createServer((_, res) => {
    res.writeHead(200, { "content-type": "text/event-stream" });
    open.push(res);
    if (open.length === connections) ready();
  });
  await new Promise<void>((resolve) =>
    server.listen({ port: 0, host: "127.0.0.1", backlog: 4_096 }, resolve),
  );
  const { port } = server.address() as { port: number };
  // Connected in waves, so that none waits for the kernel to retry it.
  const worker = new Worker(
    `const { get, Agent } = require("node:http");
     const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
     let opened = 0;
     const wave = () => {
       for (let k = 0; k < 100 && opened < ${connections}; k++, opened++)
         get("http://127.0.0.1:${port}/", { agent }, (res) => res.resume()).on("error", () => {});
       if (opened < ${connections}) setTimeout(wave, 10);
     };
     wave();`,
    { eval: true },
  );
  await allOpen;
  const payload = `data: ${"x".repeat(192)}\n\n`;
  const rounds = 30;
  let spent = 0;
  for (let round = 0; round < rounds; round++) {
    const started = performance.now();
    for (const res of open) res.write(payload);
    spent += performance.now() - started;
    // Node sends a response's writes when the task that made them ends: count that too.
    const flushed = performance.now();
    await new Promise((resolve) => setImmediate(resolve));
    spent += performance.now() - flushed;
  }
  for (const res of open) res.end();
  await worker.terminate();
  await new Promise((resolve) => server.close(resolve));
  return (spent * 1000) / (connections * rounds);
}

// ---- the suite -------------------------------------------------------------------------------

const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const ms = (value: number) => `${value.toFixed(value < 10 ? 1 : 0)} ms`;

/** Runs every measurement; returns the markdown table and the capacity line. */
export async function runDeltaBench(
  options: { quick?: boolean; capacity?: number[]; table?: boolean } = {},
): Promise<string> {
  const quick = options.quick === true;
  const rows: string[][] = [];
  if (options.table === false) return (await capacityLines(options.capacity ?? [])).join("\n\n");
  // Ratios are measured in turns (see measurePair): the two sides of a ratio see the same load.
  // (The for-await rows' allocating runs are measured without a full collection before each.)
  const pairBudget = { budgetMs: quick ? 400 : 3000, minRuns: quick ? 1 : 5, maxRuns: quick ? 2 : 15 };

  const s256 = longString(quick ? 64_000 : 256_000);
  const s1m = longString(quick ? 256_000 : 1_000_000);
  const [relayed, alone] = await measurePair(
    () => relayOnce(s256),
    () => streamOnce(s256, 8),
    pairBudget,
  );
  // The same operation at two sizes, measured alike (in turns, both warm).
  const [relayed1m, relayed256] = await measurePair(
    () => relayOnce(s1m),
    () => relayOnce(s256),
    { ...pairBudget, minRuns: quick ? 1 : 3, maxRuns: quick ? 1 : 5 },
  );
  rows.push([
    "Relay / stream alone, 256 KB string in 8-char deltas",
    "≤ 1.5x",
    ratio(relayed.ms, alone.ms),
    `${ms(relayed.ms)} vs ${ms(alone.ms)}`,
  ]);
  rows.push([
    "Relay, 1 MB / 256 KB string",
    "≤ 4x",
    ratio(relayed1m.ms, relayed256.ms),
    `${ms(relayed1m.ms)} vs ${ms(relayed256.ms)}`,
  ]);

  const wide2k = wideObject(quick ? 500 : 2_000);
  const wide8k = wideObject(quick ? 2_000 : 8_000);
  const [w8, w2] = await measurePair(
    () => streamOnce(wide8k, 8),
    () => streamOnce(wide2k, 8),
    pairBudget,
  );
  rows.push([
    "Wide object, 8,000 / 2,000 keys, `for await`",
    "≤ 5x",
    ratio(w8.ms, w2.ms),
    `${ms(w8.ms)} vs ${ms(w2.ms)}`,
  ]);

  const heap4k = await peakHeapGrowth(wideObject(4_000), 8);
  const mixed1m = mixedAnswer(quick ? 256_000 : 1_000_000);
  const heap1m = await peakHeapGrowth(mixed1m, 16);
  rows.push([
    "Peak heap growth, 4,000 keys, `await s.result`",
    "≤ 16 MB",
    formatBytes(heap4k),
    `answer ${formatBytes(wideObject(4_000).length)}`,
  ]);
  rows.push([
    "Peak heap growth / answer, 1 MB mixed answer",
    "≤ 4x",
    ratio(heap1m, mixed1m.length),
    `${formatBytes(heap1m)} for ${formatBytes(mixed1m.length)}`,
  ]);

  const big = "x".repeat(quick ? 1_000_000 : 8_000_000);
  const answer8m = JSON.stringify({ text: big.slice(0, big.length - 12) });
  const ndjson = encodeChunks(ollamaBody(answer8m), 16_384);
  const sse = encodeChunks(sseBody(answer8m), 16_384);
  const [tNdjson, tSse] = await measurePair(
    () => wireOnce(ndjson, "ollama"),
    () => wireOnce(sse, "openai-chat"),
    { ...pairBudget, gc: true },
  );
  rows.push([
    "Ollama NDJSON / OpenAI SSE, 8 MB answer in 16 KB chunks",
    "≤ 2x",
    ratio(tNdjson.ms, tSse.ms),
    `${ms(tNdjson.ms)} vs ${ms(tSse.ms)}`,
  ]);

  const answer60k = mixedAnswer(60_000);
  const cliBytes = await parseJsonBytes(answer60k);
  rows.push([
    "`parse --json` output / answer bytes, 60 KB answer",
    "≤ 10x",
    ratio(cliBytes, answer60k.length),
    `${formatBytes(cliBytes)} for ${formatBytes(answer60k.length)}`,
  ]);

  const answer100k = mixedAnswer(100_000);
  // Rows of a few ms each: more runs, so one slow run does not decide the ratio.
  const overheadBudget = { ...pairBudget, minRuns: quick ? 1 : 15, maxRuns: quick ? 2 : 40 };
  for (const [size, target] of [
    [64, "≤ 2x"],
    [4, "≤ 3x"],
  ] as const) {
    const chunks = pieces(answer100k, size);
    const [whole, bare] = await measurePair(
      () => streamChunks(chunks, true),
      () => bareParser(chunks),
      overheadBudget,
    );
    rows.push([
      `Stream with \`for await\` / bare parser + snapshot per chunk, 100 KB in ${size}-char chunks`,
      target,
      ratio(whole.ms, bare.ms),
      `${ms(whole.ms)} vs ${ms(bare.ms)}`,
    ]);
    // Not the baseline, shown beside it: the bare parser reading the same async source
    // pays the async iteration and its garbage too, which is what the stream is left to add to.
    const [whole2, bareAsync] = await measurePair(
      () => streamChunks(chunks, true),
      () => bareParserAsync(chunks),
      overheadBudget,
    );
    rows.push([
      `(same, against the bare parser fed by the same async source, ${size}-char chunks)`,
      "—",
      ratio(whole2.ms, bareAsync.ms),
      `${ms(whole2.ms)} vs ${ms(bareAsync.ms)}`,
    ]);
    // The row's floor: its parts alone, with no stream around them (see eventFloor).
    const [floor, bare2] = await measurePair(
      () => eventFloor(chunks),
      () => bareParser(chunks),
      overheadBudget,
    );
    rows.push([
      `(floor: async source + parser + schema tracker + \`for await\` over the same events, no stream, against the bare parser, ${size}-char chunks)`,
      "—",
      ratio(floor.ms, bare2.ms),
      `${ms(floor.ms)} vs ${ms(bare2.ms)}`,
    ]);
    if (size !== 64) continue;
    // Whether fewer events per value would do: the same floor with `field` events only.
    const [fieldsOnly, bare3] = await measurePair(
      () => eventFloor(chunks, false),
      () => bareParser(chunks),
      overheadBudget,
    );
    rows.push([
      `(the same floor without the \`field-state\` events, ${size}-char chunks)`,
      "—",
      ratio(fieldsOnly.ms, bare3.ms),
      `${ms(fieldsOnly.ms)} vs ${ms(bare3.ms)}`,
    ]);
  }

  // Not a target: what one small stream costs whatever its size (construction, one attempt, the end).
  const small = ['{"a":', "1}"];
  const fixed = await measure(
    async () => {
      for (let i = 0; i < 200; i++) await streamChunks(small, true);
    },
    { budgetMs: quick ? 200 : 1000, minRuns: 3, maxRuns: quick ? 3 : 10 },
  );
  rows.push([
    '(a small stream\'s fixed cost, `{"a":1}` in 2 chunks)',
    "—",
    `${((fixed.ms / 200) * 1000).toFixed(0)} µs`,
    "per stream",
  ]);

  const table = markdownTable(["Target (issue 9)", "Goal", "Measured", "Figures"], rows);
  const capacity = await capacityLines(
    options.capacity ?? (quick ? [100] : [500, 1_000, 1_250, 1_500, 2_000]),
  );
  return [table, ...capacity].join("\n\n");
}

async function capacityLines(counts: readonly number[]): Promise<string[]> {
  const lines: string[] = [];
  const most = Math.max(...counts);
  if (Number.isFinite(most)) {
    // Where the capacity's floor is, at the largest count: what the parts cost without the rest.
    const [sources, result, events] = [
      await streamFloor(most, "source"),
      await streamFloor(most, "result"),
      await streamFloor(most, "events"),
    ];
    const write = await writeFloor(most);
    lines.push(
      `capacity floor at ${most} streams (main thread, steady state, no HTTP): the paced sources alone ` +
        `${sources.toFixed(2)} µs per delta; with a structuredStream each read by \`await s.result\` ` +
        `${result.toFixed(2)} µs; read as the relay reads (\`for await\` over \`events({ changes: true })\`) ` +
        `${events.toFixed(2)} µs; a bare \`res.write\` of 200 bytes to ${most} loopback connections ` +
        `${write.toFixed(1)} µs of the writing thread per write`,
    );
  }
  let carried: number | undefined;
  for (const streams of counts) {
    const result = await relayCapacity(streams);
    // Only a run whose answers overlapped (95% started within half a second) carried them at once.
    if (result.p99 < 100 && result.exact === streams && result.startSpread < 500)
      carried = Math.max(carried ?? 0, streams);
    lines.push(
      `relay capacity: ${result.streams} streams at 70 deltas/s (2 KB answers, readers over loopback HTTP in a worker): ` +
        `added latency p50 ${result.p50.toFixed(1)} ms, p99 ${result.p99.toFixed(1)} ms (goal < 100 ms), ` +
        `p99 ${result.steadyP99.toFixed(1)} ms from 10% to 90% of each answer; ` +
        `${result.exact}/${result.streams} complete; answer ${result.span.toFixed(0)} ms (model pace 1,814 ms), 95% started within ${result.startSpread.toFixed(0)} ms; ` +
        `busy: server ${(result.serverBusy * 100).toFixed(0)}%, readers ${(result.readerBusy * 100).toFixed(0)}%; ` +
        `server CPU ${result.cpuPerDelta.toFixed(1)} µs per delta`,
    );
  }
  lines.push(
    carried === undefined
      ? `relay capacity: none of ${counts.join(", ")} streams ran at once with p99 < 100 ms`
      : `relay capacity: ${carried} streams, the most of ${counts.join(", ")} that ran at once (95% started within 0.5 s) with p99 added latency < 100 ms (target 2,000)`,
  );
  return lines;
}

/** The suite `bench/index.ts` runs. */
export const deltaSuite: BenchSuite = {
  name: "deltas",
  description:
    "issue 9's targets: relay, wide values, memory, framing, CLI bytes, stream overhead, relay capacity",
  async run(context: BenchContext): Promise<void> {
    context.print(await runDeltaBench({ quick: context.quick }));
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `bench/deltas.ts 500 2000`: the capacity runs alone, at those counts.
  const capacity = process.argv.slice(2).map(Number).filter(Number.isFinite);
  console.log(await runDeltaBench(capacity.length > 0 ? { capacity, table: false } : {}));
}
