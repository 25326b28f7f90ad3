import { describe, expect, it } from "vitest";
import { decode, fixture } from "../../test/fixtures/providers/harness.ts";

const anthropic = (name: string) => decode("anthropic", [fixture("anthropic", name)]);

describe("the anthropic adapter", () => {
  it("streams text_delta, reports usage from message_start and message_delta, and finishes on message_stop", () => {
    expect(anthropic("basic.sse")).toEqual([
      { type: "usage", usage: { inputTokens: 25, outputTokens: 1 } },
      { type: "text", delta: '{"city": ' },
      { type: "text", delta: '"Zürich 🇨🇭"}' },
      { type: "usage", usage: { outputTokens: 15 } },
      { type: "finish", reason: "stop", raw: "end_turn" },
      { type: "end" },
    ]);
  });

  it("streams a tool_use block's input_json_delta as tool-call events and counts tool_use as a normal stop", () => {
    expect(anthropic("tool-use.sse")).toEqual([
      { type: "usage", usage: { inputTokens: 472, outputTokens: 2 } },
      { type: "tool-call", index: 0, id: "toolu_01", name: "response", delta: "" },
      { type: "tool-call", index: 0, delta: '{"location":' },
      { type: "tool-call", index: 0, delta: ' "San Francisco, CA"}' },
      { type: "tool-call-end", index: 0 },
      { type: "usage", usage: { outputTokens: 89 } },
      { type: "finish", reason: "stop", raw: "tool_use" },
      { type: "end" },
    ]);
  });

  it("reports stop_reason max_tokens as truncation", () => {
    expect(anthropic("max-tokens.sse").at(-2)).toEqual({
      type: "finish",
      reason: "length",
      raw: "max_tokens",
    });
  });

  it("reports stop_reason refusal as a refusal finish", () => {
    expect(anthropic("refusal.sse").at(-2)).toEqual({ type: "finish", reason: "refusal", raw: "refusal" });
  });

  it("maps event: error overloaded_error to a retryable provider error, with no finish", () => {
    const events = anthropic("overloaded-error.sse");
    expect(events.at(-1)).toEqual({
      type: "error",
      errorType: "overloaded_error",
      message: "Overloaded",
      retryable: true,
    });
    expect(events.some((event) => event.type === "finish")).toBe(false);
  });

  it("reports thinking as reasoning, skips signatures, and keeps it apart from the text", () => {
    const events = anthropic("thinking-then-text.sse");
    expect(events.filter((event) => event.type === "text")).toEqual([{ type: "text", delta: '{"ok":true}' }]);
    expect(events.filter((event) => event.type === "reasoning")).toEqual([
      { type: "reasoning", delta: "The user wants {json}." },
    ]);
  });

  it("does not finish on message_delta alone: message_stop is the end signal", () => {
    const text = fixture("anthropic", "max-tokens.sse");
    const cut = text.slice(0, text.indexOf("event: message_stop"));
    expect(decode("anthropic", [cut]).some((event) => event.type === "finish")).toBe(false);
  });
});
