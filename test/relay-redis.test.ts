/**
 * Resume across instances: a real redis-server (started here on a free port, persistence off) and
 * two relay instances on two ports sharing it. A client reading from instance A is cut off and
 * resumes on instance B with nothing lost or doubled. Skipped, with a message, without redis-server.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { subscribe } from "../src/client/index.ts";
import {
  createRedisEventLog,
  createRelay,
  type EventLog,
  type LogEntry,
  type Relay,
} from "../src/server/index.ts";
import {
  checkExactlyOnce,
  createRandom,
  fakeStream,
  randomAnswer,
  serve,
  type TappedEvent,
  type TestServer,
  tapFetch,
} from "./relay-fixtures.ts";
import { type RedisProcess, redisServerPath, startRedis } from "./support/redis.ts";
import { requires } from "./support/requires.ts";

interface Instance {
  redis: Redis;
  log: EventLog;
  relay: Relay;
  server: TestServer;
}

requires(
  "redis-server",
  redisServerPath !== undefined,
  "apt-get install redis-server (or set REDIS_SERVER)",
)("relay on Redis Streams", () => {
  let redisProcess: RedisProcess;
  let a: Instance;
  let b: Instance;
  const clients: Redis[] = [];

  async function instance(): Promise<Instance> {
    const redis = new Redis(redisProcess.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    clients.push(redis);
    const log = createRedisEventLog({ redis, ttlSeconds: 60, maxLen: 5_000, blockMs: 500 });
    const relay = createRelay({ log, token: true });
    const server = await serve((request) => relay.handle(request));
    return { redis, log, relay, server };
  }

  beforeAll(async () => {
    redisProcess = await startRedis();
    a = await instance();
    b = await instance();
  });

  afterAll(async () => {
    for (const i of [a, b]) {
      if (i === undefined) continue;
      await i.relay.close();
      await i.log.close?.();
      await i.server.close();
    }
    for (const c of clients) c.disconnect();
    await redisProcess?.stop();
  });

  it("resumes on instance B a stream cut off on instance A, with nothing lost or doubled", async () => {
    const answer = randomAnswer(createRandom(21), 8);
    let iterations = 0;
    const inner = fakeStream(answer, { seed: 21, delayMs: 2 });
    const { id, token } = await a.relay.start({
      [Symbol.asyncIterator]() {
        iterations++;
        return inner[Symbol.asyncIterator]();
      },
    });
    const tapped: TappedEvent[] = [];
    const hosts: string[] = [];
    const s = subscribe(`${a.server.url}/streams/${id}`, {
      token,
      retry: { baseDelayMs: 5 },
      fetch: tapFetch({
        onEvent: (e) => tapped.push(e),
        // The first connection goes to A; every reconnection to B.
        route: (url, n) => {
          const routed = n === 0 ? url : url.replace(a.server.url, b.server.url);
          hosts.push(new URL(routed).origin);
          return routed;
        },
      }),
    });
    const deadline = Date.now() + 5_000;
    while (tapped.length < 40 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    a.server.cut();
    expect(await s.done).toEqual(answer);
    expect(hosts[0]).toBe(a.server.url);
    expect(hosts.slice(1).every((h) => h === b.server.url)).toBe(true);
    expect(hosts.length).toBeGreaterThanOrEqual(2);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
    // B's first event after the resume is the snapshot of where the client was, then the rest.
    const onB = tapped.filter((e) => e.connection === 1 && e.id !== undefined);
    expect(onB[0].event).toBe("snapshot");
    expect(iterations).toBe(1);
    // Instance A wrote every event; instance B only read them.
    expect(b.relay.running).toBe(0);
  });

  it("serves a whole stream from B while A runs it, and checks the token on B", async () => {
    const answer = randomAnswer(createRandom(5), 3);
    const { id, token } = await a.relay.start(fakeStream(answer, { delayMs: 1 }));
    const wrong = await fetch(`${b.server.url}/streams/${id}`, {
      headers: { authorization: `Bearer ${"x".repeat(22)}` },
    });
    expect(wrong.status).toBe(403);
    await wrong.body?.cancel();
    const unknown = await fetch(`${b.server.url}/streams/${"Q".repeat(22)}`);
    expect(unknown.status).toBe(404);
    await unknown.body?.cancel();
    const [fromA, fromB] = await Promise.all([
      subscribe(`${a.server.url}/streams/${id}`, { token }).done,
      subscribe(`${b.server.url}/streams/${id}`, { token }).done,
    ]);
    expect(fromA).toEqual(answer);
    expect(fromB).toEqual(answer);
  });

  it("stores sequence numbers as entry ids and sets a TTL on every key", async () => {
    const log = createRedisEventLog({ redis: a.redis, ttlSeconds: 30, prefix: "t1:" });
    await log.create("s1", { tokenHash: "", createdAt: 1 });
    expect(await log.append("s1", { type: "x", data: "1" })).toBe(1);
    expect(await log.append("s1", { type: "y", data: "2", last: true })).toBe(2);
    expect(await a.redis.call("XRANGE", "t1:{s1}", "-", "+")).toEqual([
      ["0-1", ["t", "x", "d", "1"]],
      ["0-2", ["t", "y", "d", "2", "e", "1"]],
    ]);
    for (const key of ["t1:{s1}", "t1:{s1}:meta"]) {
      const ttl = Number(await a.redis.call("TTL", key));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(30);
    }
    const read: LogEntry[] = [];
    for await (const entry of log.read("s1", 1)) read.push(entry);
    expect(read).toEqual([{ id: 2, type: "y", data: "2", last: true }]);
    await expect(log.create("s1", { tokenHash: "", createdAt: 1 })).rejects.toMatchObject({
      code: "stream_exists",
    });
    expect(await log.meta("nope")).toBeUndefined();
    await log.close?.();
  });

  it("trims each stream to about maxLen events", async () => {
    const log = createRedisEventLog({ redis: a.redis, maxLen: 100, prefix: "t2:" });
    await log.create("s", { tokenHash: "", createdAt: 1 });
    for (let i = 0; i < 1000; i++) await log.append("s", { type: "x", data: String(i) });
    const length = Number(await a.redis.call("XLEN", "t2:{s}"));
    expect(length).toBeGreaterThanOrEqual(100);
    expect(length).toBeLessThan(300);
    await log.close?.();
  });

  it("stops a blocked reader at once when its signal aborts, and ends readers of expired streams", async () => {
    // A stream that lives for a minute: only the abort can end its reader (no clock asserted).
    const live = createRedisEventLog({ redis: a.redis, prefix: "t3live:", blockMs: 100, ttlSeconds: 60 });
    await live.create("s", { tokenHash: "", createdAt: 1 });
    await live.append("s", { type: "x", data: "" });
    const controller = new AbortController();
    const reading = (async () => {
      const out: number[] = [];
      for await (const e of live.read("s", 0, { signal: controller.signal })) out.push(e.id);
      return out;
    })();
    setTimeout(() => controller.abort(), 50);
    expect(await reading).toEqual([1]);
    expect(await a.redis.exists("t3live:{s}")).toBe(1);
    await live.close?.();

    const log = createRedisEventLog({ redis: a.redis, prefix: "t3:", blockMs: 100, ttlSeconds: 1 });
    await log.create("s", { tokenHash: "", createdAt: 1 });
    await log.append("s", { type: "x", data: "" });
    // The stream expires (ttl 1 s) with no end event: a reader stops instead of waiting forever.
    const orphan: number[] = [];
    for await (const e of log.read("s", 1)) orphan.push(e.id);
    expect(orphan).toEqual([]);
    await log.close?.();
  });
});
