/**
 * The relay's Node path: `toNodeHandler` / `writeResponseToNode` write a relay's events straight to
 * the `ServerResponse` (no web stream in between). Real node:http servers and raw TCP clients: a
 * client that never reads, sockets dropped mid-stream and right after their request.
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

/** A node:http server for `relay` that records, per response, the bytes written and buffered. */
async function watchedServer(relay: Relay, endAfterMs?: number): Promise<Watched> {
  const handler = toNodeHandler((request) => relay.handle(request));
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

describe("the relay on Node's ServerResponse", () => {
  it("holds a bounded amount for a client that never reads, and frees its slot when it goes", async () => {
    const relay = createRelay({ keepAliveMs: 600_000 });
    cleanup.push(() => relay.close());
    const server = await watchedServer(relay);
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
    const server = await watchedServer(relay);
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
    const server = await watchedServer(relay, 30);
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
});
