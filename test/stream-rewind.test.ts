/**
 * Retries never splice two answers (issue 11, item 1): when a retry's answer contradicts what was
 * shown, a `rewind` event withdraws exactly that, before anything of the retry that replaces it,
 * and every consumer follows (events, `s.value`, `partials()`, `elements()`, `stateOf`, `watch`,
 * `field` events, progress). A retry that agrees with what was shown retracts nothing and shows
 * nothing twice. A property test over random failure points and random second answers checks that
 * every value a consumer was shown and not retracted is in the final answer.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { fromPointer, type PathSegment, valueAt } from "../src/json/index.ts";
import {
  type StreamElement,
  type StreamEvent,
  type StructuredStream,
  structuredStream,
} from "../src/stream/index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 60);

/**
 * A `source` function answering `answers[k]` on attempt k, in the given chunks; an attempt whose
 * entry has `drop: true` breaks (the read throws, as a dropped connection does) after its chunks.
 */
function perAttempt(answers: { chunks: string[]; drop?: boolean }[]) {
  let calls = 0;
  const source = async ({ attempt }: { attempt: number }) => {
    calls++;
    const answer = answers[Math.min(attempt, answers.length - 1)]!;
    let i = 0;
    return new ReadableStream<string>({
      pull(controller) {
        if (i < answer.chunks.length) controller.enqueue(answer.chunks[i++]!);
        else if (answer.drop) controller.error(new TypeError("terminated"));
        else controller.close();
      },
    });
  };
  return {
    source,
    get calls() {
      return calls;
    },
  };
}

const fast = { retry: { baseDelayMs: 0, maxDelayMs: 0 }, maxRetries: 3 } as const;

/** Splits `text` at the given cut points. */
function cut(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => Math.max(0, Math.min(text.length, c))))].sort((a, b) => a - b);
  const out: string[] = [];
  let last = 0;
  for (const p of points) {
    if (p > last) out.push(text.slice(last, p));
    last = Math.max(last, p);
  }
  if (last < text.length) out.push(text.slice(last));
  return out;
}

/** Whether partial JSON `a` can grow into `b` (strings extend, containers gain members). */
function grows(a: unknown, b: unknown): boolean {
  if (a === undefined) return true;
  if (typeof a === "string") return typeof b === "string" && b.startsWith(a);
  if (Array.isArray(a)) return Array.isArray(b) && b.length >= a.length && a.every((x, i) => grows(x, b[i]));
  if (a !== null && typeof a === "object") {
    if (b === null || typeof b !== "object" || Array.isArray(b)) return false;
    return Object.entries(a).every(
      ([k, v]) => Object.hasOwn(b, k) && grows(v, (b as Record<string, unknown>)[k]),
    );
  }
  return Object.is(a, b);
}

function within(pointer: string, ancestor: string): boolean {
  return ancestor === "" || pointer === ancestor || pointer.startsWith(`${ancestor}/`);
}

