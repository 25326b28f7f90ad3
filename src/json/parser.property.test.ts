/**
 * Property tests: random JSON documents, serialised with random whitespace and random escapes,
 * split at random points (as strings, and as UTF-8 bytes cut mid-character), must give
 * (1) JSON.parse's value at end(), (2) snapshots that only grow, (3) snapshots equal to the
 * reference implementation on the same prefix, (4) immutable, structurally shared snapshots,
 * (5) the same events for any split, (6) the same error, at the right offset, for any split.
 * Raise the iteration count with FC_RUNS (CI does).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cloneJson, jsonDiff, jsonEqual } from "../../test/support/json-equal.ts";
import { longestValidPrefix, partialReference } from "../../test/support/partial-reference.ts";
import { createParser, JsonParseError, type ParserEvent, parsePartial } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 200);

// ---- documents ---------------------------------------------------------------------------------

type Doc =
  | { kind: "number"; text: string }
  | { kind: "string"; value: string }
  | { kind: "literal"; text: "true" | "false" | "null" }
  | { kind: "array"; items: Doc[] }
  | { kind: "object"; members: [string, Doc][] };

const SPECIAL_UNITS = [
  "😀",
  "👍🏽",
  "👨‍👩‍👧",
  "𝄞",
  "é",
  "€",
  "東京",
  "\u2028",
  "\u0000",
  "\u001f",
  "\u007f",
  '"',
  "\\",
  "/",
  "\n",
  "\r\n",
  "\t",
  "\b\f",
  "\ufeff",
  "\ufffd",
  " ",
  "a",
  "\ud800", // lone surrogates: legal in JSON text through escapes; as raw text they test the UTF-8 fallback
  "\udfff",
];

const stringValue = fc.oneof(
  fc.string({ unit: fc.constantFrom(...SPECIAL_UNITS), maxLength: 12 }),
  fc.string({ unit: "binary", maxLength: 12 }).filter((s) => !/\p{Cs}/u.test(s)),
  fc.string({ unit: "grapheme", maxLength: 12 }),
  fc.string({ maxLength: 8 }),
);

const numberText = fc.oneof(
  fc.stringMatching(/^-?(0|[1-9][0-9]{0,19})(\.[0-9]{1,12})?([eE][+-]?[0-9]{1,3})?$/),
  fc.constantFrom(
    "-0",
    "-0.0",
    "0e0",
    "-0E-0",
    "1e400",
    "-1e400",
    "1e-400",
    "5e-324",
    "1.7976931348623157e308",
    "12345678901234567890",
  ),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => JSON.stringify(n)),
);

const key = fc.oneof(fc.constantFrom("a", "b", "__proto__", "0", "10", "constructor", ""), stringValue);

function fromJs(value: unknown): Doc {
  if (value === null || typeof value === "boolean") return { kind: "literal", text: String(value) as "null" };
  if (typeof value === "number") return { kind: "number", text: JSON.stringify(value) };
  if (typeof value === "string") return { kind: "string", value };
  if (Array.isArray(value)) return { kind: "array", items: value.map(fromJs) };
  return { kind: "object", members: Object.entries(value as object).map(([k, v]) => [k, fromJs(v)]) };
}

const { doc } = fc.letrec<{ doc: Doc }>((tie) => ({
  doc: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    numberText.map((text): Doc => ({ kind: "number", text })),
    stringValue.map((value): Doc => ({ kind: "string", value })),
    fc.constantFrom("true", "false", "null").map((text): Doc => ({ kind: "literal", text })),
    fc.array(tie("doc"), { maxLength: 5 }).map((items): Doc => ({ kind: "array", items })),
    fc
      .array(fc.tuple(key, tie("doc")), { maxLength: 5 })
      .map((members): Doc => ({ kind: "object", members })),
    fc.jsonValue({ maxDepth: 3 }).map(fromJs),
  ),
}));

// ---- a serialiser with random whitespace and random escapes ------------------------------------

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  "\\": "\\\\",
  "/": "\\/",
  "\b": "\\b",
  "\f": "\\f",
  "\n": "\\n",
  "\r": "\\r",
  "\t": "\\t",
};

function serialize(root: Doc, random: () => number): string {
  const ws = () => {
    if (random() >= 0.3) return "";
    let out = "";
    for (let n = 1 + Math.floor(random() * 3); n > 0; n--) out += " \t\n\r"[Math.floor(random() * 4)];
    return out;
  };
  const str = (value: string) => {
    let out = '"';
    // Code unit by code unit, so a surrogate pair may come out half escaped, half raw.
    for (let i = 0; i < value.length; i++) {
      const c = value[i];
      const code = value.charCodeAt(i);
      const mustEscape = c === '"' || c === "\\" || code < 0x20;
      if (!mustEscape && random() >= 0.15) out += c;
      else if (SHORT_ESCAPES[c] !== undefined && random() < 0.7) out += SHORT_ESCAPES[c];
      else {
        const hex = code.toString(16).padStart(4, "0");
        out += `\\u${random() < 0.5 ? hex : hex.toUpperCase()}`;
      }
    }
    return `${out}"`;
  };
  const value = (node: Doc): string => {
    switch (node.kind) {
      case "number":
      case "literal":
        return node.text;
      case "string":
        return str(node.value);
      case "array":
        return `[${ws()}${node.items.map((item) => value(item)).join(`${ws()},${ws()}`)}${ws()}]`;
      case "object": {
        const members = node.members.map(([k, v]) => `${str(k)}${ws()}:${ws()}${value(v)}`);
        return `{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}`;
      }
    }
  };
  return `${ws()}${value(root)}${ws()}`;
}

/** Keys that occur twice in one object somewhere in the document: only they may replace a value. */
function duplicatedKeys(node: Doc, out = new Set<string>()): Set<string> {
  if (node.kind === "array") for (const item of node.items) duplicatedKeys(item, out);
  if (node.kind === "object") {
    const seen = new Set<string>();
    for (const [k, v] of node.members) {
      if (seen.has(k)) out.add(k);
      seen.add(k);
      duplicatedKeys(v, out);
    }
  }
  return out;
}

