/**
 * The model's reasoning (and commentary) relayed live: a thinking model from the simulator and
 * hand-made streams through a real relay on node:http, read by the client over real loopback HTTP,
 * with sockets destroyed mid-stream and a bounded log that makes a late reader resync from a
 * snapshot. Every server, socket and stream is closed at teardown.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { subscribe } from "../src/client/index.ts";
import { createRelay, type RelaySource } from "../src/server/index.ts";
import { simulatorBaseUrl } from "../src/simulator/index.ts";
import { type StreamEvent, structuredStream } from "../src/stream/index.ts";
import { answerSchema } from "./fixtures/stream/harness.ts";
import {
  checkExactlyOnce,
  createRandom,
  cutAtCounts,
  fakeStream,
  randomAnswer,
  relayOverSimulator,
  serve,
  type TappedEvent,
  tapFetch,
  until,
} from "./relay-fixtures.ts";

const PROVIDERS = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"] as const;

const env = relayOverSimulator({ pace: "fast", seed: 11, blocks: ["thinking"] }, { noSocketsLeft: true });

/** The reasoning pieces of `count` deltas, 1 to 8 characters each, some non-ASCII. */
function reasoningDeltas(count: number, seed: number): string[] {
  const random = createRandom(seed);
  const words = ["Let me think", " — the user", " wants ", "naïve ", "otters 🦦", " step", ", then", "."];
  return Array.from({ length: count }, (_, i) => `${words[Math.floor(random() * words.length)]}${i}`);
}

/**
 * A hand-made stream that thinks (`deltas`, one per turn of the event loop, with `delayMs` between)
 * and writes commentary, then answers `answer` as {@link fakeStream} does.
 */
function thinkingSource(
  deltas: readonly string[],
  answer: unknown,
  options: { delayMs?: number; seed?: number; commentary?: string } = {},
): RelaySource {
  const inner = fakeStream(answer, { seed: options.seed ?? 1, delayMs: options.delayMs ?? 0 });
  async function* events(): AsyncGenerator<StreamEvent<unknown>> {
    yield { type: "status", status: "streaming" };
    for (const delta of deltas) {
      yield { type: "reasoning", delta };
      await new Promise((resolve) =>
        (options.delayMs ?? 0) > 0 ? setTimeout(resolve, options.delayMs) : setImmediate(resolve),
      );
    }
    if (options.commentary !== undefined) yield { type: "commentary", delta: options.commentary };
    for await (const event of inner) yield event;
  }
  return { [Symbol.asyncIterator]: () => events(), abort: (reason) => inner.abort?.(reason) };
}

