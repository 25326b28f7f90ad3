import { Ajv } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { splitDeltas } from "./deltas.ts";
import { generateValue } from "./generate-value.ts";
import { stringForPattern } from "./pattern.ts";
import { createRandom } from "./random.ts";
import { violateSchema } from "./violate-schema.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

// ownProperties: without it ajv reads inherited members, and {} would "have" a "constructor" property.
const ajv2020 = new Ajv2020({ strict: false, allErrors: true, ownProperties: true });
addFormats.default(ajv2020);
const ajv07 = new Ajv({ strict: false, allErrors: true, ownProperties: true });
addFormats.default(ajv07);

type Schema = Record<string, unknown>;

function check(validator: Ajv2020 | Ajv, schema: Schema, value: unknown): string | undefined {
  const validate = validator.compile(schema);
  if (validate(value)) return undefined;
  return `${JSON.stringify(value)}\n${validator.errorsText(validate.errors)}`;
}

/** Plain JSON: serializes, and parses back to the same text (no undefined, NaN or functions inside). */
function roundTrips(value: unknown): boolean {
  const text = JSON.stringify(value);
  return typeof text === "string" && JSON.stringify(JSON.parse(text)) === text;
}

// ---------------------------------------------------------------------------------------------
// An arbitrary for JSON Schemas of the kind structured outputs use.

const FORMATS = ["date-time", "date", "time", "email", "uri", "uuid", "hostname", "ipv4", "ipv6", "duration"];
const PATTERNS = [
  "^[a-z]+$",
  "^[A-Z]{3}-\\d{4}$",
  "^\\d{3}-\\d{3}-\\d{4}$",
  "^(red|green|blue)$",
  "^[a-z0-9_]{3,12}$",
  "^#[0-9a-fA-F]{6}$",
  "\\w+@\\w+\\.com",
  "^[^,]+$",
  "^(?:[A-Z][a-z]+ ?){1,3}$",
  "^v\\d+\\.\\d+\\.\\d+$",
  "^\\p{Lu}\\p{Ll}+$",
];
// "__proto__" has its own test below: ajv skips a property of that name, so it cannot judge one here.
const KEYS = [
  "title",
  "name",
  "summary",
  "description",
  "tags",
  "id",
  "email",
  "url",
  "createdAt",
  "rating",
  "status",
  "items",
  "steps",
  "score",
  "a",
  "constructor",
  "with space",
  "ünïcödé",
];

const stringSchema: fc.Arbitrary<Schema> = fc.oneof(
  fc
    .record({
      min: fc.option(fc.nat(20), { nil: undefined }),
      extra: fc.option(fc.nat(60), { nil: undefined }),
    })
    .map(({ min, extra }) => ({
      type: "string",
      ...(min === undefined ? {} : { minLength: min }),
      ...(extra === undefined ? {} : { maxLength: (min ?? 0) + extra }),
    })),
  fc.constantFrom(...FORMATS).map((format) => ({ type: "string", format })),
  fc.constantFrom(...PATTERNS).map((pattern) => ({ type: "string", pattern })),
);

const bound = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.double({ min: -1000, max: 1000, noNaN: true }),
);
const numberSchema: fc.Arbitrary<Schema> = fc
  .record({
    integer: fc.boolean(),
    low: fc.option(bound, { nil: undefined }),
    span: fc.double({ min: 2, max: 500, noNaN: true }),
    high: fc.boolean(),
    exclusiveLow: fc.boolean(),
    exclusiveHigh: fc.boolean(),
    multipleOf: fc.option(fc.constantFrom(1, 2, 5, 0.5, 0.25, 0.1, 0.01, 3), { nil: undefined }),
  })
  .map(({ integer, low, span, high, exclusiveLow, exclusiveHigh, multipleOf }) => {
    const schema: Schema = { type: integer ? "integer" : "number" };
    const width = multipleOf === undefined ? span : span + multipleOf * 3;
    if (low !== undefined) schema[exclusiveLow ? "exclusiveMinimum" : "minimum"] = low;
    if (high) schema[exclusiveHigh ? "exclusiveMaximum" : "maximum"] = (low ?? 0) + width;
    if (multipleOf !== undefined) schema.multipleOf = multipleOf;
    return schema;
  });