// ---- chunking ----------------------------------------------------------------------------------

/** Split points as raw integers (taken modulo the input length, so repeats make empty chunks), or one unit per chunk. */
const splits = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.nat(), { maxLength: 24 }) },
  { weight: 1, arbitrary: fc.constant("every" as const) },
);

function cut<T extends string | Uint8Array>(
  input: T,
  points: number[] | "every",
): { chunk: T; end: number }[] {
  const ends =
    points === "every"
      ? Array.from({ length: input.length }, (_, i) => i + 1)
      : [...points.map((p) => p % (input.length + 1)).sort((a, b) => a - b), input.length];
  let start = 0;
  return ends.map((end) => {
    const chunk = input.slice(start, end) as T;
    start = end;
    return { chunk, end };
  });
}

const encoder = new TextEncoder();
const decodeComplete = (bytes: Uint8Array) => new TextDecoder().decode(bytes, { stream: true });

const sample = fc.record({ doc, seed: fc.integer(), splits, bytes: fc.boolean() });
type Sample = { doc: Doc; seed: number; splits: number[] | "every"; bytes: boolean };

/** No lone surrogates: the text survives a round trip through UTF-8. */
const wellFormed = (text: string) => !/\p{Cs}/u.test(text);

interface Run {
  /** Snapshot read after each chunk, and the prefix (decoded text) it must show. */
  steps: { snapshot: unknown; again: unknown; copy: unknown; prefix: string }[];
  final: unknown;
  expected: unknown;
}

function runSample(input: Sample): Run {
  const text = serialize(input.doc, mulberry32(input.seed));
  const parser = createParser();
  const steps: Run["steps"] = [];
  if (input.bytes) {
    const encoded = encoder.encode(text);
    for (const { chunk, end } of cut(encoded, input.splits)) {
      parser.push(chunk);
      const snapshot = parser.value;
      steps.push({
        snapshot,
        again: parser.value,
        copy: cloneJson(snapshot),
        prefix: decodeComplete(encoded.subarray(0, end)),
      });
    }
    return { steps, final: parser.end(), expected: JSON.parse(new TextDecoder().decode(encoded)) };
  }
  for (const { chunk, end } of cut(text, input.splits)) {
    parser.push(chunk);
    const snapshot = parser.value;
    steps.push({ snapshot, again: parser.value, copy: cloneJson(snapshot), prefix: text.slice(0, end) });
  }
  return { steps, final: parser.end(), expected: JSON.parse(text) };
}

