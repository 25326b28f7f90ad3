import type { StandardSchemaV1 } from "@standard-schema/spec";
import { type } from "arktype";
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import * as z from "zod";
import { compileSchema } from "./compile.ts";
import type { JsonSchemaObject } from "./json-schema.ts";
import { standardIssues, validateFinal } from "./validate.ts";

describe("final validation with a Standard Schema", () => {
  const Post = z.object({
    words: z.string().transform((s) => s.split(" ").length),
    lang: z.string().default("en"),
    at: z.coerce.date(),
  });

  test("resolves to zod's output: transforms, defaults and coercions applied", () => {
    const compiled = compileSchema(Post);
    expect(validateFinal(compiled, { words: "one two three", at: "2024-01-01T00:00:00Z" })).toEqual({
      value: { words: 3, lang: "en", at: new Date("2024-01-01T00:00:00Z") },
    });
  });

  test("asks the model for the input side: a transformed field is its input, a defaulted one optional", () => {
    const schema = compileSchema(Post).jsonSchema;
    expect(schema.properties?.words).toEqual({ type: "string" });
    expect(schema.required).not.toContain("lang");
  });

  test("maps zod's issues to paths, pointers and structream's codes", () => {
    const compiled = compileSchema(
      z.strictObject({
        name: z.string(),
        tags: z.array(z.enum(["a", "b"])),
        code: z.string().regex(/^[A-Z]+$/),
        n: z.number().max(3),
      }),
    );
    const result = validateFinal(compiled, { tags: ["a", "c"], code: "x", n: 4, extra: 1 });
    expect("issues" in result && result.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: ["name"],
          pointer: "/name",
          code: "missing_property",
          expected: "string",
        }),
        expect.objectContaining({
          path: ["tags", 1],
          pointer: "/tags/1",
          code: "invalid_enum",
          expected: '"a" | "b"',
        }),
        expect.objectContaining({ pointer: "/code", code: "pattern_mismatch" }),
        expect.objectContaining({ pointer: "/n", code: "too_big", expected: "<= 3" }),
        expect.objectContaining({ pointer: "/extra", code: "unknown_property" }),
      ]),
    );
  });

  test("maps valibot's issues the same way", () => {
    const compiled = compileSchema(
      v.strictObject({
        name: v.string(),
        kind: v.picklist(["a", "b"]),
        n: v.pipe(v.number(), v.maxValue(3)),
      }),
      { jsonSchema: { type: "object" } },
    );
    const result = validateFinal(compiled, { kind: "c", n: 4, extra: 1 });
    const found = "issues" in result ? (result.issues ?? []).map((i) => `${i.pointer} ${i.code}`) : [];
    expect(found.sort()).toEqual([
      "/extra unknown_property",
      "/kind invalid_enum",
      "/n too_big",
      "/name missing_property",
    ]);
  });

  test("uses arktype's own JSON Schema and maps its issues", () => {
    const compiled = compileSchema(type({ name: "string", n: "0 <= number <= 5" }));
    expect(compiled.jsonSchema.required).toEqual(["n", "name"]);
    const result = validateFinal(compiled, { n: 9 });
    const found = "issues" in result ? (result.issues ?? []).map((i) => `${i.pointer} ${i.code}`) : [];
    expect(found.sort()).toEqual(["/n too_big", "/name missing_property"]);
    expect(validateFinal(compiled, { name: "x", n: 1 })).toEqual({ value: { name: "x", n: 1 } });
  });

  test("awaits an asynchronous validator", async () => {
    const lazy: StandardSchemaV1<unknown, string> = {
      "~standard": {
        version: 1,
        vendor: "custom",
        validate: async (value) =>
          typeof value === "string"
            ? { value: value.toUpperCase() }
            : { issues: [{ message: "not a string" }] },
      },
    };
    const compiled = compileSchema(lazy, { jsonSchema: { type: "string" } });
    const pending = validateFinal(compiled, "hi");
    expect(pending).toBeInstanceOf(Promise);
    await expect(pending).resolves.toEqual({ value: "HI" });
    await expect(compiled.validateFinal(1)).resolves.toEqual({
      issues: [{ path: [], pointer: "", code: "invalid_value", message: "not a string", received: "1" }],
    });
  });

  test("standardIssues reads path segments given as { key } objects", () => {
    expect(
      standardIssues(
        [{ message: "bad", path: [{ key: "a" }, { key: 0 }], code: "customCheck" } as never],
        {},
      ),
    ).toEqual([{ path: ["a", 0], pointer: "/a/0", code: "custom_check", message: "bad" }]);
  });
});

