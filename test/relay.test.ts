/**
 * The relay and the client over real HTTP: a node:http server on 127.0.0.1:0 (through
 * toNodeHandler), the client on Node's fetch, sockets destroyed mid-stream. Every server, socket
 * and stream is closed at teardown.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { subscribe } from "../src/client/index.ts";
import { createRelay, type Relay, toEventStreamResponse } from "../src/server/index.ts";
import { type StreamEvent, structuredStream } from "../src/stream/index.ts";
import {
  checkExactlyOnce,
  createRandom,
  cutAtCounts,
  fakeStream,
  randomAnswer,
  serve,
  type TappedEvent,
  type TestServer,
  tapFetch,
  until,
} from "./relay-fixtures.ts";

let relay: Relay;
let server: TestServer;

beforeAll(async () => {
  relay = createRelay({ token: true, keepAliveMs: 50 });
  server = await serve(async (request) => {
    const url = new URL(request.url);
    if (request.method === "POST" && url.pathname === "/answers") {
      const { items } = (await request.json()) as { items: number };
      return toEventStreamResponse(fakeStream(randomAnswer(createRandom(items), items), { delayMs: 1 }), {
        relay,
        resumeUrl: (id) => `/streams/${id}`,
      });
    }
    return relay.handle(request);
  });
});

afterEach(() => {
  expect(relay.connections).toBeGreaterThanOrEqual(0);
});

afterAll(async () => {
  await relay.close();
  await server.close();
  expect(server.sockets.size).toBe(0);
  expect(await new Promise((resolve) => server.server.getConnections((_, n) => resolve(n)))).toBe(0);
});

describe("over HTTP", () => {
  it("delivers a stream to a browser-style client", async () => {
    const answer = randomAnswer(createRandom(1), 4);
    const { id, token } = await relay.start(fakeStream(answer, { seed: 1 }));
    const s = subscribe(`${server.url}/streams/${id}`, { token });
    expect(await s.done).toEqual(answer);
    expect(s.stats.connections).toBe(1);
  });

  it("relays a real structuredStream: the client sees its events and its validated value", async () => {
    const Recipe = z.object({ title: z.string(), steps: z.array(z.string()), minutes: z.number() });
    const text = JSON.stringify({
      title: "Pancakes",
      steps: ["Mix flour and eggs", "Fry in butter"],
      minutes: 20,
    });
    async function* chunks() {
      for (let i = 0; i < text.length; i += 3) {
        yield text.slice(i, i + 3);
        await new Promise((r) => setTimeout(r, 1));
      }
    }
    const stream = structuredStream({ source: chunks(), schema: Recipe, provider: "text" });
    const { id, token } = await relay.start(stream);
    const s = subscribe(`${server.url}/streams/${id}`, { token, schema: Recipe });
    const seen: StreamEvent<unknown>[] = [];
    for (const type of ["status", "field", "field-state", "complete"] as const)
      s.on(type, (e) => seen.push(e));
    expect(await s.done).toEqual(JSON.parse(text));
    expect(seen.filter((e) => e.type === "field").map((e) => (e as { pointer: string }).pointer)).toEqual(
      expect.arrayContaining(["/title", "/steps/0", "/steps/1", "/minutes"]),
    );
    expect(seen.filter((e) => e.type === "status").map((e) => (e as { status: string }).status)).toEqual([
      "streaming",
      "validating",
      "complete",
    ]);
    expect(s.progress?.percent).toBe(100);
  });

  it("resumes after the server's socket is destroyed mid-stream and gets exactly the rest", async () => {
    const answer = randomAnswer(createRandom(2), 8);
    const source = fakeStream(answer, { seed: 2, delayMs: 2 });
    const { id, token } = await relay.start(source);
    const tapped: TappedEvent[] = [];
    const s = subscribe(`${server.url}/streams/${id}`, {
      token,
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
      retry: { baseDelayMs: 10 },
    });
    const fields: string[] = [];
    s.on("field", (e) => fields.push(e.pointer));
    await cutAtCounts(server, tapped, [20, 120]);
    expect(await s.done).toEqual(answer);
    expect(s.stats.reconnects).toBeGreaterThanOrEqual(2);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
    // Each resumed connection opened with the snapshot of where the client was.
    const resumed = tapped.filter((e) => e.connection > 0 && e.id !== undefined);
    expect(resumed.length).toBeGreaterThan(0);
    expect(new Set(fields).size).toBe(fields.length);
    expect(source.aborted).toBe(false);
  });

  it("starts with POST and resumes with GET after a cut, without a second model call", async () => {
    const tapped: TappedEvent[] = [];
    const running = relay.running;
    const s = subscribe(`${server.url}/answers`, {
      method: "POST",
      body: JSON.stringify({ items: 5 }),
      fetch: tapFetch({ onEvent: (e) => tapped.push(e), cutAfter: (n) => (n === 0 ? 30 : undefined) }),
      retry: { baseDelayMs: 5 },
    });
    expect(await s.done).toEqual(randomAnswer(createRandom(5), 5));
    expect(s.stats.connections).toBe(2);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
    expect(relay.running).toBeLessThanOrEqual(running);
  });

  it("frees the server's side of a connection the client drops", async () => {
    const { id, token } = await relay.start(
      fakeStream({ text: "z".repeat(4000) }, { maxChunk: 1, delayMs: 1 }),
    );
    const controller = new AbortController();
    const response = await fetch(`${server.url}/streams/${id}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    expect(response.status).toBe(200);
    await until(() => relay.connections > 0, "the connection");
    controller.abort();
    await until(() => relay.connections === 0, "the connection to be freed");
    relay.abort(id);
  });

  it("writes the same bytes on the Node path as the web Response carries, fresh and resumed", async () => {
    // The Node adapter writes a relay's events straight to the socket, not through the Response's
    // web stream: both must say exactly the same, from the start and from any Last-Event-ID.
    const answer = { text: "é🎈 ".repeat(9_000), items: randomAnswer(createRandom(5), 3) };
    const { id, token } = await relay.start(fakeStream(answer, { seed: 5, maxChunk: 700 }));
    await relay.finished(id);
    const auth = { authorization: `Bearer ${token}` };
    const web = async (lastEventId: number) => {
      const headers = new Headers(auth);
      if (lastEventId > 0) headers.set("last-event-id", String(lastEventId));
      const response = await relay.handle(new Request(`${server.url}/streams/${id}`, { headers }));
      return response.text();
    };
    const node = async (lastEventId: number) => {
      const headers = new Headers(auth);
      if (lastEventId > 0) headers.set("last-event-id", String(lastEventId));
      return (await fetch(`${server.url}/streams/${id}`, { headers })).text();
    };
    const whole = await node(0);
    expect(whole).toBe(await web(0));
    const ids = [...whole.matchAll(/^id: (\d+)$/gm)].map((m) => Number(m[1]));
    expect(ids.length).toBeGreaterThan(10);
    for (const after of [ids[1], ids[Math.floor(ids.length / 2)], ids.at(-2)!]) {
      expect(await node(after)).toBe(await web(after));
    }
    expect(relay.connections).toBe(0);
  });

  it("keeps a quiet connection alive with ping comments", async () => {
    // The model stays silent until the reader has seen two pings: causality, not a clock.
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { id, token } = await relay.start({
      async *[Symbol.asyncIterator]() {
        await released;
        yield { type: "status", status: "streaming" };
        yield { type: "partial", value: 1, progress: { completed: 1, total: 1, percent: 99, pending: [] } };
        yield {
          type: "complete",
          value: 1,
          stats: {
            startedAt: 0,
            durationMs: 0,
            chunks: 0,
            bytes: 0,
            deltas: 0,
            deltasPerSecond: 0,
            retries: 0,
          },
        };
      },
    });
    const response = await fetch(`${server.url}/streams/${id}?token=${token}`);
    const decoder = new TextDecoder();
    let text = "";
    for await (const chunk of response.body!) {
      text += decoder.decode(chunk, { stream: true });
      if ((text.match(/^: ping$/gm)?.length ?? 0) >= 2) release();
    }
    expect(text.match(/^: ping$/gm)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/event: complete/);
  });
});

describe("security over HTTP", () => {
  it("refuses a wrong id, a missing or wrong token, and another stream's token", async () => {
    const a = await relay.start(fakeStream({ owner: "a" }));
    const b = await relay.start(fakeStream({ owner: "b" }));
    const status = async (path: string, headers: HeadersInit = {}) => {
      const response = await fetch(`${server.url}${path}`, { headers });
      const body = response.headers.get("content-type")?.includes("json") ? await response.json() : undefined;
      if (body === undefined) await response.body?.cancel();
      return [response.status, body?.error?.code];
    };
    expect(await status(`/streams/${"A".repeat(22)}`, { authorization: `Bearer ${a.token}` })).toEqual([
      404,
      "not_found",
    ]);
    expect(await status(`/streams/${a.id}`)).toEqual([401, "unauthorized"]);
    expect(await status(`/streams/${a.id}`, { authorization: `Bearer ${b.token}` })).toEqual([
      403,
      "forbidden",
    ]);
    expect(await status(`/streams/${b.id}?token=${a.token}`)).toEqual([403, "forbidden"]);
    expect(await status(`/streams/${a.id}`, { authorization: `Bearer ${a.token}` })).toEqual([
      200,
      undefined,
    ]);
    const client = subscribe(`${server.url}/streams/${b.id}`, { token: a.token });
    await expect(client.done).rejects.toMatchObject({ status: 403, reason: "forbidden" });
  });

  it("answers malformed and oversized requests with a clear 4xx", async () => {
    const { id, token } = await relay.start(fakeStream({ a: 1 }));
    const auth = { authorization: `Bearer ${token}` };
    const cases: [string, RequestInit, number, string][] = [
      [`/streams/not-an-id`, {}, 400, "malformed_id"],
      [`/streams/${id}`, { headers: { ...auth, "last-event-id": "abc" } }, 400, "malformed_event_id"],
      [`/streams/${id}`, { method: "POST", headers: auth, body: "{}" }, 405, "method_not_allowed"],
      [`/streams/${id}`, { method: "PUT", headers: auth, body: "x".repeat(100) }, 405, "method_not_allowed"],
      [`/streams/${id}?q=${"x".repeat(9000)}`, { headers: auth }, 414, "uri_too_long"],
      [`/streams/${id}?token=${"x".repeat(1000)}`, {}, 400, "malformed_token"],
    ];
    for (const [path, init, expected, code] of cases) {
      const response = await fetch(`${server.url}${path}`, init);
      expect(response.status, code).toBe(expected);
      expect((await response.json()).error.code).toBe(code);
    }
  });

  it("answers a request line the adapter cannot turn into a URL with 400", async () => {
    const { request } = await import("node:http");
    const url = new URL(server.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, path: "/streams/x", headers: { host: "bad host:1:2" } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on("error", reject);
      req.end();
    });
    expect(status).toBe(400);
  });
});
