import { describe, expect, test } from "vitest";
import type { JsonSchemaObject } from "./json-schema.ts";
import { childSchema, createSchemaNode, narrowByKind, narrowSchema, nodeAt, shallowPlan } from "./shape.ts";

const types = (node: { types: ReadonlySet<string> | undefined }) =>
  node.types === undefined ? undefined : [...node.types].sort();

describe("$ref resolution", () => {
  test("a $ref to $defs is followed", () => {
    const root = createSchemaNode({
      type: "object",
      properties: { user: { $ref: "#/$defs/user" } },
      $defs: {
        user: { type: "object", properties: { id: { type: "string", format: "uuid" } }, required: ["id"] },
      },
    });
    const user = childSchema(root, "user");
    expect(types(user)).toEqual(["object"]);
    expect(user.required).toEqual(["id"]);
    expect(childSchema(user, "id").format).toBe("uuid");
  });

  test("draft-07 definitions, a root $ref and an escaped pointer resolve", () => {
    const root = createSchemaNode({
      $schema: "http://json-schema.org/draft-07/schema#",
      $ref: "#/definitions/a~1b%20c",
      definitions: { "a/b c": { type: "object", properties: { n: { type: "integer" } } } },
    });
    expect(types(root)).toEqual(["object"]);
    expect(types(childSchema(root, "n"))).toEqual(["integer"]);
  });

  test("a $ref by $id and by $anchor resolves inside the document", () => {
    const root = createSchemaNode({
      $id: "https://example.com/root.json",
      type: "object",
      properties: {
        a: { $ref: "https://example.com/item.json" },
        b: { $ref: "#named" },
      },
      $defs: {
        item: { $id: "https://example.com/item.json", type: "string", enum: ["x"] },
        named: { $anchor: "named", type: "boolean" },
      },
    });
    expect(childSchema(root, "a").values).toEqual(["x"]);
    expect(types(childSchema(root, "b"))).toEqual(["boolean"]);
  });

  test("a recursive schema is modelled lazily and reuses its nodes", () => {
    const tree: JsonSchemaObject = {
      $ref: "#/$defs/node",
      $defs: {
        node: {
          type: "object",
          properties: {
            name: { type: "string" },
            children: { type: "array", items: { $ref: "#/$defs/node" } },
          },
          required: ["name"],
        },
      },
    };
    const root = createSchemaNode(tree);
    const child = childSchema(childSchema(root, "children"), 0);
    const grandchild = childSchema(childSchema(child, "children"), 0);
    expect(grandchild).toBe(child);
    expect(types(childSchema(grandchild, "name"))).toEqual(["string"]);
  });

  test("an unresolvable $ref constrains nothing structurally", () => {
    const root = createSchemaNode({
      type: "object",
      properties: { x: { $ref: "https://elsewhere/x.json" } },
    });
    expect(childSchema(root, "x").types).toBeUndefined();
  });
});

describe("allOf, types and values", () => {
  test("allOf members merge properties, required and types", () => {
    const root = createSchemaNode({
      allOf: [
        { type: "object", properties: { a: { type: "string" } }, required: ["a"] },
        { properties: { b: { type: "number", minimum: 0 } }, required: ["b"] },
      ],
    });
    expect(types(root)).toEqual(["object"]);
    expect([...root.required].sort()).toEqual(["a", "b"]);
    expect(types(childSchema(root, "b"))).toEqual(["number"]);
  });

  test("integer narrows number, and disjoint types allow nothing", () => {
    expect(types(createSchemaNode({ allOf: [{ type: "number" }, { type: ["integer", "string"] }] }))).toEqual(
      ["integer"],
    );
    expect(createSchemaNode({ allOf: [{ type: "string" }, { type: "number" }] }).never).toBe(true);
  });

  test("enum and const intersect, and give types when none is declared", () => {
    const node = createSchemaNode({ allOf: [{ enum: ["a", "b", 1] }, { enum: ["b", 1, 2] }] });
    expect(node.values).toEqual(["b", 1]);
    expect(types(node)).toEqual(["number", "string"]);
    expect(createSchemaNode({ const: null }).types?.has("null")).toBe(true);
  });

  test("OpenAPI nullable adds null", () => {
    expect(types(createSchemaNode({ type: "string", nullable: true }))).toEqual(["null", "string"]);
  });

  test("x-stream annotations are read", () => {
    const node = createSchemaNode({ type: "object", "x-stream": "atomic", "x-stream-gate": ["kind"] });
    expect(node.stream).toBe("atomic");
    expect(node.gate).toEqual(["kind"]);
  });
});

