/**
 * Schema-aware streams: the same order document streamed through structuredStream with the same
 * schema written as zod 4, as valibot (given its JSON Schema by the `jsonSchema` option, or by a
 * Standard JSON Schema converter) and as a plain JSON Schema, split at random byte offsets
 * (mid-character too). The invariants checked on every split:
 * 1. the final value and the ordered field events are the same as for one whole chunk;
 * 2. no snapshot ever shows an enum, a formatted string or an atomic-marked field partially, nor a
 *    union member before its discriminator is complete;
 * 3. at most one partial per chunk, each a new value, never mutated afterwards;
 * 4. progress never goes backwards and ends at 100;
 * 5. `elements()` yields each array element once, in order.
 * Early schema mismatches stop pulling the source; `validate: "final"` waits for the end.
 */
import type { StandardSchemaV1 } from "@standard-schema/spec";
import fc from "fast-check";
import * as v from "valibot";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import {
  chunkBytes,
  countingSource,
  settle,
  splitBytes,
  statuses,
  utf8,
} from "../../test/fixtures/stream/harness.ts";
import type { JsonSchemaObject, SchemaInput } from "../schema/index.ts";
import { type StreamEvent, structuredStream } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 50);

const orderJsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    id: { type: "string", "x-stream": "atomic" },
    status: { type: "string", enum: ["draft", "sent", "paid"] },
    createdAt: { type: "string", format: "date-time" },
    customer: {
      type: "object",
      properties: { name: { type: "string" }, email: { type: "string", format: "email" } },
      required: ["name", "email"],
    },
    lines: {
      type: "array",
      items: {
        type: "object",
        properties: { sku: { type: "string" }, qty: { type: "integer" }, note: { type: "string" } },
        required: ["sku", "qty", "note"],
      },
    },
    shapes: {
      type: "array",
      items: {
        oneOf: [
          {
            type: "object",
            properties: { type: { const: "circle" }, radius: { type: "number" } },
            required: ["type", "radius"],
          },
          {
            type: "object",
            properties: { type: { const: "rect" }, width: { type: "number" }, height: { type: "number" } },
            required: ["type", "width", "height"],
          },
        ],
      },
    },
  },
  required: ["id", "status", "createdAt", "customer", "lines", "shapes"],
} as const satisfies JsonSchemaObject;

const zodOrder = z.object({
  id: z.string().meta({ "x-stream": "atomic" }),
  status: z.enum(["draft", "sent", "paid"]),
  createdAt: z.iso.datetime(),
  customer: z.object({ name: z.string(), email: z.email() }),
  lines: z.array(z.object({ sku: z.string(), qty: z.number().int(), note: z.string() })),
  shapes: z.array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("circle"), radius: z.number() }),
      z.object({ type: z.literal("rect"), width: z.number(), height: z.number() }),
    ]),
  ),
});

const valibotOrder = v.object({
  id: v.string(),
  status: v.picklist(["draft", "sent", "paid"]),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
  customer: v.object({ name: v.string(), email: v.pipe(v.string(), v.email()) }),
  lines: v.array(v.object({ sku: v.string(), qty: v.pipe(v.number(), v.integer()), note: v.string() })),
  shapes: v.array(
    v.variant("type", [
      v.object({ type: v.literal("circle"), radius: v.number() }),
      v.object({ type: v.literal("rect"), width: v.number(), height: v.number() }),
    ]),
  ),
});

/**
 * Gives a schema the Standard JSON Schema converter (`~standard.jsonSchema`) that zod ≥ 4.2 has,
 * the other way a library without its own JSON Schema export can be used.
 */
function withJsonSchema<S extends StandardSchemaV1>(schema: S, jsonSchema: JsonSchemaObject): S {
  const standard = schema["~standard"];
  return {
    "~standard": { ...standard, jsonSchema: { input: () => jsonSchema, output: () => jsonSchema } },
  } as unknown as S;
}

/** A schema as structuredStream takes it: the schema, and its JSON Schema when the library has none. */
interface Flavour {
  schema: SchemaInput;
  jsonSchema?: JsonSchemaObject;
}

