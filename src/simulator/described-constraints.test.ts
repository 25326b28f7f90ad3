import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toAnthropicSchema } from "../providers/index.ts";
import { constraintsInDescription, withDescribedConstraints } from "./described-constraints.ts";

const RUNS = Number(process.env.FC_RUNS ?? 200);

describe("constraints moved into a description", () => {
  it("reads back what the Anthropic rewrite wrote, whatever the pattern holds", () => {
    const schema = {
      type: "object",
      properties: {
        quantity: {
          type: "string",
          description: "With its unit, e.g. 200 g.",
          pattern: '^([1-4]|[1-9]0) (g|ml), \\d{2,3}"x"$',
          minLength: 3,
        },
        n: { type: "integer", minimum: 1, maximum: 9, multipleOf: 3 },
        tags: { type: "array", items: { type: "string" }, minItems: 2, uniqueItems: true },
      },
      required: ["quantity", "n", "tags"],
      additionalProperties: false,
    };
    const sent = toAnthropicSchema(schema).schema as { properties: Record<string, Record<string, unknown>> };
    const quantity = sent.properties.quantity!;
    expect(quantity.pattern).toBeUndefined();
    const { description: _, ...constraints } = schema.properties.quantity;
    expect(withDescribedConstraints(quantity)).toMatchObject(constraints);
    expect(withDescribedConstraints(sent.properties.n!)).toMatchObject(schema.properties.n);
    expect(withDescribedConstraints(sent.properties.tags!)).toMatchObject(schema.properties.tags);
  });

  it("round-trips any keyword values through the description (property)", () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.boolean(),
      fc.array(fc.string(), { maxLength: 3 }),
    );
    fc.assert(
      fc.property(
        fc.option(fc.string(), { nil: undefined }),
        fc.dictionary(fc.constantFrom("pattern", "minimum", "maxLength", "format", "minItems", "x"), value, {
          minKeys: 1,
        }),
        (description, extra) => {
          const sent = toAnthropicSchema({
            type: "object",
            properties: { v: { ...(description === undefined ? {} : { description }), ...extra } },
            required: ["v"],
            additionalProperties: false,
          }).schema as { properties: { v: Record<string, unknown> } };
          const restored = withDescribedConstraints(sent.properties.v);
          // Compared as JSON: a keyword the rewrite keeps in place stays -0, one it moves into the
          // description comes back as 0, and JSON cannot tell the two apart.
          const asJson = (x: unknown) => JSON.parse(JSON.stringify(x));
          for (const [key, v] of Object.entries(extra)) expect(asJson(restored[key])).toEqual(asJson(v));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("leaves a description without a trailing block alone, and never lets it override a keyword", () => {
    expect(constraintsInDescription("A {brace} in prose.")).toBeUndefined();
    expect(constraintsInDescription("{not json}")).toBeUndefined();
    const node = { type: "integer", minimum: 5, description: "{minimum: 1, maximum: 9}" };
    expect(withDescribedConstraints(node)).toEqual({ ...node, maximum: 9 });
    const plain = { type: "string", description: "Just words." };
    expect(withDescribedConstraints(plain)).toBe(plain);
  });

  it("never writes to a prototype, whatever the key", () => {
    const restored = withDescribedConstraints({ description: '{__proto__: {"polluted": true}}' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(restored)).toBe(Object.prototype);
  });
});
