import { type } from "arktype";
import * as v from "valibot";
import { describe, expect, test } from "vitest";
import * as z from "zod";
import { isStructreamError } from "../errors/index.ts";
import { compileSchema } from "./compile.ts";
import { isStandardSchema, type JsonSchemaObject, toJsonSchema } from "./json-schema.ts";

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isStructreamError(error) ? error.code : "not a StructreamError";
  }
  return undefined;
}

describe("toJsonSchema", () => {
  test("a zod schema gives zod's own JSON Schema of its input side, meta included", () => {
    const schema = z.object({
      at: z.iso.datetime().meta({ "x-stream": "atomic", description: "When" }),
      n: z.number().default(1),
    });
    expect(toJsonSchema(schema)).toEqual(z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }));
    expect(toJsonSchema(schema).properties?.at).toMatchObject({ "x-stream": "atomic", description: "When" });
  });

  test("zod types without a JSON Schema form become {} instead of throwing", () => {
    const schema = z.object({ big: z.bigint(), name: z.string() });
    expect(toJsonSchema(schema).properties?.big).toEqual({});
  });

  test("draft-07 can be asked of the library", () => {
    const schema = toJsonSchema(z.tuple([z.string(), z.number()]), { target: "draft-07" });
    expect(schema.$schema).toBe("http://json-schema.org/draft-07/schema#");
    expect(Array.isArray(schema.items)).toBe(true);
  });

  test("arktype's converter is used", () => {
    expect(toJsonSchema(type({ a: "string" }))).toMatchObject({ type: "object", required: ["a"] });
  });

  test("valibot needs a JSON Schema given, as an object or a function", () => {
    const schema = v.object({ a: v.string() });
    expect(codeOf(() => toJsonSchema(schema))).toBe("invalid_schema");
    const given: JsonSchemaObject = { type: "object", properties: { a: { type: "string" } } };
    expect(toJsonSchema(schema, { jsonSchema: given })).toBe(given);
    expect(toJsonSchema(schema, { jsonSchema: () => given })).toBe(given);
  });

  test("a plain JSON Schema is used as it is; anything else is refused", () => {
    const schema = { type: "string" } as const;
    expect(toJsonSchema(schema)).toBe(schema);
    expect(codeOf(() => toJsonSchema("string"))).toBe("invalid_schema");
    expect(codeOf(() => toJsonSchema(null))).toBe("invalid_schema");
  });

  test("isStandardSchema recognises callable validators too", () => {
    expect(isStandardSchema(type("string"))).toBe(true);
    expect(isStandardSchema(z.string())).toBe(true);
    expect(isStandardSchema({ type: "string" })).toBe(false);
  });
});

describe("compileSchema", () => {
  test("is cached per schema object and options", () => {
    const schema = z.object({ a: z.string() });
    const compiled = compileSchema(schema);
    expect(compileSchema(schema)).toBe(compiled);
    expect(compileSchema(schema, { target: "draft-07" })).not.toBe(compiled);
    expect(compileSchema(schema, { target: "draft-07" })).toBe(compileSchema(schema, { target: "draft-07" }));
    const json = { type: "object" } as const;
    expect(compileSchema(json)).toBe(compileSchema(json));
    expect(compileSchema({ type: "object" })).not.toBe(compileSchema(json));
  });

  test("describes its input", () => {
    const zod = compileSchema(z.string());
    expect(zod).toMatchObject({ kind: "standard", vendor: "zod", draft: "draft-2020-12" });
    expect(compileSchema({ type: "string" })).toMatchObject({ kind: "json-schema", vendor: undefined });
  });

  test("a JSON Schema ajv cannot compile fails at once with invalid_schema", () => {
    expect(codeOf(() => compileSchema({ type: "strng" } as unknown as JsonSchemaObject))).toBe(
      "invalid_schema",
    );
    expect(codeOf(() => compileSchema({ type: "string", pattern: "(" }))).toBe("invalid_schema");
  });

  test("a pattern written for JavaScript but invalid with the u flag still compiles", () => {
    const compiled = compileSchema({ type: "string", pattern: "^\\-\\'$" });
    expect(compiled.validateAt([], "-'")).toEqual([]);
  });

  test("a draft-04 schema is validated as draft-07", () => {
    const compiled = compileSchema({ $schema: "http://json-schema.org/draft-04/schema#", type: "integer" });
    expect(compiled.draft).toBe("draft-07");
    expect(compiled.validateAt([], 1.5)).toMatchObject([{ code: "invalid_type" }]);
  });
});
