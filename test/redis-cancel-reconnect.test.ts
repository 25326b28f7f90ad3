/**
 * A cancel request that reaches no subscriber: instance A's connections to a real redis-server go
 * through a TCP proxy that the test cuts and holds down; meanwhile another client asks to stop A's
 * stream (the flag key, and a pub/sub message that nobody hears). When the proxy lets A back in,
 * A must read the flags of the streams it runs again and stop the stream.
 */
import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterEach, expect, it, vi } from "vitest";
import { createRedisEventLog, createRelay, type EventLog, type Relay } from "../src/server/index.ts";
import { fakeStream, until } from "./relay-fixtures.ts";
import { type RedisProcess, redisServerPath, startRedis } from "./support/redis.ts";
import { requires } from "./support/requires.ts";

/** A TCP proxy to `port` that can drop every connection and refuse new ones until healed. */
async function startProxy(port: number) {
  const sockets = new Set<Socket>();
  let refusing = false;
  let refused = 0;
  const server: Server = createServer((client) => {
    if (refusing) {
      refused++;
      client.destroy();
      return;
    }
    const upstream = connect(port, "127.0.0.1");
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("error", () => {});
      socket.on("close", () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as { port: number };
  return {
    url: `redis://127.0.0.1:${address.port}`,
    get refused() {
      return refused;
    },
    cut() {
      refusing = true;
      for (const socket of sockets) socket.destroy();
    },
    heal() {
      refusing = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

requires(
  "redis-server",
  redisServerPath !== undefined,
  "apt-get install redis-server (or set REDIS_SERVER)",
)("a cancel published while the subscriber was away", () => {
  let redisProcess: RedisProcess | undefined;
  const cleanups: (() => Promise<void> | void)[] = [];

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await redisProcess?.stop();
    redisProcess = undefined;
    vi.restoreAllMocks();
  });

  it("stops the stream once the instance is back (its flags are read again)", async () => {
    redisProcess = await startRedis();
    const proxy = await startProxy(redisProcess.port);
    cleanups.push(() => proxy.close());
    // Instance A reaches Redis only through the proxy; it retries every 20 ms while cut off.
    const redisA = new Redis(proxy.url, { maxRetriesPerRequest: null, retryStrategy: () => 20 });
    redisA.on("error", () => {});
    const logA: EventLog = createRedisEventLog({
      redis: redisA,
      ttlSeconds: 60,
      blockMs: 200,
      timeoutMs: 300,
    });
    const relayA: Relay = createRelay({ log: logA, onError: () => {} });
    cleanups.push(async () => {
      await relayA.close();
      await logA.close?.();
      redisA.disconnect();
    });
    // Another instance, connected directly, and a plain client to look at the server.
    const redisB = new Redis(redisProcess.url, { maxRetriesPerRequest: 2 });
    const logB = createRedisEventLog({ redis: redisB, ttlSeconds: 60 });
    const admin = new Redis(redisProcess.url);
    cleanups.push(async () => {
      await logB.close?.();
      redisB.disconnect();
      admin.disconnect();
    });
    const subscribers = async () => ((await admin.call("CLIENT", "LIST", "TYPE", "pubsub")) as string).trim();

    const source = fakeStream({ text: "x".repeat(50_000) }, { maxChunk: 1, delayMs: 1 });
    const { id } = await relayA.start(source);
    await until(() => relayA.running === 1, "the stream running on A");
    // A listens for cancel requests on a connection of its own.
    for (let i = 0; (await subscribers()) === ""; i++) {
      expect(i).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 5));
    }

    proxy.cut();
    // A's subscriber is gone from the server, and its reconnection attempts are being refused.
    for (let i = 0; (await subscribers()) !== "" || proxy.refused === 0; i++) {
      expect(i).toBeLessThan(2_000);
      await new Promise((r) => setTimeout(r, 5));
    }
    // The request to stop: its message reaches no one now; only the flag stays.
    await logB.cancel!(id, "Stopped elsewhere.");
    expect(await subscribers()).toBe("");
    expect(source.aborted).toBe(false);
    expect(relayA.running).toBe(1);

    proxy.heal();
    // Back: A subscribes again, reads the flag and stops the stream (long before it would end).
    await until(() => source.aborted, "the stream stopped after A came back", 20_000);
    await relayA.finished(id);
    expect(relayA.running).toBe(0);
  }, 60_000);
});
