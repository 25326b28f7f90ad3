import { afterEach, describe, expect, it } from "vitest";
import { z } from "zod";
import { createRandom, fakeStream, pausable, randomAnswer } from "../../test/relay-fixtures.ts";
import { createRelay, type Relay, type RelaySource, toEventStreamResponse } from "../server/index.ts";
import type { StreamEvent } from "../stream/index.ts";
import { subscribe } from "./index.ts";

const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

function relayFor(options: Parameters<typeof createRelay>[0] = {}): Relay {
  const relay = createRelay(options);
  relays.push(relay);
  return relay;
}

/** A response whose body breaks (as a dropped connection does) after `chunks` chunks. */
/** Cuts `response` after `chunks` chunks, or after the first chunk whose text passes a test. */
function cutAfter(response: Response, chunks: number | ((text: string) => boolean)): Response {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let n = 0;
  let passed = false;
  const body = new ReadableStream<Uint8Array>({
    async pull(c) {
      if (typeof chunks === "number" ? n++ >= chunks : passed) {
        await reader.cancel();
        c.error(new TypeError("terminated"));
        return;
      }
      const r = await reader.read();
      if (r.done) c.close();
      else {
        if (typeof chunks === "function") passed = chunks(decoder.decode(r.value, { stream: true }));
        c.enqueue(r.value);
      }
    },
    cancel: () => reader.cancel(),
  });
  return new Response(body, { status: response.status, headers: response.headers });
}

interface FetchLog {
  requests: Request[];
}

/** A fetch served in-process by `handler`; connection k is cut after `cuts[k]` chunks (if given). */
function fetchVia(
  handler: (request: Request) => Promise<Response>,
  cuts: (number | ((text: string) => boolean) | undefined)[] = [],
  log?: FetchLog,
) {
  return (async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(new URL(String(input), "http://relay.test"), init);
    log?.requests.push(request.clone());
    const response = await handler(request);
    const cut = cuts.shift();
    return cut === undefined || response.body === null ? response : cutAfter(response, cut);
  }) as typeof fetch;
}

/** Delivers a fixed SSE text in the given pieces (bytes), as a server on a bad network would. */
function fetchText(pieces: Uint8Array[]): typeof fetch {
  return (async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(c) {
          for (const p of pieces) c.enqueue(p);
          c.close();
        },
      }),
      { headers: { "content-type": "text/event-stream" } },
    )) as unknown as typeof fetch;
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const e of iterable) out.push(e);
  return out;
}

