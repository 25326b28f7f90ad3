import * as v from "valibot";
import { describe, expectTypeOf, test } from "vitest";
import * as z from "zod";
import { type CompiledSchema, compileSchema } from "./compile.ts";
import type { DeepPartial, FromJsonSchema, InferInput, InferOutput, InferPartial } from "./types.ts";

const Article = z.object({
  title: z.string(),
  words: z.string().transform((s) => s.length),
  lang: z.string().default("en"),
  tags: z.array(z.object({ name: z.string(), score: z.number().nullable() })),
  kind: z.enum(["news", "blog"]),
});

const ArticleJson = {
  type: "object",
  properties: {
    title: { type: "string" },
    rating: { type: "integer" },
    draft: { type: "boolean" },
    note: { type: ["string", "null"] },
    kind: { enum: ["news", "blog"] },
    version: { const: 2 },
    point: { type: "array", prefixItems: [{ type: "number" }, { type: "string" }] },
    tags: {
      type: "array",
      items: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    },
    either: { anyOf: [{ type: "string" }, { type: "number" }] },
  },
  required: ["title", "tags"],
} as const;

describe("types from a zod schema", () => {
  test("the final value is the schema's output type", () => {
    expectTypeOf<InferOutput<typeof Article>>().toEqualTypeOf<{
      title: string;
      words: number;
      lang: string;
      tags: { name: string; score: number | null }[];
      kind: "news" | "blog";
    }>();
  });

  test("partial values are a deep partial of what the model writes", () => {
    type P = InferPartial<typeof Article>;
    expectTypeOf<P["words"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<P["lang"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<NonNullable<P["tags"]>[number]>().toEqualTypeOf<{ name?: string; score?: number | null }>();
  });

  test("the output type and the deep partial of it are available too", () => {
    type P = DeepPartial<InferOutput<typeof Article>>;
    expectTypeOf<P["words"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<InferInput<typeof Article>["lang"]>().toEqualTypeOf<string | undefined>();
  });

  test("compileSchema carries the output type to validateFinal", () => {
    const compiled = compileSchema(Article);
    type Types = NonNullable<(typeof compiled)["~types"]>;
    expectTypeOf<Types["output"]>().toEqualTypeOf<InferOutput<typeof Article>>();
    expectTypeOf<Types["input"]>().toEqualTypeOf<InferInput<typeof Article>>();
    expectTypeOf(compiled).toExtend<CompiledSchema<unknown>>();
    const result = compiled.validateFinal({});
    expectTypeOf<Awaited<typeof result>["value"]>().toEqualTypeOf<InferOutput<typeof Article> | undefined>();
  });

  test("valibot schemas infer the same way", () => {
    const V = v.object({ a: v.string(), n: v.optional(v.number()) });
    expectTypeOf<InferOutput<typeof V>>().toEqualTypeOf<{ a: string; n?: number | undefined }>();
  });
});

describe("types from an as-const JSON Schema", () => {
  type A = FromJsonSchema<typeof ArticleJson>;

  test("required properties are required, others optional", () => {
    expectTypeOf<A["title"]>().toEqualTypeOf<string>();
    expectTypeOf<A["rating"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<A["draft"]>().toEqualTypeOf<boolean | undefined>();
  });

  test("type lists, enum, const, tuples, arrays and unions are read", () => {
    expectTypeOf<A["note"]>().toEqualTypeOf<string | null | undefined>();
    expectTypeOf<A["kind"]>().toEqualTypeOf<"news" | "blog" | undefined>();
    expectTypeOf<A["version"]>().toEqualTypeOf<2 | undefined>();
    expectTypeOf<A["point"]>().toEqualTypeOf<[number, string] | undefined>();
    expectTypeOf<A["tags"]>().toEqualTypeOf<{ name: string }[]>();
    expectTypeOf<A["either"]>().toEqualTypeOf<string | number | undefined>();
  });

  test("InferOutput and InferPartial use it for JSON Schemas", () => {
    expectTypeOf<InferOutput<typeof ArticleJson>>().toEqualTypeOf<A>();
    expectTypeOf<NonNullable<InferPartial<typeof ArticleJson>["tags"]>>().toEqualTypeOf<
      { name?: string }[]
    >();
    const compiled = compileSchema(ArticleJson);
    expectTypeOf<NonNullable<(typeof compiled)["~types"]>["output"]>().toEqualTypeOf<A>();
  });

  test("a JSON Schema not written as const gives unknown", () => {
    const loose: { type: "object" } = { type: "object" };
    expectTypeOf<InferOutput<typeof loose>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<FromJsonSchema<{ $ref: string }>>().toBeUnknown();
  });
});

describe("DeepPartial", () => {
  test("makes members optional recursively, keeps arrays, and leaves tuple elements optional", () => {
    expectTypeOf<DeepPartial<{ a: { b: string[] }; t: [number, string] }>>().toEqualTypeOf<{
      a?: { b?: string[] };
      t?: [number?, string?];
    }>();
    expectTypeOf<DeepPartial<string | null>>().toEqualTypeOf<string | null>();
  });
});
