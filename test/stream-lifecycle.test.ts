/**
 * The lifecycle of structuredStream over real HTTP on 127.0.0.1: `abort()`, an AbortSignal and a
 * `for await` loop left early end the stream at once with `aborted` and close the HTTP body; a
 * Response or body stream given as `source` is never retried and fails with the precise code,
 * while a `source` function is called again per attempt; `provider: "auto"` detects the format
 * from the content type and first event. Every server is closed and no handle is left open.
 */
import { randomUUID } from "node:crypto";
import type { ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getProvider, type ProviderId } from "../src/providers/index.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import {
  answerSchema,
  countingSource,
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

const titleSchema = {
  type: "object",
  properties: { title: { type: "string" } },
  required: ["title"],
} as const;

/** One OpenAI chat SSE event carrying a content delta. */
function chatEvent(content: string): string {
  return `data: ${JSON.stringify({ object: "chat.completion.chunk", choices: [{ index: 0, delta: { content }, finish_reason: null }] })}\n\n`;
}

interface Trickle extends TestServer {
  /** Requests received. */
  readonly requests: number;
  /** How many responses were closed from the client side (or ended). */
  readonly closed: number;
}

/**
 * A server that answers `POST /v1/chat/completions` (and `GET /`) with an OpenAI chat stream that
 * never ends: `{"title":"` then one `a` every 10 ms. A path with `/429` answers 429 with
 * `retry-after: 10`; a path with `/silent` never answers, not even its headers.
 */
async function startTrickle(): Promise<Trickle> {
  let requests = 0;
  let closed = 0;
  const open = new Set<ServerResponse>();
  const server = await serve(async (req, res) => {
    requests++;
    res.once("close", () => {
      closed++;
      open.delete(res);
    });
    req.resume();
    if (req.url?.includes("/silent")) return; // Never answers: not even headers.
    if (req.url?.includes("/429")) {
      res.writeHead(429, { "content-type": "application/json", "retry-after": "10" });
      res.end(JSON.stringify({ error: { message: "Slow down.", type: "rate_limit_exceeded" } }));
      return;
    }
    open.add(res);
    res.writeHead(200, { "content-type": "text/event-stream" });
    await write(res, chatEvent('{"title":"'));
    while (!res.destroyed && !res.writableEnded) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      await write(res, chatEvent("a"));
    }
  });
  return {
    url: server.url,
    server: server.server,
    sockets: server.sockets,
    close: () => server.close(),
    get requests() {
      return requests;
    },
    get closed() {
      return closed;
    },
  };
}

let sim: Simulator;
let trickle: Trickle;
let handlesBefore: Record<string, number>;

beforeAll(async () => {
  handlesBefore = openHandles();
  sim = await startSimulator({ pace: "fast", seed: 11, retryAfterMs: 50 });
  trickle = await startTrickle();
});

afterAll(async () => {
  await sim.close();
  await trickle.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  expectNoLeaks(handlesBefore);
});

function firstPartial(s: { once: (type: "partial", fn: () => void) => void }): Promise<void> {
  return new Promise((resolve) => s.once("partial", () => resolve()));
}

function retries<T>(outcome: Outcome<T>) {
  return outcome.events.flatMap((e) => (e.type === "retry" ? [e] : []));
}

