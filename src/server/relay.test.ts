import { createParser } from "eventsource-parser";
import { afterEach, describe, expect, it } from "vitest";
import { createRandom, fakeStream, randomAnswer } from "../../test/relay-fixtures.ts";
import { StreamError, StructreamError } from "../errors/index.ts";
import type { StreamEvent } from "../stream/index.ts";
import {
  createMemoryEventLog,
  createRelay,
  decodeRelayEvent,
  INITIAL_STATE,
  type Relay,
  type RelaySource,
  type RelayState,
  reduceRelayState,
  toEventStreamResponse,
} from "./index.ts";

interface Sse {
  id?: string;
  event: string;
  data: string;
}

const relays: Relay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
});

function relayFor(options: Parameters<typeof createRelay>[0] = {}): Relay {
  const relay = createRelay(options);
  relays.push(relay);
  return relay;
}

/** Reads a response's SSE messages (and comments), until the body ends or `stop` says so. */
async function readSse(response: Response, stop?: (events: Sse[]) => boolean) {
  const events: Sse[] = [];
  const comments: string[] = [];
  let retry: number | undefined;
  const parser = createParser({
    onEvent: (m) =>
      events.push({ ...(m.id === undefined ? {} : { id: m.id }), event: m.event ?? "patch", data: m.data }),
    onComment: (c) => comments.push(c),
    onRetry: (ms) => {
      retry = ms;
    },
  });
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.length;
    parser.feed(decoder.decode(value, { stream: true }));
    if (stop?.(events)) {
      await reader.cancel();
      break;
    }
  }
  return { events, comments, retry, bytes };
}

function replay(events: Sse[], from: RelayState = INITIAL_STATE): RelayState {
  let state = from;
  for (const e of events) {
    const decoded = decodeRelayEvent(e.event, e.data);
    if (decoded !== undefined) state = reduceRelayState(state, decoded);
  }
  return state;
}

const get = (relay: Relay, path: string, headers: HeadersInit = {}) =>
  relay.handle(new Request(`http://relay.test${path}`, { headers }));

function sourceOf(events: StreamEvent<unknown>[], onAbort?: () => void): RelaySource {
  return {
    async *[Symbol.asyncIterator]() {
      for (const e of events) yield e;
    },
    abort: onAbort,
  };
}