describe("reasoning over the relay", () => {
  it.each(PROVIDERS)(
    "%s: the client ends with the model's exact reasoning, in fewer events than deltas",
    async (provider) => {
      const stream = structuredStream({
        request: { model: "sim-none", messages: [{ role: "user", content: "Lemons and otters" }] },
        schema: answerSchema,
        provider,
        baseURL: simulatorBaseUrl(env.sim.url, provider),
        apiKey: "test-key",
        headers: { "x-sim-attempt-key": randomUUID() },
      });
      const deltas: string[] = [];
      stream.on("reasoning", (event) => deltas.push(event.delta));
      const { id } = await env.relay.start(stream);
      const tapped: TappedEvent[] = [];
      const s = subscribe(`${env.server.url}/streams/${id}`, {
        fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
      });
      const heard: string[] = [];
      s.on("reasoning", (event) => heard.push(event.delta));
      const iterated: string[] = [];
      for await (const event of s) if (event.type === "reasoning") iterated.push(event.delta);
      const value = await s.done;
      expect(value).toEqual(await stream.result);
      const text = deltas.join("");
      expect(text).toMatch(/^The user asks about Lemons and otters\./);
      expect(s.reasoning).toBe(text);
      expect(s.getSnapshot().reasoning).toBe(text);
      expect(s.stats.server?.reasoning).toBe(text);
      expect(heard.join("")).toBe(text);
      expect(iterated.join("")).toBe(text);
      // Never the answer: none of it is in the value.
      expect(JSON.stringify(value)).not.toContain(text.slice(0, 30));
      // The pieces the stream wrote together went out as one event.
      const events = tapped.filter((e) => e.event === "reasoning");
      expect(events.length).toBeGreaterThan(0);
      expect(events.length).toBeLessThan(deltas.length);
      expect(events.map((e) => JSON.parse(e.data).delta).join("")).toBe(text);
      expect(s.commentary).toBe("");
    },
  );

  it("merges a burst of pieces into one event, and counts it against the log like any event", async () => {
    const deltas = reasoningDeltas(400, 1);
    const answer = randomAnswer(createRandom(1), 2);
    // Every piece in one turn of the event loop: a network chunk holding many deltas.
    const source: RelaySource = {
      async *[Symbol.asyncIterator]() {
        yield { type: "status", status: "streaming" };
        for (const delta of deltas) yield { type: "reasoning", delta };
        yield { type: "commentary", delta: "Recording it now." };
        yield { type: "commentary", delta: " Done." };
        for await (const event of fakeStream(answer)) if (event.type !== "status") yield event;
      },
    };
    const { id } = await env.relay.start(source);
    await env.relay.finished(id);
    const tapped: TappedEvent[] = [];
    const s = subscribe(`${env.server.url}/streams/${id}`, {
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
    });
    expect(await s.done).toEqual(answer);
    expect(s.reasoning).toBe(deltas.join(""));
    expect(s.commentary).toBe("Recording it now. Done.");
    const reasoningEvents = tapped.filter((e) => e.event === "reasoning");
    // The first few of a burst go out as they come; the rest wait for the batch, merged.
    expect(reasoningEvents.length).toBeLessThanOrEqual(8);
    expect(tapped.filter((e) => e.event === "commentary").length).toBeLessThanOrEqual(2);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
  });

  it("replays reasoning exactly once across cut sockets (Last-Event-ID)", async () => {
    const deltas = reasoningDeltas(150, 2);
    const answer = randomAnswer(createRandom(2), 4);
    const { id } = await env.relay.start(
      thinkingSource(deltas, answer, { delayMs: 1, seed: 2, commentary: "ok" }),
    );
    const tapped: TappedEvent[] = [];
    const s = subscribe(`${env.server.url}/streams/${id}`, {
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
      retry: { baseDelayMs: 5 },
    });
    const heard: string[] = [];
    s.on("reasoning", (event) => heard.push(event.delta));
    // Cut while the model thinks, then again later.
    await cutAtCounts(env.server, tapped, [20, 90]);
    expect(await s.done).toEqual(answer);
    expect(s.stats.reconnects).toBeGreaterThanOrEqual(2);
    expect(checkExactlyOnce(tapped)).toBeUndefined();
    expect(s.reasoning).toBe(deltas.join(""));
    expect(heard.join("")).toBe(deltas.join(""));
    expect(s.commentary).toBe("ok");
  });

  it("gives a new subscription that resumes with a stored Last-Event-ID the whole text, then each piece once", async () => {
    const deltas = reasoningDeltas(120, 5);
    const answer = randomAnswer(createRandom(5), 2);
    const { id } = await env.relay.start(thinkingSource(deltas, answer, { delayMs: 1, seed: 5 }));
    const first: TappedEvent[] = [];
    const before = subscribe(`${env.server.url}/streams/${id}`, {
      fetch: tapFetch({ onEvent: (e) => first.push(e) }),
    });
    await until(() => before.reasoning.length > 0 && first.length >= 30, "30 events");
    // A reloaded page: the first subscription is gone, only its last event id was kept.
    before.abort();
    const lastEventId = before.stats.lastEventId;
    const had = before.reasoning;
    expect(had.length).toBeLessThan(deltas.join("").length);
    const tapped: TappedEvent[] = [];
    const after = subscribe(`${env.server.url}/streams/${id}`, {
      lastEventId,
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
    });
    const heard: string[] = [];
    after.on("reasoning", (event) => heard.push(event.delta));
    expect(await after.done).toEqual(answer);
    const opening = tapped.find((e) => e.id !== undefined)!;
    expect(opening).toMatchObject({ event: "snapshot", id: lastEventId });
    expect(JSON.parse(opening.data).reasoning).toBe(had);
    expect(after.reasoning).toBe(deltas.join(""));
    expect(heard.join("")).toBe(deltas.join(""));
    expect(checkExactlyOnce(tapped)).toBeUndefined();
  });

  it("gives a reader that resyncs from a snapshot the same text as one that read from the start", async () => {
    // A bounded log: by the time the late reader comes, the first pieces are gone.
    const bounded = createRelay({ maxEventsPerStream: 40, snapshotEvery: 8 });
    const local = await serve((request) => bounded.handle(request));
    try {
      const deltas = reasoningDeltas(200, 3);
      const answer = randomAnswer(createRandom(3), 3);
      const { id } = await bounded.start(thinkingSource(deltas, answer, { delayMs: 0, seed: 3 }));
      const early: TappedEvent[] = [];
      const fromStart = subscribe(`${local.url}/streams/${id}`, {
        fetch: tapFetch({ onEvent: (e) => early.push(e) }),
      });
      await bounded.finished(id);
      const late: TappedEvent[] = [];
      const resynced = subscribe(`${local.url}/streams/${id}`, {
        fetch: tapFetch({ onEvent: (e) => late.push(e) }),
      });
      const heard: string[] = [];
      resynced.on("reasoning", (event) => heard.push(event.delta));
      expect(await resynced.done).toEqual(answer);
      // It began at a snapshot, not at event 1, and still has every piece of the reasoning.
      expect(late.find((e) => e.id !== undefined)?.event).toBe("snapshot");
      expect(late.filter((e) => e.event === "reasoning").length).toBeLessThan(deltas.length);
      expect(resynced.reasoning).toBe(deltas.join(""));
      expect(heard.join("")).toBe(deltas.join(""));
      await fromStart.done.catch(() => {});
      expect(fromStart.reasoning).toBe(deltas.join(""));
    } finally {
      await bounded.close();
      await local.close();
    }
  });

  it("keeps working with a stream that never reasons (and with older relays): the text stays empty", async () => {
    const answer = randomAnswer(createRandom(4), 2);
    const { id } = await env.relay.start(fakeStream(answer, { seed: 4 }));
    const s = subscribe(`${env.server.url}/streams/${id}`);
    let heard = 0;
    s.on("reasoning", () => heard++);
    expect(await s.done).toEqual(answer);
    expect(s.reasoning).toBe("");
    expect(s.commentary).toBe("");
    expect(heard).toBe(0);
  });
});
