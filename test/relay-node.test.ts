/**
 * The relay's Node path: `toNodeHandler` / `writeResponseToNode` write a relay's events straight to
 * the `ServerResponse` (no web stream in between), and `toNodeHandler(relay)` serves a relay from
 * Node's own request (no web `Request` or `Response` at all). Real node:http servers and raw TCP
 * clients: a client that never reads, sockets dropped mid-stream and right after their request, and
 * every answer of the relay, the same on both paths.
 */
import { createServer, type ServerResponse } from "node:http";
import { connect, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { createRelay, type Relay, toNodeHandler } from "../src/server/index.ts";
import { fakeStream, until } from "./relay-fixtures.ts";

interface Watched {
  url: { port: number };
  /** Every response the server wrote, with what the relay handed it. */
  responses: { res: ServerResponse; written: number; maxBuffered: number; refused: number }[];
  close(): Promise<void>;
}

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

/** How the server hands requests to the relay: through `relay.handle`, or the relay itself. */
type Mount = "fetch handler" | "relay";

/** A node:http server for `relay` that records, per response, the bytes written and buffered. */
async function watchedServer(relay: Relay, mount: Mount, endAfterMs?: number): Promise<Watched> {
  const handler =
    mount === "relay" ? toNodeHandler(relay) : toNodeHandler((request) => relay.handle(request));
  const responses: Watched["responses"] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const record = { res, written: 0, maxBuffered: 0, refused: 0 };
    responses.push(record);
    const write = res.write.bind(res) as (chunk: string) => boolean;
    (res as { write: (chunk: string) => boolean }).write = (chunk: string) => {
      const ok = write(chunk);
      record.written += Buffer.byteLength(chunk);
      record.maxBuffered = Math.max(record.maxBuffered, res.writableLength);
      if (!ok) record.refused++;
      return ok;
    };
    // Someone else ends the response (a timeout middleware): the relay must take it in stride.
    if (endAfterMs !== undefined) setTimeout(() => res.end(), endAfterMs);
    void handler(req, res);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = server.address() as { port: number };
  return {
    url,
    responses,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A raw HTTP/1.1 client: sends a GET and reads nothing (`read: false`) or everything. */
function rawGet(port: number, path: string, read: boolean): { socket: Socket; received: () => string } {
  const socket = connect(port, "127.0.0.1");
  let received = "";
  socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  if (read) socket.on("data", (chunk: Buffer) => (received += chunk.toString("latin1")));
  else socket.pause();
  socket.on("error", () => {});
  return { socket, received: () => received };
}

describe.each<Mount>(["fetch handler", "relay"])(
  "the relay on Node's ServerResponse (toNodeHandler(%s))",
  (mount) => {
    it("holds a bounded amount for a client that never reads, and frees its slot when it goes", async () => {
      const relay = createRelay({ keepAliveMs: 600_000 });
      cleanup.push(() => relay.close());
      const server = await watchedServer(relay, mount);
      cleanup.push(() => server.close());
      // Far more than the kernel's socket buffers hold (a few MB on loopback).
      const text = "lorem ipsum dolor sit amet, ünïcødé 🎈 ".repeat(300_000);
      const { id } = await relay.start(fakeStream({ text }, { maxChunk: 262_144 }));
      const stuck = rawGet(server.url.port, `/streams/${id}`, false);
      await relay.finished(id);
      await until(() => server.responses[0]?.refused > 0, "the socket to refuse a write");
      const record = server.responses[0];
      // Whatever the stream wrote, the relay handed the socket only what it could take: a piece and
      // Node's buffer, not the whole answer.
      expect(record.written).toBeLessThan(Buffer.byteLength(text) / 2);
      expect(record.maxBuffered).toBeLessThan(256 * 1024);
      expect(relay.connections).toBe(1);
      stuck.socket.destroy();
      await until(() => relay.connections === 0, "the slot to be freed");
    });

    it("frees the slot of a socket dropped mid-stream, and of one closed right after its request", async () => {
      const relay = createRelay({ keepAliveMs: 600_000, maxConnections: 3 });
      cleanup.push(() => relay.close());
      const server = await watchedServer(relay, mount);
      cleanup.push(() => server.close());
      const { id } = await relay.start(fakeStream({ text: "z".repeat(3_000) }, { maxChunk: 4, delayMs: 1 }));
      for (let round = 0; round < 5; round++) {
        const reader = rawGet(server.url.port, `/streams/${id}`, true);
        await until(() => reader.received().includes("\n\n"), "the first event");
        reader.socket.destroy();
        rawGet(server.url.port, `/streams/${id}`, true).socket.destroy();
      }
      await until(() => relay.connections === 0, "every slot to be freed");
      // The limit still admits readers: nothing was left counted.
      const last = rawGet(server.url.port, `/streams/${id}`, true);
      await relay.finished(id);
      await until(() => last.received().includes("event: complete"), "the whole stream");
      last.socket.destroy();
      await until(() => relay.connections === 0, "the last slot to be freed");
    });

    it("frees the slot of a response that someone else ends, and writes nothing after", async () => {
      const relay = createRelay({ keepAliveMs: 5 });
      cleanup.push(() => relay.close());
      const server = await watchedServer(relay, mount, 30);
      cleanup.push(() => server.close());
      const { id } = await relay.start(fakeStream({ text: "y".repeat(2_000) }, { maxChunk: 2, delayMs: 1 }));
      const reader = rawGet(server.url.port, `/streams/${id}`, true);
      await until(() => server.responses[0]?.res.writableEnded === true, "the response to be ended");
      await until(() => relay.connections === 0, "the slot to be freed");
      const written = server.responses[0].written;
      await relay.finished(id);
      expect(server.responses[0].written).toBe(written);
      reader.socket.destroy();
    });
  },
);

/** One raw HTTP/1.1 exchange (`Connection: close`): the status, headers and de-chunked body. */
async function exchange(
  port: number,
  request: string,
): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = connect(port, "127.0.0.1");
  socket.on("error", () => {});
  socket.write(request);
  let raw = "";
  socket.on("data", (chunk: Buffer) => (raw += chunk.toString("latin1")));
  await new Promise<void>((resolve) => socket.once("close", () => resolve()));
  const split = raw.indexOf("\r\n\r\n");
  const [statusLine, ...lines] = raw.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    headers[name] =
      headers[name] === undefined
        ? line.slice(colon + 1).trim()
        : `${headers[name]}, ${line.slice(colon + 1).trim()}`;
  }
  let body = raw.slice(split + 4);
  if (headers["transfer-encoding"] === "chunked") {
    let out = "";
    for (;;) {
      const eol = body.indexOf("\r\n");
      const size = Number.parseInt(body.slice(0, eol), 16);
      if (!(size > 0)) break;
      out += body.slice(eol + 2, eol + 2 + size);
      body = body.slice(eol + 2 + size + 2);
    }
    body = out;
  }
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    body: Buffer.from(body, "latin1").toString("utf8"),
  };
}