describe("a relayed stream", () => {
  it("opens with a stream event and sends ids 1, 2, 3 ... up to complete", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(7));
    const { id } = await relay.start(fakeStream(answer, { seed: 7 }));
    const response = await get(relay, `/streams/${id}`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect(response.headers.get("cache-control")).toContain("no-cache");
    const { events, retry } = await readSse(response);
    expect(retry).toBe(1000);
    expect(events[0]).toEqual({ event: "stream", data: JSON.stringify({ id }) });
    const ids = events.slice(1).map((e) => Number(e.id));
    expect(ids).toEqual(ids.map((_, i) => i + 1));
    expect(events.at(-1)?.event).toBe("complete");
    const final = replay(events);
    expect(final.value).toEqual(answer);
    expect(final.status).toBe("complete");
    expect(new Set(events.map((e) => e.event))).toEqual(
      new Set(["stream", "status", "progress", "patch", "field", "snapshot", "complete"]),
    );
  });

  it("resumes after any event id with a snapshot of that moment, then exactly the rest", async () => {
    const relay = relayFor();
    const answer = randomAnswer(createRandom(3));
    const { id } = await relay.start(fakeStream(answer, { seed: 3 }));
    const all = (await readSse(await get(relay, `/streams/${id}`))).events.slice(1);
    for (const cut of [1, 2, 5, Math.floor(all.length / 2), all.length - 1]) {
      const { events } = await readSse(await get(relay, `/streams/${id}`, { "last-event-id": String(cut) }));
      expect(events[0].event).toBe("stream");
      expect(events[1]).toMatchObject({ event: "snapshot", id: String(cut) });
      // The snapshot is the state the client had after event `cut`.
      const snapshot = JSON.parse(events[1].data);
      const expected = replay(all.slice(0, cut));
      expect(snapshot.value).toEqual(expected.value);
      expect(snapshot.status).toBe(expected.status);
      expect(events.slice(2)).toEqual(all.slice(cut));
      expect(replay(events.slice(1)).value).toEqual(answer);
    }
    // The same through the query parameter (EventSource cannot set headers on the first request).
    const viaQuery = await readSse(await get(relay, `/streams/${id}?lastEventId=${all.length - 1}`));
    expect(viaQuery.events.slice(2)).toEqual(all.slice(-1));
  });

  it("answers 204 to a client that reconnects after the last event, so an EventSource stops", async () => {
    const relay = relayFor();
    const { id } = await relay.start(fakeStream({ a: "b" }));
    const all = (await readSse(await get(relay, `/streams/${id}`))).events.slice(1);
    const after = await get(relay, `/streams/${id}`, { "last-event-id": all.at(-1)!.id! });
    expect(after.status).toBe(204);
    expect(after.body).toBeNull();
    // One before the end still gets the end.
    const { events } = await readSse(
      await get(relay, `/streams/${id}`, { "last-event-id": all.at(-2)!.id! }),
    );
    expect(events.map((e) => e.event)).toEqual(["stream", "snapshot", "complete"]);
    expect(relay.connections).toBe(0);
  });

  it("runs the source once, whoever listens, and serves late readers from the log", async () => {
    const relay = relayFor();
    let iterations = 0;
    const inner = fakeStream({ text: "hello world, this is long enough" }, { maxChunk: 2 });
    const counted: RelaySource = {
      [Symbol.asyncIterator]() {
        iterations++;
        return inner[Symbol.asyncIterator]();
      },
    };
    const { id } = await relay.start(counted);
    const [a, b] = await Promise.all([
      readSse(await get(relay, `/streams/${id}`)),
      readSse(await get(relay, `/streams/${id}`)),
    ]);
    await relay.finished(id);
    const late = await readSse(await get(relay, `/streams/${id}`));
    expect(iterations).toBe(1);
    expect(a.events).toEqual(b.events);
    expect(late.events).toEqual(a.events);
  });

  it("keeps running when every reader leaves", async () => {
    const relay = relayFor();
    const source = fakeStream(randomAnswer(createRandom(1), 3), { delayMs: 1 });
    const { id } = await relay.start(source);
    await readSse(await get(relay, `/streams/${id}`), (events) => events.length > 3);
    await relay.finished(id);
    expect(source.aborted).toBe(false);
    const { events } = await readSse(await get(relay, `/streams/${id}`));
    expect(events.at(-1)?.event).toBe("complete");
    expect(relay.connections).toBe(0);
  });

  it("sends a field's value only when the client does not already hold it", async () => {
    const relay = relayFor();
    const { id } = await relay.start(
      sourceOf([
        {
          type: "partial",
          value: { a: "x" },
          progress: { completed: 1, total: 2, percent: 50, pending: ["/b"] },
        },
        { type: "field", path: ["a"], pointer: "/a", value: "x" },
        { type: "field", path: ["b"], pointer: "/b", value: 2 },
        {
          type: "complete",
          value: { a: "x" },
          stats: {
            startedAt: 0,
            durationMs: 1,
            chunks: 1,
            bytes: 1,
            deltas: 1,
            deltasPerSecond: 1,
            retries: 0,
          },
        },
      ]),
    );
    const { events } = await readSse(await get(relay, `/streams/${id}`));
    const fields = events.filter((e) => e.event === "field").map((e) => JSON.parse(e.data));
    expect(fields).toEqual([{ path: ["a"] }, { path: ["b"], value: 2 }]);
    // The final value equals the last snapshot: it is not sent again.
    expect(JSON.parse(events.at(-1)!.data)).not.toHaveProperty("value");
  });

  it("sends the validated value on complete when it differs from the last snapshot", async () => {
    const relay = relayFor();
    const { id } = await relay.start(
      sourceOf([
        { type: "partial", value: { n: "3" }, progress: { completed: 0, total: 1, percent: 0, pending: [] } },
        {
          type: "complete",
          value: { n: 3 },
          stats: {
            startedAt: 0,
            durationMs: 1,
            chunks: 1,
            bytes: 1,
            deltas: 1,
            deltasPerSecond: 1,
            retries: 0,
          },
        },
      ]),
    );
    const { events } = await readSse(await get(relay, `/streams/${id}`));
    expect(JSON.parse(events.at(-1)!.data).value).toEqual({ n: 3 });
    expect(replay(events).value).toEqual({ n: 3 });
  });

  it("keeps snapshots rare enough that the bytes stay linear in the answer", async () => {
    const relay = relayFor();
    const long = { text: "word ".repeat(4000) };
    const source = fakeStream(long, { maxChunk: 4 });
    const { id } = await relay.start(source);
    const { events, bytes } = await readSse(await get(relay, `/streams/${id}`));
    const snapshots = events.filter((e) => e.event === "snapshot");
    const patches = events.filter((e) => e.event === "patch");
    expect(snapshots.length).toBeGreaterThan(0);
    const snapshotBytes = snapshots.reduce((n, e) => n + e.data.length, 0);
    const patchBytes = patches.reduce((n, e) => n + e.data.length, 0);
    expect(snapshotBytes).toBeLessThan(patchBytes);
    const naive = source.partials.reduce<number>((n, v) => n + JSON.stringify(v).length, 0);
    expect(bytes).toBeLessThan(naive / 50);
  });

  it("resyncs a reader from a snapshot when the bounded log dropped what it missed", async () => {
    const relay = relayFor({ maxEventsPerStream: 40, snapshotEvery: 4 });
    const answer = randomAnswer(createRandom(11), 6);
    const { id } = await relay.start(fakeStream(answer, { seed: 11 }));
    await relay.finished(id);
    for (const lastEventId of ["0", "3"]) {
      const { events } = await readSse(await get(relay, `/streams/${id}`, { "last-event-id": lastEventId }));
      const body = events.slice(1);
      expect(body[0].event).toBe("snapshot");
      expect(Number(body[0].id)).toBeGreaterThan(Number(lastEventId) + 1);
      const ids = body.map((e) => Number(e.id));
      for (let i = 1; i < ids.length; i++) expect(ids[i]).toBe(ids[i - 1] + 1);
      expect(replay(body).value).toEqual(answer);
    }
  });

  it("ends a stream whose source stops without a result with truncated", async () => {
    const relay = relayFor();
    const { id } = await relay.start(sourceOf([{ type: "status", status: "streaming" }]));
    const { events } = await readSse(await get(relay, `/streams/${id}`));
    expect(events.at(-1)).toMatchObject({ event: "stream-error" });
    expect(JSON.parse(events.at(-1)!.data)).toEqual({
      code: "truncated",
      message: "The stream ended without a result.",
    });
  });

  it("sends only a code and a message for errors: no stack, no secret", async () => {
    const relay = relayFor();
    const thrower: RelaySource = {
      // biome-ignore lint/correctness/useYield: a source that fails before its first event
      async *[Symbol.asyncIterator]() {
        throw new Error("connect ECONNREFUSED postgres://admin:hunter2@db.internal:5432");
      },
    };
    const failing = sourceOf([
      {
        type: "error",
        error: new StreamError(
          "provider_error",
          "401 Incorrect API key provided: sk-proj-abcdefghijklmnop1234.\n    at fetch (x.js:1:1)",
        ),
      },
    ]);
    for (const source of [thrower, failing]) {
      const { id } = await relay.start(source);
      const { events } = await readSse(await get(relay, `/streams/${id}`));
      const error = JSON.parse(events.at(-1)!.data);
      expect(Object.keys(error).sort()).toEqual(["code", "message"]);
      expect(error.code).toBe("provider_error");
      expect(error.message).not.toMatch(/hunter2|sk-proj-abcdef|at fetch|ECONNREFUSED/);
    }
  });

  it("aborts a stream on relay.abort: the source is told, readers get aborted", async () => {
    const relay = relayFor();
    const source = fakeStream({ text: "x".repeat(5000) }, { maxChunk: 1, delayMs: 1 });
    const { id } = await relay.start(source);
    const reading = readSse(await get(relay, `/streams/${id}`));
    await new Promise((r) => setTimeout(r, 20));
    expect(relay.abort(id, "The user cancelled.")).toBe(true);
    const { events } = await reading;
    expect(source.aborted).toBe(true);
    expect(JSON.parse(events.at(-1)!.data)).toEqual({ code: "aborted", message: "The user cancelled." });
    // A reader may hear the last event before the relay has finished with the stream.
    await relay.finished(id);
    expect(relay.abort(id)).toBe(false);
  });

  it("cuts off a source that ignores abort", async () => {
    const relay = relayFor();
    const stubborn: RelaySource = {
      async *[Symbol.asyncIterator]() {
        yield { type: "status", status: "streaming" };
        await new Promise(() => {});
      },
    };
    const { id } = await relay.start(stubborn);
    relay.abort(id);
    await relay.finished(id);
    const { events } = await readSse(await get(relay, `/streams/${id}`));
    expect(JSON.parse(events.at(-1)!.data).code).toBe("aborted");
  });

  it("keeps idle connections alive with comments", async () => {
    const relay = relayFor({ keepAliveMs: 10 });
    const { id } = await relay.start({
      async *[Symbol.asyncIterator]() {
        await new Promise((r) => setTimeout(r, 60));
        yield { type: "error", error: new StreamError("timeout", "slow") };
      },
    });
    const { comments } = await readSse(await get(relay, `/streams/${id}`));
    expect(comments.filter((c) => c.trim() === "ping").length).toBeGreaterThanOrEqual(2);
  });
});

