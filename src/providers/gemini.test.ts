import { describe, expect, it } from "vitest";
import { decode, fixture } from "../../test/fixtures/providers/harness.ts";

const gemini = (name: string) => decode("gemini", [fixture("gemini", name)]);

describe("the gemini adapter", () => {
  it("streams candidates[0].content.parts[].text and finishes on finishReason STOP (CRLF wire)", () => {
    expect(gemini("basic.sse")).toEqual([
      { type: "text", delta: '{"city": "Kraków' },
      { type: "usage", usage: { inputTokens: 9, outputTokens: 4, totalTokens: 13 } },
      { type: "text", delta: '", "note": "naïve café"}' },
      { type: "usage", usage: { inputTokens: 9, outputTokens: 10, totalTokens: 19 } },
      { type: "usage", usage: { inputTokens: 9, outputTokens: 11, totalTokens: 20 } },
      { type: "finish", reason: "stop", raw: "STOP" },
    ]);
  });

  it("reports MAX_TOKENS as truncation", () => {
    expect(gemini("max-tokens.sse").at(-1)).toEqual({ type: "finish", reason: "length", raw: "MAX_TOKENS" });
  });

  it("reports SAFETY as a filter refusal", () => {
    expect(gemini("safety.sse").at(-1)).toEqual({ type: "finish", reason: "content_filter", raw: "SAFETY" });
  });

  it("reports a blocked prompt (promptFeedback.blockReason) as a filter refusal without a message", () => {
    expect(gemini("prompt-blocked.sse")).toEqual([
      { type: "usage", usage: { inputTokens: 12, totalTokens: 12 } },
      {
        type: "finish",
        reason: "content_filter",
        raw: "PROHIBITED_CONTENT",
        detail: "The prompt was blocked.",
      },
    ]);
  });

  it("skips thought parts", () => {
    expect(gemini("thought-parts.sse").filter((event) => event.type === "text")).toEqual([
      { type: "text", delta: "[true]" },
    ]);
  });

  it("maps an error sent mid-stream to a provider error with its status", () => {
    expect(gemini("mid-stream-error.sse").at(-1)).toEqual({
      type: "error",
      errorType: "UNAVAILABLE",
      message: "The model is overloaded. Please try again later.",
      status: 503,
      retryable: true,
    });
  });

  it("keeps finishMessage as the finish detail and maps other reasons to other", () => {
    const events = decode("gemini", [
      `data: ${JSON.stringify({ candidates: [{ content: { parts: [] }, finishReason: "MALFORMED_FUNCTION_CALL", finishMessage: "bad call" }] })}\n\n`,
    ]);
    expect(events).toEqual([
      { type: "finish", reason: "other", raw: "MALFORMED_FUNCTION_CALL", detail: "bad call" },
    ]);
  });
});
