/**
 * The incremental JSON parser against its peers, on LLM-like documents of 1 KB to 1 MB cut into
 * 4-character, 64-character and random 1–16 character chunks, in two modes:
 * - parse only: push every chunk, read the value once at the end;
 * - snapshot per chunk: read the value after every chunk, as a UI rendering partial output does.
 * Throughput is MB/s of UTF-8 input and its ratio to one `JSON.parse` of the whole text. Every
 * peer's final value is checked against `JSON.parse` (✗ when it differs). Peers that re-parse the
 * whole buffer per snapshot grow quadratically; a cell whose predicted run time passes 20 s is
 * skipped. Then memory (peak live heap growth while parsing) and linearity.
 */
import { JSONParser } from "@streamparser/json";
import { parsePartialJson } from "ai";
import { parse as bestEffortParse, disableErrorLogging } from "best-effort-json-parser";
import { parse as jsonriverParse } from "jsonriver";
import { parse as partialJsonParse } from "partial-json";
import { createParser, parseJsonStream } from "../src/json/index.ts";
import { jsonDiff } from "../test/support/json-equal.ts";
import {
  type BenchContext,
  type BenchSuite,
  collectGarbage,
  formatBytes,
  formatRate,
  type MeasureOptions,
  markdownTable,
  measure,
  megabytesPerSecond,
  seededRandom,
} from "./harness.ts";

/** A run over one chunking; `afterChunk` (memory sampling) is called after every chunk when given. */
type RunFn = (chunks: Chunked, afterChunk?: (index: number) => void) => unknown;

interface Chunked {
  text: string[];
  bytes: Uint8Array[];
}

interface Peer {
  name: string;
  /** Re-parses the whole buffer for every snapshot. */
  quadratic: boolean;
  parseOnly?: RunFn;
  snapshots?: RunFn;
  /** Said in a footnote under the tables. */
  note?: string;
}

type Mode = "parseOnly" | "snapshots";
const MODES: { mode: Mode; title: string }[] = [
  { mode: "parseOnly", title: "Parse only (push every chunk, read the value once at the end)" },
  { mode: "snapshots", title: "Snapshot per chunk (read the value after every chunk)" },
];

const SKIP_ABOVE_MS = 20_000;

// ---- peers -------------------------------------------------------------------------------------

async function* asyncChunks<T>(chunks: T[], afterChunk?: (index: number) => void): AsyncGenerator<T> {
  for (let i = 0; i < chunks.length; i++) {
    yield chunks[i];
    afterChunk?.(i);
  }
}

/** A re-parsing peer: append the chunk to a buffer, parse the buffer for each snapshot. */
function reparse(parse: (text: string) => unknown): Pick<Peer, "parseOnly" | "snapshots"> {
  const attempt = (text: string): unknown => {
    try {
      return parse(text);
    } catch {
      return undefined; // an empty or not-yet-parsable prefix
    }
  };
  return {
    parseOnly: async ({ text }, afterChunk) => {
      let buffer = "";
      for (let i = 0; i < text.length; i++) {
        buffer += text[i];
        afterChunk?.(i);
      }
      return await attempt(buffer);
    },
    snapshots: async ({ text }, afterChunk) => {
      let buffer = "";
      let value: unknown;
      for (let i = 0; i < text.length; i++) {
        buffer += text[i];
        value = await attempt(buffer);
        afterChunk?.(i);
      }
      return value;
    },
  };
}

disableErrorLogging(); // best-effort-json-parser logs every repair to the console otherwise

