import { describe, expect, it } from "vitest";
import { restoreOptionalNulls, toAnthropicSchema, toStrictJsonSchema } from "./index.ts";

describe("toStrictJsonSchema", () => {
  it("closes objects, requires every property and makes optional ones nullable", () => {
    const schema = {
      type: "object",
      properties: {
        name: { type: "string" },
        age: { type: "integer", minimum: 0 },
        tags: { type: "array", items: { type: "string", enum: ["a", "b"] }, uniqueItems: true },
        kind: { type: "string", enum: ["x", "y"] },
        address: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
      },
      required: ["name", "tags"],
    };
    const before = structuredClone(schema);
    const result = toStrictJsonSchema(schema);
    expect(schema).toEqual(before);
    expect(result.representable).toBe(true);
    expect(result.nullableOptionals).toBe(true);
    expect(result.schema).toEqual({
      type: "object",
      properties: {
        name: { type: "string" },
        age: { type: ["integer", "null"], minimum: 0 },
        tags: { type: "array", items: { type: "string", enum: ["a", "b"] } },
        kind: { type: ["string", "null"], enum: ["x", "y", null] },
        address: {
          type: ["object", "null"],
          properties: { city: { type: "string" } },
          required: ["city"],
          additionalProperties: false,
        },
      },
      required: ["name", "age", "tags", "kind", "address"],
      additionalProperties: false,
    });
    expect(result.notes).toContain("/properties/tags: removed uniqueItems (checked on the client).");
  });

  it("wraps an optional $ref in a nullable anyOf and rewrites the definitions", () => {
    const result = toStrictJsonSchema({
      type: "object",
      properties: { point: { $ref: "#/$defs/Point" } },
      $defs: { Point: { type: "object", properties: { x: { type: "number" } } } },
    });
    expect(result.schema).toEqual({
      type: "object",
      properties: { point: { anyOf: [{ $ref: "#/$defs/Point" }, { type: "null" }] } },
      required: ["point"],
      additionalProperties: false,
      $defs: {
        Point: {
          type: "object",
          properties: { x: { type: ["number", "null"] } },
          required: ["x"],
          additionalProperties: false,
        },
      },
    });
  });

  it("leaves an optional property that already accepts null as it is", () => {
    const result = toStrictJsonSchema({
      type: "object",
      properties: { note: { type: ["string", "null"] } },
    });
    expect(result.schema.properties).toEqual({ note: { type: ["string", "null"] } });
    expect(result.nullableOptionals).toBe(false);
  });

  it("turns oneOf into anyOf, merges an object allOf, and inlines a root $ref", () => {
    const result = toStrictJsonSchema({
      $ref: "#/$defs/Root",
      $defs: {
        Root: {
          allOf: [
            { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
            {
              type: "object",
              properties: { b: { oneOf: [{ type: "string" }, { type: "number" }] } },
              required: ["b"],
            },
          ],
        },
      },
    });
    expect(result.representable).toBe(true);
    expect(result.schema.properties).toEqual({
      a: { type: "string" },
      b: { anyOf: [{ type: "string" }, { type: "number" }] },
    });
    expect(result.schema.required).toEqual(["a", "b"]);
  });

  it("refuses what strict mode cannot express, returning the original schema and the reasons", () => {
    const map = { type: "object", additionalProperties: { type: "number" } };
    expect(toStrictJsonSchema(map)).toMatchObject({ schema: map, representable: false });
    const nested = { type: "object", properties: { scores: map }, required: ["scores"] };
    const result = toStrictJsonSchema(nested);
    expect(result.representable).toBe(false);
    expect(result.notes[0]).toMatch(/\/properties\/scores is an open object/);
    expect(toStrictJsonSchema({ type: "array", items: { type: "string" } })).toMatchObject({
      representable: false,
    });
    expect(
      toStrictJsonSchema({
        type: "object",
        properties: { t: { type: "array", items: [{ type: "string" }] } },
      }),
    ).toMatchObject({ representable: false });
    expect(toStrictJsonSchema({ type: "object", properties: { any: {} } })).toMatchObject({
      representable: false,
    });
  });
});

describe("restoreOptionalNulls", () => {
  const schema = {
    type: "object",
    properties: {
      name: { type: "string" },
      age: { type: "integer" },
      note: { type: ["string", "null"] },
      items: { type: "array", items: { $ref: "#/$defs/Item" } },
    },
    required: ["name"],
    $defs: { Item: { type: "object", properties: { label: { type: "string" } } } },
  };

  it("drops the nulls that stand for absent optional properties, keeping allowed nulls", () => {
    const value = { name: "x", age: null, note: null, items: [{ label: null }, { label: "y" }] };
    expect(restoreOptionalNulls(value, schema)).toEqual({
      name: "x",
      note: null,
      items: [{}, { label: "y" }],
    });
  });

  it("never mutates the value and returns it unchanged when there is nothing to drop", () => {
    const value = { name: "x", age: null };
    const frozen = Object.freeze({ ...value });
    expect(restoreOptionalNulls(frozen, schema)).toEqual({ name: "x" });
    const clean = { name: "x", items: [{ label: "y" }] };
    expect(restoreOptionalNulls(clean, schema)).toBe(clean);
  });

  it("keeps a null for a required property (the validator reports it)", () => {
    expect(restoreOptionalNulls({ name: null }, schema)).toEqual({ name: null });
  });
});

describe("toAnthropicSchema", () => {
  it("closes objects and moves unsupported constraints into the description, as the SDK does", () => {
    const result = toAnthropicSchema({
      type: "object",
      properties: {
        n: { type: "integer", minimum: 1, description: "A count" },
        when: { type: "string", format: "date-time" },
        list: { type: "array", items: { type: "string" }, minItems: 3 },
        choice: { oneOf: [{ type: "string" }, { type: "null" }] },
      },
      required: ["n"],
    });
    expect(result.representable).toBe(true);
    expect(result.schema).toEqual({
      type: "object",
      properties: {
        n: { type: "integer", description: "A count\n\n{minimum: 1}" },
        when: { type: "string", format: "date-time" },
        list: { type: "array", items: { type: "string" }, description: "{minItems: 3}" },
        choice: { anyOf: [{ type: "string" }, { type: "null" }] },
      },
      required: ["n"],
      additionalProperties: false,
    });
  });

  it("reports an open map as not representable", () => {
    expect(toAnthropicSchema({ type: "object", additionalProperties: true })).toMatchObject({
      representable: false,
    });
  });
});
