import { describe, expect, test } from "vitest";
import * as z from "zod";
import { isStructreamError } from "../errors/index.ts";
import { compileSchema } from "./compile.ts";
import type { JsonSchemaObject } from "./json-schema.ts";
import { createStreamPolicy, isAtomicNode, schemaGateKeys } from "./policy.ts";
import { childSchema, createSchemaNode, nodeAt } from "./shape.ts";

const node = (schema: JsonSchemaObject) => createSchemaNode(schema);

describe("atomic values", () => {
  test.each([
    ["an enum", { type: "string", enum: ["a", "b"] }],
    ["a const", { const: "fixed" }],
    ["a date-time", { type: "string", format: "date-time" }],
    ["an email", { type: "string", format: "email" }],
    ["a uri", { type: "string", format: "uri" }],
    ["a uuid", { type: "string", format: "uuid" }],
    ["a pattern", { type: "string", pattern: "^[A-Z]{3}$" }],
    ["an x-stream: atomic string", { type: "string", "x-stream": "atomic" }],
  ] as [string, JsonSchemaObject][])("a string with %s is atomic", (_name, schema) => {
    expect(isAtomicNode(node(schema), "string")).toBe(true);
  });

  test("a plain string streams, and x-stream: progressive lets a formatted string stream", () => {
    expect(isAtomicNode(node({ type: "string" }), "string")).toBe(false);
    expect(isAtomicNode(node({ type: "string", format: "uri", "x-stream": "progressive" }), "string")).toBe(
      false,
    );
  });

  test("objects and arrays are atomic only when marked", () => {
    expect(isAtomicNode(node({ type: "object" }), "object")).toBe(false);
    expect(isAtomicNode(node({ type: "object", "x-stream": "atomic" }), "object")).toBe(true);
    expect(isAtomicNode(node({ type: "array", "x-stream": "atomic" }), "array")).toBe(true);
  });

  test("a nullable formatted string is atomic when it arrives as a string", () => {
    const maybe = node({ anyOf: [{ type: "string", format: "date" }, { type: "null" }] });
    expect(isAtomicNode(maybe, "string")).toBe(true);
  });

  test("a union with a plain string alternative is not atomic", () => {
    const either = node({ anyOf: [{ type: "string", enum: ["auto"] }, { type: "string" }] });
    expect(isAtomicNode(either, "string")).toBe(false);
  });

  test("zod .meta({ 'x-stream': 'atomic' }) reaches the JSON Schema and the policy", () => {
    const compiled = compileSchema(
      z.object({
        address: z.object({ street: z.string(), city: z.string() }).meta({ "x-stream": "atomic" }),
        steps: z.array(z.string()).meta({ "x-stream": "atomic" }),
        note: z.string(),
      }),
    );
    const policy = createStreamPolicy();
    expect(policy.hold(compiled.nodeAt(["address"]), ["address"], "object")).toBe(true);
    expect(policy.hold(compiled.nodeAt(["steps"]), ["steps"], "array")).toBe(true);
    expect(policy.hold(compiled.nodeAt(["note"]), ["note"], "string")).toBeUndefined();
  });
});

describe("gated objects", () => {
  const blocks: JsonSchemaObject = {
    type: "array",
    items: {
      anyOf: [
        {
          type: "object",
          properties: { kind: { enum: ["p", "h1"] }, text: { type: "string" } },
          required: ["kind"],
        },
        {
          type: "object",
          properties: { kind: { const: "img" }, src: { type: "string" } },
          required: ["kind", "src"],
        },
      ],
    },
  };

  test("a union of objects with a shared required const/enum key is gated by it", () => {
    expect(schemaGateKeys(childSchema(node(blocks), 0))).toEqual(["kind"]);
  });

  test("a nullable object is not gated: it has one object alternative", () => {
    const maybe = node({
      anyOf: [{ type: "object", properties: { a: { type: "string" } } }, { type: "null" }],
    });
    expect(createStreamPolicy().hold(maybe, [], "object")).toBeUndefined();
  });

  test("a union without a shared discriminator is not gated", () => {
    const loose = node({
      anyOf: [
        { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
        { type: "object", properties: { b: { type: "string" } }, required: ["b"] },
      ],
    });
    expect(schemaGateKeys(loose)).toEqual([]);
  });

  test("x-stream-gate on the schema gates an object", () => {
    const card = node({ type: "object", "x-stream-gate": ["id", "title"] });
    expect(createStreamPolicy().hold(card, [], "object")).toEqual(["id", "title"]);
  });

  test("zod .meta({ 'x-stream-gate': [...] }) gates an object", () => {
    const compiled = compileSchema(
      z.object({ card: z.object({ id: z.string() }).meta({ "x-stream-gate": ["id"] }) }),
    );
    expect(createStreamPolicy().hold(compiled.nodeAt(["card"]), ["card"], "object")).toEqual(["id"]);
  });

  test("zod discriminated unions are gated by their discriminator", () => {
    const compiled = compileSchema(
      z.object({
        events: z.array(
          z.discriminatedUnion("kind", [
            z.object({ kind: z.literal("click"), x: z.number() }),
            z.object({ kind: z.literal("key"), key: z.string() }),
          ]),
        ),
      }),
    );
    expect(createStreamPolicy().hold(compiled.nodeAt(["events", 0]), ["events", 0], "object")).toEqual([
      "kind",
    ]);
  });
});

describe("user options", () => {
  const schema = node({
    type: "object",
    properties: {
      items: {
        type: "array",
        items: { type: "object", properties: { id: { type: "string" }, kind: { type: "string" } } },
      },
    },
  });

  test("atomic pointers with * match any array index", () => {
    const policy = createStreamPolicy({ atomic: ["/items/*/id"] });
    const path = ["items", 7, "id"];
    expect(policy.hold(nodeAt(schema, path), path, "string")).toBe(true);
    expect(policy.hold(nodeAt(schema, ["items", 7, "kind"]), ["items", 7, "kind"], "string")).toBeUndefined();
  });

  test("gate pointers hold objects until the listed keys complete", () => {
    const policy = createStreamPolicy({ gate: { "/items/*": ["kind"] } });
    expect(policy.hold(nodeAt(schema, ["items", 0]), ["items", 0], "object")).toEqual(["kind"]);
    expect(policy.hold(nodeAt(schema, ["items"]), ["items"], "array")).toBeUndefined();
  });

  test("atomic wins over gated", () => {
    const policy = createStreamPolicy({ atomic: ["/items/0"], gate: { "/items/*": ["kind"] } });
    expect(policy.hold(nodeAt(schema, ["items", 0]), ["items", 0], "object")).toBe(true);
    expect(policy.hold(nodeAt(schema, ["items", 1]), ["items", 1], "object")).toEqual(["kind"]);
  });

  test("the root can be made atomic with the empty pointer", () => {
    expect(createStreamPolicy({ atomic: [""] }).hold(schema, [], "object")).toBe(true);
  });

  test("a pointer that is not one is refused with invalid_option", () => {
    let error: unknown;
    try {
      createStreamPolicy({ atomic: ["items/*"] });
    } catch (e) {
      error = e;
    }
    expect(isStructreamError(error) && error.code).toBe("invalid_option");
  });
});
