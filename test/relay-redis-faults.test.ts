/**
 * The relay when Redis fails: a real redis-server per test (test/support/redis.ts), killed with
 * SIGKILL mid-stream and started again, with and without persistence; and a stop on one instance
 * that cancels a stream running on another. Nothing here may throw unhandled or print ioredis'
 * "Unhandled error event".
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterEach, beforeEach, expect, it, vi } from "vitest";
import { subscribe } from "../src/client/index.ts";
import { createRedisEventLog, createRelay, type EventLog, type Relay } from "../src/server/index.ts";
import {
  checkExactlyOnce,
  createRandom,
  fakeStream,
  pausable,
  randomAnswer,
  serve,
  type TappedEvent,
  type TestServer,
  tapFetch,
  until,
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
)("relay when Redis fails", () => {
  let redisProcess: RedisProcess | undefined;
  let dir: string | undefined;
  const instances: Instance[] = [];
  const printed: string[] = [];

  beforeEach(() => {
    for (const method of ["error", "warn"] as const) {
      vi.spyOn(console, method).mockImplementation((...args: unknown[]) => {
        printed.push(args.map(String).join(" "));
      });
    }
  });

  afterEach(async () => {
    for (const i of instances.splice(0)) {
      await i.relay.close();
      await i.log.close?.();
      await i.server.close();
      i.redis.disconnect();
    }
    await redisProcess?.stop();
    redisProcess = undefined;
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
    dir = undefined;
    vi.restoreAllMocks();
    expect(printed.filter((line) => line.includes("Unhandled error event"))).toEqual([]);
    printed.length = 0;
  });

  async function instance(logOutageMs = 30_000): Promise<Instance> {
    // No `error` listener of our own: the log must add one.
    const redis = new Redis(redisProcess!.url, { maxRetriesPerRequest: 2, retryStrategy: () => 50 });
    const log = createRedisEventLog({ redis, ttlSeconds: 60, blockMs: 200, timeoutMs: 300 });
    const relay = createRelay({ log, token: true, logOutageMs, onError: () => {} });
    const server = await serve((request) => relay.handle(request));
    const made = { redis, log, relay, server };
    instances.push(made);
    return made;
  }

  async function killMidStream(persist: boolean) {
    if (persist) dir = await mkdtemp(join(tmpdir(), "structream-redis-"));
    redisProcess = await startRedis(dir === undefined ? {} : { dir });
    const a = await instance();
    const b = await instance();
    const answer = randomAnswer(createRandom(12), 6);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const { id, token } = await a.relay.start(
      pausable(fakeStream(answer, { seed: 12, delayMs: 1 }), 60, gate),
    );
    const tapped: TappedEvent[] = [];
    const s = subscribe(`${a.server.url}/streams/${id}`, {
      token,
      retry: { baseDelayMs: 20, maxDelayMs: 200, maxRetries: 100 },
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
    });
    await until(() => tapped.filter((e) => e.id !== undefined).length >= 30, "30 events");

    await redisProcess.kill();
    // Connected clients hear it: an `unavailable` event, not silence.
    await until(() => tapped.some((e) => e.event === "unavailable"), "the unavailable event");
    expect(JSON.parse(tapped.find((e) => e.event === "unavailable")!.data)).toMatchObject({
      code: "log_unavailable",
    });
    // New requests get 503 with Retry-After, on either instance; new streams fail clearly.
    for (const i of [a, b]) {
      const response = await fetch(`${i.server.url}/streams/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toMatch(/^\d+$/);
      expect((await response.json()).error.code).toBe("log_unavailable");
    }
    const refused = fakeStream({ a: 1 });
    await expect(b.relay.start(refused)).rejects.toMatchObject({ code: "log_unavailable" });
    expect(refused.aborted).toBe(true);
    expect(b.relay.running).toBe(0);
    // The running stream waits for the log (its source is not read meanwhile).
    expect(a.relay.running).toBe(1);

    release();
    await redisProcess.restart();
    expect(await s.done).toEqual(answer);
    expect(s.stats.reconnects).toBeGreaterThanOrEqual(1);
    // A reader that comes after the end, on the other instance, gets the exact answer too.
    expect(await subscribe(`${b.server.url}/streams/${id}`, { token }).done).toEqual(answer);
    expect(a.relay.connections + b.relay.connections).toBe(0);
    return { tapped, id, token, a, b };
  }

  it("survives kill -9 and a restart without persistence: clients hear it, resume and end exact", async () => {
    const { tapped, id, a } = await killMidStream(false);
    // Redis lost the history: the writer recorded the stream again, starting with a snapshot
    // (ids go on from where they were), and the client resynced from it.
    const [first] = (await a.redis.call("XRANGE", `structream:{${id}}`, "-", "+", "COUNT", "1")) as [
      string,
      string[],
    ][];
    expect(Number(first[0].slice(2))).toBeGreaterThan(30);
    expect(first[1].slice(0, 2)).toEqual(["t", "snapshot"]);
    expect(tapped.filter((e) => e.event === "snapshot").length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it("with persistence, keeps every event across kill -9: the client sees each id exactly once", async () => {
    const { tapped, id, token, b } = await killMidStream(true);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
    // An ended stream survives a second kill -9 and restart whole.
    await redisProcess!.restart();
    const again: TappedEvent[] = [];
    const late = subscribe(`${b.server.url}/streams/${id}`, {
      token,
      retry: { baseDelayMs: 20, maxDelayMs: 200, maxRetries: 100 },
      fetch: tapFetch({ onEvent: (e) => again.push(e) }),
    });
    await late.done;
    expect(again.filter((e) => e.id !== undefined)[0]).toMatchObject({ id: "1" });
  }, 60_000);

  it("aborts a running stream (its model call) when Redis stays away longer than logOutageMs", async () => {
    redisProcess = await startRedis();
    const a = await instance(500);
    const source = fakeStream({ text: "x".repeat(20_000) }, { maxChunk: 1, delayMs: 1 });
    const { id, token } = await a.relay.start(source);
    const s = subscribe(`${a.server.url}/streams/${id}`, {
      token,
      retry: { baseDelayMs: 20, maxRetries: 3 },
    });
    s.on("error", () => {});
    while (s.value === undefined) await new Promise((r) => setTimeout(r, 5));
    await redisProcess.kill();
    await a.relay.finished(id);
    expect(source.aborted).toBe(true);
    expect(a.relay.running).toBe(0);
    await expect(s.done).rejects.toMatchObject({ code: "provider_error", status: 503 });
    expect(a.relay.connections).toBe(0);
  }, 30_000);

  it("forgets ended streams on a restart without persistence (404), and says so", async () => {
    redisProcess = await startRedis();
    const a = await instance();
    const { id, token } = await a.relay.start(fakeStream({ a: "b" }));
    await a.relay.finished(id);
    await redisProcess.restart();
    await until(() => a.redis.status === "ready", "the reconnection");
    const response = await fetch(`${a.server.url}/streams/${id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(response.status).toBe(404);
  }, 30_000);

  it("stops on instance B a stream running on instance A: relay.abort and DELETE", async () => {
    redisProcess = await startRedis();
    const a = await instance();
    const b = await instance();
    for (const how of ["abort", "delete"] as const) {
      const source = fakeStream({ text: "x".repeat(20_000) }, { maxChunk: 1, delayMs: 1 });
      const { id, token } = await a.relay.start(source);
      const s = subscribe(`${b.server.url}/streams/${id}`, { token });
      const errors: string[] = [];
      s.on("error", (e) => errors.push(e.error.code));
      while (s.value === undefined) await new Promise((r) => setTimeout(r, 5));
      if (how === "abort") expect(b.relay.abort(id, "Stopped on B.")).toBe(true);
      else {
        const response = await fetch(`${b.server.url}/streams/${id}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${token}` },
        });
        expect(response.status).toBe(202);
      }
      await expect(s.done).rejects.toMatchObject({ code: "aborted" });
      await a.relay.finished(id);
      expect(source.aborted).toBe(true);
      expect(a.relay.running).toBe(0);
    }
  }, 30_000);
});