describe("children", () => {
  test("additionalProperties: false forbids unknown keys; patternProperties match keys", () => {
    const root = createSchemaNode({
      type: "object",
      properties: { a: { type: "string" } },
      patternProperties: { "^x-": { type: "number" } },
      additionalProperties: false,
    });
    expect(childSchema(root, "b").never).toBe(true);
    expect(types(childSchema(root, "x-rate"))).toEqual(["number"]);
    expect(childSchema(root, "a").never).toBe(false);
  });

  test("additionalProperties as a schema types every other key", () => {
    const root = createSchemaNode({ type: "object", additionalProperties: { type: "integer" } });
    expect(types(childSchema(root, "anything"))).toEqual(["integer"]);
  });

  test("allOf with additionalProperties: false in one member forbids the other member's keys", () => {
    // JSON Schema's well-known trap, modelled as it validates.
    const root = createSchemaNode({
      allOf: [{ properties: { a: {} }, additionalProperties: false }, { properties: { b: {} } }],
    });
    expect(childSchema(root, "b").never).toBe(true);
  });

  test("2020-12 prefixItems then items, and a closed tuple bounds maxItems", () => {
    const root = createSchemaNode({
      type: "array",
      prefixItems: [{ type: "string" }, { type: "number" }],
      items: false,
    });
    expect(types(childSchema(root, 0))).toEqual(["string"]);
    expect(types(childSchema(root, 1))).toEqual(["number"]);
    expect(childSchema(root, 2).never).toBe(true);
    expect(root.maxItems).toBe(2);
  });

  test("draft-07 items array then additionalItems", () => {
    const root = createSchemaNode({
      type: "array",
      items: [{ type: "string" }],
      additionalItems: { type: "boolean" },
    });
    expect(types(childSchema(root, 0))).toEqual(["string"]);
    expect(types(childSchema(root, 5))).toEqual(["boolean"]);
    expect(root.maxItems).toBe(Number.POSITIVE_INFINITY);
  });
});

