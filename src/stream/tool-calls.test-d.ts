import { describe, expectTypeOf, test } from "vitest";
import * as z from "zod";
import { type StreamEvent, structuredStream, type ToolCallStream } from "./index.ts";

const source = new ReadableStream<Uint8Array>();
const Search = z.object({ query: z.string(), limit: z.number().optional() });
const Weather = { type: "object", properties: { city: { type: "string" } }, required: ["city"] } as const;

describe("toolCalls() typed from the tools option", () => {
  const s = structuredStream({ source, tools: { search: Search, weather: Weather } });

  test("yields a union of call streams that narrows on the name", async () => {
    for await (const call of s.toolCalls()) {
      expectTypeOf(call.name).toEqualTypeOf<"search" | "weather">();
      expectTypeOf(call.index).toEqualTypeOf<number>();
      expectTypeOf(call.id).toEqualTypeOf<string | undefined>();
      if (call.name === "search") {
        expectTypeOf(call.result).resolves.toEqualTypeOf<{ query: string; limit?: number | undefined }>();
      } else {
        expectTypeOf((await call.result).city).toEqualTypeOf<string>();
      }
    }
  });

  test("without tools every call is an untyped stream", async () => {
    const plain = structuredStream({ source });
    for await (const call of plain.toolCalls()) {
      expectTypeOf(call).toEqualTypeOf<ToolCallStream>();
      expectTypeOf(call.result).resolves.toEqualTypeOf<unknown>();
    }
  });

  test("reasoning and commentary are events with a delta", () => {
    expectTypeOf<Extract<StreamEvent, { type: "reasoning" }>>().toEqualTypeOf<{
      type: "reasoning";
      delta: string;
    }>();
    expectTypeOf<Extract<StreamEvent, { type: "commentary" }>>().toEqualTypeOf<{
      type: "commentary";
      delta: string;
    }>();
  });
});