const flavours: [string, Flavour][] = [
  ["zod 4", { schema: zodOrder }],
  [
    "valibot given its JSON Schema (jsonSchema option)",
    { schema: valibotOrder, jsonSchema: orderJsonSchema },
  ],
  [
    "valibot with a Standard JSON Schema converter",
    { schema: withJsonSchema(valibotOrder, orderJsonSchema) },
  ],
  ["a plain JSON Schema", { schema: orderJsonSchema }],
];

const order = {
  id: "ord_7f3a9c",
  status: "paid",
  createdAt: "2025-03-04T05:06:07Z",
  customer: { name: "Zoë Ünal 日本", email: "zoe@example.com" },
  lines: [
    { sku: "A-1", qty: 2, note: "fragile — handle with care" },
    { note: "gift 🎁 wrap", sku: "B-2", qty: 1 },
    { sku: "C-3", qty: 12, note: "" },
  ],
  shapes: [
    { radius: 2.5, type: "circle" },
    { type: "rect", width: 3, height: 4 },
    { width: 1, height: 1e2, type: "rect" },
  ],
};
const orderText = JSON.stringify(order, null, 1);
const orderBytes = utf8(orderText);

/** Byte offsets to cut at: anywhere, mid-character included. */
const cutsArb = fc.array(fc.integer({ min: 1, max: orderBytes.length - 1 }), { maxLength: 40 });

type Order = typeof order;
type Run = Awaited<ReturnType<typeof settle<unknown, unknown>>> & { chunks: number; elements: unknown[][] };

async function stream(
  flavour: Flavour,
  chunks: Uint8Array[],
  options: { elements?: string[] } = {},
): Promise<Run> {
  const s = structuredStream({ source: countingSource(chunks).source, provider: "text", ...flavour });
  const readers = (options.elements ?? []).map(async (path) => {
    const out: unknown[] = [];
    for await (const element of s.elements(path)) if (element.type === "element") out.push(element.value);
    return out;
  });
  const outcome = await settle(s);
  return { ...outcome, chunks: chunks.length, elements: await Promise.all(readers) };
}

function partials(events: readonly StreamEvent<unknown>[]) {
  return events.flatMap((e) => (e.type === "partial" ? [e] : []));
}

function fields(events: readonly StreamEvent<unknown>[]): string[] {
  return events.flatMap((e) => (e.type === "field" ? [`${e.pointer} ${JSON.stringify(e.value)}`] : []));
}

/** Checks invariants 2 to 4 on one run. */
function checkSnapshots(run: Run): void {
  const shown = partials(run.events);
  expect(shown.length).toBeGreaterThan(0);
  // One per chunk, plus the final one that carries the validated value at 100%.
  expect(shown.length).toBeLessThanOrEqual(run.chunks + 1);
  let percent = 0;
  let completed = 0;
  let previous: unknown;
  for (const [index, event] of shown.entries()) {
    const value = event.value as Partial<Order>;
    if (index < shown.length - 1) expect(value).not.toEqual(previous);
    previous = value;
    if (value.id !== undefined) expect(value.id).toBe(order.id);
    if (value.status !== undefined) expect(value.status).toBe(order.status);
    if (value.createdAt !== undefined) expect(value.createdAt).toBe(order.createdAt);
    if (value.customer?.email !== undefined) expect(value.customer.email).toBe(order.customer.email);
    for (const [i, shape] of (value.shapes ?? []).entries()) {
      // A union member is hidden until its discriminator is complete.
      expect(shape.type).toBe(order.shapes[i]!.type);
    }
    expect(event.progress.percent).toBeGreaterThanOrEqual(percent);
    expect(event.progress.completed).toBeGreaterThanOrEqual(completed);
    percent = event.progress.percent;
    completed = event.progress.completed;
    if (index < shown.length - 1) expect(percent).toBeLessThan(100);
  }
  const last = shown[shown.length - 1]!;
  expect(last.progress.percent).toBe(100);
  expect(last.progress.pending).toEqual([]);
  expect(last.value).toEqual(order);
  // Snapshots are immutable: each still reads as it did when it was emitted.
  for (const [index, event] of run.events.entries()) {
    if ("value" in event) expect(JSON.stringify(event.value) ?? "undefined").toBe(run.frozen[index]);
  }
}