const PEERS: Peer[] = [
  {
    name: "**structream** `createParser` (strings)",
    quadratic: false,
    parseOnly: ({ text }, afterChunk) => {
      const parser = createParser();
      for (let i = 0; i < text.length; i++) {
        parser.push(text[i]);
        afterChunk?.(i);
      }
      return parser.end();
    },
    snapshots: ({ text }, afterChunk) => {
      const parser = createParser();
      for (let i = 0; i < text.length; i++) {
        parser.push(text[i]);
        void parser.value;
        afterChunk?.(i);
      }
      return parser.end();
    },
  },
  {
    name: "**structream** `createParser` (UTF-8 bytes)",
    quadratic: false,
    note: "byte chunks of the same sizes, in bytes (so cut mid-character)",
    parseOnly: ({ bytes }, afterChunk) => {
      const parser = createParser();
      for (let i = 0; i < bytes.length; i++) {
        parser.push(bytes[i]);
        afterChunk?.(i);
      }
      return parser.end();
    },
    snapshots: ({ bytes }, afterChunk) => {
      const parser = createParser();
      for (let i = 0; i < bytes.length; i++) {
        parser.push(bytes[i]);
        void parser.value;
        afterChunk?.(i);
      }
      return parser.end();
    },
  },
  {
    name: "**structream** `parseJsonStream` (async)",
    quadratic: false,
    note: "the async-iterable wrapper, fed by an async generator like jsonriver; yields a snapshot per chunk, so snapshot mode only",
    snapshots: async ({ text }, afterChunk) => {
      let last: unknown;
      for await (const snapshot of parseJsonStream(asyncChunks(text, afterChunk))) last = snapshot;
      return last;
    },
  },
  {
    name: "jsonriver 1.1 `parse` (async)",
    quadratic: false,
    note: "jsonriver yields the same objects mutated in place, not immutable snapshots; its API always yields per chunk, so both modes run the same loop",
    parseOnly: async ({ text }, afterChunk) => {
      let last: unknown;
      for await (const value of jsonriverParse(asyncChunks(text, afterChunk))) last = value;
      return last;
    },
    snapshots: async ({ text }, afterChunk) => {
      let last: unknown;
      for await (const value of jsonriverParse(asyncChunks(text, afterChunk))) last = value;
      return last;
    },
  },
  {
    name: "@streamparser/json 0.0 `JSONParser`",
    quadratic: false,
    note: "@streamparser/json emits completed values only; a snapshot of the partial value after a chunk is not possible, so parse only",
    parseOnly: ({ text }, afterChunk) => {
      const parser = new JSONParser({ paths: ["$"], keepStack: false });
      let result: unknown;
      parser.onValue = ({ value }) => {
        result = value;
      };
      for (let i = 0; i < text.length; i++) {
        parser.write(text[i]);
        afterChunk?.(i);
      }
      if (!parser.isEnded) parser.end();
      return result;
    },
  },
  {
    name: "partial-json 0.1 `parse`",
    quadratic: true,
    ...reparse(partialJsonParse),
  },
  {
    name: "ai 6 `parsePartialJson` (async)",
    quadratic: true,
    ...reparse(async (text) => (await parsePartialJson(text)).value),
  },
  {
    name: "best-effort-json-parser 1.5 `parse`",
    quadratic: true,
    ...reparse(bestEffortParse),
  },
];
const REPARSE_NOTE =
  "partial-json, ai and best-effort-json-parser have no incremental state: parse only appends the chunks to a buffer and parses it once at the end; a snapshot re-parses the whole buffer";

// ---- documents ---------------------------------------------------------------------------------

const WORDS = (
  "the model streams partial values while tokens arrive and each section of the summary holds " +
  "structured output for a client that renders fields as soon as they appear latency throughput " +
  "parser schema response incremental analysis report result quickly reliable"
).split(" ");
const FLAVOUR = [
  "café",
  "naïve",
  "Zürich",
  "東京",
  "данные",
  "😀",
  "🚀",
  "👍🏽",
  "—",
  "“smart quotes”",
  '"quoted"',
  "C:\\Users\\docs",
  "a/b",
  "tab\there",
  "50%",
  "<tag>",
  "e=mc²",
];

/**
 * A deterministic LLM-like answer (an article summary) of about `targetBytes` of pretty-printed JSON;
 * also the document of the schema suite (`bench/schema.ts`).
 */
