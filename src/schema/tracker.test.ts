import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { createParser, fromPointer, type ParserEvent, type PathSegment, toPointer } from "../json/index.ts";
import { type CompiledSchema, compileSchema } from "./compile.ts";
import type { JsonSchemaObject } from "./json-schema.ts";
import { createSchemaTracker, type SchemaTrackerOptions } from "./tracker.ts";

const start = (
  kind: Extract<ParserEvent, { type: "start" }>["kind"],
  ...path: PathSegment[]
): ParserEvent => ({
  type: "start",
  path,
  kind,
});
const end = (value: unknown, ...path: PathSegment[]): ParserEvent => ({ type: "end", path, value });

function track(schema: JsonSchemaObject, options: SchemaTrackerOptions = {}) {
  const notes: string[] = [];
  const tracker = createSchemaTracker(compileSchema(schema), {
    ...options,
    onFieldState: (_p, pointer, state) => notes.push(`${pointer} ${state}`),
    onField: (_p, pointer, value) => notes.push(`${pointer} = ${JSON.stringify(value)}`),
  });
  return { tracker, notes };
}

const card: JsonSchemaObject = {
  type: "object",
  properties: {
    id: { type: "string", format: "uuid" },
    meta: {
      type: "object",
      "x-stream": "atomic",
      properties: { a: { type: "string" }, b: { type: "string" } },
      required: ["a"],
    },
    body: { type: "string" },
  },
  required: ["id", "meta", "body"],
};

describe("with hand-written events", () => {
  test("start events return the hold: true for atomic values, nothing for progressive ones", () => {
    const { tracker } = track(card);
    expect(tracker.onParserEvent(start("object"))).toBeUndefined();
    expect(tracker.onParserEvent(start("string", "id"))).toBe(true);
    expect(tracker.onParserEvent(end("0f8fad5b-d9cb-469f-a165-70867728950e", "id"))).toBeUndefined();
    expect(tracker.onParserEvent(start("object", "meta"))).toBe(true);
    expect(tracker.onParserEvent(start("string", "meta", "a"))).toBeUndefined();
  });

  test("notes inside an atomic object wait for it and come out in document order", () => {
    const { tracker, notes } = track(card);
    for (const e of [
      start("object"),
      start("object", "meta"),
      start("string", "meta", "a"),
      end("x", "meta", "a"),
    ]) {
      tracker.onParserEvent(e);
    }
    expect(notes).toEqual([]);
    expect(tracker.stateOf("/meta/a")).toBe("pending");
    tracker.onParserEvent(end({ a: "x" }, "meta"));
    expect(notes).toEqual([
      "/meta streaming",
      "/meta/a streaming",
      "/meta/a complete",
      '/meta/a = "x"',
      "/meta complete",
      '/meta = {"a":"x"}',
    ]);
    expect(tracker.stateOf("/meta/a")).toBe("complete");
  });

  test("a held value inside a gated object is released to the gate, then to the world", () => {
    const { tracker, notes } = track({
      type: "object",
      "x-stream-gate": ["kind"],
      properties: { at: { type: "string", format: "date" }, kind: { type: "string" } },
    });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("string", "at"));
    tracker.onParserEvent(end("2024-02-03", "at"));
    expect(notes).toEqual([]);
    tracker.onParserEvent(start("string", "kind"));
    expect(notes).toEqual([]);
    tracker.onParserEvent(end("x", "kind"));
    expect(notes).toEqual([
      "/at streaming",
      "/at complete",
      '/at = "2024-02-03"',
      "/kind streaming",
      "/kind complete",
      '/kind = "x"',
    ]);
  });

  test("the root is tracked but not announced", () => {
    const { tracker, notes } = track({ type: "array", items: { type: "number" } });
    tracker.onParserEvent(start("array"));
    tracker.onParserEvent(start("number", 0));
    tracker.onParserEvent(end(1, 0));
    tracker.onParserEvent(end([1]));
    expect(notes).toEqual(["/0 streaming", "/0 complete", "/0 = 1"]);
    expect(tracker.stateOf([])).toBe("complete");
  });

  test("stateOf takes a path or a JSON Pointer with escaped keys", () => {
    const { tracker } = track({ type: "object" });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("string", "a/b~c"));
    expect(tracker.stateOf(["a/b~c"])).toBe("streaming");
    expect(tracker.stateOf("/a~1b~0c")).toBe("streaming");
    expect(tracker.stateOf("/other")).toBe("pending");
  });
});

