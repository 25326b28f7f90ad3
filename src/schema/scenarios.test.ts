/**
 * The same streaming scenarios against the same article schema written three ways: zod 4, valibot
 * (with a hand-written JSON Schema, as valibot cannot make one itself) and a plain JSON Schema.
 */
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import * as z from "zod";
import { createParser, type Hold } from "../json/index.ts";
import {
  type CompiledSchema,
  compileSchema,
  createSchemaTracker,
  type JsonSchemaObject,
  type Progress,
  type SchemaIssue,
  type SchemaTrackerOptions,
} from "./index.ts";

const zodArticle = z.strictObject({
  title: z.string(),
  slug: z.string().regex(/^[a-z-]+$/),
  status: z.enum(["draft", "published"]),
  publishedAt: z.iso.datetime(),
  rating: z.number().min(0).max(5),
  author: z.object({ name: z.string(), email: z.email() }),
  tags: z.array(z.string()).max(3),
  blocks: z.array(
    z.discriminatedUnion("type", [
      z.object({ type: z.literal("text"), body: z.string() }),
      z.object({ type: z.literal("image"), url: z.url(), alt: z.string() }),
    ]),
  ),
  summary: z.string().optional(),
});

const articleJsonSchema = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  type: "object",
  properties: {
    title: { type: "string" },
    slug: { type: "string", pattern: "^[a-z-]+$" },
    status: { type: "string", enum: ["draft", "published"] },
    publishedAt: { type: "string", format: "date-time" },
    rating: { type: "number", minimum: 0, maximum: 5 },
    author: {
      type: "object",
      properties: { name: { type: "string" }, email: { type: "string", format: "email" } },
      required: ["name", "email"],
    },
    tags: { type: "array", items: { type: "string" }, maxItems: 3 },
    blocks: { type: "array", items: { $ref: "#/$defs/block" } },
    summary: { type: "string" },
  },
  required: ["title", "slug", "status", "publishedAt", "rating", "author", "tags", "blocks"],
  additionalProperties: false,
  $defs: {
    block: {
      oneOf: [
        {
          type: "object",
          properties: { type: { const: "text" }, body: { type: "string" } },
          required: ["type", "body"],
        },
        {
          type: "object",
          properties: {
            type: { const: "image" },
            url: { type: "string", format: "uri" },
            alt: { type: "string" },
          },
          required: ["type", "url", "alt"],
        },
      ],
    },
  },
} as const satisfies JsonSchemaObject;

const valibotArticle = v.strictObject({
  title: v.string(),
  slug: v.pipe(v.string(), v.regex(/^[a-z-]+$/)),
  status: v.picklist(["draft", "published"]),
  publishedAt: v.pipe(v.string(), v.isoTimestamp()),
  rating: v.pipe(v.number(), v.minValue(0), v.maxValue(5)),
  author: v.object({ name: v.string(), email: v.pipe(v.string(), v.email()) }),
  tags: v.pipe(v.array(v.string()), v.maxLength(3)),
  blocks: v.array(
    v.variant("type", [
      v.object({ type: v.literal("text"), body: v.string() }),
      v.object({ type: v.literal("image"), url: v.pipe(v.string(), v.url()), alt: v.string() }),
    ]),
  ),
  summary: v.optional(v.string()),
});

const flavours: [string, () => CompiledSchema][] = [
  ["zod 4", () => compileSchema(zodArticle)],
  [
    "valibot with a given JSON Schema",
    () => compileSchema(valibotArticle, { jsonSchema: articleJsonSchema }),
  ],
  ["a plain JSON Schema", () => compileSchema(articleJsonSchema)],
];

const valid = {
  title: "Streams",
  slug: "streams",
  status: "published",
  publishedAt: "2025-01-02T03:04:05Z",
  rating: 4.5,
  author: { name: "Ada", email: "ada@example.com" },
  tags: ["json", "llm"],
  blocks: [
    { body: "Hello", type: "text" },
    { type: "image", url: "https://example.com/a.png", alt: "A" },
  ],
};

interface Run {
  holds: Map<string, Hold | void>;
  notes: string[];
  progress: Progress[];
  tracker: ReturnType<typeof createSchemaTracker>;
  issues: SchemaIssue[] | undefined;
  /** How many notes there were when early validation failed. */
  notesAtFailure: number | undefined;
}