// ---- checks ------------------------------------------------------------------------------------

const isContainer = (value: unknown): value is object => typeof value === "object" && value !== null;

/**
 * Why `next` does not extend `prev`, or undefined: strings grow by appending; numbers, booleans
 * and null never change; arrays keep their complete elements and may grow the last one; objects
 * keep every key, in order, each extended, except a key a duplicate may replace.
 */
function extendsPrevious(
  prev: unknown,
  next: unknown,
  replaceable: Set<string>,
  path = "$",
): string | undefined {
  if (prev === undefined) return undefined;
  if (typeof prev === "string") {
    return typeof next === "string" && next.startsWith(prev)
      ? undefined
      : `${path}: ${JSON.stringify(next)} does not extend ${JSON.stringify(prev)}`;
  }
  if (!isContainer(prev))
    return Object.is(prev, next) ? undefined : `${path}: ${String(prev)} became ${String(next)}`;
  if (Array.isArray(prev)) {
    if (!Array.isArray(next)) return `${path}: an array became something else`;
    if (next.length < prev.length) return `${path}: the array shrank from ${prev.length} to ${next.length}`;
    for (let i = 0; i < prev.length; i++) {
      const at = `${path}[${i}]`;
      const reason =
        i < prev.length - 1
          ? jsonDiff(next[i], prev[i]) && `${at}: a complete element changed`
          : extendsPrevious(prev[i], next[i], replaceable, at);
      if (reason) return reason;
    }
    return undefined;
  }
  if (!isContainer(next) || Array.isArray(next)) return `${path}: an object became something else`;
  const prevKeys = Object.keys(prev);
  const kept = Object.keys(next).filter((k) => Object.hasOwn(prev, k));
  if (kept.length !== prevKeys.length || kept.some((k, i) => k !== prevKeys[i]))
    return `${path}: keys ${JSON.stringify(prevKeys)} became ${JSON.stringify(Object.keys(next))}`;
  for (const k of prevKeys) {
    const reason = extendsPrevious(
      (prev as Record<string, unknown>)[k],
      (next as Record<string, unknown>)[k],
      replaceable,
      `${path}.${k}`,
    );
    if (reason && !replaceable.has(k)) return reason;
  }
  return undefined;
}

/**
 * Why structural sharing failed: a container equal to its previous snapshot must be the same
 * object. A member under a key that a duplicate may replace is exempt (the replacement is a new
 * value that may look like the old one), and so are the containers above it.
 */
function sharingFailure(
  prev: unknown,
  next: unknown,
  replaceable: Set<string>,
  path = "$",
): string | undefined {
  if (!isContainer(prev) || !isContainer(next) || Array.isArray(prev) !== Array.isArray(next))
    return undefined;
  const exempt = !Array.isArray(prev) && Object.keys(prev).some((k) => replaceable.has(k));
  if (jsonEqual(prev, next) && prev !== next && !exempt && !hasKeyIn(prev, replaceable)) {
    return `${path}: unchanged but a new object`;
  }
  for (const k of Object.keys(prev)) {
    if (!Object.hasOwn(next, k) || (!Array.isArray(prev) && replaceable.has(k))) continue;
    const reason = sharingFailure(
      (prev as Record<string, unknown>)[k],
      (next as Record<string, unknown>)[k],
      replaceable,
      `${path}.${k}`,
    );
    if (reason) return reason;
  }
  return undefined;
}

function hasKeyIn(value: unknown, keys: Set<string>): boolean {
  if (!isContainer(value)) return false;
  if (!Array.isArray(value) && Object.keys(value).some((k) => keys.has(k))) return true;
  return Object.values(value).some((child) => hasKeyIn(child, keys));
}