describe("progress", () => {
  test("a tuple's items and a bounded array's first minItems items are expected from the start", () => {
    const { tracker } = track({
      type: "object",
      properties: {
        point: {
          type: "array",
          prefixItems: [{ type: "number" }, { type: "number" }],
          items: false,
          minItems: 2,
        },
        top3: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 3 },
        all: { type: "array", items: { type: "string" }, minItems: 5 },
      },
      required: ["point", "top3", "all"],
    });
    expect(tracker.progress.pending).toEqual(["/point", "/point/0", "/point/1", "/top3", "/top3/0", "/all"]);
  });

  test("items of a bounded array count as they start, up to maxItems", () => {
    const { tracker } = track({
      type: "object",
      properties: {
        top: {
          type: "array",
          maxItems: 2,
          items: { type: "object", properties: { n: { type: "string" } }, required: ["n"] },
        },
      },
      required: ["top"],
    });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("array", "top"));
    expect(tracker.progress.total).toBe(1);
    tracker.onParserEvent(start("object", "top", 0));
    expect(tracker.progress).toMatchObject({ total: 3, pending: ["/top", "/top/0", "/top/0/n"] });
  });

  test("a discriminated item adds its alternative's required fields once its tag completes", () => {
    const { tracker } = track({
      type: "array",
      maxItems: 1,
      items: {
        oneOf: [
          { type: "object", properties: { t: { const: "a" }, x: { type: "number" } }, required: ["t", "x"] },
          {
            type: "object",
            properties: { t: { const: "b" }, y: { type: "number" }, z: { type: "number" } },
            required: ["t", "y", "z"],
          },
        ],
      },
    });
    tracker.onParserEvent(start("array"));
    tracker.onParserEvent(start("object", 0));
    expect(tracker.progress.total).toBe(1);
    tracker.onParserEvent(start("string", 0, "t"));
    tracker.onParserEvent(end("b", 0, "t"));
    expect(tracker.progress).toMatchObject({ completed: 1, total: 4, pending: ["/0", "/0/y", "/0/z"] });
  });

  test("a nullable object counts its required fields when it arrives as an object", () => {
    const { tracker } = track({
      type: "object",
      properties: {
        who: {
          anyOf: [
            { type: "object", properties: { n: { type: "string" } }, required: ["n"] },
            { type: "null" },
          ],
        },
      },
      required: ["who"],
    });
    expect(tracker.progress.total).toBe(1);
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("object", "who"));
    expect(tracker.progress.pending).toEqual(["/who", "/who/n"]);
  });

  test("optional properties never count", () => {
    const { tracker } = track({
      type: "object",
      properties: { a: { type: "string" }, b: { type: "object", properties: { c: {} }, required: ["c"] } },
      required: ["a"],
    });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("object", "b"));
    tracker.onParserEvent(start("string", "b", "c"));
    tracker.onParserEvent(end("x", "b", "c"));
    tracker.onParserEvent(end({ c: "x" }, "b"));
    expect(tracker.progress).toMatchObject({ completed: 0, total: 1, pending: ["/a"] });
  });

  test("percent stays at most 99 until markComplete, and a schema without required fields stays at 0", () => {
    const { tracker } = track({ type: "object", properties: { a: { type: "string" } } });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("string", "a"));
    tracker.onParserEvent(end("x", "a"));
    tracker.onParserEvent(end({ a: "x" }));
    expect(tracker.progress.percent).toBe(0);
    tracker.markComplete();
    expect(tracker.progress).toEqual({ completed: 0, total: 0, percent: 100, pending: [] });
  });

  test("markComplete fills what never arrived, and later events are ignored", () => {
    const { tracker, notes } = track(card, { validate: "final" });
    tracker.onParserEvent(start("object"));
    tracker.markComplete();
    expect(tracker.progress).toEqual({ completed: 4, total: 4, percent: 100, pending: [] });
    expect(tracker.onParserEvent(start("string", "id"))).toBeUndefined();
    expect(notes).toEqual([]);
  });

  test("the progress object keeps its identity while nothing changes", () => {
    const { tracker } = track(card);
    const first = tracker.progress;
    tracker.onParserEvent(start("object"));
    expect(tracker.progress).toBe(first);
  });
});