describe.each(flavours)("a schema-aware stream with %s", (_name, flavour) => {
  it("streams the whole document in one chunk to the validated value", async () => {
    const run = await stream(flavour, [orderBytes]);
    expect(run.error).toBeUndefined();
    expect(run.value).toEqual(order);
    expect(statuses(run.events)).toEqual(["streaming", "validating", "complete"]);
    const complete = run.events.find((e) => e.type === "complete");
    expect(complete?.type === "complete" && complete.value).toEqual(order);
    checkSnapshots(run);
  });

  it("reports every completed field once, the enum, formats and atomic ones only whole", async () => {
    const run = await stream(flavour, chunkBytes(orderBytes, 1));
    const reported = fields(run.events);
    expect(new Set(reported).size).toBe(reported.length);
    expect(reported).toContain('/id "ord_7f3a9c"');
    expect(reported).toContain('/status "paid"');
    expect(reported).toContain('/createdAt "2025-03-04T05:06:07Z"');
    expect(reported).toContain('/customer/email "zoe@example.com"');
    expect(reported).toContain(`/lines/1 ${JSON.stringify(order.lines[1])}`);
    expect(reported).toContain(`/shapes/0 ${JSON.stringify(order.shapes[0])}`);
    // Field states go pending → streaming → complete, each once per pointer.
    const states = new Map<string, string[]>();
    for (const e of run.events) {
      if (e.type !== "field-state") continue;
      states.set(e.pointer, [...(states.get(e.pointer) ?? []), e.state]);
    }
    for (const [pointer, seen] of states) expect(seen, pointer).toEqual(["streaming", "complete"]);
    checkSnapshots(run);
  });

  it("gives the same value, fields and elements for any split of the bytes", async () => {
    const reference = await stream(flavour, [orderBytes], { elements: ["/lines", "/shapes"] });
    const referenceFields = fields(reference.events);
    expect(reference.elements).toEqual([order.lines, order.shapes]);
    await fc.assert(
      fc.asyncProperty(cutsArb, async (cuts) => {
        const run = await stream(flavour, splitBytes(orderBytes, cuts), { elements: ["/lines", "/shapes"] });
        expect(run.error).toBeUndefined();
        expect(run.value).toEqual(order);
        expect(fields(run.events)).toEqual(referenceFields);
        expect(run.elements).toEqual([order.lines, order.shapes]);
        checkSnapshots(run);
      }),
      { numRuns: RUNS },
    );
  });

  it("gives the same value and fields one byte at a time", async () => {
    const reference = await stream(flavour, [orderBytes]);
    const run = await stream(flavour, chunkBytes(orderBytes, 1), { elements: ["/lines"] });
    expect(run.value).toEqual(order);
    expect(fields(run.events)).toEqual(fields(reference.events));
    expect(run.elements).toEqual([order.lines]);
    checkSnapshots(run);
  });

  it("stops pulling the source at the first value that contradicts the schema", async () => {
    const bad = `{"id":"ord_1","status":"paid","lines":[{"sku":"A","qty":"two","note":"x"}],${'"customer":{"name":"n","email":"a@b.co"},'.repeat(1)}"shapes":[${'{"type":"circle","radius":1},'.repeat(50)}{"type":"circle","radius":1}],"createdAt":"2025-03-04T05:06:07Z"}`;
    const bytes = utf8(bad);
    const chunks = chunkBytes(bytes, 8);
    const counting = countingSource(chunks);
    const s = structuredStream({ source: counting.source, provider: "text", ...flavour });
    const run = await settle(s);
    expect(run.error?.code).toBe("schema_mismatch");
    expect(run.error?.issues?.[0]?.pointer).toBe("/lines/0/qty");
    // The bad value ends in this chunk; nothing past it (one chunk of slack) is read.
    const badEnd = Math.ceil((bad.indexOf('"two"') + 5) / 8);
    expect(counting.pulled).toBeLessThanOrEqual(badEnd + 1);
    expect(counting.pulled).toBeLessThan(chunks.length);
    expect(counting.closedEarly).toBe(true);
    // What arrived before the failure is kept.
    expect(run.error?.partial).toMatchObject({ id: "ord_1", status: "paid" });
    expect(s.status).toBe("error");
    expect(statuses(run.events)).toEqual(["streaming", "error"]);
    expect(run.events.at(-1)).toMatchObject({ type: "error", error: { code: "schema_mismatch" } });
  });

  it("stops at an enum value off the list before the rest arrives", async () => {
    const bad = `{"id":"ord_1","status":"shipped",${'"lines":[],"customer":{"name":"n","email":"a@b.co"},'.slice(0, 50)}"shapes":[${'{"type":"circle","radius":1},'.repeat(50)}{"type":"circle","radius":1}]}`;
    const chunks = chunkBytes(utf8(bad), 4);
    const counting = countingSource(chunks);
    const run = await settle(structuredStream({ source: counting.source, provider: "text", ...flavour }));
    expect(run.error?.code).toBe("schema_mismatch");
    expect(run.error?.issues?.[0]?.pointer).toBe("/status");
    expect(counting.pulled).toBeLessThanOrEqual(Math.ceil((bad.indexOf('"shipped"') + 9) / 4) + 1);
    // The enum never showed, partially or whole.
    for (const p of partials(run.events)) expect((p.value as { status?: string }).status).toBeUndefined();
  });

  it('reads to the end and fails only on the final value with validate: "final"', async () => {
    const bad = JSON.stringify({ ...order, lines: [{ sku: "A", qty: "two", note: "x" }] });
    const chunks = chunkBytes(utf8(bad), 8);
    const counting = countingSource(chunks);
    const run = await settle(
      structuredStream({ source: counting.source, provider: "text", ...flavour, validate: "final" }),
    );
    expect(counting.pulled).toBe(chunks.length);
    expect(run.error?.code).toBe("schema_mismatch");
    expect(run.error?.issues?.map((issue) => issue.pointer)).toContain("/lines/0/qty");
    expect(statuses(run.events)).toEqual(["streaming", "validating", "error"]);
  });

  it("keeps a user-marked atomic field whole with the atomic option", async () => {
    const run = await stream(flavour, chunkBytes(orderBytes, 1));
    const names = partials(run.events).map((p) => (p.value as Partial<Order>).customer?.name);
    // Without the option, the name streams character by character.
    expect(new Set(names.filter((n) => n !== undefined)).size).toBeGreaterThan(2);
    const s = structuredStream({
      source: countingSource(chunkBytes(orderBytes, 1)).source,
      provider: "text",
      ...flavour,
      atomic: ["/customer/name", "/lines/*/note"],
    });
    const atomicRun = await settle(s);
    expect(atomicRun.value).toEqual(order);
    for (const p of partials(atomicRun.events)) {
      const value = p.value as Partial<Order>;
      if (value.customer?.name !== undefined) expect(value.customer.name).toBe(order.customer.name);
      for (const [i, line] of (value.lines ?? []).entries()) {
        if (line.note !== undefined) expect(line.note).toBe(order.lines[i]!.note);
      }
    }
  });

  it("hides gated objects until their listed keys are complete with the gate option", async () => {
    const s = structuredStream({
      source: countingSource(chunkBytes(orderBytes, 3)).source,
      provider: "text",
      ...flavour,
      gate: { "/lines/*": ["qty"] },
    });
    const run = await settle(s);
    expect(run.value).toEqual(order);
    for (const p of partials(run.events)) {
      for (const [i, line] of ((p.value as Partial<Order>).lines ?? []).entries()) {
        expect(line.qty).toBe(order.lines[i]!.qty);
      }
    }
  });

  it("answers stateOf and watch as fields stream and complete", async () => {
    const s = structuredStream({
      source: countingSource(chunkBytes(orderBytes, 2)).source,
      provider: "text",
      ...flavour,
    });
    expect(s.status).toBe("idle");
    expect(s.stateOf("/customer/name")).toBe("pending");
    const seen: string[] = [];
    s.on("field-state", (e) => {
      if (e.pointer === "/customer/name") seen.push(`${e.state}:${s.stateOf(["customer", "name"])}`);
    });
    const watched: unknown[] = [];
    s.watch("/customer", (value) => watched.push(value));
    const run = await settle(s);
    expect(seen).toEqual(["streaming:streaming", "complete:complete"]);
    expect(s.stateOf("/customer/name")).toBe("complete");
    expect(watched.at(-1)).toEqual(order.customer);
    // Only changes are reported: every watched value differs from the one before.
    for (let i = 1; i < watched.length; i++) expect(watched[i]).not.toBe(watched[i - 1]);
    expect(run.value).toEqual(order);
  });

  it("gives partials() one snapshot per change, ending with the final value", async () => {
    const s = structuredStream({
      source: countingSource(chunkBytes(orderBytes, 16)).source,
      provider: "text",
      ...flavour,
    });
    const seen: unknown[] = [];
    for await (const value of s.partials()) seen.push(value);
    expect(seen.at(-1)).toEqual(order);
    expect(seen.length).toBeGreaterThan(1);
    expect(await s.result).toEqual(order);
  });

  it("yields elements that completed before elements() was called, then the rest, once each", async () => {
    const s = structuredStream({
      source: countingSource(chunkBytes(orderBytes, 5)).source,
      provider: "text",
      ...flavour,
    });
    let late: Promise<unknown[]> | undefined;
    s.on("field", (e) => {
      if (e.pointer === "/lines/1" && late === undefined) {
        late = (async () => {
          const out: unknown[] = [];
          for await (const line of s.elements("/lines")) if (line.type === "element") out.push(line.value);
          return out;
        })();
      }
    });
    await s.result;
    expect(await late).toEqual(order.lines);
    // After the end, elements() still yields the whole array.
    const after: unknown[] = [];
    for await (const shape of s.elements(["shapes"])) if (shape.type === "element") after.push(shape.value);
    expect(after).toEqual(order.shapes);
  });
});

