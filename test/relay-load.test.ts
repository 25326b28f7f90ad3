/**
 * Load: 200 concurrent streams through one relay on a real node:http server, read by 200 clients
 * over real fetch with a third of the connections cut at random points; every client must end with
 * the exact final value, having seen every event once. `npm run bench` runs 500 and reports figures.
 */
import { connect, type Socket } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { subscribe } from "../src/client/index.ts";
import { createRelay } from "../src/server/index.ts";
import {
  checkExactlyOnce,
  createRandom,
  fakeStream,
  randomAnswer,
  runRelayLoad,
  serve,
  type TappedEvent,
  tapFetch,
  until,
} from "./relay-fixtures.ts";
import { jsonDiff } from "./support/json-equal.ts";

const STREAMS = Number(process.env.RELAY_LOAD_STREAMS ?? 200);

describe("relay under load", () => {
  it(`gives each of ${STREAMS} concurrent clients the exact final value despite random drops`, async () => {
    const result = await runRelayLoad({ streams: STREAMS, dropRate: 0.35, items: 3, delayMs: 1, seed: 7 });
    expect(result.failures).toEqual([]);
    expect(result.exact).toBe(STREAMS);
    expect(result.exactlyOnce).toBe(STREAMS);
    expect(result.reconnects).toBeGreaterThan(STREAMS / 10);
    // Patches cost a small fraction of re-sent snapshots, HTTP and SSE framing included.
    expect(result.bytesSent).toBeLessThan(result.snapshotBytes / 2);
    console.info(
      `relay load: ${STREAMS} streams in ${result.wallMs.toFixed(0)} ms, ${result.reconnects} reconnects, ` +
        `${(result.bytesSent / 1024).toFixed(0)} KiB sent vs ${(result.snapshotBytes / 1024).toFixed(0)} KiB of snapshots`,
    );
    // Correctness under load, not speed: two CPU hogs beside the suite stretched this past 60 s.
  }, 300_000);
});

/** A raw HTTP GET on a socket that is never read from (a reader stuck behind a dead network). */
function stuckReader(url: string, path: string, token: string): Promise<Socket> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n` +
          "Accept: text/event-stream\r\n\r\n",
      );
      socket.pause();
      resolve(socket);
    });
    socket.once("error", reject);
  });
}

/** A GET whose socket closes 0 to 5 ms after it is sent (before, or just as, the answer starts). */
function instantDisconnect(url: string, path: string, token: string, random: () => number): Promise<void> {
  const { port } = new URL(url);
  return new Promise((resolve) => {
    const socket = connect(Number(port), "127.0.0.1", () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\n\r\n`,
      );
      setTimeout(() => socket.destroy(), Math.floor(random() * 6));
    });
    socket.once("close", () => resolve());
    socket.once("error", () => {});
  });
}

function heapAndBuffers(gc: () => void): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

describe("relay under load with faults (issue 12)", () => {
  it("serves 1,000 clients with random drops, instant disconnects and readers that never read", async () => {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    const random = createRandom(99);
    const relay = createRelay({ token: true, maxStreams: 100, maxConnections: 5_000 });
    const server = await serve((request) => relay.handle(request));
    const STREAMS = 25;
    const CLIENTS = 1_000;
    const failures: string[] = [];
    let exact = 0;
    let reconnects = 0;
    try {
      // A long answer for readers that never read: far more than the socket buffers hold.
      const big = { text: "lorem ipsum dolor sit amet — ünïcødé 🎈 ".repeat(60_000) };
      const bigSource = fakeStream(big, { maxChunk: 65_536 });
      let openBig!: () => void;
      const bigGate = new Promise<void>((resolve) => {
        openBig = resolve;
      });
      const slow = await relay.start({
        [Symbol.asyncIterator]: () => {
          const inner = bigSource[Symbol.asyncIterator]();
          let first = true;
          return {
            next: async () => {
              if (first) {
                first = false;
                await bigGate;
              }
              return inner.next();
            },
          };
        },
      });
      const stuck = await Promise.all(
        Array.from({ length: 20 }, () => stuckReader(server.url, `/streams/${slow.id}`, slow.token!)),
      );
      openBig();

      // The streams run once every client is connected, so that drops land mid-stream.
      let openStreams!: () => void;
      const streamsGate = new Promise<void>((resolve) => {
        openStreams = resolve;
      });
      let connected = 0;
      const streams = await Promise.all(
        Array.from({ length: STREAMS }, async (_, i) => {
          const answer = randomAnswer(createRandom(1_000 + i), 1);
          const started = await relay.start(
            fakeStream(answer, { seed: i + 1, delayMs: 5, gate: streamsGate }),
          );
          return { answer, ...started };
        }),
      );
      const disconnects = Array.from({ length: 200 }, (_, i) => {
        const s = streams[i % STREAMS];
        return instantDisconnect(server.url, `/streams/${s.id}`, s.token!, random);
      });
      const clients = Array.from({ length: CLIENTS }, async (_, i) => {
        const s = streams[i % STREAMS];
        const drops = createRandom(0x9e3779b9 ^ (i * 2_654_435_761));
        const tapped: TappedEvent[] = [];
        const sub = subscribe(`${server.url}/streams/${s.id}`, {
          token: s.token,
          retry: { baseDelayMs: 5, maxDelayMs: 200, maxRetries: 20 },
          fetch: tapFetch({
            cutAfter: (n) => (n < 4 && drops() < 0.3 ? 1 + Math.floor(drops() * 3) : undefined),
            // One client in ten records its events to check that each came exactly once.
            ...(i % 10 === 0 ? { onEvent: (e: TappedEvent) => tapped.push(e) } : {}),
          }),
        });
        const stop = sub.subscribe(() => {
          if (sub.connection === "open") {
            stop();
            if (++connected === CLIENTS) openStreams();
          }
        });
        try {
          const value = await sub.done;
          const problem = jsonDiff(value, s.answer) ?? (i % 10 === 0 ? checkExactlyOnce(tapped) : undefined);
          if (problem === undefined) exact++;
          else failures.push(`client ${i}: ${problem}`);
        } catch (error) {
          failures.push(`client ${i}: ${(error as Error).message}`);
        }
        reconnects += sub.stats.reconnects;
      });
      await Promise.all([...clients, ...disconnects]);
      await relay.finished(slow.id);
      expect(failures.slice(0, 5)).toEqual([]);
      expect(exact).toBe(CLIENTS);
      expect(reconnects).toBeGreaterThan(CLIENTS / 10);

      // The stuck readers hold what is in flight for them, nothing more: measured by what their
      // release frees (the log itself is shared and stays).
      expect(relay.connections).toBe(stuck.length);
      const held = heapAndBuffers(gc);
      for (const socket of stuck) socket.destroy();
      await until(() => relay.connections === 0, "connections back to 0");
      await new Promise((r) => setTimeout(r, 50));
      const perReader = (held - heapAndBuffers(gc)) / stuck.length;
      const bigEvent = JSON.stringify(big).length;
      console.info(
        `relay faults: ${CLIENTS} clients on ${STREAMS} streams, ${reconnects} reconnects, 200 instant ` +
          `disconnects; ${stuck.length} stuck readers of a ${(bigEvent / 1024).toFixed(0)} KiB answer hold ` +
          `${(perReader / 1024).toFixed(0)} KiB each`,
      );
      // At most one event queued plus Node's write buffer: far below the answer itself.
      expect(perReader).toBeLessThan(512 * 1024);
      expect(relay.connections).toBe(0);
    } finally {
      await relay.close();
      await server.close();
    }
  }, 300_000);
});