describe("subscribe", () => {
  it("gives the same value, events and progress as the server-side stream", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(5));
    const source = fakeStream(answer, { seed: 5 });
    const serverEvents: StreamEvent<unknown>[] = [];
    const recording: RelaySource = {
      async *[Symbol.asyncIterator]() {
        for await (const e of source) {
          serverEvents.push(e);
          yield e;
        }
      },
    };
    const { id } = await relay.start(recording);
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: fetchVia(relay.handle) });
    const events = await collect(s);
    expect(await s.done).toEqual(answer);
    expect(s.value).toEqual(answer);
    expect(s.status).toBe("complete");
    expect(s.progress?.percent).toBe(100);
    expect(s.id).toBe(id);
    const pick = (list: StreamEvent<unknown>[], type: string) => list.filter((e) => e.type === type);
    expect(pick(events, "field")).toEqual(pick(serverEvents, "field"));
    expect(pick(events, "status").map((e) => (e as { status: string }).status)).toEqual([
      "streaming",
      "validating",
      "complete",
    ]);
    // Every partial the server showed, in order (nothing coalesced for a consumer that keeps up).
    const partials = pick(events, "partial") as Extract<StreamEvent<unknown>, { type: "partial" }>[];
    expect(partials.map((e) => e.value)).toEqual(source.partials);
    expect(partials.at(-1)?.progress.pending).toEqual([]);
    expect(events.at(-1)?.type).toBe("complete");
  });

  it("keeps unchanged parts of the value identical from one snapshot to the next", async () => {
    const relay = relayFor();
    const { id } = await relay.start(fakeStream(randomAnswer(createRandom(2), 4), { seed: 2 }));
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: fetchVia(relay.handle) });
    const values: { items?: unknown[]; title?: string }[] = [];
    s.on("partial", (e) => values.push(e.value as { items?: unknown[] }));
    await s.done;
    let shared = 0;
    for (let i = 1; i < values.length; i++) {
      const [a, b] = [values[i - 1].items, values[i].items];
      if (a !== undefined && b !== undefined && a.length > 1 && b.length > 1) {
        expect(b[0]).toBe(a[0]);
        shared++;
      }
    }
    expect(shared).toBeGreaterThan(10);
  });

  it("is a store: one snapshot object per change, listeners told after each batch", async () => {
    const relay = relayFor();
    const { id } = await relay.start(fakeStream({ a: "hello", b: [1, 2] }));
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: fetchVia(relay.handle) });
    expect(s.getSnapshot()).toBe(s.getSnapshot());
    expect(s.getSnapshot()).toMatchObject({
      status: "connecting",
      connection: "connecting",
      value: undefined,
    });
    const seen: unknown[] = [];
    const stop = s.subscribe(() => seen.push(s.getSnapshot()));
    await s.done;
    expect(seen.length).toBeGreaterThan(2);
    expect(new Set(seen).size).toBe(seen.length);
    expect(s.getSnapshot()).toMatchObject({
      status: "complete",
      connection: "closed",
      value: { a: "hello", b: [1, 2] },
    });
    expect(Object.isFrozen(s.getSnapshot())).toBe(true);
    stop();
  });

  it("resumes after dropped connections with nothing lost or doubled", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(9), 6);
    const { id } = await relay.start(fakeStream(answer, { seed: 9, delayMs: 0 }));
    const log: FetchLog = { requests: [] };
    const s = subscribe(`http://relay.test/streams/${id}`, {
      fetch: fetchVia(relay.handle, [5, 17, 3, 40], log),
      retry: { baseDelayMs: 1, maxDelayMs: 5 },
    });
    const fields: string[] = [];
    s.on("field", (e) => fields.push(e.pointer));
    expect(await s.done).toEqual(answer);
    expect(s.stats.reconnects).toBe(4);
    expect(new Set(fields).size).toBe(fields.length);
    const lastIds = log.requests.map((r) => r.headers.get("last-event-id"));
    expect(lastIds[0]).toBeNull();
    // Each reconnection asks for exactly the events after the last one applied.
    for (const idText of lastIds.slice(1)) expect(Number(idText)).toBeGreaterThan(0);
    expect(log.requests.every((r) => r.headers.get("accept") === "text/event-stream")).toBe(true);
  });

  it("reads the same events however the bytes are split, down to one byte and mid-character", async () => {
    const relay = relayFor();
    const answer = { title: "Grüße 🎈 — «ok»", list: ["a\nb", "ç", "日本語"] };
    const { id } = await relay.start(fakeStream(answer, { maxChunk: 2 }));
    const response = await relay.handle(new Request(`http://relay.test/streams/${id}`));
    const bytes = new Uint8Array(await response.arrayBuffer());
    // Listeners see every event (an iterator that lags gets partial values coalesced).
    const record = async (pieces: Uint8Array[]) => {
      const s = subscribe("http://x.test/", { fetch: fetchText(pieces) });
      const events: unknown[] = [];
      for (const type of [
        "status",
        "partial",
        "field",
        "field-state",
        "retry",
        "complete",
        "error",
      ] as const) {
        s.on(type, (e) => events.push(e));
      }
      await s.done;
      return { s, events };
    };
    const reference = (await record([bytes])).events;
    for (const size of [1, 2, 3, 5, 7, 13]) {
      const pieces: Uint8Array[] = [];
      for (let i = 0; i < bytes.length; i += size) pieces.push(bytes.slice(i, i + size));
      const { s, events } = await record(pieces);
      expect(events, `pieces of ${size}`).toEqual(reference);
      expect(s.value).toEqual(answer);
    }
  });

  it("fails at once, without retrying, on 404", async () => {
    const relay = relayFor();
    const log: FetchLog = { requests: [] };
    const s = subscribe("http://relay.test/streams/AAAAAAAAAAAAAAAAAAAAAA", {
      fetch: fetchVia(relay.handle, [], log),
    });
    await expect(s.done).rejects.toMatchObject({ code: "provider_error", status: 404, reason: "not_found" });
    expect(log.requests).toHaveLength(1);
    expect(s.status).toBe("error");
  });

  it("retries 503 with backoff and gives up with connection_lost after maxRetries", async () => {
    let calls = 0;
    const unavailable = (async () => {
      calls++;
      return new Response("{}", { status: 503 });
    }) as unknown as typeof fetch;
    const s = subscribe("http://x.test/", {
      fetch: unavailable,
      retry: { maxRetries: 3, baseDelayMs: 1, maxDelayMs: 4 },
    });
    await expect(s.done).rejects.toMatchObject({ code: "provider_error", status: 503 });
    expect(calls).toBe(4);
    const down = (async () => {
      throw new TypeError("fetch failed");
    }) as unknown as typeof fetch;
    const t = subscribe("http://x.test/", { fetch: down, retry: { maxRetries: 2, baseDelayMs: 1 } });
    await expect(t.done).rejects.toMatchObject({ code: "connection_lost" });
    expect(t.stats.connections).toBe(3);
  });

  it("validates the final value with a Standard Schema", async () => {
    const relay = relayFor();
    const Answer = z.object({ n: z.coerce.number(), tag: z.string().transform((s) => s.toUpperCase()) });
    const ok = await relay.start(fakeStream({ n: "42", tag: "x" }));
    const s = subscribe(`http://relay.test/streams/${ok.id}`, {
      fetch: fetchVia(relay.handle),
      schema: Answer,
    });
    expect(await s.done).toEqual({ n: 42, tag: "X" });
    expect(s.value).toEqual({ n: 42, tag: "X" });
    const bad = await relay.start(fakeStream({ n: "x", tag: 1 }));
    const t = subscribe(`http://relay.test/streams/${bad.id}`, {
      fetch: fetchVia(relay.handle),
      schema: Answer,
    });
    const error = await t.done.catch((e: unknown) => e);
    expect(error).toMatchObject({ code: "schema_mismatch" });
    expect((error as { issues: { pointer: string }[] }).issues.map((i) => i.pointer).sort()).toEqual([
      "/n",
      "/tag",
    ]);
    expect(t.status).toBe("error");
  });

  it("validates with the schema layer's validateFinal through the validate hook (JSON Schema)", async () => {
    const { compileSchema } = await import("../schema/index.ts");
    const compiled = compileSchema({
      type: "object",
      properties: { n: { type: "number" } },
      required: ["n"],
      additionalProperties: false,
    });
    const relay = relayFor();
    const ok = await relay.start(fakeStream({ n: 1 }));
    const s = subscribe(`http://relay.test/streams/${ok.id}`, {
      fetch: fetchVia(relay.handle),
      validate: (value) => compiled.validateFinal(value),
    });
    expect(await s.done).toEqual({ n: 1 });
    const bad = await relay.start(fakeStream({ n: "one" }));
    const t = subscribe(`http://relay.test/streams/${bad.id}`, {
      fetch: fetchVia(relay.handle),
      validate: (value) => compiled.validateFinal(value),
    });
    await expect(t.done).rejects.toMatchObject({
      code: "schema_mismatch",
      issues: [expect.objectContaining({ pointer: "/n" })],
    });
  });

  it("reports the server's error with its code and message", async () => {
    const relay = relayFor();
    const { StreamError } = await import("../errors/index.ts");
    const { id } = await relay.start(
      fakeStream({ a: 1 }, { failWith: new StreamError("refusal", "I can't help with that.") }),
    );
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: fetchVia(relay.handle) });
    const errors: unknown[] = [];
    s.on("error", (e) => errors.push(e.error));
    await expect(s.done).rejects.toMatchObject({ code: "refusal", message: "I can't help with that." });
    expect(errors).toHaveLength(1);
    expect(s.value).toEqual({ a: 1 });
  });

  it("stops on abort(), and when a for-await loop exits early, while the server stream goes on", async () => {
    const relay = relayFor();
    const source = fakeStream({ text: "y".repeat(3000) }, { maxChunk: 1, delayMs: 1 });
    const { id } = await relay.start(source);
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: fetchVia(relay.handle) });
    for await (const event of s) if (event.type === "partial") break;
    await expect(s.done).rejects.toMatchObject({ code: "aborted" });
    const controller = new AbortController();
    const t = subscribe(`http://relay.test/streams/${id}`, {
      fetch: fetchVia(relay.handle),
      signal: controller.signal,
    });
    t.on("partial", () => controller.abort("bye"));
    await expect(t.done).rejects.toMatchObject({ code: "aborted", message: "bye" });
    expect(source.aborted).toBe(false);
    relay.abort(id);
  });

  it("starts with POST, then resumes with GET at the URL and token the relay announced", async () => {
    const relay = relayFor({ token: true });
    const answer = randomAnswer(createRandom(4), 8);
    let posts = 0;
    // The answer waits after its first partial until the client resumes, so the POST (cut right
    // after the chunk that announces where to resume) cannot have carried all of it, however the
    // relay joins events into chunks; the first GET is cut before anything, the second ends it.
    let resumed!: () => void;
    const firstGet = new Promise<void>((resolve) => {
      resumed = resolve;
    });
    const handler = async (request: Request) => {
      if (request.method === "POST") {
        posts++;
        const body = (await request.json()) as { seed: number };
        return toEventStreamResponse(pausable(fakeStream(answer, { seed: body.seed }), 3, firstGet), {
          relay,
          resumeUrl: (id) => `/streams/${id}`,
        });
      }
      resumed();
      return relay.handle(request);
    };
    const log: FetchLog = { requests: [] };
    const s = subscribe("http://relay.test/answers", {
      method: "POST",
      body: JSON.stringify({ seed: 4 }),
      headers: { "content-type": "application/json" },
      fetch: fetchVia(handler, [(text) => text.includes("event: stream"), 0], log),
      retry: { baseDelayMs: 1 },
    });
    expect(await s.done).toEqual(answer);
    expect(posts).toBe(1);
    const [first, ...rest] = log.requests;
    expect(first.method).toBe("POST");
    expect(rest).toHaveLength(2);
    for (const r of rest) {
      expect(r.method).toBe("GET");
      expect(new URL(r.url).pathname).toBe(`/streams/${s.id}`);
      expect(r.headers.get("authorization")).toMatch(/^Bearer [A-Za-z0-9_-]{22}$/);
    }
  });

  it("does not repeat a POST it cannot resume", async () => {
    const relay = relayFor();
    let posts = 0;
    const handler = async () => {
      posts++;
      return toEventStreamResponse(fakeStream({ a: "long text ".repeat(50) }, { maxChunk: 2 }), { relay });
    };
    const s = subscribe("http://relay.test/answers", {
      method: "POST",
      fetch: fetchVia(handler, [10]),
      retry: { baseDelayMs: 1 },
    });
    await expect(s.done).rejects.toMatchObject({ code: "connection_lost" });
    expect(posts).toBe(1);
  });

  it("resyncs from a snapshot when an event cannot be applied", async () => {
    const relay = relayFor();
    const answer = { text: "abcdefghij".repeat(20) };
    const { id } = await relay.start(fakeStream(answer, { maxChunk: 3 }));
    await relay.finished(id);
    let corrupted = false;
    const corrupting = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const response = await relay.handle(new Request(String(input), init));
      if (corrupted) return response;
      corrupted = true;
      const text = (await response.text()).replace('[">","/text","', '[">","/nope","');
      return new Response(text, { headers: response.headers });
    }) as typeof fetch;
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: corrupting, retry: { baseDelayMs: 1 } });
    expect(await s.done).toEqual(answer);
    expect(s.stats.reconnects).toBe(1);
  });

  it("refuses a response that is not an event stream", async () => {
    const html = (async () =>
      new Response("<html>", { headers: { "content-type": "text/html" } })) as unknown as typeof fetch;
    const s = subscribe("http://x.test/", { fetch: html });
    await expect(s.done).rejects.toMatchObject({ code: "provider_error", reason: "protocol_error" });
  });
});