export function makeDocument(targetBytes: number, seed: number): string {
  const random = seededRandom(seed);
  const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];
  const int = (min: number, max: number) => min + Math.floor(random() * (max - min + 1));
  const words = (n: number) =>
    Array.from({ length: n }, () => (random() < 0.08 ? pick(FLAVOUR) : pick(WORDS))).join(" ");
  const sentence = () => {
    const s = words(int(6, 18));
    return `${s[0].toUpperCase()}${s.slice(1)}.`;
  };
  const paragraph = () => Array.from({ length: int(2, 5) }, sentence).join(random() < 0.2 ? "\n" : " ");
  const section = (i: number) => ({
    id: `sec-${i}`,
    heading: words(int(2, 6)),
    paragraphs: Array.from({ length: int(1, 3) }, paragraph),
    items: Array.from({ length: int(1, 4) }, (_, j) => ({
      id: i * 100 + j,
      label: words(int(2, 5)),
      score: Math.round(random() * 1e4) / 1e4,
      done: random() < 0.5,
      source:
        random() < 0.5 ? null : `https://example.com/${pick(WORDS)}/${int(1, 999)}?q=${pick(WORDS)}&lang=en`,
      tags: Array.from({ length: int(1, 3) }, () => pick(WORDS)),
    })),
    ...(random() < 0.3 ? { quote: { text: `"${sentence()}"`, speaker: words(2) } } : {}),
  });
  const document = {
    title: sentence(),
    language: "en",
    confidence: 0.93,
    summary: sentence(),
    sections: [] as ReturnType<typeof section>[],
    notes: "Generated deterministically for benchmarks.\n\tEnd.",
  };
  // Sections until an estimate reaches the target (stringifying the whole document each time would
  // be quadratic), then trim the last paragraph so the exact size lands just under the target.
  let estimate = Buffer.byteLength(JSON.stringify(document, null, 2));
  while (estimate < targetBytes) {
    const next = section(document.sections.length);
    document.sections.push(next);
    estimate += Buffer.byteLength(JSON.stringify(next, null, 2)) * 1.15;
  }
  const last = document.sections.at(-1)!;
  for (let excess = Buffer.byteLength(JSON.stringify(document, null, 2)) - targetBytes; excess > 0; ) {
    const text = last.paragraphs.at(-1)!;
    if (last.paragraphs.length > 1 && excess >= text.length) last.paragraphs.pop();
    else if (last.items.length > 1) last.items.pop();
    else if (excess >= text.length) break;
    else
      last.paragraphs[last.paragraphs.length - 1] = Array.from(text)
        .slice(0, -Math.ceil(excess / 2))
        .join("");
    excess = Buffer.byteLength(JSON.stringify(document, null, 2)) - targetBytes;
  }
  return JSON.stringify(document, null, 2);
}

// ---- chunkings ---------------------------------------------------------------------------------

const CHUNKINGS: { name: string; sizes: (random: () => number) => number }[] = [
  { name: "4 chars", sizes: () => 4 },
  { name: "64 chars", sizes: () => 64 },
  { name: "random 1–16", sizes: (random) => 1 + Math.floor(random() * 16) },
];

function chunk<T extends string | Uint8Array>(input: T, size: (random: () => number) => number): T[] {
  const random = seededRandom(7);
  const out: T[] = [];
  for (let i = 0; i < input.length; ) {
    const n = size(random);
    out.push(input.slice(i, i + n) as T);
    i += n;
  }
  return out;
}

// ---- the suite ---------------------------------------------------------------------------------

interface Cell {
  ms?: number;
  runs?: number;
  skippedEstimateMs?: number;
  wrong?: string;
}

const SIZES = [
  { label: "1 KB", bytes: 1_000, options: { budgetMs: 400, maxRuns: 100 } },
  { label: "10 KB", bytes: 10_000, options: { budgetMs: 400, maxRuns: 30 } },
  { label: "100 KB", bytes: 100_000, options: { budgetMs: 600, maxRuns: 7 } },
  { label: "1 MB", bytes: 1_000_000, options: { budgetMs: 1500, maxRuns: 3 } },
];

/**
 * Time for the next size from the last two measured ones: the local growth exponent (clamped to
 * 1–2, or 2 for a quadratic peer with one point) applied to the size ratio.
 */
function predict(history: { bytes: number; ms: number }[], bytes: number, quadratic: boolean): number {
  const last = history.at(-1);
  if (last === undefined) return 0;
  const before = history.at(-2);
  let exponent = quadratic ? 2 : 1;
  if (before !== undefined && before.ms > 0) {
    exponent = Math.min(2, Math.max(1, Math.log(last.ms / before.ms) / Math.log(last.bytes / before.bytes)));
  }
  return last.ms * (bytes / last.bytes) ** exponent;
}