const leafSchema: fc.Arbitrary<Schema> = fc.oneof(
  stringSchema,
  numberSchema,
  fc.constant({ type: "boolean" }),
  fc.constant({ type: "null" }),
  fc
    .uniqueArray(fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean()), {
      minLength: 1,
      maxLength: 5,
    })
    .map((values) => ({ enum: values })),
  // ajv's deep equality (fast-deep-equal) calls a "valueOf" or "toString" member: keep those names out.
  fc
    .jsonValue({ maxDepth: 2 })
    .filter((value) => !/"(valueOf|toString)":/.test(JSON.stringify(value)))
    .map((value) => ({ const: value })),
  fc.constant({}),
);

const { schema: schemaArbitrary } = fc.letrec<{
  schema: Schema;
  object: Schema;
  array: Schema;
  union: Schema;
  special: Schema;
}>((tie) => ({
  schema: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leafSchema,
    tie("object"),
    tie("array"),
    tie("union"),
    tie("special"),
  ),
  object: fc
    .record({
      properties: fc.dictionary(fc.constantFrom(...KEYS), tie("schema"), { maxKeys: 6 }),
      requiredMask: fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
      closed: fc.boolean(),
      additional: fc.option(tie("schema"), { nil: undefined }),
    })
    .map(({ properties, requiredMask, closed, additional }) => {
      const keys = Object.keys(properties);
      return {
        type: "object",
        properties,
        required: keys.filter((_, i) => requiredMask[i]),
        ...(closed
          ? { additionalProperties: false }
          : additional
            ? { additionalProperties: additional }
            : {}),
      };
    }),
  array: fc
    .record({
      items: tie("schema"),
      min: fc.option(fc.nat(4), { nil: undefined }),
      extra: fc.option(fc.nat(6), { nil: undefined }),
    })
    .map(({ items, min, extra }) => ({
      type: "array",
      items,
      ...(min === undefined ? {} : { minItems: min }),
      ...(extra === undefined ? {} : { maxItems: (min ?? 0) + extra }),
    })),
  special: fc.oneof(
    fc.array(tie("schema"), { minLength: 1, maxLength: 3 }).map((prefixItems) => ({
      type: "array",
      prefixItems,
      items: false,
    })),
    fc.constantFrom({ type: "string" }, { type: "integer", minimum: 0, maximum: 100000 }).map((items) => ({
      type: "array",
      items,
      uniqueItems: true,
      minItems: 3,
    })),
    fc.record({ values: tie("schema"), min: fc.integer({ min: 1, max: 4 }) }).map(({ values, min }) => ({
      type: "object",
      additionalProperties: values,
      minProperties: min,
    })),
    fc.constant({
      type: "object",
      patternProperties: { "^x-[a-z]+$": { type: "integer" } },
      additionalProperties: false,
      minProperties: 2,
    }),
  ),
  union: fc.oneof(
    // oneOf as discriminated unions emit it: each branch has its own `kind`, so exactly one matches.
    fc.array(tie("object"), { minLength: 1, maxLength: 3 }).map((branches) => ({
      oneOf: branches.map((branch, i) => ({
        ...branch,
        properties: { ...(branch.properties as Schema), kind: { const: `kind-${i}` } },
        required: [...(branch.required as string[]), "kind"],
      })),
    })),
    // allOf as schema libraries emit it: a base object plus more required keys, or stacked bounds.
    tie("object").map((base) => ({
      allOf: [base, { required: Object.keys(base.properties as Schema).slice(0, 2) }],
    })),
    fc.tuple(fc.nat(5), fc.nat(20)).map(([min, extra]) => ({
      allOf: [{ type: "string", minLength: min }, { maxLength: min + extra }],
    })),
    fc.array(tie("schema"), { minLength: 1, maxLength: 3 }).map((anyOf) => ({ anyOf })),
    tie("schema").map((schema) =>
      typeof schema.type === "string" && schema.type !== "null"
        ? { ...schema, type: [schema.type, "null"] }
        : { anyOf: [schema, { type: "null" }] },
    ),
  ),
}));

/** A root object that also uses $defs and $ref, as zod's and pydantic's exports do. */
const rootSchema: fc.Arbitrary<Schema> = fc.oneof(
  schemaArbitrary,
  fc.tuple(schemaArbitrary, schemaArbitrary).map(([shared, other]) => ({
    type: "object",
    properties: {
      first: { $ref: "#/$defs/shared" },
      other,
      list: { type: "array", items: { $ref: "#/$defs/shared" }, maxItems: 3 },
    },
    required: ["first", "list"],
    additionalProperties: false,
    $defs: { shared },
  })),
);

