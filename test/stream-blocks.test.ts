/**
 * Real responses are sequences of blocks. For every provider and every block combination
 * (text then a tool call, several tool calls, server tools, reasoning then the answer, a refusal
 * after text, a token limit inside a tool call, data after the end signal, an unframed error
 * tail), structuredStream reads the same outcome under every chunking: whole, one byte at a time,
 * 7-byte chunks and random splits. Fixtures are in test/fixtures/stream/blocks, written from the
 * providers' documentation and the official SDKs' sources (generate.py writes them).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { structuredStream } from "../src/stream/index.ts";
import { blockBytes, CASES, check, observe } from "./fixtures/stream/blocks/cases.ts";
import { chunkBytes, splitBytes } from "./fixtures/stream/harness.ts";

const RUNS = Number(process.env.FC_RUNS ?? 8);

describe.each(
  CASES.map((c, i) => ({
    ...c,
    label: `${c.file}${c.options ? ` ${JSON.stringify(c.options.answer ?? Object.keys(c.options.tools ?? {}))}` : ""} #${i}`,
  })),
)("$label", (testCase) => {
  const bytes = blockBytes(testCase.file);

  it("reads the expected outcome whole", async () => {
    check(await observe(testCase, [bytes]), testCase.expected);
  });

  it("reads the same outcome one byte at a time and in 7-byte chunks", async () => {
    check(await observe(testCase, chunkBytes(bytes, 1)), testCase.expected);
    check(await observe(testCase, chunkBytes(bytes, 7)), testCase.expected);
  });

  it("reads the same outcome under any split (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), async (cuts) => {
        check(await observe(testCase, splitBytes(bytes, cuts)), testCase.expected);
      }),
      { numRuns: RUNS },
    );
  });
});

async function* from(chunks: readonly string[]): AsyncGenerator<string> {
  yield* chunks;
}

describe("the provider's end signal and keep-alives", () => {
  /** Yields `chunks`, then never ends (a server that leaves the connection open). */
  function openEnded(chunks: readonly string[]) {
    let returned = false;
    const source: AsyncIterable<string> = {
      [Symbol.asyncIterator]() {
        let i = 0;
        return {
          next: () =>
            i < chunks.length
              ? Promise.resolve({ done: false, value: chunks[i++]! })
              : new Promise<IteratorResult<string>>(() => {}),
          async return() {
            returned = true;
            return { done: true, value: undefined };
          },
        };
      },
    };
    return {
      source,
      get returned() {
        return returned;
      },
    };
  }

  it("completes a whole answer followed by [DONE] on a connection the server leaves open, and releases it", async () => {
    const line = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
    const open = openEnded([
      line({ choices: [{ index: 0, delta: { content: '{"a":1}' }, finish_reason: "stop" }] }),
      "data: [DONE]\n\n",
    ]);
    const s = structuredStream({ source: open.source, provider: "openai-chat", idleTimeoutMs: 60_000 });
    expect(await s.result).toEqual({ a: 1 });
    expect(open.returned).toBe(true);
  });

  it("does the same for every provider's end signal", async () => {
    const bodies: Record<string, string> = {
      anthropic: `event: message_stop\ndata: {"type":"message_stop"}\n\n`,
      "openai-responses": `data: {"type":"response.completed","response":{}}\n\n`,
      gemini: `data: {"candidates":[{"content":{"parts":[]},"finishReason":"STOP"}]}\n\n`,
      ollama: `{"message":{"content":""},"done":true,"done_reason":"stop"}\n`,
    };
    const text: Record<string, string> = {
      anthropic: `event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"[1]"}}\n\n`,
      "openai-responses": `data: {"type":"response.output_text.delta","delta":"[1]"}\n\n`,
      gemini: `data: {"candidates":[{"content":{"parts":[{"text":"[1]"}]}}]}\n\n`,
      ollama: `{"message":{"content":"[1]"},"done":false}\n`,
    };
    for (const provider of Object.keys(bodies)) {
      const open = openEnded([text[provider]!, bodies[provider]!]);
      const s = structuredStream({ source: open.source, provider: provider as never });
      expect(await s.result).toEqual([1]);
      expect(open.returned).toBe(true);
    }
  });

  it("times out a provider that sends only keep-alive comments", async () => {
    let sent = 0;
    const source: AsyncIterable<string> = {
      [Symbol.asyncIterator]() {
        return {
          async next() {
            await new Promise((resolve) => setTimeout(resolve, 5));
            sent++;
            return { done: false, value: ": keep-alive\n\n" };
          },
          async return() {
            return { done: true, value: undefined };
          },
        };
      },
    };
    for (const provider of ["openai-chat", "auto"] as const) {
      const s = structuredStream({ source, provider, idleTimeoutMs: 60 });
      await expect(s.result).rejects.toMatchObject({ code: "timeout" });
    }
    // Comments kept coming the whole time: the time-out is not for lack of bytes.
    expect(sent).toBeGreaterThan(2);
  });

  it("reports an event longer than the cap as limit_exceeded, even when it arrives in one chunk", async () => {
    const huge = `data: {"choices":[{"index":0,"delta":{"content":"${"x".repeat(17 * 1024 * 1024)}"}}]}\n\n`;
    const s = structuredStream({ source: from([huge]), provider: "openai-chat" });
    await expect(s.result).rejects.toMatchObject({ code: "limit_exceeded" });
  });

  it("lenient: ignores text after the JSON and a closing fence", async () => {
    for (const answer of ['Here you go:\n```json\n{"a": 1}\n```\nHope that helps', '{"a": 1} done.']) {
      const s = structuredStream({ source: from([answer]), provider: "text", lenient: true });
      expect(await s.result).toEqual({ a: 1 });
    }
  });
});

