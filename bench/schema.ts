/**
 * The cost of the schema layer on top of the bare parser: the parser benchmark's documents (an
 * article summary, pretty-printed) at 10 KB, 100 KB and 1 MB, cut into 4-character, 64-character
 * and random 1–16 character chunks, with a snapshot per chunk (read the value after every chunk,
 * as a UI rendering partial output does):
 * - bare parser: `createParser()`, `.value` after each chunk;
 * - parser + schema tracker (`validate: "final"` and `"early"`): the tracker on the parser's
 *   events, `.value` and `tracker.progress` after each chunk;
 * - `structuredStream({ source, schema })` over an async iterable, consumed with `for await`
 *   (every layer: tracker, lifecycle, events, final validation).
 * Each cell is the median of the runs of three rounds (the cases take turns, so a slow moment of
 * the machine does not fall on one case only), as time, MB/s of UTF-8 input and the ratio to the
 * bare parser. `structuredStream` is measured after all the others: it drives the same parser and
 * tracker with listeners, and measured in between it would change what the JIT has seen of them.
 * The target: the tracker at most 1.5× the bare parser at 100 KB.
 */
import { createParser } from "../src/json/index.ts";
import {
  type CompiledSchema,
  compileSchema,
  createSchemaTracker,
  type JsonSchemaObject,
} from "../src/schema/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import { jsonDiff } from "../test/support/json-equal.ts";
import {
  type BenchContext,
  type BenchSuite,
  formatBytes,
  formatRate,
  markdownTable,
  median,
  megabytesPerSecond,
  seededRandom,
} from "./harness.ts";
import { makeDocument } from "./json.ts";

/** The JSON Schema of `makeDocument`'s answers, written as a model-facing schema would be. */
export const ARTICLE_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    title: { type: "string" },
    language: { type: "string", enum: ["en", "de", "fr", "ja"] },
    confidence: { type: "number", minimum: 0, maximum: 1 },
    summary: { type: "string" },
    sections: {
      type: "array",
      minItems: 1,
      items: {
        type: "object",
        properties: {
          id: { type: "string", pattern: "^sec-[0-9]+$" },
          heading: { type: "string" },
          paragraphs: { type: "array", items: { type: "string" }, minItems: 1 },
          items: {
            type: "array",
            items: {
              type: "object",
              properties: {
                id: { type: "integer", minimum: 0 },
                label: { type: "string" },
                score: { type: "number", minimum: 0, maximum: 1 },
                done: { type: "boolean" },
                // Nullable the way zod's `.nullable()` writes it: a union, narrowed by kind as it starts.
                source: { anyOf: [{ type: "string", format: "uri" }, { type: "null" }] },
                tags: { type: "array", items: { type: "string" }, maxItems: 8 },
              },
              required: ["id", "label", "score", "done", "source", "tags"],
              additionalProperties: false,
            },
          },
          quote: {
            type: "object",
            properties: { text: { type: "string" }, speaker: { type: "string" } },
            required: ["text", "speaker"],
            additionalProperties: false,
          },
        },
        required: ["id", "heading", "paragraphs", "items"],
        additionalProperties: false,
      },
    },
    notes: { type: "string" },
  },
  required: ["title", "language", "confidence", "summary", "sections", "notes"],
  additionalProperties: false,
} as const satisfies JsonSchemaObject;

// The parser suite's chunkings (bench/json.ts), with the same seed.
const CHUNKINGS: { name: string; size: (random: () => number) => number }[] = [
  { name: "4 chars", size: () => 4 },
  { name: "64 chars", size: () => 64 },
  { name: "random 1–16", size: (random) => 1 + Math.floor(random() * 16) },
];

function chunk(text: string, size: (random: () => number) => number): string[] {
  const random = seededRandom(7);
  const out: string[] = [];
  for (let i = 0; i < text.length; ) {
    const n = size(random);
    out.push(text.slice(i, i + n));
    i += n;
  }
  return out;
}

const SIZES = [
  { label: "10 KB", bytes: 10_000, budgetMs: 300, maxRuns: 60 },
  { label: "100 KB", bytes: 100_000, budgetMs: 500, maxRuns: 30 },
  { label: "1 MB", bytes: 1_000_000, budgetMs: 900, maxRuns: 6 },
];
const ROUNDS = 3;
const TARGET_LABEL = "100 KB";
const TARGET_RATIO = 1.5;

interface Case {
  name: string;
  /** Counts toward the target (the tracker on top of the parser). */
  target: boolean;
  /** Measured in the second pass, after every other case. */
  last?: boolean;
  run(chunks: string[], compiled: CompiledSchema): unknown;
}

const CASES: Case[] = [
  {
    name: "bare parser (`createParser`)",
    target: false,
    run(chunks) {
      const parser = createParser();
      for (const text of chunks) {
        parser.push(text);
        void parser.value;
      }
      return parser.end();
    },
  },
  ...(["final", "early"] as const).map(
    (validate): Case => ({
      name: `parser + tracker, \`validate: "${validate}"\``,
      target: true,
      run(chunks, compiled) {
        const tracker = createSchemaTracker(compiled, { validate });
        const parser = createParser({ onEvent: tracker.onParserEvent });
        for (const text of chunks) {
          parser.push(text);
          void parser.value;
          void tracker.progress;
        }
        const value = parser.end();
        if (tracker.failed) throw new Error(`Early validation failed: ${JSON.stringify(tracker.issues)}`);
        if (tracker.progress.completed !== tracker.progress.total) throw new Error("Progress is incomplete.");
        return value;
      },
    }),
  ),
  {
    name: "`structuredStream({ source, schema })`, `for await`",
    target: false,
    last: true,
    async run(chunks) {
      async function* source() {
        yield* chunks;
      }
      const stream = structuredStream({ source: source(), schema: ARTICLE_SCHEMA });
      for await (const _event of stream);
      return await stream.result;
    },
  },
];