describe("unions", () => {
  const shapes: JsonSchemaObject = {
    type: "object",
    properties: {
      shape: {
        oneOf: [
          {
            type: "object",
            properties: { type: { const: "circle" }, r: { type: "number" } },
            required: ["type", "r"],
          },
          {
            type: "object",
            properties: { type: { const: "rect" }, w: { type: "number" }, label: { type: "string" } },
            required: ["type", "w"],
          },
          { type: "null" },
        ],
      },
    },
  };

  test("anyOf/oneOf become members, and a union's child is the union of the members' children", () => {
    const shape = childSchema(createSchemaNode(shapes), "shape");
    expect(shape.members).toHaveLength(3);
    const type = childSchema(shape, "type");
    expect(type.members?.map((m) => m.values)).toEqual([["circle"], ["rect"]]);
    // "label" exists only in rect: a child of the union, allowed.
    expect(childSchema(shape, "label").never).toBe(false);
  });

  test("a union of objects sharing a required const key has that key as discriminator", () => {
    const shape = childSchema(createSchemaNode(shapes), "shape");
    expect(shape.discriminator?.key).toBe("type");
    expect([...(shape.discriminator?.cases.keys() ?? [])]).toEqual(['"circle"', '"rect"']);
  });

  test("narrowSchema resolves by the discriminator, narrowByKind by the JSON type", () => {
    const shape = childSchema(createSchemaNode(shapes), "shape");
    const rect = narrowSchema(shape, { type: "rect" });
    expect(rect.members).toBeUndefined();
    expect(rect.required).toEqual(["type", "w"]);
    expect(types(narrowByKind(shape, "null"))).toEqual(["null"]);
    expect(narrowByKind(shape, "object").members).toHaveLength(2);
    // An unknown tag narrows by type only: validation reports it against both object alternatives.
    expect(narrowSchema(shape, { type: "hexagon" }).members).toHaveLength(2);
  });

  test("nested unions are flattened and the base schema applies to every member", () => {
    const root = createSchemaNode({
      type: "object",
      required: ["id"],
      properties: { id: { type: "string" } },
      anyOf: [
        { properties: { kind: { const: "a" } }, required: ["kind"] },
        { anyOf: [{ properties: { kind: { const: "b" } }, required: ["kind"] }, { required: ["other"] }] },
      ],
    });
    expect(root.members).toHaveLength(3);
    for (const member of root.members ?? []) {
      expect(member.required).toContain("id");
      expect(types(member)).toEqual(["object"]);
    }
  });

  test("nodeAt walks a path and narrows by the values met", () => {
    const root = createSchemaNode({ type: "array", items: shapes.properties?.shape as JsonSchemaObject });
    const value = [{ type: "rect", w: 1, label: "x" }];
    expect(types(nodeAt(root, [0, "label"], value))).toEqual(["string"]);
    expect(nodeAt(root, [0], value).required).toEqual(["type", "w"]);
  });

  test("OpenAPI discriminator.propertyName is preferred", () => {
    const node = createSchemaNode({
      discriminator: { propertyName: "kind" },
      oneOf: [
        { type: "object", properties: { id: { const: 1 }, kind: { const: "a" } }, required: ["id", "kind"] },
        { type: "object", properties: { id: { const: 2 }, kind: { const: "b" } }, required: ["id", "kind"] },
      ],
    });
    expect(node.discriminator?.key).toBe("kind");
  });
});

describe("shallow plans", () => {
  test("list every merged subschema of a plain node", () => {
    const root = createSchemaNode({
      $defs: { base: { type: "object", required: ["id"] } },
      allOf: [{ $ref: "#/$defs/base" }, { minProperties: 1 }],
      properties: { id: { type: "integer" } },
    });
    expect(shallowPlan(root)?.map((f) => f.location)).toEqual(["", "/allOf/0", "/$defs/base", "/allOf/1"]);
  });

  test("are undefined where checking a node's own keywords is not exact", () => {
    const plan = (schema: JsonSchemaObject, path: (string | number)[] = []) =>
      shallowPlan(nodeAt(createSchemaNode(schema), path));
    expect(plan({ anyOf: [{ type: "string" }, { type: "object" }] })).toBeUndefined();
    expect(plan({ type: "object", unevaluatedProperties: false })).toBeUndefined();
    expect(plan({ type: "object", properties: { a: { $ref: "other.json#/x" } } }, ["a"])).toBeUndefined();
    expect(plan({ type: "array", items: { $dynamicRef: "#item" } }, [0])).toBeUndefined();
    // An alternative of a union is plain: its own union is the one distributed.
    const union = createSchemaNode({ anyOf: [{ type: "object", required: ["a"] }, { type: "null" }] });
    expect(shallowPlan(narrowByKind(union, "object"))).toHaveLength(2);
  });

  test("items past every tuple prefix share one node", () => {
    const root = createSchemaNode({
      type: "array",
      prefixItems: [{ type: "string" }],
      items: { type: "number" },
    });
    expect(types(childSchema(root, 0))).toEqual(["string"]);
    expect(childSchema(root, 1)).toBe(childSchema(root, 1000));
    expect(types(childSchema(root, 7))).toEqual(["number"]);
  });
});