describe("early validation", () => {
  test("an item beyond maxItems fails as it starts, on the array's pointer", () => {
    const { tracker } = track({
      type: "object",
      properties: { t: { type: "array", prefixItems: [{}], items: false } },
    });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("array", "t"));
    tracker.onParserEvent(start("number", "t", 0));
    tracker.onParserEvent(end(1, "t", 0));
    tracker.onParserEvent(start("number", "t", 1));
    expect(tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/t", code: "too_big", expected: "at most 1 items" }),
    ]);
  });

  test("an object where a string belongs fails as it starts", () => {
    const { tracker } = track(card);
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("object", "body"));
    expect(tracker.issues).toEqual([
      expect.objectContaining({
        pointer: "/body",
        code: "invalid_type",
        expected: "string",
        received: "object",
      }),
    ]);
  });

  test("an integer field rejects a fraction when the number completes", () => {
    const { tracker } = track({ type: "object", properties: { n: { type: "integer" } } });
    tracker.onParserEvent(start("object"));
    expect(tracker.onParserEvent(start("number", "n"))).toBeUndefined();
    tracker.onParserEvent(end(1.5, "n"));
    expect(tracker.issues).toEqual([expect.objectContaining({ pointer: "/n", code: "invalid_type" })]);
  });

  test("open values are never validated: a string too short so far is fine until it ends", () => {
    const { tracker } = track({ type: "object", properties: { s: { type: "string", minLength: 3 } } });
    tracker.onParserEvent(start("object"));
    tracker.onParserEvent(start("string", "s"));
    expect(tracker.failed).toBe(false);
    tracker.onParserEvent(end("ab", "s"));
    expect(tracker.issues).toEqual([
      expect.objectContaining({ pointer: "/s", code: "too_small", expected: "at least 3 characters" }),
    ]);
  });

  test("onIssues is called once with every issue of the failing value", () => {
    const calls: unknown[] = [];
    const tracker = createSchemaTracker(
      compileSchema({
        type: "object",
        properties: { p: { type: "object", properties: { a: { type: "number" }, b: { type: "number" } } } },
      }),
      { onIssues: (issues) => calls.push(issues.map((i) => i.pointer)) },
    );
    const parser = createParser({ onEvent: tracker.onParserEvent });
    // Both members are wrong, but each fails as it starts: the first one stops the stream.
    parser.push('{"p":{"a":"x","b":"y"},"q":1}');
    expect(calls).toEqual([["/p/a"]]);
  });

  test("validateAt reuses the result for the value that just completed", () => {
    const { tracker } = track({ type: "array", items: { type: "string", minLength: 2 } });
    tracker.onParserEvent(start("array"));
    tracker.onParserEvent(start("string", 0));
    tracker.onParserEvent(end("abc", 0));
    const first = tracker.validateAt([0], "abc");
    expect(first).toEqual([]);
    expect(tracker.validateAt([0], "abc")).toBe(first);
    expect(tracker.validateAt([1], "x")).toEqual([
      expect.objectContaining({ pointer: "/1", code: "too_small" }),
    ]);
  });

  test('validate: "final" checks neither keys nor types nor values early', () => {
    const { tracker } = track(
      { type: "object", properties: { n: { type: "number" } }, additionalProperties: false },
      { validate: "final" },
    );
    const parser = createParser({ onEvent: tracker.onParserEvent });
    parser.push('{"n":"x","zzz":[1,2]}');
    parser.end();
    expect(tracker.failed).toBe(false);
    expect(tracker.issues).toEqual([]);
  });
});

