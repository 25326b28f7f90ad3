import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, fixture, splitAt } from "../../test/fixtures/providers/harness.ts";
import { type ProviderEvent, type ProviderId, readProviderEvents, sendRequest } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

async function collect(
  source: Parameters<typeof readProviderEvents>[0],
  options?: Parameters<typeof readProviderEvents>[1],
) {
  const events: ProviderEvent[] = [];
  for await (const event of readProviderEvents(source, options)) events.push(event);
  return events;
}

function byteStream(bytes: Uint8Array, cuts: number[]): ReadableStream<Uint8Array> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const point of [...points, bytes.length]) {
    if (point > last) chunks.push(bytes.subarray(last, point));
    last = Math.max(last, point);
  }
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

describe("readProviderEvents", () => {
  const cases: [ProviderId, string, string][] = [
    ["openai-chat", "basic.sse", "text/event-stream"],
    ["openai-responses", "basic.sse", "text/event-stream"],
    ["anthropic", "basic.sse", "text/event-stream"],
    ["gemini", "basic.sse", "text/event-stream"],
    ["ollama", "basic.ndjson", "application/x-ndjson"],
  ];

  it.each(cases)("reads a %s Response (%s) with provider auto", async (provider, name, contentType) => {
    let detected: ProviderId | undefined;
    const response = new Response(fixture(provider, name), { headers: { "content-type": contentType } });
    const events = await collect(response, { onProvider: (id) => (detected = id) });
    expect(detected).toBe(provider);
    expect(events).toEqual(decode(provider, [fixture(provider, name)]));
  });

  it("detects the provider from a byte stream cut anywhere, mid-character included (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...cases),
        fc.array(fc.nat(), { maxLength: 30 }),
        async ([provider, name], cuts) => {
          const text = fixture(provider, name);
          const events = await collect(byteStream(new TextEncoder().encode(text), cuts));
          expect(events).toEqual(decode(provider, [text]));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("reads raw JSON text, leniently on request", async () => {
    const text = fixture("text", "fenced-with-prose.txt");
    const chunks = splitAt(text, [5, 20, 44]);
    const events = await collect(
      (async function* () {
        yield* chunks;
      })(),
      { provider: "text", lenient: true },
    );
    expect(
      events
        .filter((e) => e.type === "text")
        .map((e) => (e.type === "text" ? e.delta : ""))
        .join(""),
    ).toBe('{"title": "A `tick` inside", "tags": ["x", "y"]}\n');
    expect(events.at(-1)).toEqual({ type: "finish", reason: "stop", raw: "end_of_stream" });
  });

  it("reads an SDK's event objects, telling the provider from the first", async () => {
    const events = await collect([
      { type: "message_start", message: { usage: { input_tokens: 1, output_tokens: 1 } } },
      { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "[]" } },
      { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 2 } },
      { type: "message_stop" },
    ]);
    expect(events).toEqual([
      { type: "usage", usage: { inputTokens: 1, outputTokens: 1 } },
      { type: "text", delta: "[]" },
      { type: "usage", usage: { outputTokens: 2 } },
      { type: "finish", reason: "stop", raw: "end_turn" },
    ]);
  });

  it("turns an HTTP error Response into one error event", async () => {
    const response = new Response(
      '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}',
      {
        status: 529,
        headers: { "retry-after": "1" },
      },
    );
    expect(await collect(response)).toEqual([
      {
        type: "error",
        errorType: "overloaded_error",
        message: "Overloaded",
        status: 529,
        retryable: true,
        retryAfterMs: 1000,
      },
    ]);
  });

  it("says why it cannot tell the format", async () => {
    const response = new Response("<html>Gateway timeout</html>", {
      headers: { "content-type": "text/html" },
    });
    expect(await collect(response)).toEqual([
      {
        type: "error",
        errorType: "unsupported_format",
        message: expect.stringContaining("neither server-sent events"),
        retryable: false,
      },
    ]);
  });

  it("cancels the body when the loop exits early", async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          new TextEncoder().encode('data: {"choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'),
        );
      },
      cancel() {
        cancelled = true;
      },
    });
    for await (const event of readProviderEvents(body, { provider: "openai-chat" })) {
      expect(event).toEqual({ type: "text", delta: "a" });
      break;
    }
    expect(cancelled).toBe(true);
  });
});

describe("sendRequest", () => {
  const schema = { type: "object", properties: { a: { type: "integer" } }, required: ["a"] };

  it("sends the built request and returns the streaming response", async () => {
    let seen: { url: string; init: RequestInit } | undefined;
    const fetch = (async (url: string, init: RequestInit) => {
      seen = { url, init };
      return new Response(fixture("ollama", "basic.ndjson"), {
        headers: { "content-type": "application/x-ndjson" },
      });
    }) as unknown as typeof globalThis.fetch;
    const sent = await sendRequest("ollama", { schema, request: { model: "llama3.2", messages: [] }, fetch });
    expect(sent.ok).toBe(true);
    expect(seen?.url).toBe("http://localhost:11434/api/chat");
    expect(JSON.parse(String(seen?.init.body)).format).toEqual(schema);
  });

  it("maps an HTTP error answer and a network failure to error events", async () => {
    const limited = (async () =>
      new Response('{"error":{"message":"Slow down","type":"requests","code":"rate_limit_exceeded"}}', {
        status: 429,
        headers: { "retry-after-ms": "250" },
      })) as unknown as typeof globalThis.fetch;
    const sent = await sendRequest("openai-chat", {
      schema,
      request: { model: "m", messages: [] },
      fetch: limited,
    });
    expect(sent.ok === false && sent.error).toEqual({
      type: "error",
      errorType: "rate_limit_exceeded",
      message: "Slow down",
      status: 429,
      retryable: true,
      retryAfterMs: 250,
    });
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof globalThis.fetch;
    const failed = await sendRequest("anthropic", {
      schema,
      request: { model: "m", messages: [] },
      fetch: down,
    });
    expect(failed.ok === false && failed.error).toMatchObject({
      errorType: "network_error",
      retryable: true,
    });
  });
});