describe("subscribe under faults (issue 12)", () => {
  const sse = (text: string) => new Response(text, { headers: { "content-type": "text/event-stream" } });

  it("ignores an event whose id is not above the last applied (a replay), and completes exact", async () => {
    const text = [
      'event: stream\ndata: {"id":"AAAAAAAAAAAAAAAAAAAAAA"}\n\n',
      'id: 1\ndata: [["=","",{"s":"he","a":[]}]]\n\n',
      'id: 2\ndata: [[">","/s","llo"],["+","/a/0","a"]]\n\n',
      'id: 3\ndata: [[">","/s"," world"],["+","/a/1","b"]]\n\n',
      // The same events again, as a proxy that replays would send them.
      'id: 2\ndata: [[">","/s","llo"],["+","/a/0","a"]]\n\n',
      'id: 3\ndata: [[">","/s"," world"],["+","/a/1","b"]]\n\n',
      "id: 4\nevent: complete\ndata: {}\n\n",
    ].join("");
    const s = subscribe("http://relay.test/streams/x", {
      fetch: (async () => sse(text)) as unknown as typeof fetch,
    });
    expect(await s.done).toEqual({ s: "hello world", a: ["a", "b"] });
  });

  it("reconnects from the last applied id when ids skip, and gets exactly the rest", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(4), 3);
    const { id } = await relay.start(fakeStream(answer, { seed: 4 }));
    await relay.finished(id);
    const requests: (string | null)[] = [];
    let first = true;
    const skipping = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(String(input), init);
      requests.push(request.headers.get("last-event-id"));
      const response = await relay.handle(request);
      if (!first) return response;
      first = false;
      // Drop events 6 to 9 from the first connection.
      const text = (await response.text())
        .split("\n\n")
        .filter((block) => !/^id: [6-9]$/m.test(block))
        .join("\n\n");
      return new Response(text, { headers: response.headers });
    }) as typeof fetch;
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: skipping, retry: { baseDelayMs: 1 } });
    expect(await s.done).toEqual(answer);
    expect(requests).toEqual([null, "5"]);
  });

  it("backs off on an unavailable event and resumes from its last event", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(8), 2);
    const { id } = await relay.start(fakeStream(answer, { seed: 8 }));
    await relay.finished(id);
    const requests: (string | null)[] = [];
    const flaky = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(String(input), init);
      requests.push(request.headers.get("last-event-id"));
      const response = await relay.handle(request);
      if (requests.length > 1) return response;
      const blocks = (await response.text()).split("\n\n").slice(0, 6);
      blocks.push('event: unavailable\ndata: {"code":"log_unavailable","message":"down"}');
      return new Response(`${blocks.join("\n\n")}\n\n`, { headers: response.headers });
    }) as typeof fetch;
    const s = subscribe(`http://relay.test/streams/${id}`, { fetch: flaky, retry: { baseDelayMs: 1 } });
    expect(await s.done).toEqual(answer);
    expect(requests).toEqual([null, "4"]);
    expect(s.stats.reconnects).toBe(1);
  });

  it("cancel() asks the relay to stop the model call, then ends as aborted", async () => {
    const relay = relayFor({ token: true });
    const source = fakeStream({ text: "x".repeat(5000) }, { maxChunk: 1, delayMs: 1 });
    const methods: string[] = [];
    const fetchFn = (async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(new URL(String(input), "http://relay.test"), init);
      methods.push(request.method);
      return request.method === "POST"
        ? toEventStreamResponse(source, { relay, resumeUrl: (id) => `/streams/${id}` })
        : relay.handle(request);
    }) as typeof fetch;
    const s = subscribe("http://relay.test/api/answer", { method: "POST", fetch: fetchFn });
    while (s.value === undefined) await new Promise((r) => setTimeout(r, 5));
    expect(await s.cancel("Stopped from the page.")).toBe(true);
    await expect(s.done).rejects.toMatchObject({ code: "aborted", message: "Stopped from the page." });
    await relay.finished(s.id!);
    expect(source.aborted).toBe(true);
    expect(methods).toEqual(["POST", "DELETE"]);
  });
});