describe("any split of the input", () => {
  const schema: JsonSchemaObject = {
    type: "object",
    properties: {
      title: { type: "string" },
      when: { type: "string", format: "date-time" },
      items: {
        type: "array",
        maxItems: 4,
        items: {
          oneOf: [
            {
              type: "object",
              properties: { k: { const: "a" }, v: { type: "string" } },
              required: ["k", "v"],
            },
            {
              type: "object",
              properties: { k: { const: "b" }, n: { type: "number" } },
              required: ["k", "n"],
            },
          ],
        },
      },
    },
    required: ["title", "when", "items"],
  };
  const text = JSON.stringify({
    title: "Ünïcödé 😀",
    when: "2024-05-06T07:08:09Z",
    items: [
      { v: "x", k: "a" },
      { k: "b", n: -1.5e3 },
    ],
  });

  function runSplit(cuts: number[]) {
    const { tracker, notes } = track(schema);
    const announced = new Map<string, { path: PathSegment[]; value: unknown }>();
    const tracked = createSchemaTracker(compileSchema(schema), {
      onField: (path, pointer, value) => announced.set(pointer, { path, value }),
    });
    /** Every value announced complete is in the snapshot, as announced. */
    const checkVisible = (snapshot: unknown) => {
      for (const { path, value } of announced.values()) {
        let at: unknown = snapshot;
        for (const segment of path) at = (at as Record<PathSegment, unknown>)?.[segment];
        expect(at).toEqual(value);
      }
    };
    const shadow = createParser({ onEvent: tracked.onParserEvent });
    const percents: number[] = [];
    const holds: unknown[] = [];
    const parser = createParser({
      onEvent: (e) => {
        const hold = tracker.onParserEvent(e);
        if (e.type === "start") holds.push(hold);
        return hold;
      },
    });
    let at = 0;
    for (const cut of [...cuts.filter((c) => c > 0 && c < text.length)].sort((a, b) => a - b)) {
      parser.push(text.slice(at, cut));
      shadow.push(text.slice(at, cut));
      checkVisible(shadow.value);
      percents.push(tracker.progress.percent);
      at = cut;
    }
    parser.push(text.slice(at));
    parser.end();
    percents.push(tracker.progress.percent);
    return { notes, percents, holds, progress: tracker.progress, failed: tracker.failed };
  }

  const whole = runSplit([]);

  test("gives the same notes, holds and final progress, progress never goes backwards, and every announced field is visible", () => {
    expect(whole.failed).toBe(false);
    expect(whole.progress).toMatchObject({ completed: 9, total: 9, percent: 99 });
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: text.length }), { maxLength: 40 }), (cuts) => {
        const r = runSplit(cuts);
        expect(r.notes).toEqual(whole.notes);
        expect(r.holds).toEqual(whole.holds);
        expect(r.progress).toEqual(whole.progress);
        for (let i = 1; i < r.percents.length; i++)
          expect(r.percents[i]).toBeGreaterThanOrEqual(r.percents[i - 1]);
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });
});

