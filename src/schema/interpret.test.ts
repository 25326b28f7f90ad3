import { readFileSync } from "node:fs";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import * as z from "zod";
import type { PathSegment } from "../json/index.ts";
import { generateValue } from "../simulator/index.ts";
import { compileSchema } from "./compile.ts";
import { createInterpretedEngine, unsupportedKeywords } from "./interpret.ts";
import type { JsonSchemaObject } from "./json-schema.ts";

const example = (name: string) =>
  JSON.parse(
    readFileSync(new URL(`../../examples/${name}.schema.json`, import.meta.url), "utf8"),
  ) as JsonSchemaObject;

const schemas: Record<string, unknown> = {
  recipe: example("recipe"),
  "article-summary": example("article-summary"),
  "support-ticket": example("support-ticket"),
  zod: z.object({
    title: z.string().min(2).max(40),
    stars: z.number().int().min(1).max(5),
    tags: z.array(z.string().regex(/^[a-z]+$/)).max(3),
    kind: z.enum(["a", "b"]),
    extra: z.union([z.object({ n: z.number() }), z.object({ s: z.string() })]).optional(),
    tuple: z.tuple([z.string(), z.boolean()]),
    nullable: z.string().nullable(),
  }),
  "json-schema": {
    type: "object",
    properties: {
      a: { $ref: "#/$defs/positive" },
      b: { type: "array", items: { type: "integer" }, uniqueItems: true, minItems: 1 },
      c: {
        oneOf: [
          { type: "string", maxLength: 3 },
          { type: "integer", minimum: 2 },
          { type: "number", maximum: 5 },
        ],
      },
      d: { not: { const: 0 }, multipleOf: 0.5 },
      e: { type: "object", patternProperties: { "^x": { type: "number" } }, additionalProperties: false },
    },
    required: ["a", "b"],
    $defs: { positive: { type: "number", exclusiveMinimum: 0 } },
  },
};

/** Every path inside a JSON value, the root first. */
function paths(value: unknown, at: PathSegment[] = []): PathSegment[][] {
  const out: PathSegment[][] = [at];
  if (Array.isArray(value)) for (let i = 0; i < value.length; i++) out.push(...paths(value[i], [...at, i]));
  else if (typeof value === "object" && value !== null)
    for (const [k, v] of Object.entries(value)) out.push(...paths(v, [...at, k]));
  return out;
}

function valueAtPath(value: unknown, path: readonly PathSegment[]): unknown {
  return path.reduce<unknown>((v, k) => (v as Record<PathSegment, unknown>)[k], value);
}

function replaceAt(value: unknown, path: readonly PathSegment[], replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const copy = structuredClone(value) as Record<PathSegment, unknown>;
  let parent = copy;
  for (const key of path.slice(0, -1)) parent = parent[key] as Record<PathSegment, unknown>;
  parent[path[path.length - 1]] = replacement;
  return copy;
}

describe("validation without code generation", () => {
  for (const [name, schema] of Object.entries(schemas)) {
    it(`agrees with ajv on ${name}: valid answers, and answers with any part replaced`, () => {
      const compiled = compileSchema(schema as JsonSchemaObject);
      const interpreted = createInterpretedEngine(compiled.jsonSchema);
      // With `format` (not interpreted) the walk may only be looser than ajv, never stricter.
      const exact = unsupportedKeywords(compiled.jsonSchema).length === 0;
      const agree = (value: unknown) => {
        for (const path of paths(value)) {
          const node = compiled.nodeAt(path, value);
          const part = valueAtPath(value, path);
          const ajv = compiled.validateNode(node, part).length === 0;
          const walk = interpreted.check(node, part);
          if (exact) expect([path, walk], JSON.stringify(part)).toEqual([path, ajv]);
          else if (ajv) expect([path, walk], JSON.stringify(part)).toEqual([path, true]);
          expect(interpreted.issuesFor(node, part).length === 0).toBe(walk);
        }
      };
      const jsonSchema = compiled.jsonSchema;
      const valid = Array.from({ length: 8 }, (_, seed) => generateValue(jsonSchema, { seed }));
      for (const value of valid) {
        expect(compiled.validateAt([], value)).toEqual([]);
        agree(value);
      }
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: valid.length - 1 }),
          fc.nat(),
          fc.jsonValue({ maxDepth: 2 }),
          (which, pick, replacement) => {
            const all = paths(valid[which]);
            agree(replaceAt(valid[which], all[pick % all.length], replacement));
          },
        ),
        { numRuns: Number(process.env.FC_RUNS ?? 200) },
      );
    });
  }

  it("reports issues with the same codes and pointers as ajv", () => {
    const compiled = compileSchema(schemas.zod as z.ZodType);
    const interpreted = createInterpretedEngine(compiled.jsonSchema);
    const value = { title: "x", stars: 9, tags: ["ok", "NO"], kind: "c", tuple: ["a", true], nullable: null };
    const codes = (issues: { pointer: string; code: string }[]) =>
      issues.map((i) => `${i.pointer} ${i.code}`).sort();
    expect(codes(interpreted.issuesFor(compiled.root, value))).toEqual(codes(compiled.validateAt([], value)));
  });

  it("names the keywords it does not check", () => {
    expect(
      unsupportedKeywords({
        type: "object",
        properties: { at: { type: "string", format: "date-time" }, n: { type: "number" } },
        unevaluatedProperties: false,
      }),
    ).toEqual(["/properties/at/format", "/unevaluatedProperties"]);
    expect(unsupportedKeywords(example("support-ticket"))).toEqual(
      unsupportedKeywords(example("support-ticket")).filter((p) => p.endsWith("/format")),
    );
  });
});