describe("access", () => {
  it("answers 404 for an unknown id and 400 for a malformed one", async () => {
    const relay = relayFor();
    const unknown = await get(relay, "/streams/AAAAAAAAAAAAAAAAAAAAAA");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({
      error: { code: "not_found", message: "No such stream (or it has expired)" },
    });
    for (const bad of [
      "/streams/short",
      "/streams/AAAAAAAAAAAAAAAAAAAAA%2F",
      "/streams/AAAAAAAAAAAAAAAAAAAAAAA",
      "/",
    ]) {
      const response = await get(relay, bad);
      expect(response.status, bad).toBe(400);
      expect((await response.json()).error.code).toBe("malformed_id");
    }
  });

  it("refuses malformed or oversized requests with a clear 4xx", async () => {
    const relay = relayFor();
    const { id } = await relay.start(fakeStream({ a: 1 }));
    const path = `/streams/${id}`;
    const cases: [Request, number, string][] = [
      [new Request(`http://relay.test${path}`, { method: "POST", body: "x" }), 405, "method_not_allowed"],
      [new Request(`http://relay.test${path}`, { method: "PATCH" }), 405, "method_not_allowed"],
      [
        new Request(`http://relay.test${path}`, { headers: { "last-event-id": "12abc" } }),
        400,
        "malformed_event_id",
      ],
      [
        new Request(`http://relay.test${path}`, { headers: { "last-event-id": "9".repeat(16) } }),
        400,
        "malformed_event_id",
      ],
      [new Request(`http://relay.test${path}?lastEventId=-1`), 400, "malformed_event_id"],
      [new Request(`http://relay.test${path}?token=${"t".repeat(600)}`), 400, "malformed_token"],
      [new Request(`http://relay.test${path}?pad=${"x".repeat(9000)}`), 414, "uri_too_long"],
      [
        new Request(`http://relay.test${path}`, { headers: { "content-length": "10" } }),
        413,
        "body_not_allowed",
      ],
    ];
    for (const [request, status, code] of cases) {
      const response = await relay.handle(request);
      expect(response.status, `${request.method} ${code}`).toBe(status);
      expect(response.headers.get("content-type")).toContain("application/json");
      expect((await response.json()).error.code).toBe(code);
    }
    const post = await relay.handle(new Request(`http://relay.test${path}`, { method: "POST" }));
    expect(post.headers.get("allow")).toBe("GET, HEAD, DELETE");
    const head = await relay.handle(new Request(`http://relay.test${path}`, { method: "HEAD" }));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it("requires the stream's token when it has one: 401 without, 403 wrong, 200 right", async () => {
    const relay = relayFor({ token: true });
    const { id, token } = await relay.start(fakeStream({ a: 1 }));
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    const without = await get(relay, `/streams/${id}`);
    expect(without.status).toBe(401);
    expect(without.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await get(relay, `/streams/${id}`, { authorization: "Bearer AAAAAAAAAAAAAAAAAAAAAA" });
    expect(wrong.status).toBe(403);
    expect((await wrong.json()).error.code).toBe("forbidden");
    const right = await get(relay, `/streams/${id}`, { authorization: `Bearer ${token}` });
    expect(right.status).toBe(200);
    await right.body?.cancel();
    const query = await get(relay, `/streams/${id}?token=${token}`);
    expect(query.status).toBe(200);
    await query.body?.cancel();
  });

  it("never opens one stream with another stream's token", async () => {
    const relay = relayFor({ token: true });
    const a = await relay.start(fakeStream({ secret: "for a" }));
    const b = await relay.start(fakeStream({ secret: "for b" }));
    const response = await get(relay, `/streams/${b.id}`, { authorization: `Bearer ${a.token}` });
    expect(response.status).toBe(403);
  });

  it("gives each stream a distinct unguessable id", async () => {
    const relay = relayFor();
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add((await relay.start(sourceOf([]))).id);
    expect(ids.size).toBe(200);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("limits running streams and open connections", async () => {
    const relay = relayFor({ maxStreams: 2, maxConnections: 1 });
    const hang = (): RelaySource => ({
      async *[Symbol.asyncIterator]() {
        await new Promise((r) => setTimeout(r, 200));
        yield { type: "error", error: new StreamError("timeout", "done") };
      },
    });
    const { id } = await relay.start(hang());
    await relay.start(hang());
    await expect(relay.start(hang())).rejects.toMatchObject({ code: "limit_exceeded" });
    const busy = await toEventStreamResponse(hang(), { relay });
    expect(busy.status).toBe(503);
    expect(busy.headers.get("retry-after")).toBe("5");
    const first = await get(relay, `/streams/${id}`);
    const second = await get(relay, `/streams/${id}`);
    expect(second.status).toBe(503);
    expect((await second.json()).error.code).toBe("too_many_connections");
    await first.body?.cancel();
    expect(relay.connections).toBe(0);
  });
});

describe("toEventStreamResponse", () => {
  it("answers with the stream's events and tells the client where to resume", async () => {
    const relay = relayFor({ token: true });
    const response = await toEventStreamResponse(fakeStream({ title: "Hi" }), {
      relay,
      resumeUrl: (id) => `/api/streams/${id}`,
      headers: { "access-control-allow-origin": "*" },
    });
    expect(response.headers.get("access-control-allow-origin")).toBe("*");
    const { events } = await readSse(response);
    const hello = JSON.parse(events[0].data);
    expect(hello.url).toBe(`/api/streams/${hello.id}`);
    expect(hello.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(replay(events).value).toEqual({ title: "Hi" });
    const again = await get(relay, hello.url, { authorization: `Bearer ${hello.token}` });
    expect(again.status).toBe(200);
    await again.body?.cancel();
  });

  it("works without a relay of its own", async () => {
    const response = await toEventStreamResponse(fakeStream([1, 2, 3]));
    expect(replay((await readSse(response)).events).value).toEqual([1, 2, 3]);
  });
});

describe("limits and faults (issue 12)", () => {
  const hang = (ms = 100): RelaySource & { aborted: boolean } => {
    const source = {
      aborted: false,
      async *[Symbol.asyncIterator]() {
        await new Promise((r) => setTimeout(r, ms));
        yield { type: "error", error: new StreamError("timeout", "done") } as StreamEvent<unknown>;
      },
      abort() {
        source.aborted = true;
      },
    };
    return source;
  };

  it("holds maxStreams under concurrent starts: the limit is reserved before log.create", async () => {
    const relay = relayFor({ maxStreams: 3 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, () => relay.start(hang())));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(3);
    for (const r of results.filter((r) => r.status === "rejected"))
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: "limit_exceeded" });
    expect(relay.running).toBe(3);
  });

  it("stops a stream whose memory log lost it mid-run, and aborts its source", async () => {
    const log = createMemoryEventLog();
    const errors: unknown[] = [];
    const relay = relayFor({ log, onError: (error) => errors.push(error) });
    const source = {
      aborted: false,
      async *[Symbol.asyncIterator]() {
        for (let i = 0; !source.aborted; i++) {
          yield { type: "partial", value: { n: i }, changes: [["=", "/n", i]] } as StreamEvent<unknown>;
          await new Promise((r) => setTimeout(r, 5));
        }
      },
      abort() {
        source.aborted = true;
      },
    };
    const { id } = await relay.start(source);
    await new Promise((r) => setTimeout(r, 30));
    // The log forgets every stream (as when it is closed): the next write fails, synchronously.
    await log.close?.();
    await relay.finished(id);
    expect(source.aborted).toBe(true);
    expect(relay.running).toBe(0);
    expect(errors).toContainEqual(expect.objectContaining({ code: "not_found" }));
  });

  it("aborts the source when the log refuses the stream, and frees its slot", async () => {
    const log = createMemoryEventLog();
    log.create = async () => {
      throw new StructreamError("log_unavailable", "down");
    };
    const relay = relayFor({ log, maxStreams: 1 });
    const source = hang();
    await expect(relay.start(source)).rejects.toMatchObject({ code: "log_unavailable" });
    expect(source.aborted).toBe(true);
    expect(relay.running).toBe(0);
  });

  it("holds maxConnections under concurrent requests and releases a request whose client left", async () => {
    const relay = relayFor({ maxConnections: 4, token: true });
    const { id, token } = await relay.start(hang(300));
    const auth = { authorization: `Bearer ${token}` };
    // Clients that leave while the token is being checked (before the response begins).
    for (let i = 0; i < 50; i++) {
      const controller = new AbortController();
      const pending = relay.handle(
        new Request(`http://relay.test/streams/${id}`, { headers: auth, signal: controller.signal }),
      );
      controller.abort();
      const response = await pending;
      await response.body?.cancel().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 0));
    expect(relay.connections).toBe(0);
    const responses = await Promise.all(Array.from({ length: 10 }, () => get(relay, `/streams/${id}`, auth)));
    expect(responses.filter((r) => r.status === 200)).toHaveLength(4);
    for (const r of responses.filter((r) => r.status !== 200)) {
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).not.toBeNull();
    }
    await Promise.all(responses.map((r) => r.body?.cancel()));
    expect(relay.connections).toBe(0);
  });

  it("answers 400 for an event id beyond the last sent, and for a malformed token", async () => {
    const relay = relayFor({ token: true });
    const { id, token } = await relay.start(fakeStream({ a: "b" }));
    await relay.finished(id);
    const auth = { authorization: `Bearer ${token}` };
    const beyond = await get(relay, `/streams/${id}`, { ...auth, "last-event-id": "99999" });
    expect(beyond.status).toBe(400);
    expect((await beyond.json()).error.code).toBe("malformed_event_id");
    const huge = await get(relay, `/streams/${id}`, { ...auth, "last-event-id": "999999999999999" });
    expect(huge.status).toBe(400);
    for (const authorization of ["Bearer x", "Basic abc", "Bearer", `Bearer ${token}x`]) {
      const response = await get(relay, `/streams/${id}`, { authorization });
      expect(response.status, authorization).toBe(400);
      expect((await response.json()).error.code).toBe("malformed_token");
    }
    expect(relay.connections).toBe(0);
  });

  it("sends a value's patch before its field and field-state complete events", async () => {
    const relay = relayFor();
    // The order structuredStream emits a chunk in: states and fields as the parser meets them, then
    // the chunk's partial (which shares the field's value).
    const b = [1];
    const events: StreamEvent<unknown>[] = [
      { type: "status", status: "streaming" },
      { type: "field-state", path: ["a"], pointer: "/a", state: "streaming" },
      {
        type: "partial",
        value: { a: "he" },
        progress: { completed: 0, total: 2, percent: 0, pending: ["/a", "/b"] },
      },
      { type: "field-state", path: ["a"], pointer: "/a", state: "complete" },
      { type: "field", path: ["a"], pointer: "/a", value: "hello" },
      { type: "field-state", path: ["b"], pointer: "/b", state: "complete" },
      { type: "field", path: ["b"], pointer: "/b", value: b },
      {
        type: "partial",
        value: { a: "hello", b },
        progress: { completed: 2, total: 2, percent: 99, pending: [] },
      },
      { type: "complete", value: { a: "hello", b }, stats: undefined as never },
    ];
    const { id } = await relay.start(sourceOf(events));
    const { events: sse } = await readSse(await get(relay, `/streams/${id}`));
    let state = INITIAL_STATE;
    for (const e of sse.slice(1)) {
      const decoded = decodeRelayEvent(e.event, e.data)!;
      if (decoded.type === "field" || (decoded.type === "field-state" && decoded.state === "complete")) {
        const at = decoded.path.reduce<unknown>((v, k) => (v as Record<string, unknown>)?.[k], state.value);
        expect(at, `${e.event} ${e.data}`).toEqual(
          decoded.type === "field" && "value" in decoded ? decoded.value : (at ?? "missing"),
        );
        expect(at).not.toBeUndefined();
        if (decoded.type === "field") expect("value" in decoded).toBe(false);
      }
      state = reduceRelayState(state, decoded);
    }
    expect(state.value).toEqual({ a: "hello", b: [1] });
  });

  it("resumes from the nearest snapshot at or before Last-Event-ID, not from the first event", async () => {
    const log = createMemoryEventLog();
    const reads: number[] = [];
    const read = log.read.bind(log);
    log.read = (streamId, afterId, o) => {
      reads.push(afterId);
      return read(streamId, afterId, o);
    };
    const follow = log.follow?.bind(log);
    if (follow !== undefined) {
      log.follow = (streamId, afterId, onAppend) => {
        reads.push(afterId);
        return follow(streamId, afterId, onAppend);
      };
    }
    const relay = relayFor({ log, snapshotEvery: 8 });
    const answer = randomAnswer(createRandom(11), 6);
    const { id } = await relay.start(fakeStream(answer, { seed: 11 }));
    const all = (await readSse(await get(relay, `/streams/${id}`))).events.slice(1);
    const snapshots = all.filter((e) => e.event === "snapshot").map((e) => Number(e.id));
    expect(snapshots.length).toBeGreaterThan(1);
    const after = snapshots[1] + 2;
    const resumed = await readSse(await get(relay, `/streams/${id}`, { "last-event-id": String(after) }));
    expect(reads.at(-1)).toBe(snapshots[1]);
    expect(resumed.events[1]).toMatchObject({ event: "snapshot", id: String(after) });
    expect(resumed.events.slice(2)).toEqual(all.filter((e) => Number(e.id) > after));
    expect(replay(resumed.events).value).toEqual(answer);
  });

  it("cancels a stream on DELETE with its token, and on another relay sharing the log", async () => {
    const log = createMemoryEventLog();
    const a = relayFor({ log, token: true });
    const b = relayFor({ log, token: true });
    const source = fakeStream({ text: "x".repeat(5000) }, { maxChunk: 1, delayMs: 1 });
    const { id, token } = await a.start(source);
    const reading = readSse(await get(a, `/streams/${id}`, { authorization: `Bearer ${token}` }));
    const denied = await b.handle(new Request(`http://relay.test/streams/${id}`, { method: "DELETE" }));
    expect(denied.status).toBe(401);
    const accepted = await b.handle(
      new Request(`http://relay.test/streams/${id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(accepted.status).toBe(202);
    const { events } = await reading;
    expect(source.aborted).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: "stream-error" });
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ code: "aborted" });
    const again = await b.handle(
      new Request(`http://relay.test/streams/${id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${token}` },
      }),
    );
    expect(again.status).toBe(204);
    // relay.abort on B stops a stream that A runs.
    const second = fakeStream({ text: "y".repeat(5000) }, { maxChunk: 1, delayMs: 1 });
    const started = await a.start(second);
    expect(b.abort(started.id, "Stopped on B.")).toBe(true);
    await a.finished(started.id);
    expect(second.aborted).toBe(true);
  });

  it("drops an ended stream's history before its last snapshot after compactAfterMs", async () => {
    let now = 0;
    const log = createMemoryEventLog({ compactAfterMs: 1_000, now: () => now });
    const relay = relayFor({ log, snapshotEvery: 4 });
    const answer = randomAnswer(createRandom(5), 4);
    const { id } = await relay.start(fakeStream(answer, { seed: 5 }));
    await relay.finished(id);
    const count = async () => {
      let n = 0;
      for await (const _ of log.read(id, 0)) n++;
      return n;
    };
    const before = await count();
    now = 2_000;
    await log.meta(id);
    const after = await count();
    expect(after).toBeLessThan(before / 2);
    const { events } = await readSse(await get(relay, `/streams/${id}`, { "last-event-id": "1" }));
    expect(replay(events).value).toEqual(answer);
  });
});