async function run(context: BenchContext): Promise<void> {
  const sizes = context.quick ? SIZES.slice(0, 2) : SIZES;
  const documents = sizes.map((size, i) => {
    const text = makeDocument(size.bytes, 1000 + i);
    const encoded = new TextEncoder().encode(text);
    const chunkings = CHUNKINGS.map(({ sizes: sizeOf }) => ({
      text: chunk(text, sizeOf),
      bytes: chunk(encoded, sizeOf),
    }));
    return { ...size, text, utf8Bytes: encoded.length, expected: JSON.parse(text), chunkings };
  });

  // JSON.parse of the whole text once: the baseline of every ratio.
  const baseline: number[] = [];
  for (const doc of documents) {
    const { ms } = await measure(() => JSON.parse(doc.text), { budgetMs: 300, maxRuns: 200, minRuns: 5 });
    baseline.push(ms);
  }

  // Warm every peer's code up before the first measurement, so the 1 KB cells do not time the JIT.
  const warmupDoc = documents[Math.min(1, documents.length - 1)];
  for (const peer of PEERS) {
    for (const { mode } of MODES) {
      const fn = peer[mode];
      if (fn === undefined) continue;
      if (peer.quadratic && mode === "snapshots") await fn(warmupDoc.chunkings[1]);
      else
        for (const chunks of warmupDoc.chunkings)
          await measure(() => fn(chunks), { budgetMs: 150, maxRuns: 1000 });
    }
  }

  // results[mode][peer][size][chunking]
  const results: Record<Mode, Cell[][][]> = { parseOnly: [], snapshots: [] };
  for (const { mode } of MODES) {
    for (const [p, peer] of PEERS.entries()) {
      const fn = peer[mode];
      results[mode][p] = documents.map(() => CHUNKINGS.map(() => ({})));
      if (fn === undefined) continue;
      const quadratic = peer.quadratic && mode === "snapshots";
      for (const [c] of CHUNKINGS.entries()) {
        const history: { bytes: number; ms: number }[] = [];
        let skippedAt: number | undefined;
        for (const [s, doc] of documents.entries()) {
          const cell = results[mode][p][s][c];
          const predicted = skippedAt ?? predict(history, doc.utf8Bytes, quadratic);
          if (predicted > SKIP_ABOVE_MS) {
            cell.skippedEstimateMs = predicted;
            skippedAt = predict(
              [...history, { bytes: documents[s].utf8Bytes, ms: predicted }],
              documents[s + 1]?.utf8Bytes ?? 0,
              quadratic,
            );
            continue;
          }
          const options: MeasureOptions =
            predicted > 2000 ? { warmup: false, maxRuns: 1 } : { ...doc.options, warmup: predicted < 300 };
          let last: unknown;
          const measured = await measure(async () => {
            last = await fn(doc.chunkings[c]);
          }, options);
          cell.ms = measured.ms;
          cell.runs = measured.runs;
          cell.wrong = jsonDiff(last, doc.expected);
          history.push({ bytes: doc.utf8Bytes, ms: measured.ms });
        }
      }
    }
  }

  // ---- throughput tables ----
  const notes = [
    ...PEERS.filter((peer) => peer.note).map((peer) => `${peer.name}: ${peer.note}.`),
    `${REPARSE_NOTE}.`,
  ];
  const wrongs: string[] = [];
  for (const { mode, title } of MODES) {
    context.print(`### ${title}`);
    for (const [s, doc] of documents.entries()) {
      const baseRate = megabytesPerSecond(doc.utf8Bytes, baseline[s]);
      const rows = PEERS.map((peer, p) => {
        const cells = CHUNKINGS.map((_, c) => {
          const cell = results[mode][p][s][c];
          if (peer[mode] === undefined) return "n/a";
          if (cell.skippedEstimateMs !== undefined)
            return `skipped (quadratic, ~${Math.round(cell.skippedEstimateMs / 1000)} s)`;
          const rate = megabytesPerSecond(doc.utf8Bytes, cell.ms!);
          if (cell.wrong) wrongs.push(`${peer.name}, ${doc.label}, ${CHUNKINGS[c].name}: ${cell.wrong}`);
          return `${formatRate(rate)} MB/s (${formatRate(rate / baseRate)}×)${cell.wrong ? " ✗" : ""}`;
        });
        return [peer.name, ...cells];
      });
      rows.push([
        "`JSON.parse` (whole text once)",
        ...CHUNKINGS.map(() => `${formatRate(baseRate)} MB/s (1×)`),
      ]);
      context.print(
        `#### ${doc.label} (${formatBytes(doc.utf8Bytes)} of UTF-8, ${doc.chunkings[0].text.length} / ${doc.chunkings[1].text.length} / ${doc.chunkings[2].text.length} chunks)\n\n` +
          markdownTable(["parser", ...CHUNKINGS.map((c) => c.name)], rows),
      );
    }
  }
  context.print(
    [
      "Cells: median MB/s of UTF-8 input (and the ratio to `JSON.parse` of the whole text once); ✗: the final value differs from `JSON.parse`.",
      "",
      ...notes.map((note) => `- ${note}`),
      `- skipped (quadratic): the run time predicted from the smaller sizes passes ${SKIP_ABOVE_MS / 1000} s.`,
      "",
      wrongs.length > 0
        ? ["Final values that differ from `JSON.parse`:", ...wrongs.map((w) => `- ${w}`)].join("\n")
        : "Every measured run's final value deep-equals `JSON.parse` (Object.is on leaves, key order).",
    ].join("\n"),
  );

  // ---- linearity ----
  const first = documents.findIndex((d) => d.label === "10 KB");
  const lastIndex = documents.length - 1;
  if (first !== -1 && lastIndex > first) {
    const lines = MODES.map(({ mode, title }) => {
      const parts = CHUNKINGS.map((chunking, c) => {
        const small = results[mode][0][first][c].ms!;
        const large = results[mode][0][lastIndex][c].ms!;
        const a = megabytesPerSecond(documents[first].utf8Bytes, small);
        const b = megabytesPerSecond(documents[lastIndex].utf8Bytes, large);
        return `${chunking.name} ${formatRate(a)} → ${formatRate(b)} MB/s (${(b / a).toFixed(2)}×)`;
      });
      return `- ${title.split(" (")[0]}: ${parts.join("; ")}`;
    });
    context.print(
      `### Linearity: structream (strings) at ${documents[first].label} vs ${documents[lastIndex].label}\n\n${lines.join("\n")}`,
    );
  }

  // ---- memory ----
  if (!collectGarbage()) {
    context.print("### Memory\n\nSkipped: run node with `--expose-gc`.");
    return;
  }
  const memoryRows: string[][] = [];
  const c = 1; // 64-char chunks
  for (const [s, doc] of documents.entries()) {
    if (s < documents.length - 2) continue; // the two largest sizes
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    const value = JSON.parse(doc.text);
    collectGarbage();
    const valueBytes = process.memoryUsage().heapUsed - before;
    keepAlive(value);
    const inputBytes = doc.text.length * 2; // a two-byte string in V8's heap (the text has non-Latin-1 characters)
    for (const [p, peer] of PEERS.entries()) {
      const mode: Mode = peer.snapshots ? "snapshots" : "parseOnly";
      const cell = results[mode][p][s][c];
      const fn = peer[mode]!;
      if (cell.ms === undefined) continue;
      const chunks = doc.chunkings[c];
      const every = Math.max(1, Math.floor(chunks.text.length / 40));
      collectGarbage();
      const base = process.memoryUsage().heapUsed;
      let peak = base;
      const sample = () => {
        collectGarbage();
        peak = Math.max(peak, process.memoryUsage().heapUsed);
      };
      const result = await fn(chunks, (i) => {
        if (i % every === every - 1) sample();
      });
      sample();
      keepAlive(result);
      const growth = peak - base;
      memoryRows.push([
        peer.name,
        doc.label,
        mode === "snapshots" ? "snapshot per chunk" : "parse only",
        formatBytes(growth),
        formatBytes(valueBytes),
        formatBytes(inputBytes),
        `${(growth / (valueBytes + inputBytes)).toFixed(2)}`,
      ]);
    }
  }
  context.print(
    "### Memory (64-char chunks)\n\n" +
      markdownTable(
        ["parser", "size", "mode", "peak heap growth", "final value", "input", "growth ÷ (value + input)"],
        memoryRows,
      ) +
      "\n\nPeak heap growth: the most live heap (after a full GC, sampled 40 times during the run and once at the end, the final value still held) above the heap before the run; the input chunks exist before the run. Final value: heap held by `JSON.parse`'s result. Input: the text as a V8 two-byte string.",
  );
}

let sink: unknown;
function keepAlive(value: unknown): void {
  sink = value;
  if (sink === Symbol.for("never")) console.log(sink);
}

export const jsonSuite: BenchSuite = {
  name: "json",
  description:
    "The incremental JSON parser (`src/json/`) against jsonriver, @streamparser/json, partial-json, the AI SDK's `parsePartialJson` and best-effort-json-parser, on deterministic LLM-like JSON (an article summary: sections of paragraphs with escapes, emoji and non-Latin text, arrays of item objects), pretty-printed.",
  run,
};
