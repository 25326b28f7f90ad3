import { Stream as AnthropicStream } from "@anthropic-ai/sdk/core/streaming";
import { Stream as OpenAIStream } from "openai/core/streaming";
import { describe, expect, it } from "vitest";
import { decode, fixture, fixtureNames } from "../../test/fixtures/providers/harness.ts";
import { createSdkMapper, errorFromSdk, type ProviderEvent, type ProviderId } from "./index.ts";

/** Runs a fixture through the official SDK's own SSE stream and maps what it yields. */
async function throughSdk(provider: ProviderId, name: string): Promise<ProviderEvent[]> {
  const response = new Response(fixture(provider, name), {
    headers: { "content-type": "text/event-stream" },
  });
  const controller = new AbortController();
  const stream =
    provider === "anthropic"
      ? AnthropicStream.fromSSEResponse<unknown>(response, controller)
      : OpenAIStream.fromSSEResponse<unknown>(response, controller);
  const mapper = createSdkMapper(provider);
  const events: ProviderEvent[] = [];
  try {
    for await (const item of stream) events.push(...mapper.map(item));
    events.push(...mapper.end());
  } catch (error) {
    const event = errorFromSdk(error);
    if (!event) throw error;
    events.push(event);
  }
  return events;
}

// The wire decoder and the SDK path must agree, except that the SDKs swallow `[DONE]` (a finish
// only the wire can see when no finish_reason came) and put their own words on errors.
const comparable = (events: ProviderEvent[]) =>
  events
    // The SDK's iterator ending is its end signal (it swallows `[DONE]`).
    .filter((event) => event.type !== "end")
    .map((event) =>
      event.type === "error"
        ? { type: "error", errorType: event.errorType, retryable: event.retryable }
        : event,
    );

describe.each<ProviderId>(["openai-chat", "openai-responses", "anthropic"])(
  "the %s SDK mapper",
  (provider) => {
    for (const name of fixtureNames(provider).filter(
      (n) => !n.startsWith("cut-") && !n.startsWith("no-final"),
    )) {
      it(`maps the objects the official SDK yields for ${name} like the wire decoder`, async () => {
        const sdk = await throughSdk(provider, name);
        expect(comparable(sdk)).toEqual(comparable(decode(provider, [fixture(provider, name)])));
      });
    }
  },
);

describe("SDK objects built by hand", () => {
  it("maps a ChatCompletionChunk refusal and finish", () => {
    const mapper = createSdkMapper("openai-chat");
    const chunk = {
      id: "c",
      object: "chat.completion.chunk",
      created: 0,
      model: "gpt-4o",
      choices: [{ index: 0, delta: { refusal: "No." }, finish_reason: "stop", logprobs: null }],
    };
    expect(mapper.map(chunk)).toEqual([
      { type: "refusal", delta: "No." },
      { type: "finish", reason: "stop", raw: "stop" },
    ]);
  });

  it("maps @google/genai's GenerateContentResponse objects", () => {
    const mapper = createSdkMapper("gemini");
    expect(
      mapper.map({
        candidates: [
          { content: { role: "model", parts: [{ text: "{}" }] }, finishReason: "MAX_TOKENS", index: 0 },
        ],
        usageMetadata: { promptTokenCount: 3, candidatesTokenCount: 1, totalTokenCount: 4 },
      }),
    ).toEqual([
      { type: "text", delta: "{}" },
      { type: "usage", usage: { inputTokens: 3, outputTokens: 1, totalTokens: 4 } },
      { type: "finish", reason: "length", raw: "MAX_TOKENS" },
      { type: "end" },
    ]);
  });

  it("maps ollama-js ChatResponse objects, a tool call's arguments included", () => {
    const mapper = createSdkMapper("ollama");
    expect(
      mapper.map({
        model: "llama3.2",
        message: {
          role: "assistant",
          content: "",
          tool_calls: [{ function: { name: "answer", arguments: { a: 1 } } }],
        },
        done: true,
        done_reason: "stop",
      }),
    ).toEqual([
      { type: "tool-call", index: 0, name: "answer", delta: '{"a":1}' },
      { type: "tool-call-end", index: 0 },
      { type: "finish", reason: "stop", raw: "stop" },
      { type: "end" },
    ]);
  });

  it("maps plain strings as text and ends a text stream with the end of the stream", () => {
    const mapper = createSdkMapper("text");
    expect([...mapper.map('{"a"'), ...mapper.map(":1}"), ...mapper.end()]).toEqual([
      { type: "text", delta: '{"a"' },
      { type: "text", delta: ":1}" },
      { type: "finish", reason: "stop", raw: "end_of_stream" },
      { type: "end" },
    ]);
  });
});