describe("abort()", () => {
  it("ends a request's stream at once with aborted, keeps the partial and closes the HTTP body", async () => {
    const closedBefore = trickle.closed;
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/v1`,
      schema: titleSchema,
    });
    const settled = settle(s);
    await firstPartial(s);
    // "At once" as causality, not a clock: the server keeps writing every 10 ms, yet nothing of it
    // reaches the consumer after abort(): the next events are the error's.
    let afterAbort: string[] | undefined;
    for (const type of ["partial", "field", "field-state", "status", "error"] as const)
      s.on(type, (e) => afterAbort?.push(e.type === "status" ? `status:${e.status}` : e.type));
    afterAbort = [];
    s.abort("The user left.");
    const outcome = await settled;
    expect(afterAbort).toEqual(["status:error", "error"]);
    expect(outcome.error?.code).toBe("aborted");
    expect(outcome.error?.message).toContain("The user left.");
    expect(outcome.error?.partial).toMatchObject({ title: expect.stringMatching(/^a*$/) });
    expect(s.status).toBe("error");
    expect(labels(outcome.events, ["field", "field-state", "partial"]).slice(-2)).toEqual([
      "status:error",
      "error:aborted",
    ]);
    await waitFor(() => trickle.closed > closedBefore);
  });

  it("ends a stream read from a fetch Response and closes its body", async () => {
    const closedBefore = trickle.closed;
    const s = structuredStream({ source: await fetch(trickle.url), schema: titleSchema });
    const settled = settle(s);
    await firstPartial(s);
    s.abort();
    const outcome = await settled;
    expect(outcome.error?.code).toBe("aborted");
    await waitFor(() => trickle.closed > closedBefore);
  });

  it("does nothing once the stream has completed", async () => {
    const s = structuredStream({
      source: countingSource(['{"title":"done"}']).source,
      provider: "text",
      schema: titleSchema,
    });
    expect(await s.result).toEqual({ title: "done" });
    s.abort();
    expect(s.status).toBe("complete");
    expect(s.error).toBeUndefined();
  });

  it("ends the stream during a retry's wait without sending the retry", async () => {
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/429`,
    });
    const requestsBefore = trickle.requests;
    const settled = settle(s);
    const retry = await new Promise<{ delayMs: number }>((resolve) => s.once("retry", resolve));
    expect(retry.delayMs).toBe(10_000);
    s.abort();
    // The wait is cut short: the stream settles before the retry's 10 s delay could have passed.
    let waitTimer: ReturnType<typeof setTimeout> | undefined;
    const first = await Promise.race([
      settled.then(() => "settled"),
      new Promise((resolve) => {
        waitTimer = setTimeout(() => resolve("retry delay elapsed"), retry.delayMs);
      }),
    ]);
    clearTimeout(waitTimer);
    expect(first).toBe("settled");
    const outcome = await settled;
    expect(outcome.error?.code).toBe("aborted");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(trickle.requests - requestsBefore).toBe(1);
  });
});

