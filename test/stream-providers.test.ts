/**
 * structuredStream making the provider call itself (`request`), against the provider simulator on
 * 127.0.0.1, for every provider: a normal answer, a refusal, truncation, a body cut mid-event with
 * the socket destroyed, a stall that trips the idle time-out, 429 with retry-after then success,
 * 500 then success, and an error event mid-stream. Each case checks the outcome code, the final
 * value or the salvaged partial, and the order of the events. The simulator is closed at the end
 * and no socket, server or timer is left behind.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamError } from "../src/errors/index.ts";
import { type Simulator, simulatorBaseUrl, startSimulator } from "../src/simulator/index.ts";
import { type StructuredStreamOptions, structuredStream } from "../src/stream/index.ts";
import {
  answerSchema,
  expectNoLeaks,
  labels,
  type Outcome,
  openHandles,
  settle,
} from "./fixtures/stream/harness.ts";

const PROVIDERS = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"] as const;
type Provider = (typeof PROVIDERS)[number];

const RETRY_AFTER_MS = 50;

let sim: Simulator;
let handlesBefore: Record<string, number>;

beforeAll(async () => {
  handlesBefore = openHandles();
  sim = await startSimulator({ pace: "fast", seed: 3, retryAfterMs: RETRY_AFTER_MS });
});

afterAll(async () => {
  await sim.close();
  // Sockets the client kept alive close once the server destroys its ends.
  await new Promise((resolve) => setTimeout(resolve, 50));
  expectNoLeaks(handlesBefore);
});

/** A stream of `model` (a `sim-<fault>` name picks the fault) with its own attempt key. */
function ask(provider: Provider, model: string, options: Partial<StructuredStreamOptions> = {}) {
  return structuredStream({
    request: { model, messages: [{ role: "user", content: "Lemons and otters" }] },
    schema: answerSchema,
    provider,
    baseURL: simulatorBaseUrl(sim.url, provider),
    apiKey: "test-key",
    // -once faults count per key: each stream gets its own.
    headers: { "x-sim-attempt-key": randomUUID() },
    idleTimeoutMs: 2_000,
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 1000 },
    ...options,
  });
}

/** Checks a value has the answer schema's shape. */
function expectAnswer(value: unknown): void {
  expect(value).toEqual({
    title: expect.any(String),
    mood: expect.stringMatching(/^(calm|busy|tired)$/),
    author: { name: expect.any(String), email: expect.stringContaining("@") },
    items: [
      { label: expect.any(String), count: expect.any(Number) },
      { label: expect.any(String), count: expect.any(Number) },
      { label: expect.any(String), count: expect.any(Number) },
    ],
  });
}

/** The event labels without the per-field noise. */
function flow<T>(outcome: Outcome<T>): string[] {
  return labels(outcome.events, ["field", "field-state", "partial"]);
}

function retries<T>(outcome: Outcome<T>) {
  return outcome.events.flatMap((e) => (e.type === "retry" ? [e] : []));
}

/** True when the event at `index` is followed by partial data before the stream ends. */
function dataAfter<T>(outcome: Outcome<T>, index: number): boolean {
  return outcome.events.slice(index + 1).some((e) => e.type === "partial" || e.type === "field");
}

function expectFieldsOnce<T>(outcome: Outcome<T>): void {
  const pointers = outcome.events.flatMap((e) => (e.type === "field" ? [e.pointer] : []));
  expect(new Set(pointers).size).toBe(pointers.length);
}

