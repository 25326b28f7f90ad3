/**
 * The SDK-object path: the official `openai` and `@anthropic-ai/sdk` clients pointed at the
 * provider simulator on 127.0.0.1 through `baseURL`, their stream objects passed as `source`.
 * structream tells the provider from the first object, reads the answer, and maps the SDK's
 * failures (cut connection, error events) to the same codes as the HTTP path. Aborting closes the
 * SDK's HTTP body. Every server is closed and no handle is left open.
 */
import Anthropic from "@anthropic-ai/sdk";
import { Stream as AnthropicStream } from "@anthropic-ai/sdk/core/streaming";
import OpenAI from "openai";
import { Stream as OpenAIStream } from "openai/core/streaming";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import { blockBytes, CASES, check, observe } from "./fixtures/stream/blocks/cases.ts";
import {
  answerSchema,
  expectNoLeaks,
  labels,
  type Outcome,
  openHandles,
  serve,
  settle,
  type TestServer,
  waitFor,
  write,
} from "./fixtures/stream/harness.ts";

let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;
let handlesBefore: Record<string, number>;

beforeAll(async () => {
  handlesBefore = openHandles();
  sim = await startSimulator({ pace: "fast", seed: 5, retryAfterMs: 50 });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "test-key", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: "test-key", maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expectNoLeaks(handlesBefore);
});

const messages = [{ role: "user" as const, content: "Lemons and otters" }];

function chat(model: string) {
  return openai.chat.completions.create({
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "answer",
        schema: answerSchema as unknown as Record<string, unknown>,
        strict: true,
      },
    },
  });
}

function responses(model: string) {
  return openai.responses.create({
    model,
    input: "Lemons and otters",
    stream: true,
    text: {
      format: {
        type: "json_schema",
        name: "answer",
        schema: answerSchema as unknown as Record<string, unknown>,
        strict: true,
      },
    },
  });
}

function messagesCreate(model: string) {
  return anthropic.messages.create({
    model,
    max_tokens: 1024,
    messages,
    stream: true,
    output_config: {
      format: { type: "json_schema", schema: answerSchema as unknown as Record<string, unknown> },
    },
  });
}

function expectAnswer(value: unknown): void {
  expect(value).toMatchObject({
    title: expect.any(String),
    mood: expect.stringMatching(/^(calm|busy|tired)$/),
    author: { name: expect.any(String), email: expect.stringContaining("@") },
  });
  expect((value as { items: unknown[] }).items).toHaveLength(3);
}

function flow<T>(outcome: Outcome<T>): string[] {
  return labels(outcome.events, ["field", "field-state", "partial"]);
}

