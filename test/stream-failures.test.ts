/**
 * The lifecycle tells the truth in every failure (issue 11, items 2-4): a consumer's exception is
 * the consumer's (reported, never retried nor called `connection_lost`); a failure nobody observes
 * does not crash the process; bad options throw `invalid_option` at once; every limit is
 * `limit_exceeded`; a long `retry-after` fails at once; abort is total; a `source` function gets
 * `{ signal, attempt }`; a finished stream holds no listener and can be collected; `stats.bytes` is
 * exact; `partials()` never repeats itself and throws the stream's error.
 */
import { execFile } from "node:child_process";
import { getEventListeners } from "node:events";
import { fileURLToPath } from "node:url";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { runCli } from "../src/cli/index.ts";
import { subscribe } from "../src/client/index.ts";
import { isStructreamError, StreamError, StructreamError } from "../src/errors/index.ts";
import { type SourceContext, structuredStream } from "../src/stream/index.ts";

function body(...chunks: string[]): ReadableStream<string> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

/** An OpenAI chat SSE body whose answer is `text`, with its end signal. */
function chatResponse(text: string, init: ResponseInit = {}): Response {
  const event = (data: unknown) => `data: ${JSON.stringify(data)}\n\n`;
  const sse =
    event({
      object: "chat.completion.chunk",
      choices: [{ index: 0, delta: { content: text }, finish_reason: null }],
    }) +
    event({ object: "chat.completion.chunk", choices: [{ index: 0, delta: {}, finish_reason: "stop" }] }) +
    "data: [DONE]\n\n";
  return new Response(sse, { status: 200, headers: { "content-type": "text/event-stream" }, ...init });
}

/** Captures what `reportConsumerError` reports, through the platform's `reportError`. */
function captureReports(): unknown[] {
  const reported: unknown[] = [];
  (globalThis as { reportError?: (error: unknown) => void }).reportError = (error) => reported.push(error);
  return reported;
}

afterEach(() => {
  delete (globalThis as { reportError?: unknown }).reportError;
});

const titleSchema = {
  type: "object",
  properties: { title: { type: "string" } },
  required: ["title"],
} as const;

describe("a consumer's exception", () => {
  it("in a watch callback is reported, never retried nor labelled connection_lost", async () => {
    const reported = captureReports();
    let calls = 0;
    const s = structuredStream({
      provider: "text",
      source: async () => {
        calls++;
        return body('{"title":"hel', 'lo"}');
      },
    });
    s.watch("/title", () => {
      throw new Error("the consumer's bug");
    });
    await expect(s.result).resolves.toEqual({ title: "hello" });
    expect(calls).toBe(1);
    expect(s.stats.retries).toBe(0);
    expect(reported.length).toBeGreaterThan(0);
    expect((reported[0] as Error).message).toBe("the consumer's bug");
  });

  it("in an on() listener is reported and the stream goes on", async () => {
    const reported = captureReports();
    let calls = 0;
    const s = structuredStream({
      provider: "text",
      source: async () => {
        calls++;
        return body('{"title":"a"}');
      },
    });
    s.on("field", () => {
      throw new Error("listener bug");
    });
    await expect(s.result).resolves.toEqual({ title: "a" });
    expect(calls).toBe(1);
    expect(reported.map((e) => (e as Error).message)).toContain("listener bug");
  });

  it("reaches node's uncaughtException channel in a real process, without a retry", async () => {
    const out = await runChild("watch-throws");
    expect(out).toEqual({ uncaught: ["the consumer's bug"], calls: 1, status: "complete" });
  });
});

describe("a failure nobody observes", () => {
  it("does not crash the process (a stream used only with on('partial'))", async () => {
    const out = await runChild("unobserved");
    expect(out).toEqual({ uncaught: [], calls: 1, status: "error", code: "invalid_json" });
  });

  it("does not crash the process in the browser client either (a 404 with only on('partial'))", async () => {
    const out = (await runChild("client-unobserved")) as { uncaught: string[]; status: string };
    expect(out.uncaught).toEqual([]);
    expect(out.status).toBe("error");
  });
});

describe("bad options", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    ["provider", { source: body("{}"), provider: "bogus" }, /`provider` must be one of .*"openai-chat"/],
    ["source", { source: 42 }, /`source` must be a Response, a ReadableStream/],
    ["neither", {}, /needs a `source` to read or a `request` to send/],
    ["both", { source: body("{}"), request: { model: "m" } }, /either a `source` or a `request`/],
    [
      "validate",
      { source: body("{}"), validate: "sometimes" },
      /`validate` must be "early" or "final"; got "sometimes"/,
    ],
    ["maxRetries", { source: body("{}"), maxRetries: -1 }, /`maxRetries` must be an integer of at least 0/],
    ["idleTimeoutMs", { source: body("{}"), idleTimeoutMs: "soon" }, /`idleTimeoutMs` must be a number/],
    ["signal", { source: body("{}"), signal: {} }, /`signal` must be an AbortSignal/],
    ["request.model", { request: { messages: [] } }, /`request.model` must be a non-empty string/],
    [
      "text with request",
      { request: { model: "m" }, provider: "text" },
      /`provider` must be one that can make requests/,
    ],
    [
      "retry.maxRetryAfterMs",
      { source: body("{}"), retry: { maxRetryAfterMs: -5 } },
      /`retry.maxRetryAfterMs`/,
    ],
  ];
  for (const [name, options, message] of cases) {
    it(`throw invalid_option synchronously from structuredStream(): ${name}`, () => {
      let thrown: unknown;
      try {
        structuredStream(options as never);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(StructreamError);
      expect(isStructreamError(thrown) && thrown.code).toBe("invalid_option");
      expect((thrown as Error).message).toMatch(message);
    });
  }
});

