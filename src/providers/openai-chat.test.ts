import { describe, expect, it } from "vitest";
import { decode, fixture } from "../../test/fixtures/providers/harness.ts";

const chat = (name: string) => decode("openai-chat", [fixture("openai-chat", name)]);

describe("the openai-chat adapter", () => {
  it("streams delta.content, finishes on finish_reason stop, then reports the usage chunk", () => {
    expect(chat("basic.sse")).toEqual([
      { type: "text", delta: '{"city":' },
      { type: "text", delta: '"Paris — ville lumière"}' },
      { type: "finish", reason: "stop", raw: "stop" },
      { type: "usage", usage: { inputTokens: 21, outputTokens: 9, totalTokens: 30 } },
    ]);
  });

  it("streams delta.refusal as refusal deltas", () => {
    expect(chat("refusal.sse")).toEqual([
      { type: "refusal", delta: "I'm sorry, " },
      { type: "refusal", delta: "I can't help with that." },
      { type: "finish", reason: "stop", raw: "stop" },
    ]);
  });

  it("reports finish_reason length as truncation", () => {
    expect(chat("truncated-length.sse").at(-1)).toEqual({ type: "finish", reason: "length", raw: "length" });
  });

  it("reports finish_reason content_filter as a filter refusal", () => {
    expect(chat("content-filter.sse").at(-1)).toEqual({
      type: "finish",
      reason: "content_filter",
      raw: "content_filter",
    });
  });

  it("streams one function call's arguments as the answer and counts tool_calls as a normal stop", () => {
    expect(chat("tool-call.sse")).toEqual([
      { type: "text", delta: '{"ci' },
      { type: "text", delta: 'ty":"Oslo"}' },
      { type: "finish", reason: "stop", raw: "tool_calls" },
    ]);
  });

  it("ignores the arguments of a second, parallel tool call and of other choices", () => {
    const line = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
    const events = decode("openai-chat", [
      line({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: "{}" } }] } }] }),
      line({ choices: [{ index: 1, delta: { content: "other" } }] }),
    ]);
    expect(events).toEqual([]);
  });

  it("maps an error object sent mid-stream to a retryable provider error", () => {
    expect(chat("mid-stream-error.sse")).toEqual([
      { type: "text", delta: '{"a":' },
      {
        type: "error",
        errorType: "server_error",
        message: "The server had an error while processing your request. Sorry about that!",
        retryable: true,
      },
    ]);
  });

  it("skips comments and keep-alives between events", () => {
    expect(chat("keepalive-comments.sse")).toEqual([
      { type: "text", delta: "[1," },
      { type: "text", delta: "2]" },
      { type: "finish", reason: "stop", raw: "stop" },
    ]);
  });

  it("has no finish when the stream is cut before its end signal", () => {
    expect(chat("cut-mid-stream.sse").some((event) => event.type === "finish")).toBe(false);
  });

  it("treats [DONE] without a finish_reason as the end (OpenAI-compatible servers)", () => {
    const events = decode("openai-chat", [
      'data: {"choices":[{"index":0,"delta":{"content":"{}"},"finish_reason":null}]}\n\n',
      "data: [DONE]\n\n",
    ]);
    expect(events).toEqual([
      { type: "text", delta: "{}" },
      { type: "finish", reason: "stop", raw: "[DONE]" },
    ]);
  });

  it("does not finish twice when [DONE] follows a finish_reason", () => {
    expect(chat("basic.sse").filter((event) => event.type === "finish")).toHaveLength(1);
  });

  it("reports an unknown finish_reason as other, keeping the raw value", () => {
    const events = decode("openai-chat", [
      'data: {"choices":[{"index":0,"delta":{},"finish_reason":"abort"}]}\n\n',
    ]);
    expect(events).toEqual([{ type: "finish", reason: "other", raw: "abort" }]);
  });
});