describe.each(PROVIDERS)("a request to %s", (provider) => {
  it("streams a normal answer through connecting, streaming, validating and complete", async () => {
    const s = ask(provider, "model-1");
    expect(s.status).toBe("idle");
    const before = sim.requests;
    const outcome = await settle(s);
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "status:validating",
      "status:complete",
      "complete",
    ]);
    // Partials arrive while streaming, the last one (at 100%) right before complete.
    const firstPartial = outcome.events.findIndex((e) => e.type === "partial");
    const streaming = outcome.events.findIndex((e) => e.type === "status" && e.status === "streaming");
    expect(firstPartial).toBeGreaterThan(streaming);
    const complete = outcome.events.at(-1);
    expect(complete?.type).toBe("complete");
    if (complete?.type === "complete") {
      expect(complete.value).toEqual(outcome.value);
      expect(complete.stats.retries).toBe(0);
      expect(complete.stats.bytes).toBeGreaterThan(0);
      expect(complete.stats.usage?.outputTokens).toBeGreaterThan(0);
    }
    expect(s.progress.percent).toBe(100);
    expect(s.status).toBe("complete");
    expect(sim.requests - before).toBe(1);
    expectFieldsOnce(outcome);
  });

  it("fails with refusal when the model refuses", async () => {
    const outcome = await settle(ask(provider, "sim-refusal"));
    expect(outcome.error).toBeInstanceOf(StreamError);
    if (provider === "ollama") {
      // Ollama has no refusal signal: the simulator sends the refusal sentence as the content.
      expect(outcome.error?.code).toBe("invalid_json");
    } else {
      expect(outcome.error?.code).toBe("refusal");
      expect(outcome.error?.partial).toBeUndefined();
    }
    if (provider === "openai-chat" || provider === "openai-responses") {
      expect(outcome.error?.refusal).toMatch(/can't help/);
    }
    expect(retries(outcome)).toEqual([]);
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "status:error",
      `error:${outcome.error?.code}`,
    ]);
  });

  it("fails with truncated and keeps the partial when the answer is cut by the token limit", async () => {
    const outcome = await settle(ask(provider, "sim-truncate"));
    expect(outcome.error?.code).toBe("truncated");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    expect(outcome.error?.text.length).toBeGreaterThan(0);
    expect(retries(outcome)).toEqual([]);
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "status:error",
      "error:truncated",
    ]);
  });

  it("fails with connection_lost and keeps the partial when the socket is destroyed mid-event", async () => {
    const outcome = await settle(ask(provider, "sim-drop", { maxRetries: 0 }));
    expect(outcome.error?.code).toBe("connection_lost");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    expect(retries(outcome)).toEqual([]);
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "status:error",
      "error:connection_lost",
    ]);
  });

  it("retries a dropped connection and completes, reporting each field once", async () => {
    const outcome = await settle(ask(provider, "sim-drop-once"));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    const [retry, ...more] = retries(outcome);
    expect(more).toEqual([]);
    expect(retry).toMatchObject({ attempt: 1, error: { code: "connection_lost" } });
    expect(retry!.delayMs).toBeLessThan(20);
    expect(dataAfter(outcome, outcome.events.indexOf(retry!))).toBe(true);
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "retry:connection_lost",
      "status:connecting",
      "status:streaming",
      "status:validating",
      "status:complete",
      "complete",
    ]);
    expectFieldsOnce(outcome);
  });

  it("reports each field's states once across a retry, and never shows less than before", async () => {
    const outcome = await settle(ask(provider, "sim-drop-once"));
    expect(outcome.error).toBeUndefined();
    let percent = 0;
    let length = 0;
    for (const e of outcome.events) {
      if (e.type !== "partial") continue;
      expect(e.progress.percent).toBeGreaterThanOrEqual(percent);
      expect(JSON.stringify(e.value).length).toBeGreaterThanOrEqual(length);
      percent = e.progress.percent;
      length = JSON.stringify(e.value).length;
    }
    const states = new Map<string, string[]>();
    for (const e of outcome.events) {
      if (e.type === "field-state") states.set(e.pointer, [...(states.get(e.pointer) ?? []), e.state]);
    }
    for (const [pointer, seen] of states) expect(seen, pointer).toEqual(["streaming", "complete"]);
  });

  it("fails with timeout when the stream stalls past idleTimeoutMs", async () => {
    const started = performance.now();
    const outcome = await settle(ask(provider, "sim-stall", { idleTimeoutMs: 300, maxRetries: 0 }));
    expect(outcome.error?.code).toBe("timeout");
    expect(outcome.error?.reason).toBe("idle");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    // A lower bound only (a timer never fires early); a loaded machine may take any longer.
    expect(performance.now() - started).toBeGreaterThanOrEqual(290);
    expect(flow(outcome)).toEqual(["status:connecting", "status:streaming", "status:error", "error:timeout"]);
  });

  it("retries a stalled stream after the idle time-out and completes", async () => {
    const outcome = await settle(ask(provider, "sim-stall-once", { idleTimeoutMs: 300 }));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    expect(retries(outcome).map((r) => r.error.code)).toEqual(["timeout"]);
  });

  it("waits the retry-after of a 429 and then completes", async () => {
    const before = sim.requests;
    const outcome = await settle(ask(provider, "sim-429-once"));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    const [retry, ...more] = retries(outcome);
    expect(more).toEqual([]);
    expect(retry).toMatchObject({
      attempt: 1,
      delayMs: RETRY_AFTER_MS,
      error: { code: "rate_limited", status: 429, retryAfterMs: RETRY_AFTER_MS },
    });
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "retry:rate_limited",
      "status:streaming",
      "status:validating",
      "status:complete",
      "complete",
    ]);
    expect(dataAfter(outcome, outcome.events.indexOf(retry!))).toBe(true);
    expect(sim.requests - before).toBe(2);
    const complete = outcome.events.at(-1);
    expect(complete?.type === "complete" && complete.stats.retries).toBe(1);
  });

  it("fails with rate_limited once the retries run out", async () => {
    const outcome = await settle(ask(provider, "sim-429", { maxRetries: 1 }));
    expect(outcome.error?.code).toBe("rate_limited");
    expect(outcome.error?.status).toBe(429);
    expect(retries(outcome)).toHaveLength(1);
    expect(outcome.error?.partial).toBeUndefined();
  });

  it("retries a 500 and then completes", async () => {
    const outcome = await settle(ask(provider, "sim-500-once"));
    expect(outcome.error).toBeUndefined();
    expectAnswer(outcome.value);
    const [retry, ...more] = retries(outcome);
    expect(more).toEqual([]);
    expect(retry).toMatchObject({ attempt: 1, error: { code: "provider_error", status: 500 } });
    expect(retry!.delayMs).toBeLessThan(20);
    expect(dataAfter(outcome, outcome.events.indexOf(retry!))).toBe(true);
  });

  it("does not retry a 400 and fails with provider_error", async () => {
    const before = sim.requests;
    const outcome = await settle(ask(provider, "sim-400"));
    expect(outcome.error?.code).toBe("provider_error");
    expect(outcome.error?.status).toBe(400);
    expect(retries(outcome)).toEqual([]);
    expect(sim.requests - before).toBe(1);
  });

  it("fails with provider_error and keeps the partial on an error event mid-stream", async () => {
    const outcome = await settle(ask(provider, "sim-error-event", { maxRetries: 0 }));
    expect(outcome.error?.code).toBe("provider_error");
    expect(outcome.error?.providerType).toEqual(expect.any(String));
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    expect(flow(outcome)).toEqual([
      "status:connecting",
      "status:streaming",
      "status:error",
      "error:provider_error",
    ]);
  });

  it("fails with invalid_json when the answer is not JSON", async () => {
    const outcome = await settle(ask(provider, "sim-invalid-json"));
    expect(outcome.error?.code).toBe("invalid_json");
    expect(outcome.error?.parse).toMatchObject({ offset: expect.any(Number), line: 1 });
    expect(retries(outcome)).toEqual([]);
  });

  it("fails early with schema_mismatch when the answer breaks the schema", async () => {
    const outcome = await settle(ask(provider, "sim-schema-violation"));
    expect(outcome.error?.code).toBe("schema_mismatch");
    expect(outcome.error?.issues?.[0]?.pointer).toBe("/mood");
    expect(retries(outcome)).toEqual([]);
    // Early: the stream failed while streaming, never reaching validation.
    expect(flow(outcome)).not.toContain("status:validating");
  });
});

