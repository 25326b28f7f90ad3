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
      { type: "end" },
    ]);
  });

  it("reports MAX_TOKENS as truncation", () => {
    expect(gemini("max-tokens.sse").at(-2)).toEqual({ type: "finish", reason: "length", raw: "MAX_TOKENS" });
  });

  it("reports SAFETY as a filter refusal", () => {
    expect(gemini("safety.sse").at(-2)).toEqual({ type: "finish", reason: "content_filter", raw: "SAFETY" });
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
      { type: "end" },
    ]);
  });

  it("reports thought parts as reasoning, apart from the text", () => {
    const events = gemini("thought-parts.sse");
    expect(events.filter((event) => event.type === "text")).toEqual([{ type: "text", delta: "[true]" }]);
    expect(events.some((event) => event.type === "reasoning")).toBe(true);
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
      { type: "end" },
    ]);
  });

  it("reads an error object written after the last event without data: framing", () => {
    const tail =
      '{\n  "error": {\n    "code": 429,\n    "message": "Resource has been exhausted (e.g. check quota).",\n    "status": "RESOURCE_EXHAUSTED"\n  }\n}\n';
    const body = `data: ${JSON.stringify({ candidates: [{ content: { parts: [{ text: '{"a":' }] } }] })}\r\n\r\n${tail}`;
    for (const chunks of [[body], [...body]]) {
      expect(decode("gemini", chunks)).toEqual([
        { type: "text", delta: '{"a":' },
        {
          type: "error",
          errorType: "RESOURCE_EXHAUSTED",
          message: "Resource has been exhausted (e.g. check quota).",
          status: 429,
          retryable: true,
        },
      ]);
    }
  });

  it("builds a function call's arguments from streamed partialArgs", () => {
    const part = (functionCall: object) => ({ candidates: [{ content: { parts: [{ functionCall }] } }] });
    const chunks = [
      part({ name: "save", id: "c1", willContinue: true }),
      part({
        partialArgs: [{ jsonPath: "$.title", stringValue: "Hel", willContinue: true }],
        willContinue: true,
      }),
      part({ partialArgs: [{ jsonPath: "$.title", stringValue: 'lo "x"' }], willContinue: true }),
      part({
        partialArgs: [
          { jsonPath: "$.items[0].n", numberValue: 1 },
          { jsonPath: "$.items[1].n", numberValue: 2 },
          { jsonPath: "$.ok", boolValue: true },
          { jsonPath: "$.none", nullValue: "NULL_VALUE" },
        ],
        willContinue: true,
      }),
      part({}),
      { candidates: [{ content: { parts: [] }, finishReason: "STOP" }] },
    ].map((c) => `data: ${JSON.stringify(c)}\n\n`);
    const events = decode("gemini", chunks);
    const args = events
      .filter((e) => e.type === "tool-call")
      .map((e) => (e.type === "tool-call" ? e.delta : ""))
      .join("");
    expect(JSON.parse(args)).toEqual({
      title: 'Hello "x"',
      items: [{ n: 1 }, { n: 2 }],
      ok: true,
      none: null,
    });
    expect(events[0]).toEqual({ type: "tool-call", index: 0, id: "c1", name: "save", delta: "" });
    expect(events.filter((e) => e.type === "tool-call-end")).toEqual([{ type: "tool-call-end", index: 0 }]);
  });
});