describe("the ways of writing the schema", () => {
  it("give the same value, field events and field states for the same chunks", async () => {
    const chunks = chunkBytes(orderBytes, 7);
    const runs = await Promise.all(flavours.map(([, flavour]) => stream(flavour, chunks)));
    const states = (run: Run) =>
      run.events.flatMap((e) => (e.type === "field-state" ? [`${e.pointer} ${e.state}`] : []));
    for (const run of runs.slice(1)) {
      expect(run.value).toEqual(runs[0]!.value);
      expect(fields(run.events)).toEqual(fields(runs[0]!.events));
      expect(states(run)).toEqual(states(runs[0]!));
    }
  });
});

describe("a bare valibot schema", () => {
  it("without the jsonSchema option is refused at once with invalid_schema", () => {
    expect(() => structuredStream({ source: countingSource([]).source, schema: valibotOrder })).toThrow(
      expect.objectContaining({ code: "invalid_schema" }),
    );
  });
});

describe("final validation output", () => {
  const Article = z.object({
    title: z.string().transform((s) => s.toUpperCase()),
    words: z.string().transform((s) => s.split(" ").length),
    lang: z.string().default("en"),
  });

  it("is what result and complete resolve to, while snapshots stay the raw JSON", async () => {
    const text = '{"title":"hello streams","words":"one two three"}';
    const s = structuredStream({
      source: countingSource(chunkBytes(utf8(text), 3)).source,
      provider: "text",
      schema: Article,
    });
    const run = await settle(s);
    const expected = { title: "HELLO STREAMS", words: 3, lang: "en" };
    expect(run.value).toEqual(expected);
    const complete = run.events.find((e) => e.type === "complete");
    expect(complete?.type === "complete" && complete.value).toEqual(expected);
    expect(s.value).toEqual(expected);
    const shown = partials(run.events).map((p) => p.value as Record<string, unknown>);
    expect(shown.at(-2)).toEqual({ title: "hello streams", words: "one two three" });
    expect(shown.at(-1)).toEqual(expected);
  });

  it("fails with schema_mismatch when the user's validator rejects the complete value", async () => {
    const Strict = z.object({ a: z.string() }).refine((o) => o.a.length > 3, { message: "a is too short" });
    const run = await settle(
      structuredStream({
        source: countingSource([utf8('{"a":"x"}')]).source,
        provider: "text",
        schema: Strict,
      }),
    );
    expect(run.error?.code).toBe("schema_mismatch");
    expect(run.error?.message).toContain("a is too short");
    expect(run.error?.partial).toEqual({ a: "x" });
  });
});