// ---------------------------------------------------------------------------------------------

describe("generateValue", () => {
  it("answers every random schema with a value that validates against it (ajv, draft 2020-12)", () => {
    fc.assert(
      fc.property(rootSchema, fc.integer(), fc.string({ maxLength: 80 }), (schema, seed, prompt) => {
        const value = generateValue(schema, { seed, prompt });
        expect(check(ajv2020, schema, value)).toBeUndefined();
        expect(roundTrips(value)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("gives the same value for the same schema, prompt and seed, and others for other seeds", () => {
    fc.assert(
      fc.property(rootSchema, fc.integer(), fc.string({ maxLength: 40 }), (schema, seed, prompt) => {
        const first = JSON.stringify(generateValue(schema, { seed, prompt }));
        expect(JSON.stringify(generateValue(structuredClone(schema), { seed, prompt }))).toBe(first);
      }),
      { numRuns: RUNS },
    );
    const schema = { type: "object", properties: { summary: { type: "string" } }, required: ["summary"] };
    const answers = new Set([1, 2, 3, 4, 5].map((seed) => JSON.stringify(generateValue(schema, { seed }))));
    expect(answers.size).toBeGreaterThan(1);
  });

  it("writes strings from the prompt's words", () => {
    const prompt = "Describe the lighthouse keeper's telescope and the harbor seals";
    const schema = {
      type: "object",
      properties: {
        title: { type: "string" },
        summary: { type: "string" },
        tags: { type: "array", items: { type: "string" }, minItems: 3, maxItems: 3 },
      },
      required: ["title", "summary", "tags"],
    };
    const text = [1, 2, 3]
      .map((seed) => JSON.stringify(generateValue(schema, { seed, prompt })))
      .join(" ")
      .toLowerCase();
    expect(text).toMatch(/lighthouse|keeper|telescope|seals/);
    const value = generateValue(schema, { seed: 7, prompt }) as { summary: string; tags: string[] };
    expect(value.summary).toMatch(/^[A-Z\p{Lu}].*\.$/u);
    expect(value.tags.every((tag) => !tag.includes(" "))).toBe(true);
  });

  it("ends recursive schemas and keeps them valid", () => {
    const tree = {
      $defs: {
        node: {
          type: "object",
          properties: {
            name: { type: "string" },
            children: { type: "array", items: { $ref: "#/$defs/node" } },
            parent: { anyOf: [{ $ref: "#/$defs/node" }, { type: "null" }] },
          },
          required: ["name", "children", "parent"],
          additionalProperties: false,
        },
      },
      $ref: "#/$defs/node",
    };
    for (let seed = 0; seed < 20; seed++)
      expect(check(ajv2020, tree, generateValue(tree, { seed }))).toBeUndefined();
    const list = {
      type: "object",
      properties: { value: { type: "integer" }, next: { $ref: "#" } },
      required: ["value"],
    };
    for (let seed = 0; seed < 20; seed++)
      expect(check(ajv2020, list, generateValue(list, { seed }))).toBeUndefined();
  });

  it("reads draft-07 schemas: definitions, tuple items, additionalItems, boolean-free exclusives", () => {
    const schema = {
      $schema: "http://json-schema.org/draft-07/schema#",
      definitions: {
        point: { type: "array", items: [{ type: "number" }, { type: "number" }], additionalItems: false },
      },
      type: "object",
      properties: {
        points: { type: "array", items: { $ref: "#/definitions/point" }, minItems: 1 },
        ratio: { type: "number", exclusiveMinimum: 0, exclusiveMaximum: 1 },
        kind: { type: "string", enum: ["line", "polygon"] },
        label: { allOf: [{ type: "string", minLength: 3 }, { maxLength: 6 }] },
      },
      required: ["points", "ratio", "kind", "label"],
      dependencies: { kind: ["ratio"] },
    };
    for (let seed = 0; seed < 30; seed++)
      expect(check(ajv07, schema, generateValue(schema, { seed }))).toBeUndefined();
  });

  it("reads Gemini's OpenAPI-style responseSchema (uppercase types, nullable, string bounds)", () => {
    const schema = {
      type: "OBJECT",
      properties: {
        recipe: { type: "STRING" },
        servings: { type: "INTEGER", minimum: 1, maximum: 8 },
        notes: { type: "STRING", nullable: true },
        steps: { type: "ARRAY", items: { type: "STRING" }, minItems: "2", maxItems: "4" },
        level: { type: "STRING", format: "enum", enum: ["easy", "hard"] },
      },
      required: ["recipe", "servings", "steps", "level"],
      propertyOrdering: ["level", "recipe", "servings", "notes", "steps"],
    };
    const asJsonSchema = JSON.parse(
      JSON.stringify(schema).replace(
        /"(OBJECT|STRING|INTEGER|ARRAY)"/g,
        (_, t: string) => `"${t.toLowerCase()}"`,
      ),
    );
    asJsonSchema.properties.notes = { type: ["string", "null"] };
    asJsonSchema.properties.steps.minItems = 2;
    asJsonSchema.properties.steps.maxItems = 4;
    delete asJsonSchema.properties.level.format;
    for (let seed = 0; seed < 30; seed++) {
      const value = generateValue(schema, { seed }) as Record<string, unknown>;
      expect(check(ajv2020, asJsonSchema, value)).toBeUndefined();
      expect(Object.keys(value)[0]).toBe("level");
    }
  });

  it("meets multipleOf the way ajv checks it, also for decimal steps", () => {
    for (const multipleOf of [0.1, 0.01, 0.3, 0.05, 7]) {
      const schema = { type: "number", minimum: 0.2, maximum: 50, multipleOf };
      for (let seed = 0; seed < 40; seed++)
        expect(check(ajv2020, schema, generateValue(schema, { seed }))).toBeUndefined();
    }
  });

  it("never touches a prototype, whatever the property names", () => {
    // Parsed from JSON, as a request body is, so "__proto__" is an own property name.
    const schema = JSON.parse(
      '{"type":"object","properties":{"__proto__":{"type":"object","properties":{"polluted":{"const":true}},' +
        '"required":["polluted"]}},"required":["__proto__"]}',
    );
    const value = generateValue(schema, { seed: 1 }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.stringify(value)).toBe('{"__proto__":{"polluted":true}}');
  });
});

describe("stringForPattern", () => {
  it("matches every supported pattern, and gives up (undefined) on lookarounds and back-references", () => {
    const random = createRandom(3);
    for (const pattern of PATTERNS) {
      for (let i = 0; i < 20; i++)
        expect(stringForPattern(pattern, random)).toMatch(new RegExp(pattern, "u"));
    }
    expect(stringForPattern("^(?=.*\\d)[a-z\\d]{8}$", random)).toBeUndefined();
    expect(stringForPattern("^(a)\\1$", random)).toBeUndefined();
  });

  it("falls back to a common string that an unsupported pattern accepts", () => {
    const schema = { type: "string", pattern: "^(?!x).+" };
    for (let seed = 0; seed < 10; seed++)
      expect(check(ajv2020, schema, generateValue(schema, { seed }))).toBeUndefined();
  });
});

describe("violateSchema", () => {
  it("gives valid JSON that fails the schema whenever it reports a violation", () => {
    fc.assert(
      fc.property(rootSchema, fc.integer(), (schema, seed) => {
        const value = generateValue(schema, { seed });
        const broken = violateSchema(schema, value);
        if (broken.violated) expect(check(ajv2020, schema, broken.value)).toBeDefined();
        expect(roundTrips(broken.value)).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });

  it("answers an enum with a value off the list, else leaves a required property out", () => {
    const withEnum = {
      type: "object",
      properties: { status: { enum: ["open", "closed"] }, title: { type: "string" } },
      required: ["status", "title"],
    };
    const broken = violateSchema(withEnum, { status: "open", title: "x" });
    expect(broken).toEqual({ value: { status: "open-unlisted", title: "x" }, violated: true });
    const plain = { type: "object", properties: { title: { type: "string" } }, required: ["title"] };
    expect(violateSchema(plain, { title: "x" })).toEqual({ value: {}, violated: true });
    expect(violateSchema({}, 1).violated).toBe(false);
  });
});

describe("splitDeltas", () => {
  it("cuts text into 1 to 8 character deltas that join back, never inside a surrogate pair", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 300 }), fc.integer(), (text, seed) => {
        const deltas = splitDeltas(text, { seed });
        expect(deltas.join("")).toBe(text);
        for (const delta of deltas) {
          const length = Array.from(delta).length;
          expect(length).toBeGreaterThanOrEqual(1);
          expect(length).toBeLessThanOrEqual(8);
          expect(delta).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
        }
        expect(splitDeltas(text, { seed })).toEqual(deltas);
      }),
      { numRuns: RUNS },
    );
  });
});