describe("incremental early validation", () => {
  // Values are checked once, as they complete (an object or array only against its own keywords
  // once its members passed). A CompiledSchema that compileSchema() did not make has no engine of
  // its own, so the tracker validates each completed value whole: the reference.
  const SCHEMAS: JsonSchemaObject[] = [
    {
      type: "object",
      properties: {
        k: { enum: ["a", "b"] },
        v: { type: "string", minLength: 2 },
        n: { type: "integer", minimum: 0 },
        tags: { type: "array", items: { type: "string" }, minItems: 1, maxItems: 3, uniqueItems: true },
        sub: {
          type: "object",
          properties: { x: { type: "number" } },
          required: ["x"],
          additionalProperties: false,
        },
      },
      required: ["k", "v"],
      additionalProperties: false,
    },
    {
      type: "array",
      items: {
        oneOf: [
          { type: "object", properties: { k: { const: "a" }, v: { type: "string" } }, required: ["k", "v"] },
          { type: "object", properties: { k: { const: "b" }, n: { type: "number" } }, required: ["k", "n"] },
        ],
      },
    },
    // Two alternatives can both match an object: only the whole check of the parent sees it.
    {
      type: "object",
      properties: { a: { oneOf: [{ type: "null" }, { type: "object" }, { required: ["x"] }] } },
    },
    {
      type: "object",
      properties: {
        a: { type: "string" },
        b: { type: "number" },
        items: { type: "array", contains: { const: 1 } },
      },
      dependentRequired: { a: ["b"] },
      if: { properties: { a: { const: "x" } }, required: ["a"] },
      // biome-ignore lint/suspicious/noThenProperty: the JSON Schema keyword.
      then: { required: ["items"] },
    },
    {
      $defs: {
        leaf: { type: "string", maxLength: 3 },
        node: { type: "object", properties: { v: { $ref: "#/$defs/leaf" } } },
      },
      type: "object",
      properties: {
        sub: { allOf: [{ $ref: "#/$defs/node" }, { minProperties: 1 }] },
        a: { $ref: "#/$defs/leaf" },
      },
      unevaluatedProperties: false,
    },
    {
      type: "object",
      properties: {
        items: {
          type: "array",
          prefixItems: [{ type: "string" }, { type: "object", properties: { n: { type: "integer" } } }],
          items: false,
        },
        x: { anyOf: [{ type: "array", items: { type: "integer" } }, { type: "null" }] },
      },
      propertyNames: { maxLength: 4 },
    },
  ];
  const KEYS = ["k", "v", "n", "a", "b", "x", "tags", "sub", "items"];
  const { value: jsonValue } = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom<unknown>("a", "b", "x", "ab", "abcd", 0, 1, 2, -1, 1.5, true, false, null),
      fc.array(tie("value"), { maxLength: 4 }),
      fc.dictionary(fc.constantFrom(...KEYS), tie("value"), { maxKeys: 4 }),
    ),
  }));

  test("gives the issues of validating every completed value whole", () => {
    const compiled = SCHEMAS.map((schema) => compileSchema(schema));
    fc.assert(
      fc.property(fc.nat({ max: SCHEMAS.length - 1 }), jsonValue, (s, value) => {
        const text = JSON.stringify(value);
        const run = (c: CompiledSchema) => {
          const tracker = createSchemaTracker(c);
          const parser = createParser({ onEvent: tracker.onParserEvent });
          parser.push(text);
          parser.end();
          return { failed: tracker.failed, issues: tracker.issues };
        };
        expect(run(compiled[s])).toEqual(run({ ...compiled[s] }));
      }),
      {
        numRuns: Number(process.env.FC_RUNS ?? 200) * 5,
        examples: [
          // A member before the discriminator is checked against the union of the alternatives'
          // members (here: anything), so the item is validated whole once its alternative is known.
          [1, [{ v: 5, k: "a" }]],
          [1, [{ n: "x", k: "b" }, { k: "a" }]],
          [2, { a: { x: 1 } }],
          [5, { x: [1, 2.5], items: ["a", { n: 1.5 }] }],
        ],
      },
    );
  });

  test("a member matching two alternatives of a oneOf fails when its parent closes", () => {
    const { tracker } = track(SCHEMAS[2]);
    const parser = createParser({ onEvent: tracker.onParserEvent });
    parser.push('{"a":{"x":1}');
    expect(tracker.failed).toBe(false);
    parser.push("}");
    expect(tracker.issues).toEqual([expect.objectContaining({ pointer: "/a", code: "invalid_union" })]);
  });

  test("an object or array is checked against its own keywords once its members passed", () => {
    const cases: [string, string, string][] = [
      ['{"k":"a"}', "/v", "missing_property"],
      ['{"k":"a","v":"ab","tags":[]}', "/tags", "too_small"],
      ['{"k":"a","v":"ab","tags":["x","x"]}', "/tags", "not_unique"],
      ['{"k":"a","v":"ab","sub":{}}', "/sub/x", "missing_property"],
    ];
    for (const [text, pointer, code] of cases) {
      const { tracker } = track(SCHEMAS[0]);
      createParser({ onEvent: tracker.onParserEvent }).push(text);
      expect(tracker.issues, text).toEqual([expect.objectContaining({ pointer, code })]);
    }
  });
});

describe("stateOf", () => {
  test("agrees with the latest state announced for each pointer, keys given twice included", () => {
    const schema: JsonSchemaObject = {
      type: "object",
      properties: { a: { type: "object", "x-stream": "atomic" }, when: { type: "string", format: "date" } },
    };
    const text =
      '{"a":{"x":[1,{"y":2}],"x":{"z":3}},"b":{"c":[{"d":1}],"c":2,"e":{"f":[3,[4]]}},' +
      '"when":"2024-01-02","b":{"c":{"g":5}},"h":[[],[[6]]],"0":{"1":7},"a/b~c":8}';
    const pointers = new Set<string>(["", "/zz", "/b/zz", "/h/3", "/h/01", "/b/c/0/d/x"]);
    createParser({ onEvent: (e) => void pointers.add(toPointer(e.path)) }).push(text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 30 }), (cuts) => {
        const announced = new Map<string, string>();
        const tracker = createSchemaTracker(compileSchema(schema), {
          validate: "final",
          onFieldState: (_path, pointer, state) => announced.set(pointer, state),
        });
        const parser = createParser({ onEvent: tracker.onParserEvent });
        let at = 0;
        for (const cut of [...new Set(cuts)].sort((x, y) => x - y).concat(text.length)) {
          parser.push(text.slice(at, cut));
          at = cut;
          for (const pointer of pointers) {
            if (pointer === "") continue;
            expect(tracker.stateOf(pointer), pointer).toBe(announced.get(pointer) ?? "pending");
            const path = fromPointer(pointer).map((s) => (/^(0|[1-9]\d*)$/.test(s) ? Number(s) : s));
            expect(tracker.stateOf(path), pointer).toBe(announced.get(pointer) ?? "pending");
          }
        }
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 200) },
    );
  });
});