/** One block of runs: their times, until the budget or `maxRuns`. */
async function sample(fn: () => unknown, budgetMs: number, maxRuns: number, times: number[]): Promise<void> {
  let spent = 0;
  for (let runs = 0; runs < 1 || (runs < maxRuns && spent < budgetMs); runs++) {
    const started = performance.now();
    await fn();
    const elapsed = performance.now() - started;
    times.push(elapsed);
    spent += elapsed;
  }
}

async function run(context: BenchContext): Promise<void> {
  const sizes = context.quick ? SIZES.slice(0, 2) : SIZES;
  const compiled = compileSchema(ARTICLE_SCHEMA) as CompiledSchema;
  const documents = sizes.map((size, i) => {
    // The parser suite's seeds (1000 + its size index; its sizes start at 1 KB).
    const text = makeDocument(size.bytes, 1001 + i);
    return {
      ...size,
      text,
      utf8Bytes: Buffer.byteLength(text),
      expected: JSON.parse(text) as unknown,
      chunkings: CHUNKINGS.map((c) => chunk(text, c.size)),
    };
  });
  for (const doc of documents) {
    const issues = compiled.validateAt([], doc.expected);
    if (issues.length > 0)
      throw new Error(`The ${doc.label} document does not match ARTICLE_SCHEMA: ${JSON.stringify(issues)}`);
  }

  // ms[size][chunking][case]
  const ms: number[][][] = documents.map(() => CHUNKINGS.map(() => []));
  const wrongs: string[] = [];
  for (const pass of [false, true]) {
    const cases = [...CASES.entries()].filter(([, c]) => (c.last ?? false) === pass);
    // Warm the pass's cases up on the 10 KB document, so the first cells do not time the JIT.
    for (const [, c] of cases) for (let i = 0; i < 20; i++) await c.run(documents[0].chunkings[2], compiled);
    for (const [s, doc] of documents.entries()) {
      for (const [k, chunks] of doc.chunkings.entries()) {
        const times = new Map(cases.map(([i]) => [i, [] as number[]]));
        for (let round = 0; round < ROUNDS; round++) {
          for (const [i, c] of cases) {
            let last: unknown;
            const once = async () => {
              last = await c.run(chunks, compiled);
            };
            if (round === 0) {
              await once();
              const wrong = jsonDiff(last, doc.expected);
              if (wrong) wrongs.push(`${c.name}, ${doc.label}, ${CHUNKINGS[k].name}: ${wrong}`);
            }
            await sample(once, doc.budgetMs / ROUNDS, Math.ceil(doc.maxRuns / ROUNDS), times.get(i)!);
          }
        }
        for (const [i, list] of times) ms[s][k][i] = median(list);
      }
    }
  }

  for (const [s, doc] of documents.entries()) {
    const rows = CASES.map((c, i) => [
      c.name,
      ...CHUNKINGS.map((_, k) => {
        const time = ms[s][k][i];
        const ratio = time / ms[s][k][0];
        return `${time.toFixed(2)} ms · ${formatRate(megabytesPerSecond(doc.utf8Bytes, time))} MB/s · **${ratio.toFixed(2)}×**`;
      }),
    ]);
    context.print(
      `### ${doc.label} (${formatBytes(doc.utf8Bytes)} of UTF-8, ${doc.chunkings.map((c) => c.length).join(" / ")} chunks)\n\n` +
        markdownTable(["snapshot per chunk", ...CHUNKINGS.map((c) => c.name)], rows),
    );
  }

  const target = documents.findIndex((d) => d.label === TARGET_LABEL);
  const lines: string[] = [];
  if (target !== -1) {
    for (const [i, c] of CASES.entries()) {
      if (!c.target) continue;
      const ratios = CHUNKINGS.map((_, k) => ms[target][k][i] / ms[target][k][0]);
      const worst = Math.max(...ratios);
      lines.push(
        `- ${c.name}: ${ratios.map((r, k) => `${CHUNKINGS[k].name} ${r.toFixed(2)}×`).join(", ")} — ${worst <= TARGET_RATIO ? "✓" : "✗"} (worst ${worst.toFixed(2)}×)`,
      );
    }
  }
  context.print(
    [
      `### Target: the tracker ≤ ${TARGET_RATIO}× the bare parser at ${TARGET_LABEL}`,
      "",
      ...lines,
      "",
      "Cells: median time of a whole run (push every chunk, read the snapshot after each), MB/s of UTF-8 input, and **the ratio to the bare parser** on the same chunks. The tracker cases also read `tracker.progress` after every chunk; `structuredStream` adds the async iteration, its events and the final validation of the whole value (ajv) at the end.",
      "",
      wrongs.length > 0
        ? ["Final values that differ from `JSON.parse`:", ...wrongs.map((w) => `- ${w}`)].join("\n")
        : "Every case's final value deep-equals `JSON.parse`; early validation never failed and progress reached every expected field.",
    ].join("\n"),
  );
}

export const schemaSuite: BenchSuite = {
  name: "schema",
  description:
    "The schema layer (`src/schema/`) on top of the incremental parser: the schema tracker with late and early validation, and the whole `structuredStream`, against the bare parser on the parser suite's documents with a matching JSON Schema.",
  run,
};