describe("subscribe: reasoning and commentary (issue 10's follow-up)", () => {
  const sse = (text: string) => new Response(text, { headers: { "content-type": "text/event-stream" } });
  const fixed = (text: string) => (async () => sse(text)) as unknown as typeof fetch;
  const HELLO = 'event: stream\ndata: {"id":"AAAAAAAAAAAAAAAAAAAAAA"}\n\n';

  it("joins the pieces into `reasoning` and `commentary`, for listeners, the iterator and the store", async () => {
    const text = [
      HELLO,
      'id: 1\nevent: reasoning\ndata: {"delta":"Think"}\n\n',
      'id: 2\nevent: reasoning\ndata: {"delta":"ing, 🦦 ok"}\n\n',
      'id: 3\nevent: commentary\ndata: {"delta":"Here it is."}\n\n',
      'id: 4\ndata: [["=","",{"a":1}]]\n\n',
      "id: 5\nevent: complete\ndata: {}\n\n",
    ].join("");
    const s = subscribe("http://relay.test/streams/x", { fetch: fixed(text) });
    const heard: string[] = [];
    s.on("reasoning", (e) => heard.push(`r:${e.delta}`));
    s.on("commentary", (e) => heard.push(`c:${e.delta}`));
    const snapshots: string[] = [];
    s.subscribe(() => snapshots.push(s.getSnapshot().reasoning));
    const iterated = (await collect(s)).filter((e) => e.type === "reasoning" || e.type === "commentary");
    expect(await s.done).toEqual({ a: 1 });
    expect(heard).toEqual(["r:Think", "r:ing, 🦦 ok", "c:Here it is."]);
    expect(iterated).toEqual([
      { type: "reasoning", delta: "Think" },
      { type: "reasoning", delta: "ing, 🦦 ok" },
      { type: "commentary", delta: "Here it is." },
    ]);
    expect(s.reasoning).toBe("Thinking, 🦦 ok");
    expect(s.commentary).toBe("Here it is.");
    expect(s.getSnapshot()).toMatchObject({ reasoning: "Thinking, 🦦 ok", commentary: "Here it is." });
    expect(snapshots.at(-1)).toBe("Thinking, 🦦 ok");
  });

  it("takes a snapshot's text: what extends its own as one more piece, anything else in place of it", async () => {
    const text = [
      HELLO,
      'id: 1\nevent: reasoning\ndata: {"delta":"ab"}\n\n',
      // A snapshot written into the stream, after a gap the client did not see (ids 2 to 4).
      'id: 5\nevent: snapshot\ndata: {"value":{"a":1},"status":"streaming","reasoning":"abcdef"}\n\n',
      'id: 6\nevent: reasoning\ndata: {"delta":"g"}\n\n',
      "id: 7\nevent: complete\ndata: {}\n\n",
    ].join("");
    const s = subscribe("http://relay.test/streams/x", { fetch: fixed(text) });
    const heard: string[] = [];
    s.on("reasoning", (e) => heard.push(e.delta));
    expect(await s.done).toEqual({ a: 1 });
    expect(s.reasoning).toBe("abcdefg");
    expect(heard).toEqual(["ab", "cdef", "g"]);
  });

  it.each([
    ["a delta that is not a string", 'event: reasoning\ndata: {"delta":5}'],
    ["no delta", "event: commentary\ndata: {}"],
    ["data that is not JSON", "event: reasoning\ndata: Thinking"],
    [
      "a snapshot whose reasoning is not a string",
      'event: snapshot\ndata: {"value":1,"status":"streaming","reasoning":[]}',
    ],
  ])("fails with protocol_error on %s, like any malformed event", async (_, block) => {
    const text = `${HELLO}id: 1\n${block}\n\nid: 2\nevent: complete\ndata: {"value":1}\n\n`;
    const s = subscribe("http://relay.test/streams/x", { fetch: fixed(text), retry: { baseDelayMs: 1 } });
    await expect(s.done).rejects.toMatchObject({ code: "provider_error", reason: "protocol_error" });
    expect(s.reasoning).toBe("");
  });

  it("ignores event names it does not know, and keeps an empty text with a relay that sends none", async () => {
    const text = [
      HELLO,
      'id: 1\nevent: thinking-v2\ndata: {"delta":"x"}\n\n',
      'id: 2\ndata: [["=","",{"a":1}]]\n\n',
      "id: 3\nevent: complete\ndata: {}\n\n",
    ].join("");
    const s = subscribe("http://relay.test/streams/x", { fetch: fixed(text) });
    expect(await s.done).toEqual({ a: 1 });
    expect(s.reasoning).toBe("");
    expect(s.commentary).toBe("");
  });
});