/** `value` with everything at or under the retracted pointers removed (for comparisons). */
function without(value: unknown, retracted: readonly string[], at = ""): unknown {
  if (retracted.some((r) => within(at, r))) return undefined;
  if (Array.isArray(value)) {
    const out: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const kept = without(value[i], retracted, `${at}/${i}`);
      if (kept === undefined) break; // an array keeps a prefix
      out.push(kept);
    }
    return out;
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const kept = without(v, retracted, `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
      if (kept !== undefined) out[k] = kept;
    }
    return out;
  }
  return value;
}

interface Observed {
  events: StreamEvent[];
  partials: unknown[];
  elements: StreamElement[];
  watched: unknown[];
  states: { pointer: string; state: string; afterRewinds: number }[];
  value?: unknown;
  error?: unknown;
}

/** Reads one stream through every consumer API at once. */
async function observe<T, P>(s: StructuredStream<T, P>, watchPath: PathSegment[] = []): Promise<Observed> {
  const out: Observed = { events: [], partials: [], elements: [], watched: [], states: [] };
  const types = [
    "status",
    "partial",
    "field",
    "field-state",
    "retry",
    "rewind",
    "complete",
    "error",
  ] as const;
  let rewinds = 0;
  const seenPointers = new Set<string>();
  for (const type of types) {
    s.on(type, (event) => {
      out.events.push(event as StreamEvent);
      if (event.type === "rewind") rewinds++;
      if (event.type === "field-state" || event.type === "field") seenPointers.add(event.pointer);
      if (event.type === "partial") {
        for (const pointer of seenPointers)
          out.states.push({ pointer, state: s.stateOf(pointer), afterRewinds: rewinds });
      }
    });
  }
  s.watch(watchPath, (value) => out.watched.push(value));
  const partials = (async () => {
    for await (const p of s.partials()) out.partials.push(p);
  })().catch(() => {});
  const elements = (async () => {
    for await (const e of s.elements()) out.elements.push(e);
  })().catch(() => {});
  try {
    out.value = await s.result;
  } catch (error) {
    out.error = error;
  }
  await partials;
  await elements;
  return out;
}

const RANK: Record<string, number> = { pending: 0, streaming: 1, complete: 2 };

/**
 * The invariants every run must keep: what was shown and not retracted is in the final answer;
 * between rewinds, snapshots only grow, field states never step back, no field is reported twice;
 * `elements()` replayed with its retractions is the final array.
 */
function checkInvariants(o: Observed, final: unknown): void {
  let retracted: string[] = [];
  let previous: unknown;
  const fields = new Map<string, unknown>();
  for (const event of o.events) {
    if (event.type === "rewind") {
      retracted = retracted.concat(event.retracted);
      for (const pointer of [...fields.keys()])
        if (event.retracted.some((r) => within(pointer, r))) fields.delete(pointer);
      previous = without(previous, event.retracted);
    } else if (event.type === "partial") {
      // Between rewinds a snapshot only grows (nothing flickers, nothing is taken back silently).
      expect(grows(previous, event.value)).toBe(true);
      previous = event.value;
    } else if (event.type === "field") {
      // A field is reported once, unless retracted in between.
      expect(fields.has(event.pointer)).toBe(false);
      fields.set(event.pointer, event.value);
    }
  }
  if (o.error !== undefined) return;
  // Everything reported and never retracted is in the final answer.
  for (const [pointer, value] of fields) expect(valueAt(final, fromPointer(pointer))).toEqual(value);
  expect(o.partials.at(-1)).toEqual(final);
  expect(o.watched.at(-1)).toEqual(final);
  // partials(): never the same snapshot twice in a row.
  for (let i = 1; i < o.partials.length; i++) expect(o.partials[i]).not.toEqual(o.partials[i - 1]);
  // elements() replayed with its retractions gives the final array, in order, each once.
  if (Array.isArray(final)) {
    const list: unknown[] = [];
    for (const e of o.elements) {
      if (e.type === "retract") list.length = e.index;
      else {
        expect(e.index).toBe(list.length);
        list.push(e.value);
      }
    }
    expect(list).toEqual(final);
  }
  // stateOf steps back only through a rewind.
  const last = new Map<string, { rank: number; rewinds: number }>();
  for (const { pointer, state, afterRewinds } of o.states) {
    const before = last.get(pointer);
    if (before !== undefined && before.rewinds === afterRewinds)
      expect(RANK[state]).toBeGreaterThanOrEqual(before.rank);
    last.set(pointer, { rank: RANK[state]!, rewinds: afterRewinds });
  }
}

function rewindsOf(o: Observed) {
  return o.events.flatMap((e) => (e.type === "rewind" ? [e] : []));
}

describe("a retry whose answer differs", () => {
  it("withdraws what it contradicts with a rewind, before anything of the new answer", async () => {
    const answers = perAttempt([
      { chunks: ['[{"id":1},', '{"id":2},', '{"id":3},'], drop: true },
      { chunks: ['[{"id":1', '0},{"id":20}]'] },
    ]);
    const s = structuredStream({ provider: "text", source: answers.source, ...fast });
    const o = await observe(s);
    expect(o.value).toEqual([{ id: 10 }, { id: 20 }]);
    const rewinds = rewindsOf(o);
    expect(rewinds).toEqual([{ type: "rewind", retracted: ["/0", "/1", "/2"], attempt: 1 }]);
    // The rewind comes after the retry event and before any event of the new answer.
    const at = o.events.findIndex((e) => e.type === "rewind");
    const retryAt = o.events.findIndex((e) => e.type === "retry");
    expect(retryAt).toBeLessThan(at);
    const between = o.events.slice(retryAt + 1, at).filter((e) => e.type !== "status");
    expect(between).toEqual([]);
    // field events: /0/id was 1, withdrawn with its element, then reported again as 10.
    const fields = o.events.flatMap((e) =>
      e.type === "field" ? [`${e.pointer}=${JSON.stringify(e.value)}`] : [],
    );
    expect(fields.indexOf("/0/id=1")).toBeLessThan(at);
    expect(fields).toContain("/2/id=3");
    expect(
      o.events.findIndex((e) => e.type === "field" && e.pointer === "/0/id" && e.value === 10),
    ).toBeGreaterThan(at);
    // elements(): 1, 2, 3, then a retraction from 0, then 10, 20.
    expect(o.elements).toEqual([
      { type: "element", index: 0, value: { id: 1 } },
      { type: "element", index: 1, value: { id: 2 } },
      { type: "element", index: 2, value: { id: 3 } },
      { type: "retract", index: 0 },
      { type: "element", index: 0, value: { id: 10 } },
      { type: "element", index: 1, value: { id: 20 } },
    ]);
    checkInvariants(o, o.value);
  });

  it("keeps what still agrees: only the contradicted field is retracted", async () => {
    const answers = perAttempt([
      { chunks: ['{"title":"Soup","body":"Boil wa'], drop: true },
      { chunks: ['{"title":"Soup",', '"body":"Boil milk', ' gently"}'] },
    ]);
    const s = structuredStream({ provider: "text", source: answers.source, ...fast });
    const o = await observe(s, ["title"]);
    expect(o.value).toEqual({ title: "Soup", body: "Boil milk gently" });
    expect(rewindsOf(o).map((r) => r.retracted)).toEqual([["/body"]]);
    // The title was reported once and its watcher called once: it never flickered.
    expect(o.events.filter((e) => e.type === "field" && e.pointer === "/title")).toHaveLength(1);
    expect(o.watched).toEqual(["S", "Soup"].filter((v) => o.watched.includes(v)));
    expect(o.watched.at(-1)).toBe("Soup");
  });

  it("steps progress and stateOf back only through the rewind", async () => {
    const schema = {
      type: "object",
      properties: { a: { type: "string" }, b: { type: "string" }, c: { type: "string" } },
      required: ["a", "b", "c"],
    } as const;
    const answers = perAttempt([
      { chunks: ['{"a":"x",', '"b":"y",'], drop: true },
      { chunks: ['{"a":"z",', '"b":"w","c":"v"}'] },
    ]);
    const s = structuredStream({ provider: "text", source: answers.source, schema, ...fast });
    const progress: { percent: number; completed: number; rewinds: number }[] = [];
    let rewinds = 0;
    let stateAtRewind: string | undefined;
    s.on("rewind", () => {
      rewinds++;
    });
    s.on("partial", (e) => {
      progress.push({ percent: e.progress.percent, completed: e.progress.completed, rewinds });
      if (rewinds === 1 && stateAtRewind === undefined) stateAtRewind = s.stateOf("/b");
    });
    const o = await observe(s);
    expect(o.value).toEqual({ a: "z", b: "w", c: "v" });
    expect(rewindsOf(o).map((r) => r.retracted)).toEqual([["/a", "/b"]]);
    for (let i = 1; i < progress.length; i++) {
      if (progress[i]!.rewinds === progress[i - 1]!.rewinds) {
        expect(progress[i]!.completed).toBeGreaterThanOrEqual(progress[i - 1]!.completed);
      }
    }
    expect(progress.at(-1)?.percent).toBe(100);
    checkInvariants(o, o.value);
  });

  it("retracts values a complete retry no longer has", async () => {
    const answers = perAttempt([{ chunks: ['{"a":1,"b":2,'], drop: true }, { chunks: ['{"a":1}'] }]);
    const s = structuredStream({ provider: "text", source: answers.source, ...fast });
    const o = await observe(s);
    expect(o.value).toEqual({ a: 1 });
    expect(rewindsOf(o).map((r) => r.retracted)).toEqual([["/b"]]);
    checkInvariants(o, o.value);
  });
});

describe("a retry that agrees with what was shown", () => {
  it("retracts nothing, reports nothing twice and never flickers", async () => {
    const answers = perAttempt([
      { chunks: ['{"title":"Hel', 'lo","tags":["a",'], drop: true },
      { chunks: ['{"ti', 'tle":"Hello","t', 'ags":["a","b"]}'] },
    ]);
    const s = structuredStream({ provider: "text", source: answers.source, ...fast });
    const o = await observe(s);
    expect(o.value).toEqual({ title: "Hello", tags: ["a", "b"] });
    expect(rewindsOf(o)).toEqual([]);
    const fields = o.events.flatMap((e) => (e.type === "field" ? [e.pointer] : []));
    expect(fields).toEqual(["/title", "/tags/0", "/tags/1", "/tags"]);
    checkInvariants(o, o.value);
  });

  it("in other whitespace retracts nothing either", async () => {
    const answers = perAttempt([
      { chunks: ['{"title":"Hel'], drop: true },
      { chunks: ['{ "title": "He', 'llo", "n": 1 }'] },
    ]);
    const s = structuredStream({ provider: "text", source: answers.source, ...fast });
    const o = await observe(s);
    expect(o.value).toEqual({ title: "Hello", n: 1 });
    expect(rewindsOf(o)).toEqual([]);
    checkInvariants(o, o.value);
  });
});

/** `value` with its `n`-th leaf (in document order) replaced. */
function mutate(value: unknown, n: number): unknown {
  let count = 0;
  const walk = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object")
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return count++ === n ? (typeof v === "string" ? `${v}~` : "changed") : v;
  };
  return walk(value);
}

describe("property: random failure points, random second answers", () => {
  const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
  it("every value shown and not retracted is in the final answer; agreeing retries retract nothing", async () => {
    await fc.assert(
      fc.asyncProperty(
        json,
        fc.oneof(
          fc.constant({ kind: "same" as const }),
          fc.constant({ kind: "spaced" as const }),
          fc.nat(20).map((n) => ({ kind: "mutated" as const, n })),
          json.map((other) => ({ kind: "other" as const, other })),
        ),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.array(fc.nat(400), { maxLength: 8 }),
        fc.option(fc.tuple(json, fc.double({ min: 0, max: 1, noNaN: true })), { nil: undefined }),
        async (first, second, failAt, cuts1, cuts2, middle) => {
          const text1 = JSON.stringify(first);
          const answer =
            second.kind === "same" || second.kind === "spaced"
              ? first
              : second.kind === "mutated"
                ? mutate(first, second.n)
                : second.other;
          const text2 = second.kind === "spaced" ? JSON.stringify(answer, null, 1) : JSON.stringify(answer);
          const sent = text1.slice(0, Math.floor(failAt * text1.length));
          // Sometimes a middle attempt with yet another answer fails too.
          const between =
            middle === undefined
              ? []
              : [
                  {
                    chunks: cut(JSON.stringify(middle[0]).slice(0, Math.floor(middle[1] * 40)), cuts2),
                    drop: true,
                  },
                ];
          const answers = perAttempt([
            { chunks: cut(sent, cuts1), drop: true },
            ...between,
            { chunks: cut(text2, cuts2) },
          ]);
          const s = structuredStream({ provider: "text", source: answers.source, ...fast });
          const o = await observe(s);
          expect(o.error).toBeUndefined();
          expect(o.value).toEqual(answer);
          checkInvariants(o, answer);
          if ((second.kind === "same" || second.kind === "spaced") && middle === undefined) {
            expect(rewindsOf(o)).toEqual([]);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