describe("tool calls across a retry", () => {
  it("fails the calls of a dropped attempt and streams the retry's calls anew", async () => {
    const whole = new TextDecoder().decode(blockBytes("openai-chat.several-tools.sse"));
    const cut = whole.slice(0, whole.indexOf("\n\n", whole.indexOf("get_time")) + 2);
    let attempts = 0;
    const s = structuredStream({
      source: async () => {
        attempts++;
        return from(attempts === 1 ? [cut] : [whole]);
      },
      provider: "openai-chat",
      tools: { get_weather: { type: "object" }, get_time: { type: "object" } },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const seen: { name: string; attempt: number; outcome: unknown }[] = [];
    for await (const call of s.toolCalls()) {
      seen.push({
        name: call.name,
        attempt: call.attempt,
        outcome: await call.result.then(
          (value) => value,
          (error: { code: string }) => error.code,
        ),
      });
    }
    expect(await s.result).toBeUndefined();
    expect(seen).toEqual([
      { name: "get_weather", attempt: 0, outcome: "connection_lost" },
      { name: "get_time", attempt: 0, outcome: "connection_lost" },
      { name: "get_weather", attempt: 1, outcome: { city: "Oslo" } },
      { name: "get_time", attempt: 1, outcome: { zone: "Europe/Oslo" } },
    ]);
  });
});

describe("tool calls validated early", () => {
  it("fails a call whose arguments contradict its schema, and only that call", async () => {
    const s = structuredStream({
      source: from([new TextDecoder().decode(blockBytes("openai-chat.several-tools.sse"))]),
      provider: "openai-chat",
      tools: {
        get_weather: { type: "object", properties: { city: { type: "number" } } },
        get_time: { type: "object", properties: { zone: { type: "string" } } },
      },
    });
    const outcomes: unknown[] = [];
    for await (const call of s.toolCalls()) {
      outcomes.push(
        await call.result.then(
          (value) => ({ [call.name]: value }),
          (error: { code: string; issues?: { pointer: string }[] }) => ({
            [call.name]: error.code,
            at: error.issues?.[0]?.pointer,
          }),
        ),
      );
    }
    expect(await s.result).toBeUndefined();
    expect(outcomes).toEqual([
      { get_weather: "schema_mismatch", at: "/city" },
      { get_time: { zone: "Europe/Oslo" } },
    ]);
  });
});
