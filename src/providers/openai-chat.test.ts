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
      { type: "end" },
    ]);
  });

  it("streams delta.refusal as refusal deltas", () => {
    expect(chat("refusal.sse")).toEqual([
      { type: "refusal", delta: "I'm sorry, " },
      { type: "refusal", delta: "I can't help with that." },
      { type: "finish", reason: "stop", raw: "stop" },
      { type: "end" },
    ]);
  });

  it("reports finish_reason length as truncation", () => {
    expect(chat("truncated-length.sse").at(-2)).toEqual({ type: "finish", reason: "length", raw: "length" });
  });

  it("reports finish_reason content_filter as a filter refusal", () => {
    expect(chat("content-filter.sse").at(-2)).toEqual({
      type: "finish",
      reason: "content_filter",
      raw: "content_filter",
    });
  });

  it("streams a function call's arguments as tool-call events and counts tool_calls as a normal stop", () => {
    expect(chat("tool-call.sse")).toEqual([
      { type: "tool-call", index: 0, id: "call_abc", name: "answer", delta: "" },
      { type: "tool-call", index: 0, delta: '{"ci' },
      { type: "tool-call", index: 0, delta: 'ty":"Oslo"}' },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "stop", raw: "tool_calls" },
      { type: "end" },
    ]);
  });

  it("numbers parallel tool calls in the order they start and ignores other choices", () => {
    const line = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
    const events = decode("openai-chat", [
      line({ choices: [{ index: 0, delta: { tool_calls: [{ index: 1, function: { arguments: "{}" } }] } }] }),
      line({ choices: [{ index: 1, delta: { content: "other" } }] }),
    ]);
    expect(events).toEqual([{ type: "tool-call", index: 0, delta: "{}" }]);
  });

  it("reads two calls that a compatible server both numbers 0 as two calls, by their ids", () => {
    const line = (body: object) => `data: ${JSON.stringify(body)}\n\n`;
    const call = (id: string, name: string, args: string) => ({
      choices: [{ index: 0, delta: { tool_calls: [{ index: 0, id, function: { name, arguments: args } }] } }],
    });
    const events = decode("openai-chat", [
      line(call("a", "one", '{"x":1}')),
      line(call("b", "two", '{"y":2}')),
      line({ choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] }),
      "data: [DONE]\n\n",
    ]);
    expect(events).toEqual([
      { type: "tool-call", index: 0, id: "a", name: "one", delta: '{"x":1}' },
      { type: "tool-call-end", index: 0 },
      { type: "tool-call", index: 1, id: "b", name: "two", delta: '{"y":2}' },
      { type: "tool-call-end", index: 1 },
      { type: "finish", reason: "stop", raw: "tool_calls" },
      { type: "end" },
    ]);
  });

  it("reads nothing after [DONE]: neither data nor junk", () => {
    const events = decode("openai-chat", [
      'data: {"choices":[{"index":0,"delta":{"content":"{\\"a\\":\\"he"},"finish_reason":null}]}\n\n',
      "data: [DONE]\n\n",
      'data: {"choices":[{"index":0,"delta":{"content":"llo\\"}"},"finish_reason":"stop"}]}\n\n',
      "garbage <html>\n\n",
    ]);
    expect(events).toEqual([
      { type: "text", delta: '{"a":"he' },
      { type: "finish", reason: "stop", raw: "[DONE]" },
      { type: "end" },
    ]);
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
      { type: "end" },
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
      { type: "end" },
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