/** Streams `text` one character at a time through the real parser into a tracker. */
function run(compiled: CompiledSchema, text: string, options: SchemaTrackerOptions = {}): Run {
  const holds = new Map<string, Hold | void>();
  const notes: string[] = [];
  const progress: Progress[] = [];
  let issues: SchemaIssue[] | undefined;
  let notesAtFailure: number | undefined;
  const tracker = createSchemaTracker(compiled, {
    ...options,
    onFieldState: (_path, pointer, state) => notes.push(`${pointer} ${state}`),
    onField: (_path, pointer, value) => notes.push(`${pointer} = ${JSON.stringify(value)}`),
    onIssues: (found) => {
      issues = found;
      notesAtFailure = notes.length;
    },
  });
  const parser = createParser({
    onEvent: (event) => {
      const hold = tracker.onParserEvent(event);
      if (event.type === "start") holds.set(JSON.stringify(event.path), hold);
      return hold;
    },
  });
  for (const char of text) {
    parser.push(char);
    progress.push(tracker.progress);
  }
  parser.end();
  return { holds, notes, progress, tracker, issues, notesAtFailure };
}

const holdAt = (r: Run, ...path: (string | number)[]) => r.holds.get(JSON.stringify(path));

describe.each(flavours)("with %s", (_name, compile) => {
  const compiled = compile();

  test("strings with a pattern, an enum or a format are atomic; plain strings and numbers stream", () => {
    const r = run(compiled, JSON.stringify(valid));
    expect(holdAt(r, "title")).toBeUndefined();
    expect(holdAt(r, "slug")).toBe(true);
    expect(holdAt(r, "status")).toBe(true);
    expect(holdAt(r, "publishedAt")).toBe(true);
    expect(holdAt(r, "author", "email")).toBe(true);
    expect(holdAt(r, "author", "name")).toBeUndefined();
    expect(holdAt(r, "rating")).toBeUndefined();
    expect(holdAt(r, "author")).toBeUndefined();
    expect(holdAt(r, "tags", 0)).toBeUndefined();
  });

  test("items of a discriminated union are gated by their discriminator", () => {
    const r = run(compiled, JSON.stringify(valid));
    expect(holdAt(r, "blocks", 0)).toEqual(["type"]);
    expect(holdAt(r, "blocks", 1)).toEqual(["type"]);
    expect(holdAt(r, "blocks")).toBeUndefined();
  });

  test("a gated item's notifications wait until its discriminator completes, then keep their order", () => {
    const r = run(compiled, JSON.stringify(valid));
    const block = r.notes.filter((n) => n.startsWith("/blocks/0"));
    expect(block).toEqual([
      "/blocks/0 streaming",
      "/blocks/0/body streaming",
      "/blocks/0/body complete",
      '/blocks/0/body = "Hello"',
      "/blocks/0/type streaming",
      "/blocks/0/type complete",
      '/blocks/0/type = "text"',
      "/blocks/0 complete",
      '/blocks/0 = {"body":"Hello","type":"text"}',
    ]);
    // Nothing of /blocks/0 was announced before its "type" completed.
    const typeDone = r.notes.indexOf('/blocks/0/type = "text"');
    const bodyFirst = r.notes.indexOf("/blocks/0/body streaming");
    expect(r.notes.slice(bodyFirst, typeDone).every((n) => n.startsWith("/blocks/0"))).toBe(true);
  });

  test("every path goes pending, streaming, complete, and stateOf follows", () => {
    const compiledSchema = compiled;
    const tracker = createSchemaTracker(compiledSchema);
    const parser = createParser({ onEvent: tracker.onParserEvent });
    expect(tracker.stateOf(["title"])).toBe("pending");
    parser.push('{"title":"Str');
    expect(tracker.stateOf(["title"])).toBe("streaming");
    expect(tracker.stateOf("/title")).toBe("streaming");
    expect(tracker.stateOf([])).toBe("streaming");
    parser.push('eams","slug":"str');
    expect(tracker.stateOf(["title"])).toBe("complete");
    // An atomic value is not announced while it streams.
    expect(tracker.stateOf(["slug"])).toBe("pending");
    parser.push('eams"');
    expect(tracker.stateOf(["slug"])).toBe("complete");
    const r = run(compiled, JSON.stringify(valid));
    const seen = new Map<string, string[]>();
    for (const note of r.notes) {
      const [pointer, state] = note.split(" ");
      if (state === "=") continue;
      seen.set(pointer, [...(seen.get(pointer) ?? []), state]);
    }
    for (const states of seen.values()) expect(states).toEqual(["streaming", "complete"]);
  });

  test("progress counts required fields recursively and the items of a bounded array", () => {
    const tracker = createSchemaTracker(compiled);
    expect(tracker.progress).toEqual({
      completed: 0,
      total: 10,
      percent: 0,
      pending: [
        "/title",
        "/slug",
        "/status",
        "/publishedAt",
        "/rating",
        "/author",
        "/author/name",
        "/author/email",
        "/tags",
        "/blocks",
      ],
    });
    const r = run(compiled, JSON.stringify(valid));
    const last = r.progress[r.progress.length - 1];
    // Two tags discovered in an array bounded by maxItems: 3; blocks is unbounded, so one field.
    expect(last).toEqual({ completed: 12, total: 12, percent: 99, pending: [] });
    r.tracker.markComplete();
    expect(r.tracker.progress.percent).toBe(100);
  });

  test("progress never goes backwards", () => {
    const r = run(compiled, JSON.stringify(valid));
    for (let i = 1; i < r.progress.length; i++) {
      expect(r.progress[i].percent).toBeGreaterThanOrEqual(r.progress[i - 1].percent);
      expect(r.progress[i].completed).toBeGreaterThanOrEqual(r.progress[i - 1].completed);
      expect(r.progress[i].total).toBeGreaterThanOrEqual(r.progress[i - 1].total);
      expect(r.progress[i].percent).toBeLessThan(100);
    }
  });

  test("a number of the wrong type fails as it starts, with its pointer", () => {
    const r = run(compiled, JSON.stringify({ ...valid, rating: "4" }));
    expect(r.tracker.failed).toBe(true);
    expect(r.issues).toEqual([
      expect.objectContaining({
        path: ["rating"],
        pointer: "/rating",
        code: "invalid_type",
        expected: "number",
        received: "string",
      }),
    ]);
  });

  test("an enum value that is not allowed fails when it completes", () => {
    const r = run(compiled, JSON.stringify({ ...valid, status: "archived" }));
    expect(r.tracker.issues).toEqual([
      expect.objectContaining({
        pointer: "/status",
        code: "invalid_enum",
        expected: '"draft" | "published"',
        received: '"archived"',
      }),
    ]);
  });

  test("an unknown property fails as soon as its key is complete", () => {
    const tracker = createSchemaTracker(compiled);
    const parser = createParser({ onEvent: tracker.onParserEvent });
    parser.push('{"title":"A","extra":');
    expect(tracker.failed).toBe(false);
    parser.push("1");
    expect(tracker.issues).toEqual([
      expect.objectContaining({
        path: ["extra"],
        pointer: "/extra",
        code: "unknown_property",
        received: "extra",
      }),
    ]);
  });

  test("a number out of range fails with expected and received", () => {
    const r = run(compiled, JSON.stringify({ ...valid, rating: 7 }));
    expect(r.tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/rating", code: "too_big", expected: "<= 5", received: "7" }),
    ]);
  });

  test("a bad discriminator is reported on the discriminator's own pointer", () => {
    const doc = { ...valid, blocks: [{ type: "video", src: "x" }] };
    const r = run(compiled, JSON.stringify(doc));
    expect(r.tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/blocks/0/type", code: "invalid_enum", received: '"video"' }),
    ]);
  });

  test("a closed object missing a required property fails when it closes", () => {
    const doc = { ...valid, author: { name: "Ada" } };
    const r = run(compiled, JSON.stringify(doc));
    expect(r.tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/author/email", code: "missing_property" }),
    ]);
  });

  test("an item of the wrong alternative is validated against the alternative its tag names", () => {
    const doc = { ...valid, blocks: [{ type: "image", url: "https://x.dev/a.png", alt: 3 }] };
    const r = run(compiled, JSON.stringify(doc));
    expect(r.tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/blocks/0/alt", code: "invalid_type", expected: "string" }),
    ]);
  });

  test('validate: "final" reports nothing early and leaves the mismatch to final validation', async () => {
    const doc = { ...valid, rating: 7, status: "archived", extra: true };
    const r = run(compiled, JSON.stringify(doc), { validate: "final" });
    expect(r.tracker.failed).toBe(false);
    expect(r.issues).toBeUndefined();
    const final = await compiled.validateFinal(doc);
    const codes = (final.issues ?? []).map((i) => `${i.pointer} ${i.code}`).sort();
    expect(codes).toEqual(["/extra unknown_property", "/rating too_big", "/status invalid_enum"]);
  });

  test("final validation of a valid article resolves to the validator's output", async () => {
    const final = await compiled.validateFinal(valid);
    expect(final).toEqual({ value: valid });
  });

  test("events after an early failure are ignored", () => {
    const r = run(compiled, JSON.stringify({ ...valid, rating: "4" }));
    expect(r.notesAtFailure).toBeGreaterThan(0);
    expect(r.notes.length).toBe(r.notesAtFailure);
    expect(r.notes.some((n) => n.startsWith("/author"))).toBe(false);
    expect(r.tracker.stateOf(["author"])).toBe("pending");
  });
});

test("the three flavours derive the same shape for the article", () => {
  const [a, b, c] = flavours.map(([, compile]) => compile().root);
  for (const node of [a, b, c]) {
    expect([...(node.types ?? [])]).toEqual(["object"]);
    expect([...node.required].sort()).toEqual(
      ["author", "blocks", "publishedAt", "rating", "slug", "status", "tags", "title"].sort(),
    );
  }
});