describe("the openai SDK's chat completion stream as source", () => {
  it("is detected and read to the validated value", async () => {
    const outcome = await settle(structuredStream({ source: await chat("gpt-4.1"), schema: answerSchema }));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    expect(flow(outcome)).toEqual(["status:streaming", "status:validating", "status:complete", "complete"]);
    const complete = outcome.events.at(-1);
    expect(complete?.type === "complete" && complete.stats.usage?.outputTokens).toBeGreaterThan(0);
  });

  it("is read the same with the provider named", async () => {
    const outcome = await settle(
      structuredStream({ source: await chat("gpt-4.1"), provider: "openai-chat", schema: answerSchema }),
    );
    expectAnswer(outcome.value);
  });

  it("fails with truncated and keeps the partial", async () => {
    const outcome = await settle(
      structuredStream({ source: await chat("sim-truncate"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("truncated");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
  });

  it("fails with refusal and the model's message", async () => {
    const outcome = await settle(
      structuredStream({ source: await chat("sim-refusal"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("refusal");
    expect(outcome.error?.refusal).toMatch(/can't help/);
  });

  it("fails with connection_lost, not retried, when the socket is destroyed mid-stream", async () => {
    const before = sim.requests;
    const outcome = await settle(
      structuredStream({ source: await chat("sim-drop-once"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("connection_lost");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    expect(outcome.events.some((e) => e.type === "retry")).toBe(false);
    expect(sim.requests - before).toBe(1);
  });

  it("fails with provider_error on an error event mid-stream", async () => {
    const outcome = await settle(
      structuredStream({ source: await chat("sim-error-event"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("provider_error");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
  });

  it("fails early with schema_mismatch when the answer breaks the schema", async () => {
    const outcome = await settle(
      structuredStream({ source: await chat("sim-schema-violation"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("schema_mismatch");
    expect(outcome.error?.issues?.[0]?.pointer).toBe("/mood");
  });

  it("given as a function is called again after a dropped connection", async () => {
    let calls = 0;
    const outcome = await settle(
      structuredStream({
        source: () => {
          calls++;
          return openai.chat.completions.create({
            model: "sim-drop-once",
            messages: [{ role: "user", content: "A function source" }],
            stream: true,
            response_format: {
              type: "json_schema",
              json_schema: { name: "answer", schema: answerSchema as unknown as Record<string, unknown> },
            },
          });
        },
        schema: answerSchema,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    expect(outcome.error).toBeUndefined();
    expect(calls).toBe(2);
    expect(flow(outcome)).toContain("retry:connection_lost");
  });
});

describe("the openai SDK's Responses stream as source", () => {
  it("is detected and read to the validated value", async () => {
    const outcome = await settle(
      structuredStream({ source: await responses("gpt-4.1"), schema: answerSchema }),
    );
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
  });

  it("fails with refusal and the model's message", async () => {
    const outcome = await settle(
      structuredStream({ source: await responses("sim-refusal"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("refusal");
    expect(outcome.error?.refusal).toMatch(/can't help/);
  });

  it("fails with truncated when the response is incomplete", async () => {
    const outcome = await settle(
      structuredStream({ source: await responses("sim-truncate"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("truncated");
  });

  it("fails with provider_error on an error event mid-stream", async () => {
    const outcome = await settle(
      structuredStream({ source: await responses("sim-error-event"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("provider_error");
  });
});

describe("the @anthropic-ai/sdk message stream as source", () => {
  it("from messages.create({ stream: true }) is detected and read to the validated value", async () => {
    const outcome = await settle(
      structuredStream({ source: await messagesCreate("claude"), schema: answerSchema }),
    );
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    const complete = outcome.events.at(-1);
    expect(complete?.type === "complete" && complete.stats.usage?.outputTokens).toBeGreaterThan(0);
  });

  it("from messages.stream() is read the same", async () => {
    const stream = anthropic.messages.stream({
      model: "claude",
      max_tokens: 1024,
      messages,
      output_config: {
        format: { type: "json_schema", schema: answerSchema as unknown as Record<string, unknown> },
      },
    });
    const outcome = await settle(structuredStream({ source: stream, schema: answerSchema }));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
  });

  it("fails with refusal when the model refuses", async () => {
    const outcome = await settle(
      structuredStream({ source: await messagesCreate("sim-refusal"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("refusal");
  });

  it("fails with truncated at max_tokens and keeps the partial", async () => {
    const outcome = await settle(
      structuredStream({ source: await messagesCreate("sim-truncate"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("truncated");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
  });

  it("fails with provider_error (overloaded_error) on an error event mid-stream", async () => {
    const outcome = await settle(
      structuredStream({ source: await messagesCreate("sim-error-event"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("provider_error");
    expect(outcome.error?.providerType).toBe("overloaded_error");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
  });

  it("fails with connection_lost when the socket is destroyed mid-stream", async () => {
    const outcome = await settle(
      structuredStream({ source: await messagesCreate("sim-drop"), schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("connection_lost");
  });
});

describe("aborting a stream read from an SDK", () => {
  let slow: TestServer;
  let closed = 0;

  beforeAll(async () => {
    slow = await serve(async (req, res) => {
      req.resume();
      res.once("close", () => closed++);
      res.writeHead(200, { "content-type": "text/event-stream" });
      const event = (content: string) =>
        `data: ${JSON.stringify({ id: "c", object: "chat.completion.chunk", created: 0, model: "m", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
      await write(res, event('{"title":"'));
      while (!res.destroyed) {
        await new Promise((resolve) => setTimeout(resolve, 10));
        await write(res, event("a"));
      }
    });
  });

  afterAll(async () => {
    await slow.close();
  });

  it("ends at once with aborted and closes the SDK's HTTP body", async () => {
    const client = new OpenAI({ baseURL: `${slow.url}/v1`, apiKey: "test-key", maxRetries: 0 });
    const before = closed;
    const s = structuredStream({
      source: await client.chat.completions.create({ model: "m", messages, stream: true }),
    });
    const settled = settle(s);
    await new Promise<void>((resolve) => s.once("partial", () => resolve()));
    s.abort();
    const outcome = await settled;
    expect(outcome.error?.code).toBe("aborted");
    expect(outcome.error?.partial).toEqual({ title: expect.stringMatching(/^a*$/) });
    await waitFor(() => closed > before);
  });
});

describe("the official SDKs' stream objects as sources, for every block combination", () => {
  const sdkCases = CASES.filter((c) => /^(openai-chat|openai-responses|anthropic)\./.test(c.file));
  it.each(sdkCases.map((c, i) => ({ ...c, label: `${c.file} #${i}` })))(
    "$label reads the same outcome through the SDK",
    async (testCase) => {
      const response = new Response(blockBytes(testCase.file), {
        headers: { "content-type": "text/event-stream" },
      });
      const controller = new AbortController();
      const stream = testCase.file.startsWith("anthropic")
        ? AnthropicStream.fromSSEResponse<unknown>(response, controller)
        : OpenAIStream.fromSSEResponse<unknown>(response, controller);
      check(
        await observe(testCase, [], stream as AsyncIterable<unknown>),
        testCase.sdkExpected ?? testCase.expected,
      );
    },
  );
});