describe("limits", () => {
  it("maxLength ends as limit_exceeded, not invalid_json", async () => {
    const s = structuredStream({
      provider: "text",
      source: body('{"title":"', "x".repeat(100), '"}'),
      maxLength: 50,
    });
    const error = await s.result.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).code).toBe("limit_exceeded");
    expect((error as StreamError).parse?.code).toBe("max_length");
  });

  it("maxDepth ends as limit_exceeded", async () => {
    const s = structuredStream({ provider: "text", source: body("[[[[[[1]]]]]]"), maxDepth: 3 });
    const error = (await s.result.catch((e: unknown) => e)) as StreamError;
    expect(error.code).toBe("limit_exceeded");
    expect(error.parse?.code).toBe("max_depth");
  });
});

describe("limits in the CLI", () => {
  it("a size limit reaches the CLI as limit_exceeded with exit code 8", async () => {
    const err: string[] = [];
    const io = {
      stdin: Object.assign(
        (async function* () {
          yield "[".repeat(1001);
        })(),
        { isTTY: false },
      ),
      stdout: { write: () => {} },
      stderr: { write: (text: string) => err.push(text), isTTY: false, columns: 80, rows: 24 },
      env: {},
      cwd: process.cwd(),
    };
    expect(await runCli(["parse", "-", "--json"], io as never)).toBe(8);
    const last = JSON.parse(err.join("").trimEnd().split("\n").at(-1)!);
    expect(last).toMatchObject({ type: "error", code: "limit_exceeded" });
  });
});

describe("retry-after", () => {
  function rateLimited(seconds: number): Response {
    return new Response(JSON.stringify({ error: { message: "Slow down.", type: "rate_limit_exceeded" } }), {
      status: 429,
      headers: { "content-type": "application/json", "retry-after": String(seconds) },
    });
  }

  it("beyond maxDelayMs fails at once as rate_limited with retryAfterMs, without sleeping", async () => {
    let calls = 0;
    const s = structuredStream({
      provider: "openai-chat",
      source: async () => {
        calls++;
        return rateLimited(3600);
      },
      retry: { maxDelayMs: 1000 },
    });
    const retries: unknown[] = [];
    s.on("retry", (e) => retries.push(e));
    const error = (await s.result.catch((e: unknown) => e)) as StreamError;
    expect(error.code).toBe("rate_limited");
    expect(error.retryAfterMs).toBe(3_600_000);
    expect(error.message).toMatch(/3600000 ms/);
    expect(calls).toBe(1);
    expect(retries).toEqual([]);
  });

  it("beyond maxRetryAfterMs fails at once too, and within it is honoured", async () => {
    let calls = 0;
    const s = structuredStream({
      provider: "openai-chat",
      source: async () => (++calls === 1 ? rateLimited(2) : chatResponse('{"title":"x"}')),
      retry: { maxDelayMs: 60_000, maxRetryAfterMs: 1000 },
    });
    expect(((await s.result.catch((e: unknown) => e)) as StreamError).code).toBe("rate_limited");
    expect(calls).toBe(1);
  });
});