/** What must be the same on both paths: everything but the framing and the date. */
function comparable(answer: Awaited<ReturnType<typeof exchange>>) {
  const {
    date,
    connection,
    "transfer-encoding": te,
    "content-length": cl,
    "keep-alive": ka,
    ...headers
  } = answer.headers;
  return { status: answer.status, headers, body: answer.body };
}

describe("toNodeHandler(relay)", () => {
  it("answers every request exactly as relay.handle does, from Node's own request", async () => {
    const relay = createRelay({
      keepAliveMs: 600_000,
      maxConnections: 1,
      headers: { "access-control-allow-origin": "*", "set-cookie": "a=1" },
    });
    cleanup.push(() => relay.close());
    const viaFetch = await watchedServer(relay, "fetch handler");
    cleanup.push(() => viaFetch.close());
    const viaRelay = await watchedServer(relay, "relay");
    cleanup.push(() => viaRelay.close());
    const ended = await relay.start(fakeStream({ text: "done ü 🎈" }));
    await relay.finished(ended.id);
    const secret = await relay.start(fakeStream({ text: "secret" }), { token: true });
    await relay.finished(secret.id);
    const running = await relay.start(fakeStream({ text: "r".repeat(500) }, { maxChunk: 1, delayMs: 20 }));
    const unknown = "A".repeat(22);
    const get = (path: string, extra = "", method = "GET") =>
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n${extra}\r\n`;
    const cases: [string, string][] = [
      ["200, the whole stream", get(`/streams/${ended.id}`)],
      ["200, resumed after an event", get(`/streams/${ended.id}`, "Last-Event-ID: 2\r\n")],
      ["200 to HEAD", get(`/streams/${ended.id}`, "", "HEAD")],
      ["405", get(`/streams/${ended.id}`, "Content-Length: 0\r\n", "POST")],
      ["414", get(`/streams/${"x".repeat(9_000)}`)],
      ["413", `${get(`/streams/${ended.id}`, "Content-Length: 3\r\n")}abc`],
      ["400 malformed_id", get("/streams/nope")],
      ["400 malformed_event_id", get(`/streams/${ended.id}`, "Last-Event-ID: x1\r\n")],
      ["400 beyond the last event", get(`/streams/${ended.id}`, "Last-Event-ID: 99999\r\n")],
      ["400 malformed_token", get(`/streams/${secret.id}`, "Authorization: Basic abc\r\n")],
      ["401", get(`/streams/${secret.id}`)],
      ["403", get(`/streams/${secret.id}`, `Authorization: Bearer ${"B".repeat(22)}\r\n`)],
      ["200 with the token", get(`/streams/${secret.id}?token=${secret.token}`)],
      ["404", get(`/streams/${unknown}`)],
      ["204 to DELETE after the end", get(`/streams/${ended.id}`, "", "DELETE")],
    ];
    for (const [what, request] of cases) {
      const a = comparable(await exchange(viaFetch.url.port, request));
      const b = comparable(await exchange(viaRelay.url.port, request));
      expect(b, what).toEqual(a);
      expect(a.status, what).toBe(Number(what.slice(0, 3)));
    }
    // The last event's id: a client that has it gets 204.
    const whole = comparable(await exchange(viaRelay.url.port, get(`/streams/${ended.id}`)));
    const lastId = [...whole.body.matchAll(/^id: (\d+)$/gm)].pop()?.[1];
    const after = get(`/streams/${ended.id}`, `Last-Event-ID: ${lastId}\r\n`);
    expect(comparable(await exchange(viaRelay.url.port, after))).toEqual(
      comparable(await exchange(viaFetch.url.port, after)),
    );
    expect((await exchange(viaRelay.url.port, after)).status).toBe(204);

    // 503 beyond maxConnections (1): a reader holds the only slot.
    const holder = rawGet(viaRelay.url.port, `/streams/${running.id}`, true);
    await until(() => holder.received().includes("event: stream"), "the first reader's stream event");
    const busy = get(`/streams/${running.id}`);
    const busyA = comparable(await exchange(viaFetch.url.port, busy));
    const busyB = comparable(await exchange(viaRelay.url.port, busy));
    expect(busyB).toEqual(busyA);
    expect(busyB.status).toBe(503);
    expect(busyB.headers["retry-after"]).toBe("2");
    holder.socket.destroy();
    await until(() => relay.connections === 0, "the slot to be freed");

    // 202 to DELETE while it runs (on the Node path), then 503 once the relay closes.
    const cancel = await exchange(viaRelay.url.port, get(`/streams/${running.id}`, "", "DELETE"));
    expect(cancel.status).toBe(202);
    expect(JSON.parse(cancel.body)).toEqual({ id: running.id, status: "cancelling" });
    await relay.finished(running.id);
    await relay.close();
    const closedA = comparable(await exchange(viaFetch.url.port, get(`/streams/${ended.id}`)));
    const closedB = comparable(await exchange(viaRelay.url.port, get(`/streams/${ended.id}`)));
    expect(closedB).toEqual(closedA);
    expect(JSON.parse(closedB.body).error.code).toBe("relay_closed");
  });

  it("ends every response after its last event when hundreds of answers end together", async () => {
    const relay = createRelay({ keepAliveMs: 600_000 });
    cleanup.push(() => relay.close());
    const server = await watchedServer(relay, "relay");
    cleanup.push(() => server.close());
    const ids: string[] = [];
    for (let i = 0; i < 300; i++) {
      ids.push(
        (await relay.start(fakeStream({ n: i, text: "t".repeat(200) }, { maxChunk: 50, delayMs: 5 }))).id,
      );
    }
    const answers = await Promise.all(
      ids.map((id) =>
        exchange(
          server.url.port,
          `GET /streams/${id} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`,
        ),
      ),
    );
    for (const [i, answer] of answers.entries()) {
      // The response ended (the socket closed) after the whole stream, `complete` last.
      expect(answer.body.trimEnd().split("\n\n").pop()).toMatch(/^id: \d+\nevent: complete\n/);
      expect(answer.body).toContain(`"id":"${ids[i]}"`);
    }
    await until(() => relay.connections === 0, "every slot to be freed");
  });

  it("answers 400 to a Host header that makes no URL, as the web path does", async () => {
    const relay = createRelay();
    cleanup.push(() => relay.close());
    const viaRelay = await watchedServer(relay, "relay");
    cleanup.push(() => viaRelay.close());
    const answer = await exchange(
      viaRelay.url.port,
      "GET /streams/x HTTP/1.1\r\nHost: [::1\r\nConnection: close\r\n\r\n",
    );
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body).error.code).toBe("malformed_url");
  });
});
