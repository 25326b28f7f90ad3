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
    ]);
  });

  it("streams response.refusal.delta as refusal deltas", () => {
    expect(responses("refusal.sse")).toEqual([
      { type: "refusal", delta: "I can't " },
      { type: "refusal", delta: "assist with that." },
      { type: "usage", usage: { inputTokens: 20, outputTokens: 7, totalTokens: 27 } },
      { type: "finish", reason: "stop", raw: "completed" },
    ]);
  });

  it("reports response.incomplete for max_output_tokens as truncation", () => {
    expect(responses("incomplete-max-output-tokens.sse").at(-1)).toEqual({
      type: "finish",
      reason: "length",
      raw: "max_output_tokens",
    });
  });

  it("reports response.incomplete for content_filter as a filter refusal", () => {
    expect(responses("incomplete-content-filter.sse")).toEqual([
      { type: "text", delta: '{"story":"' },
      { type: "finish", reason: "content_filter", raw: "content_filter" },
    ]);
  });

  it("streams the first function call's arguments as the answer", () => {
    expect(responses("function-call.sse")).toEqual([
      { type: "text", delta: '{"n":' },
      { type: "text", delta: "42}" },
      { type: "usage", usage: { inputTokens: 50, outputTokens: 8, totalTokens: 58 } },
      { type: "finish", reason: "stop", raw: "completed" },
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
});