describe("a server that never answers", () => {
  it("is given up after idleTimeoutMs with timeout, retried, and every request closed", async () => {
    const requestsBefore = trickle.requests;
    const closedBefore = trickle.closed;
    const outcome = await settle(
      structuredStream({
        request: { model: "m" },
        provider: "openai-chat",
        baseURL: `${trickle.url}/silent`,
        idleTimeoutMs: 100,
        retry: { maxRetries: 1, baseDelayMs: 5, maxDelayMs: 10 },
      }),
    );
    expect(outcome.error?.code).toBe("timeout");
    expect(retries(outcome).map((r) => r.error.code)).toEqual(["timeout"]);
    expect(trickle.requests - requestsBefore).toBe(2);
    await waitFor(() => trickle.closed - closedBefore === 2);
  });

  it("is left at once by abort() while connecting, closing the request", async () => {
    const closedBefore = trickle.closed;
    const requestsBefore = trickle.requests;
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/silent`,
    });
    const settled = settle(s);
    await waitFor(() => trickle.requests > requestsBefore);
    expect(s.status).toBe("connecting");
    s.abort();
    const outcome = await settled;
    expect(outcome.error?.code).toBe("aborted");
    expect(labels(outcome.events)).toEqual(["status:connecting", "status:error", "error:aborted"]);
    await waitFor(() => trickle.closed > closedBefore);
  });
});

describe("an AbortSignal", () => {
  it("ends the stream at once with aborted and closes the HTTP body", async () => {
    const closedBefore = trickle.closed;
    const controller = new AbortController();
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/v1`,
      schema: titleSchema,
      signal: controller.signal,
    });
    const settled = settle(s);
    await firstPartial(s);
    const reason = new Error("Navigated away.");
    controller.abort(reason);
    const outcome = await settled;
    expect(outcome.error?.code).toBe("aborted");
    expect(outcome.error?.message).toContain("Navigated away.");
    expect(outcome.error?.cause).toBe(reason);
    await waitFor(() => trickle.closed > closedBefore);
  });

  it("that is already aborted ends the stream before any request is sent", async () => {
    const requestsBefore = trickle.requests;
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/v1`,
      signal: AbortSignal.abort("Too late."),
    });
    const outcome = await settle(s);
    expect(outcome.error?.code).toBe("aborted");
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(trickle.requests).toBe(requestsBefore);
  });
});

describe("leaving a for await loop early", () => {
  it("cancels the stream with aborted and closes the HTTP body", async () => {
    const closedBefore = trickle.closed;
    const s = structuredStream({ source: await fetch(trickle.url), schema: titleSchema });
    for await (const event of s) if (event.type === "partial") break;
    await expect(s.result).rejects.toMatchObject({ code: "aborted" });
    expect(s.status).toBe("error");
    await waitFor(() => trickle.closed > closedBefore);
  });

  it("cancelling the ReadableStream's reader does the same", async () => {
    const closedBefore = trickle.closed;
    const s = structuredStream({
      request: { model: "m" },
      provider: "openai-chat",
      baseURL: `${trickle.url}/v1`,
    });
    const reader = s.getReader();
    for (;;) {
      const { value } = await reader.read();
      if (value?.type === "field-state") break;
    }
    await reader.cancel("Not interested.");
    await expect(s.result).rejects.toMatchObject({ code: "aborted" });
    await waitFor(() => trickle.closed > closedBefore);
  });
});

/** A streaming request to the simulator, built the way structream builds it. */
function simRequest(provider: ProviderId, model: string) {
  const base =
    provider === "gemini" ? `${sim.url}/v1beta` : provider === "ollama" ? sim.url : `${sim.url}/v1`;
  const built = getProvider(provider).buildRequest!({
    schema: answerSchema,
    request: { model, messages: [{ role: "user", content: "Lemons and otters" }] },
    baseURL: base,
    apiKey: "test-key",
    headers: { "x-sim-attempt-key": randomUUID() },
  });
  return { url: built.url, init: built.init };
}

describe("a Response given as source", () => {
  it("is not retried after a 500 and fails with provider_error", async () => {
    const { url, init } = simRequest("openai-chat", "sim-500-once");
    const before = sim.requests;
    const outcome = await settle(structuredStream({ source: await fetch(url, init), schema: answerSchema }));
    expect(outcome.error?.code).toBe("provider_error");
    expect(outcome.error?.status).toBe(500);
    expect(retries(outcome)).toEqual([]);
    expect(sim.requests - before).toBe(1);
  });

  it("is not retried after a 429 and fails with rate_limited and the provider's retry-after", async () => {
    const { url, init } = simRequest("anthropic", "sim-429-once");
    const outcome = await settle(
      structuredStream({ source: await fetch(url, init), provider: "anthropic", schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("rate_limited");
    expect(outcome.error?.retryAfterMs).toBe(50);
    expect(retries(outcome)).toEqual([]);
  });

  it("is not retried when its socket is destroyed mid-stream and fails with connection_lost", async () => {
    const { url, init } = simRequest("gemini", "sim-drop-once");
    const before = sim.requests;
    const outcome = await settle(structuredStream({ source: await fetch(url, init), schema: answerSchema }));
    expect(outcome.error?.code).toBe("connection_lost");
    expect(outcome.error?.partial).toMatchObject({ title: expect.any(String) });
    expect(retries(outcome)).toEqual([]);
    expect(sim.requests - before).toBe(1);
  });

  it("is not retried when it stalls and fails with timeout", async () => {
    const { url, init } = simRequest("openai-responses", "sim-stall-once");
    const outcome = await settle(
      structuredStream({ source: await fetch(url, init), schema: answerSchema, idleTimeoutMs: 200 }),
    );
    expect(outcome.error?.code).toBe("timeout");
    expect(retries(outcome)).toEqual([]);
  });

  it("given as its body stream is not retried either", async () => {
    const { url, init } = simRequest("ollama", "sim-error-event-once");
    const response = await fetch(url, init);
    const outcome = await settle(
      structuredStream({ source: response.body!, provider: "ollama", schema: answerSchema }),
    );
    expect(outcome.error?.code).toBe("provider_error");
    expect(retries(outcome)).toEqual([]);
  });
});

describe("a function given as source", () => {
  it("is called again for each retry after a 500, then completes", async () => {
    const { url, init } = simRequest("openai-chat", "sim-500-once");
    let calls = 0;
    const outcome = await settle(
      structuredStream({
        source: () => {
          calls++;
          return fetch(url, init);
        },
        schema: answerSchema,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    expect(outcome.error).toBeUndefined();
    expect(calls).toBe(2);
    expect(retries(outcome).map((r) => r.error.code)).toEqual(["provider_error"]);
  });

  it("is called again after the socket is destroyed mid-stream, then completes", async () => {
    const { url, init } = simRequest("anthropic", "sim-drop-once");
    const outcome = await settle(
      structuredStream({
        source: () => fetch(url, init),
        provider: "anthropic",
        schema: answerSchema,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    expect(outcome.error).toBeUndefined();
    expect(retries(outcome).map((r) => r.error.code)).toEqual(["connection_lost"]);
    // The retried attempt's data comes after the retry event.
    const retryIndex = outcome.events.findIndex((e) => e.type === "retry");
    expect(outcome.events.slice(retryIndex).some((e) => e.type === "partial")).toBe(true);
  });

  it("that rejects is retried as connection_lost until the retries run out", async () => {
    let calls = 0;
    const outcome = await settle(
      structuredStream({
        source: () => {
          calls++;
          return Promise.reject(new TypeError("fetch failed"));
        },
        retry: { maxRetries: 2, baseDelayMs: 5, maxDelayMs: 10 },
      }),
    );
    expect(outcome.error?.code).toBe("connection_lost");
    expect(calls).toBe(3);
    expect(retries(outcome).map((r) => r.attempt)).toEqual([1, 2]);
  });

  it("is not called again after a 400", async () => {
    const { url, init } = simRequest("openai-chat", "sim-400");
    let calls = 0;
    const outcome = await settle(
      structuredStream({
        source: () => {
          calls++;
          return fetch(url, init);
        },
        schema: answerSchema,
        retry: { baseDelayMs: 5, maxDelayMs: 20 },
      }),
    );
    expect(outcome.error?.code).toBe("provider_error");
    expect(calls).toBe(1);
  });
});

describe('provider "auto"', () => {
  const providers = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"] as const;

  it.each(providers)("detects %s from the content type and the first event", async (provider) => {
    const { url, init } = simRequest(provider, "model-1");
    const response = await fetch(url, init);
    const outcome = await settle(structuredStream({ source: response, schema: answerSchema }));
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toMatchObject({ title: expect.any(String), items: expect.any(Array) });
  });

  async function served(contentType: string, body: string): Promise<Outcome<unknown>> {
    const server = await serve((_req, res) => {
      res.writeHead(200, { "content-type": contentType });
      res.end(body);
    });
    try {
      return await settle(structuredStream({ source: await fetch(server.url) }));
    } finally {
      await server.close();
    }
  }

  it("reads a text/plain body as the JSON text itself", async () => {
    const outcome = await served("text/plain", '{"a":[1,2]}');
    expect(outcome.value).toEqual({ a: [1, 2] });
  });

  it("reads server-sent events sent with a generic content type by their first event", async () => {
    const outcome = await served("application/octet-stream", `${chatEvent('{"a":1}')}data: [DONE]\n\n`);
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toEqual({ a: 1 });
  });

  it("fails with unsupported_format on an HTML page", async () => {
    const outcome = await served("text/html", "<html><body>Bad gateway</body></html>");
    expect(outcome.error?.code).toBe("unsupported_format");
  });

  it("fails with unsupported_format naming stream: true on a one-line non-streaming OpenAI answer", async () => {
    const body = JSON.stringify({ object: "chat.completion", choices: [{ message: { content: "{}" } }] });
    const outcome = await served("application/json", `${body}\n`);
    expect(outcome.error?.code).toBe("unsupported_format");
    expect(outcome.error?.message).toContain("stream: true");
  });

  it("fails with unsupported_format on a pretty-printed non-streaming OpenAI answer", async () => {
    const body = JSON.stringify(
      { object: "chat.completion", choices: [{ message: { content: "{}" } }] },
      null,
      2,
    );
    const outcome = await served("application/json", body);
    expect(outcome.value).toBeUndefined();
    expect(outcome.error?.code).toBe("unsupported_format");
  });

  it("fails with unsupported_format on the simulator's answer to a request without stream: true", async () => {
    const { url, init } = simRequest("openai-chat", "model-1");
    const response = await fetch(url, {
      ...init,
      body: JSON.stringify({ ...JSON.parse(init.body), stream: false }),
    });
    const outcome = await settle(structuredStream({ source: response }));
    expect(outcome.value).toBeUndefined();
    expect(outcome.error?.code).toBe("unsupported_format");
    expect(outcome.error?.message).toContain("stream: true");
  });
});