describe("the overall deadline", () => {
  it("fails with timeout (reason deadline) across retries when timeoutMs passes", async () => {
    const outcome = await settle(
      ask("openai-chat", "sim-stall", { idleTimeoutMs: 150, timeoutMs: 400, maxRetries: 10 }),
    );
    expect(outcome.error?.code).toBe("timeout");
    expect(outcome.error?.reason).toBe("deadline");
    // The deadline, not the retry budget, ended it (10 idle time-outs take 1.5 s at least).
    expect(retries(outcome).length).toBeGreaterThan(0);
    expect(retries(outcome).length).toBeLessThan(10);
  });
});

describe("responses with more blocks than the answer (simulator x-sim-blocks)", () => {
  const TOOL_ARGS = {
    lookup: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
    get_time: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
  } as const;

  it.each(PROVIDERS)(
    "%s: reasoning and tool calls stream beside the answer, never into it",
    async (provider) => {
      const s = ask(provider, "sim-none", {
        headers: { "x-sim-attempt-key": randomUUID(), "x-sim-blocks": "thinking,tools,server-tool" },
        tools: TOOL_ARGS,
      });
      const calls: { name: string; index: number; value: unknown }[] = [];
      const collecting = (async () => {
        for await (const call of s.toolCalls())
          calls.push({ name: call.name, index: call.index, value: await call.result });
      })();
      let reasoning = "";
      s.on("reasoning", (event) => {
        reasoning += event.delta;
      });
      expectAnswer(await s.result);
      await collecting;
      expect(reasoning).toMatch(/^The user asks about Lemons and otters\./);
      expect(s.stats.reasoning).toBe(reasoning);
      expect(calls).toEqual([
        { name: "lookup", index: 0, value: { query: "Lemons and otters" } },
        { name: "get_time", index: 1, value: { zone: "UTC" } },
      ]);
    },
  );

  it("anthropic: a preamble before a forced tool's call is commentary, the tool's input the answer", async () => {
    const s = structuredStream({
      request: {
        model: "sim-none",
        messages: [{ role: "user", content: "Lemons and otters" }],
        tools: [{ name: "record", input_schema: answerSchema }],
        tool_choice: { type: "tool", name: "record" },
      },
      schema: answerSchema,
      provider: "anthropic",
      baseURL: simulatorBaseUrl(sim.url, "anthropic"),
      apiKey: "test-key",
      headers: { "x-sim-attempt-key": randomUUID(), "x-sim-blocks": "preamble,thinking" },
    });
    let commentary = "";
    s.on("commentary", (event) => {
      commentary += event.delta;
    });
    expectAnswer(await s.result);
    expect(commentary).toBe("I'll look into Lemons and otters and record the answer now.");
    expect(s.stats.commentary).toBe(commentary);
  });
});