describe("final validation with a JSON Schema (ajv)", () => {
  const draft07: JsonSchemaObject = {
    $schema: "http://json-schema.org/draft-07/schema#",
    type: "object",
    properties: {
      point: {
        type: "array",
        items: [{ $ref: "#/definitions/coord" }, { $ref: "#/definitions/coord" }],
        additionalItems: false,
      },
    },
    required: ["point"],
    definitions: { coord: { type: "number", minimum: -90, maximum: 90 } },
  };
  const draft2020: JsonSchemaObject = {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    type: "object",
    properties: {
      point: {
        type: "array",
        prefixItems: [{ $ref: "#/$defs/coord" }, { $ref: "#/$defs/coord" }],
        items: false,
      },
    },
    required: ["point"],
    $defs: { coord: { type: "number", minimum: -90, maximum: 90 } },
  };

  test.each([
    ["draft-07", draft07],
    ["draft 2020-12", draft2020],
  ])(
    "%s: a tuple with $ref'd items validates, and rejects a third item and an out-of-range one",
    (_name, schema) => {
      const compiled = compileSchema(schema);
      const ok = { point: [1, 2] };
      expect(validateFinal(compiled, ok)).toEqual({ value: ok });
      expect((validateFinal(compiled, ok) as { value: unknown }).value).toBe(ok);
      const issues = (validateFinal(compiled, { point: [1, 200, 3] }) as { issues: unknown[] }).issues;
      expect(issues).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ pointer: "/point", code: "too_big" }),
          expect.objectContaining({
            pointer: "/point/1",
            code: "too_big",
            expected: "<= 90",
            received: "200",
          }),
        ]),
      );
    },
  );

  test("the dialect is chosen by $schema, or by the keywords when $schema is absent", () => {
    expect(compileSchema(draft07).draft).toBe("draft-07");
    expect(compileSchema(draft2020).draft).toBe("draft-2020-12");
    expect(compileSchema({ type: "array", items: [{ type: "string" }] }).draft).toBe("draft-07");
    expect(compileSchema({ type: "array", prefixItems: [{ type: "string" }] }).draft).toBe("draft-2020-12");
    expect(compileSchema({ type: "string" }).draft).toBe("draft-2020-12");
  });

  test("a 2020-12 keyword is enforced in 2020-12 and not misread in draft-07", () => {
    const tuple2020 = compileSchema({ type: "array", prefixItems: [{ type: "string" }], items: false });
    expect(validateFinal(tuple2020, ["a", "b"])).toMatchObject({ issues: [{ code: "too_big" }] });
    const tuple07 = compileSchema({
      $schema: "http://json-schema.org/draft-07/schema#",
      type: "array",
      prefixItems: [{ type: "string" }],
    });
    // prefixItems means nothing in draft-07: any array passes.
    expect(validateFinal(tuple07, [1, 2])).toEqual({ value: [1, 2] });
  });

  test("formats are checked (ajv-formats)", () => {
    const compiled = compileSchema({
      type: "object",
      properties: { at: { type: "string", format: "date-time" }, mail: { type: "string", format: "email" } },
    });
    expect(validateFinal(compiled, { at: "2024-01-01T00:00:00Z", mail: "a@b.co" })).toHaveProperty("value");
    const issues = (validateFinal(compiled, { at: "yesterday", mail: "nope" }) as { issues: unknown[] })
      .issues;
    expect(issues).toEqual([
      expect.objectContaining({ pointer: "/at", code: "invalid_format", expected: "date-time" }),
      expect.objectContaining({ pointer: "/mail", code: "invalid_format", expected: "email" }),
    ]);
  });

  test("a union that no alternative matches reports the closest alternative's issues, or one union issue", () => {
    const compiled = compileSchema({
      type: "object",
      properties: {
        who: {
          anyOf: [
            { type: "object", properties: { n: { type: "string" } }, required: ["n"] },
            { type: "null" },
          ],
        },
        id: { anyOf: [{ type: "string" }, { type: "integer" }] },
      },
    });
    const issues = (validateFinal(compiled, { who: {}, id: true }) as { issues: unknown[] }).issues;
    expect(issues).toHaveLength(2);
    expect(issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ pointer: "/who/n", code: "missing_property" }),
        expect.objectContaining({
          pointer: "/id",
          code: "invalid_union",
          expected: "string | integer",
          received: "boolean",
        }),
      ]),
    );
  });

  test("issues carry the codes listed in the docs", () => {
    const compiled = compileSchema({
      type: "object",
      properties: {
        a: { type: "string", minLength: 2 },
        b: { type: "number", multipleOf: 5 },
        c: { type: "array", uniqueItems: true },
        d: { type: "string", pattern: "^x" },
      },
      required: ["z"],
      additionalProperties: false,
    });
    const result = validateFinal(compiled, { a: "x", b: 7, c: [1, 1], d: "y", e: 0 }) as {
      issues: { pointer: string; code: string }[];
    };
    expect(result.issues.map((i) => `${i.pointer} ${i.code}`).sort()).toEqual([
      "/a too_small",
      "/b not_multiple_of",
      "/c not_unique",
      "/d pattern_mismatch",
      "/e unknown_property",
      "/z missing_property",
    ]);
  });
});

describe("validateAt", () => {
  test("validates a part against its subschema, reported under its path", () => {
    const compiled = compileSchema({
      type: "object",
      properties: { list: { type: "array", items: { $ref: "#/$defs/item" } } },
      $defs: { item: { type: "object", properties: { id: { type: "integer" } }, required: ["id"] } },
    });
    expect(compiled.validateAt(["list", 3], { id: 1 })).toEqual([]);
    expect(compiled.validateAt(["list", 3], { id: "1" })).toEqual([
      {
        path: ["list", 3, "id"],
        pointer: "/list/3/id",
        code: "invalid_type",
        message: "Expected integer, received string",
        expected: "integer",
        received: "string",
      },
    ]);
  });
});
