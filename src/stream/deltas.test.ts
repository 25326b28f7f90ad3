/**
 * The delta-native stream: partial events carry the parser's changes on request, snapshots are made
 * only when read, a consumer that attaches late starts from the latest state, and what arrived
 * before an error stays visible.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { countingSource } from "../../test/fixtures/stream/harness.ts";
import { applyPatch, decodePatch } from "../server/index.ts";
import { type StreamEvent, structuredStream } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 60);

function split(text: string, cuts: number[]): string[] {
  const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
  const chunks: string[] = [];
  let last = 0;
  for (const point of [...points, text.length]) {
    if (point > last) chunks.push(text.slice(last, point));
    last = Math.max(last, point);
  }
  return chunks;
}

/** A source that lets the reader catch up before each chunk (so each partial is read on time). */
async function* paced(chunks: string[]): AsyncGenerator<string> {
  for (const chunk of chunks) {
    await new Promise((resolve) => setImmediate(resolve));
    yield chunk;
  }
}

const json = fc.jsonValue({ maxDepth: 4 }).filter((v) => v !== null && typeof v === "object");

describe("a stream's changes", () => {
  it("rebuild every partial value and the final one when applied in order, for any split", async () => {
    await fc.assert(
      fc.asyncProperty(json, fc.array(fc.nat(), { maxLength: 30 }), async (value, cuts) => {
        const text = JSON.stringify(value);
        const s = structuredStream({ source: paced(split(text, cuts)), provider: "text" });
        let doc: unknown;
        let partials = 0;
        for await (const event of s.events({ changes: true })) {
          if (event.type !== "partial") continue;
          partials++;
          expect(event.changes).toBeDefined();
          doc = applyPatch(doc, decodePatch(event.changes));
          expect(doc).toEqual(event.value);
        }
        expect(partials).toBeGreaterThan(0);
        expect(doc).toEqual(JSON.parse(text));
      }),
      { numRuns: RUNS },
    );
  });

  it("are carried over when a slow reader's partials coalesce, appends to one string joined", async () => {
    const chunks = ['{"summary":"', ...Array.from({ length: 50 }, (_, i) => `part ${i} `), '"}'];
    const s = structuredStream({ source: countingSource(chunks).source, provider: "text" });
    const iterator = s.events({ changes: true });
    await s.result; // the reader falls behind the whole answer
    const events: StreamEvent<unknown>[] = [];
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      events.push(next.value);
    }
    const partials = events.filter((e) => e.type === "partial");
    expect(partials.length).toBeLessThanOrEqual(2);
    let doc: unknown;
    for (const p of partials) doc = applyPatch(doc, decodePatch(p.changes));
    expect(doc).toEqual({ summary: chunks.slice(1, -1).join("") });
    const appends = partials.flatMap((p) => p.changes ?? []).filter((c) => c[0] === ">");
    expect(appends.length).toBe(1);
  });
});

describe("a consumer that attaches late", () => {
  it("starts from the stream's status and latest value, then its end", async () => {
    const s = structuredStream({
      source: countingSource(['{"a":', '"x"', ',"b":[1,2]}']).source,
      provider: "text",
    });
    await s.result;
    const events: StreamEvent<unknown>[] = [];
    for await (const event of s) events.push(event);
    expect(events.map((e) => e.type)).toEqual(["status", "partial", "status", "complete"]);
    expect(events[1]).toMatchObject({ type: "partial", value: { a: "x", b: [1, 2] } });
  });
});

describe("what arrived before an error", () => {
  it("stays in the stream's value and the error's partial, the string being read included", async () => {
    const long = "word ".repeat(200);
    const chunks = ['{"title":"T","body":"', long.slice(0, 500), long.slice(500), "more\nbroken"];
    const s = structuredStream({ source: countingSource(chunks).source, provider: "text" });
    s.on("error", () => {});
    const error = (await s.result.catch((e: unknown) => e)) as { code: string; partial: unknown };
    expect(error.code).toBe("invalid_json");
    expect(error.partial).toEqual({ title: "T", body: `${long}more` });
    expect(s.value).toEqual({ title: "T", body: `${long}more` });
  });
});

describe("a partial event", () => {
  it("shows its value to JSON.stringify and to Node's inspector, though the value is a lazy getter", async () => {
    const { inspect } = await import("node:util");
    const s = structuredStream({ source: countingSource(['{"a":', '"x"}']).source, provider: "text" });
    const partials: StreamEvent<unknown>[] = [];
    for await (const event of s) if (event.type === "partial") partials.push(event);
    const last = partials[partials.length - 1];
    expect(JSON.parse(JSON.stringify(last))).toMatchObject({ type: "partial", value: { a: "x" } });
    expect(inspect(last)).toContain("value: { a: 'x' }");
    // The getter is on the event's class, as the README says: a spread does not copy the value.
    expect(Object.keys({ ...last })).not.toContain("value");
  });
});

describe("the text an error carries", () => {
  it("is the whole answer text received, however many deltas it came in (the text is kept in blocks)", async () => {
    const text = `{"items":[${Array.from({ length: 700 }, (_, i) => i).join(",")},oops]}`;
    const chunks = text.match(/[\s\S]{1,2}/g) ?? [];
    expect(chunks.length).toBeGreaterThan(1024);
    const s = structuredStream({ source: countingSource(chunks).source, provider: "text" });
    const error = (await s.result.catch((e: unknown) => e)) as { code: string; text: string };
    expect(error.code).toBe("invalid_json");
    // The parse failure is held to the end of the body (a refusal would outrank it): all of it.
    expect(error.text).toBe(text);
  });
});

describe("changes read late", () => {
  it("come merged, in batches of at most 64 Ki characters, and still rebuild the value exactly", async () => {
    const text = JSON.stringify({ summary: "lorem ipsum ".repeat(30_000), n: 1 });
    const chunks = text.match(/[\s\S]{1,8}/g) ?? [];
    const s = structuredStream({ source: countingSource(chunks).source, provider: "text" });
    const iterator = s.events({ changes: true });
    await s.result; // the whole answer is in before the first read
    let value: unknown;
    let partials = 0;
    for await (const event of iterator) {
      if (event.type !== "partial") continue;
      partials++;
      let size = 0;
      for (const change of event.changes ?? []) size += change[0] === ">" ? change[2].length : 64;
      expect(size).toBeLessThanOrEqual(65_536);
      value = applyPatch(value, decodePatch(event.changes ?? []));
    }
    expect(value).toEqual(JSON.parse(text));
    expect(partials).toBeLessThan(chunks.length / 100);
  });
});
