import { describe, expect, it } from "vitest";
import { decode, fixture } from "../../test/fixtures/providers/harness.ts";

const responses = (name: string) => decode("openai-responses", [fixture("openai-responses", name)]);

describe("the openai-responses adapter", () => {
  it("streams response.output_text.delta and finishes on response.completed with its usage", () => {
    expect(responses("basic.sse")).toEqual([
      { type: "text", delta: '{"city":' },
      { type: "text", delta: '"Tōkyō 東京"}' },
      { type: "usage", usage: { inputTokens: 36, outputTokens: 12, totalTokens: 48 } },
      { type: "finish", reason: "stop", raw: "completed" },
      { type: "end" },
    ]);
  });

  it("streams response.refusal.delta as refusal deltas", () => {
    expect(responses("refusal.sse")).toEqual([
      { type: "refusal", delta: "I can't " },
      { type: "refusal", delta: "assist with that." },
      { type: "usage", usage: { inputTokens: 20, outputTokens: 7, totalTokens: 27 } },
      { type: "finish", reason: "stop", raw: "completed" },
      { type: "end" },
    ]);
  });

  it("reports response.incomplete for max_output_tokens as truncation", () => {
    expect(responses("incomplete-max-output-tokens.sse").at(-2)).toEqual({
      type: "finish",
      reason: "length",
      raw: "max_output_tokens",
    });
  });

  it("reports response.incomplete for content_filter as a filter refusal", () => {
    expect(responses("incomplete-content-filter.sse")).toEqual([
      { type: "text", delta: '{"story":"' },
      { type: "finish", reason: "content_filter", raw: "content_filter" },
      { type: "end" },
    ]);
  });

  it("streams a function call's arguments as tool-call events", () => {
    expect(responses("function-call.sse")).toEqual([
      { type: "tool-call", index: 0, id: "call_1", name: "answer", delta: "" },
      { type: "tool-call", index: 0, delta: '{"n":' },
      { type: "tool-call", index: 0, delta: "42}" },
      { type: "tool-call-end", index: 0 },
      { type: "usage", usage: { inputTokens: 50, outputTokens: 8, totalTokens: 58 } },
      { type: "finish", reason: "stop", raw: "completed" },
      { type: "end" },
    ]);
  });

  it("maps response.failed to a provider error, retryable for server_error", () => {
    expect(responses("failed.sse")).toEqual([
      {
        type: "error",
        errorType: "server_error",
        message: "The model failed to generate a response.",
        retryable: true,
      },
      { type: "end" },
    ]);
  });

  it("maps the error event to a provider error with its code", () => {
    expect(responses("error-event.sse")).toEqual([
      {
        type: "error",
        errorType: "rate_limit_exceeded",
        message: "Rate limit reached for gpt-4.1 in organization org-x on tokens per min.",
        retryable: true,
      },
    ]);
  });

  it("fills a call whose arguments came only with function_call_arguments.done", () => {
    const line = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
    const events = decode("openai-responses", [
      line({
        type: "response.output_item.added",
        output_index: 0,
        item: { type: "function_call", id: "fc_1", call_id: "call_9", name: "lookup", arguments: "" },
      }),
      line({
        type: "response.function_call_arguments.done",
        item_id: "fc_1",
        output_index: 0,
        arguments: '{"q":"x"}',
      }),
      line({
        type: "response.output_item.done",
        output_index: 0,
        item: {
          type: "function_call",
          id: "fc_1",
          call_id: "call_9",
          name: "lookup",
          arguments: '{"q":"x"}',
        },
      }),
      line({ type: "response.completed", response: {} }),
    ]);
    expect(events).toEqual([
      { type: "tool-call", index: 0, id: "call_9", name: "lookup", delta: "" },
      { type: "tool-call", index: 0, delta: '{"q":"x"}' },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "stop", raw: "completed" },
      { type: "end" },
    ]);
  });

  it("reports reasoning summaries as reasoning", () => {
    const events = decode("openai-responses", [
      `data: ${JSON.stringify({ type: "response.reasoning_summary_text.delta", delta: "Thinking" })}\n\n`,
    ]);
    expect(events).toEqual([{ type: "reasoning", delta: "Thinking" }]);
  });
});