type EventTuple = [type: string, path: string, kindOrValue: unknown];
const tuple = (event: Extract<ParserEvent, { type: "start" | "end" }>): EventTuple =>
  event.type === "start"
    ? ["start", JSON.stringify(event.path), event.kind]
    : ["end", JSON.stringify(event.path), event.value];

function expectedEvents(node: Doc, path: (string | number)[] = [], out: EventTuple[] = []): EventTuple[] {
  const kind = node.kind === "literal" ? (node.text === "null" ? "null" : "boolean") : node.kind;
  out.push(["start", JSON.stringify(path), kind]);
  if (node.kind === "array") {
    for (const [i, item] of node.items.entries()) expectedEvents(item, [...path, i], out);
  }
  if (node.kind === "object") for (const [k, v] of node.members) expectedEvents(v, [...path, k], out);
  out.push(["end", JSON.stringify(path), JSON.parse(serialize(node, () => 0.99))]);
  return out;
}

function eventsOf(chunks: (string | Uint8Array)[]): EventTuple[] {
  const events: EventTuple[] = [];
  const parser = createParser({
    onEvent: (event) => {
      if (event.type === "start" || event.type === "end") events.push(tuple(event));
    },
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

function outcome(chunks: (string | Uint8Array)[]): { value: unknown } | { error: JsonParseError } {
  const parser = createParser();
  try {
    for (const chunk of chunks) parser.push(chunk);
    return { value: parser.end() };
  } catch (error) {
    if (!(error instanceof JsonParseError)) throw error;
    return { error };
  }
}

const check = (reason: string | undefined, context: string) => expect(reason, context).toBeUndefined();

// ---- properties --------------------------------------------------------------------------------

describe("the parser, on random documents split at random points", () => {
  it("(1) returns JSON.parse's value from end()", () => {
    fc.assert(
      fc.property(sample, (input) => {
        const { final, expected } = runSample(input);
        check(jsonDiff(final, expected), "final value");
      }),
      { numRuns: RUNS },
    );
  });

  it("(2) gives snapshots that each extend the previous one", () => {
    fc.assert(
      fc.property(sample, (input) => {
        const { steps, final } = runSample(input);
        const replaceable = duplicatedKeys(input.doc);
        const snapshots = [...steps.map((step) => step.snapshot), final];
        for (let i = 1; i < snapshots.length; i++) {
          check(
            extendsPrevious(snapshots[i - 1], snapshots[i], replaceable),
            `snapshot ${i} after ${steps[i - 1].prefix}`,
          );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("(3) gives snapshots equal to the reference on the same prefix", () => {
    fc.assert(
      fc.property(sample, (input) => {
        for (const { snapshot, prefix } of runSample(input).steps) {
          check(jsonDiff(snapshot, partialReference(prefix)), `prefix ${JSON.stringify(prefix)}`);
          if (!input.bytes)
            check(
              jsonDiff(parsePartial(prefix), partialReference(prefix)),
              `parsePartial(${JSON.stringify(prefix)})`,
            );
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("(4) never changes a snapshot, returns it again until the next push, and shares unchanged subtrees", () => {
    fc.assert(
      fc.property(sample, (input) => {
        const { steps } = runSample(input);
        const replaceable = duplicatedKeys(input.doc);
        steps.forEach(({ snapshot, again, copy, prefix }, i) => {
          expect(again, `second read after ${JSON.stringify(prefix)}`).toBe(snapshot);
          check(jsonDiff(snapshot, copy), `snapshot after ${JSON.stringify(prefix)} changed later`);
          if (i > 0)
            check(
              sharingFailure(steps[i - 1].snapshot, snapshot, replaceable),
              `after ${JSON.stringify(prefix)}`,
            );
        });
      }),
      { numRuns: RUNS },
    );
  });

  it("(5) reports every value's start and end in document order, the same for any split", () => {
    fc.assert(
      fc.property(sample, (input) => {
        const text = serialize(input.doc, mulberry32(input.seed));
        const expected = expectedEvents(input.doc);
        check(jsonDiff(eventsOf(cut(text, input.splits).map((c) => c.chunk)), expected), "string chunks");
        const encoded = encoder.encode(text);
        if (wellFormed(text))
          check(jsonDiff(eventsOf(cut(encoded, input.splits).map((c) => c.chunk)), expected), "byte chunks");
      }),
      { numRuns: RUNS },
    );
  });

  it("(6) rejects a corrupted document where JSON.parse does, at the same place for any split", () => {
    const corruption = fc.record({
      at: fc.nat(),
      action: fc.constantFrom("insert", "replace", "delete", "truncate"),
      char: fc.oneof(
        fc.constantFrom(..."{}[],:\"\\ \n0-1.eE+tfnu/x'"),
        fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
      ),
    });
    fc.assert(
      fc.property(sample, corruption, (input, { at, action, char }) => {
        const original = serialize(input.doc, mulberry32(input.seed));
        const i = at % (original.length + 1);
        const text =
          action === "truncate"
            ? original.slice(0, i)
            : original.slice(0, i) +
              (action === "delete" ? "" : char) +
              original.slice(action === "insert" ? i : i + 1);
        let parsed: { value: unknown } | undefined;
        try {
          parsed = { value: JSON.parse(text) };
        } catch {
          parsed = undefined;
        }
        const whole = outcome([text]);
        const split = outcome(cut(text, input.splits).map((c) => c.chunk));
        const encoded = encoder.encode(text);
        const bytewise = outcome(cut(encoded, input.splits).map((c) => c.chunk));
        if (parsed) {
          for (const [how, got] of [
            ["whole", whole],
            ["split", split],
          ] as const) {
            expect("value" in got, `${how}: rejected ${JSON.stringify(text)}`).toBe(true);
            if ("value" in got) check(jsonDiff(got.value, parsed.value), how);
          }
          if (wellFormed(text)) {
            expect("value" in bytewise, `bytes: rejected ${JSON.stringify(text)}`).toBe(true);
            if ("value" in bytewise) check(jsonDiff(bytewise.value, parsed.value), "bytes");
          }
          return;
        }
        const valid = longestValidPrefix(text);
        const offset = valid < text.length ? valid : text.length;
        const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
        const want = {
          code: valid < text.length ? "unexpected_character" : "unexpected_end",
          offset,
          line: text.slice(0, offset).split("\n").length,
          column: offset - lineStart + 1,
        };
        for (const [how, got] of [
          ["whole", whole],
          ["split", split],
        ] as const) {
          expect("error" in got, `${how}: accepted ${JSON.stringify(text)}`).toBe(true);
          if ("error" in got) {
            const { code, line, column } = got.error;
            expect(
              { code, offset: got.error.offset, line, column },
              `${how}: ${JSON.stringify(text)}`,
            ).toEqual(want);
          }
        }
        if (wellFormed(text)) {
          expect("error" in bytewise, `bytes: accepted ${JSON.stringify(text)}`).toBe(true);
          if ("error" in bytewise) {
            const byteOffset = encoder.encode(text.slice(0, offset)).length;
            const byteLineStart = encoder.encode(text.slice(0, lineStart)).length;
            expect(
              { offset: bytewise.error.offset, line: bytewise.error.line, column: bytewise.error.column },
              `bytes: ${JSON.stringify(text)}`,
            ).toEqual({ offset: byteOffset, line: want.line, column: byteOffset - byteLineStart + 1 });
          }
        }
      }),
      { numRuns: RUNS },
    );
  });
});

// ---- change events -----------------------------------------------------------------------------

/** Applies `add` and `append` events to a document of its own (containers copied as they arrive). */
function createApplier(): { apply(event: ParserEvent): void; readonly doc: unknown } {
  let root: unknown;
  const own = (value: unknown) => (typeof value === "object" && value !== null ? cloneJson(value) : value);
  const parentOf = (path: readonly (string | number)[]) => {
    let node = root as Record<string | number, unknown>;
    for (let i = 0; i < path.length - 1; i++) node = node[path[i]] as Record<string | number, unknown>;
    return node;
  };
  return {
    apply(event) {
      if (event.type === "add") {
        if (event.path.length === 0) root = own(event.value);
        else {
          const parent = parentOf(event.path);
          Object.defineProperty(parent, event.path[event.path.length - 1], {
            value: own(event.value),
            writable: true,
            enumerable: true,
            configurable: true,
          });
        }
      } else if (event.type === "append") {
        if (event.path.length === 0) root = (root as string) + event.text;
        else {
          const parent = parentOf(event.path);
          const key = event.path[event.path.length - 1];
          parent[key] = (parent[key] as string) + event.text;
        }
      }
    },
    get doc() {
      return root;
    },
  };
}

describe("the parser's change events", () => {
  // Holds at random: a value held whole, or an object gated on a key it may or may not have.
  const holdRule = fc.record({ salt: fc.integer(), rate: fc.constantFrom(0, 0.2, 0.5) });

  it("(7) rebuild every snapshot when applied in order to an empty document, for any split and holds", () => {
    fc.assert(
      fc.property(sample, holdRule, (input, rule) => {
        const text = serialize(input.doc, mulberry32(input.seed));
        const applier = createApplier();
        const random = mulberry32(rule.salt);
        let order: string[] = [];
        const parser = createParser({
          onEvent: (event) => {
            applier.apply(event);
            if (event.type === "add" || event.type === "start")
              order.push(`${event.type.slice(0, 3)} ${JSON.stringify(event.path)}`);
            if (event.type === "end") order.push(`end ${JSON.stringify(event.path)}`);
            if (event.type !== "start" || random() >= rule.rate) return undefined;
            return event.kind === "object" && random() < 0.5 ? ["a", "b"] : true;
          },
        });
        const chunks = input.bytes ? cut(encoder.encode(text), input.splits) : cut(text, input.splits);
        for (const { chunk, end } of chunks) {
          parser.push(chunk);
          check(jsonDiff(applier.doc, parser.value), `after ${end} of ${JSON.stringify(text)}`);
        }
        const final = parser.end();
        check(jsonDiff(applier.doc, final), `at the end of ${JSON.stringify(text)}`);
        // A value is added before it ends, never after (its patch comes before news of its end).
        const ended = new Set<string>();
        for (const entry of order) {
          const path = entry.slice(4);
          if (entry.startsWith("end")) ended.add(path);
          else if (entry.startsWith("sta")) ended.delete(path);
          else if (ended.has(path)) throw new Error(`${path} was added after it ended`);
        }
        order = [];
      }),
      { numRuns: RUNS },
    );
  });
});

describe("the parser, on strings read in hundreds of pieces", () => {
  // A string (or key) longer than the parser's blocks of pieces, split into very small chunks.
  const longString = fc.string({ unit: fc.constantFrom(...SPECIAL_UNITS), minLength: 200, maxLength: 900 });
  const longSample = fc.record({
    key: fc.oneof(fc.constant("k"), longString),
    value: longString,
    seed: fc.integer(),
    splits: fc.oneof(fc.constant("every" as const), fc.array(fc.nat(), { minLength: 300, maxLength: 1_500 })),
    bytes: fc.boolean(),
  });

  it("gives JSON.parse's value, snapshots equal to the reference, and changes that rebuild them", () => {
    fc.assert(
      fc.property(longSample, (input) => {
        const root: Doc = {
          kind: "object",
          members: [[input.key, { kind: "array", items: [{ kind: "string", value: input.value }] }]],
        };
        const text = serialize(root, mulberry32(input.seed));
        const applier = createApplier();
        const parser = createParser({ onEvent: (event) => void applier.apply(event) });
        const encoded = encoder.encode(text);
        const chunks = input.bytes ? cut(encoded, input.splits) : cut(text, input.splits);
        for (const { chunk, end } of chunks) {
          parser.push(chunk);
          const prefix = input.bytes ? decodeComplete(encoded.subarray(0, end)) : text.slice(0, end);
          check(jsonDiff(parser.value, partialReference(prefix)), `after ${end} of ${text.length}`);
          check(jsonDiff(applier.doc, parser.value), `changes after ${end}`);
        }
        const expected = JSON.parse(input.bytes ? new TextDecoder().decode(encoded) : text);
        check(jsonDiff(parser.end(), expected), "end()");
      }),
      { numRuns: Math.max(10, Math.floor(RUNS / 10)) },
    );
  });
});