describe("abort is total", () => {
  it("while validating ends the stream aborted, not complete", async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const schema = z.object({ title: z.string() }).refine(async () => {
      await held;
      return true;
    });
    const s = structuredStream({ provider: "text", source: body('{"title":"a"}'), schema });
    s.on("status", (e) => {
      if (e.status === "validating") s.abort();
    });
    const error = (await s.result.catch((e: unknown) => e)) as StreamError;
    release();
    expect(error.code).toBe("aborted");
    expect(s.status).toBe("error");
  });

  it("gives a source function { signal, attempt }; a failed attempt's signal aborts", async () => {
    const contexts: SourceContext[] = [];
    const s = structuredStream({
      provider: "openai-chat",
      source: async (context) => {
        contexts.push(context);
        return contexts.length === 1 ? new Response("{}", { status: 500 }) : chatResponse('{"title":"x"}');
      },
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    await expect(s.result).resolves.toEqual({ title: "x" });
    expect(contexts.map((c) => c.attempt)).toEqual([0, 1]);
    expect(contexts[0]?.signal.aborted).toBe(true);
    expect(contexts[1]?.signal.aborted).toBe(false);
  });

  it("cancels the body of a Response that arrives after abort()", async () => {
    let cancelled!: () => void;
    const wasCancelled = new Promise<void>((resolve) => {
      cancelled = resolve;
    });
    let answer!: (response: Response) => void;
    const s = structuredStream({
      provider: "openai-chat",
      source: ({ signal }) => {
        expect(signal).toBeInstanceOf(AbortSignal);
        return new Promise<Response>((resolve) => {
          answer = resolve;
        });
      },
    });
    await new Promise((resolve) => setTimeout(resolve, 5));
    s.abort();
    const error = (await s.result.catch((e: unknown) => e)) as StreamError;
    expect(error.code).toBe("aborted");
    answer(
      new Response(
        new ReadableStream({
          cancel() {
            cancelled();
          },
        }),
      ),
    );
    await wasCancelled;
  });
});

describe("a finished stream", () => {
  it("leaves no listener on a shared AbortSignal (20 streams, 0 listeners after)", async () => {
    const controller = new AbortController();
    const streams = Array.from({ length: 20 }, () =>
      structuredStream({ provider: "text", source: body('{"title":"a"}'), signal: controller.signal }),
    );
    expect(getEventListeners(controller.signal, "abort").length).toBe(20);
    await Promise.all(streams.map((s) => s.result));
    expect(getEventListeners(controller.signal, "abort").length).toBe(0);
    const failing = structuredStream({ provider: "text", source: body("{x"), signal: controller.signal });
    await failing.result.catch(() => {});
    expect(getEventListeners(controller.signal, "abort").length).toBe(0);
  });

  it("nor does the browser client's subscription once it ends", async () => {
    const controller = new AbortController();
    const notFound = (async () =>
      new Response(JSON.stringify({ error: { code: "not_found", message: "No such stream." } }), {
        status: 404,
        headers: { "content-type": "application/json" },
      })) as typeof fetch;
    const subs = Array.from({ length: 5 }, () =>
      subscribe("http://relay.test/streams/x", { fetch: notFound, signal: controller.signal }),
    );
    expect(getEventListeners(controller.signal, "abort").length).toBe(5);
    await Promise.all(subs.map((s) => s.done.catch(() => {})));
    expect(getEventListeners(controller.signal, "abort").length).toBe(0);
  });

  it("is not kept reachable by a long-lived signal (collected by the garbage collector)", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const controller = new AbortController();
    let collected = false;
    const registry = new FinalizationRegistry(() => {
      collected = true;
    });
    await (async () => {
      const s = structuredStream({
        provider: "text",
        source: body('{"title":"a"}'),
        signal: controller.signal,
      });
      registry.register(s, "stream");
      await s.result;
    })();
    for (let i = 0; i < 50 && !collected; i++) {
      gc();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect(collected).toBe(true);
    expect(controller.signal.aborted).toBe(false);
  });
});

describe("stats.bytes", () => {
  it("counts a surrogate pair as 4 UTF-8 bytes, also when split across chunks", async () => {
    const text = '{"title":"a😀é€b🎉"}';
    const expected = Buffer.byteLength(text, "utf8");
    const whole = structuredStream({ provider: "text", source: body(text) });
    await whole.result;
    expect(whole.stats.bytes).toBe(expected);
    const cut = text.indexOf("🎉") + 1; // between the two halves of the pair
    const split = structuredStream({ provider: "text", source: body(text.slice(0, cut), text.slice(cut)) });
    await split.result;
    expect(split.stats.bytes).toBe(expected);
  });
});

describe("partials()", () => {
  it("never yields a snapshot equal to the one before it", async () => {
    const s = structuredStream({
      provider: "text",
      source: body('{"title":"a', 'b"', ',"n":1}'),
      schema: titleSchema,
    });
    const seen: string[] = [];
    for await (const partial of s.partials()) seen.push(JSON.stringify(partial));
    expect(seen.length).toBeGreaterThan(0);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
    expect(seen[seen.length - 1]).toBe(JSON.stringify({ title: "ab", n: 1 }));
  });

  it("throws the stream's error when the stream fails", async () => {
    const s = structuredStream({ provider: "text", source: body('{"title":"a"', "}x") });
    const seen: unknown[] = [];
    const error = await (async () => {
      for await (const partial of s.partials()) seen.push(partial);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StreamError);
    expect((error as StreamError).code).toBe("invalid_json");
    expect(seen.length).toBeGreaterThan(0);
  });

  it("called after the stream failed yields the salvaged snapshot once, then throws its error", async () => {
    const s = structuredStream({ provider: "text", source: body("{x") });
    await s.result.catch(() => {});
    const late = s.partials();
    // What arrived before the bad character is never lost, even for a late reader.
    expect(await late.next()).toEqual({ done: false, value: {} });
    await expect(late.next()).rejects.toMatchObject({ code: "invalid_json" });
  });
});

function runChild(scenario: string): Promise<unknown> {
  const script = fileURLToPath(new URL("./fixtures/stream/uncaught.ts", import.meta.url));
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script, scenario],
      { timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`child exited with ${error.code}: ${stderr}`));
        else resolve(JSON.parse(stdout.trim().split("\n").pop() ?? "null"));
      },
    );
  });
}
