/**
 * A divergent retry as every consumer beyond the stream sees it (issue 11, item 1): against the
 * simulator with `x-sim-diverge` (every wire format: the retry's answer differs, a `rewind` comes
 * first; without it the retry agrees and nothing is withdrawn), through the relay and the browser
 * client across a dropped connection (the `rewind` event reaches the client once, resumable), and
 * in the CLI's live view ("the retry's answer replaced the earlier one").
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { runCli } from "../src/cli/index.ts";
import { renderTerminal } from "../src/cli/render-terminal.ts";
import { applyEvent, createViewState } from "../src/cli/view-state.ts";
import { subscribe } from "../src/client/index.ts";
import { fromPointer, valueAt } from "../src/json/index.ts";
import { type SimulatedProvider, simulatorBaseUrl } from "../src/simulator/index.ts";
import { type StreamEvent, structuredStream } from "../src/stream/index.ts";
import { answerSchema } from "./fixtures/stream/harness.ts";
import { relayOverSimulator, type TappedEvent, tapFetch, until } from "./relay-fixtures.ts";

const env = relayOverSimulator({ pace: "fast", seed: 5 });

function ask(provider: SimulatedProvider, diverge: boolean) {
  return structuredStream({
    request: { model: "sim-drop-once", messages: [{ role: "user", content: "Lemons and otters" }] },
    schema: answerSchema,
    provider,
    baseURL: simulatorBaseUrl(env.sim.url, provider),
    apiKey: "test-key",
    headers: { "x-sim-attempt-key": randomUUID(), "x-sim-diverge": diverge ? "1" : "0" },
    idleTimeoutMs: 5_000,
    retry: { baseDelayMs: 1, maxDelayMs: 2 },
  });
}

function within(pointer: string, ancestor: string): boolean {
  return ancestor === "" || pointer === ancestor || pointer.startsWith(`${ancestor}/`);
}

/** Field events never retracted afterwards, by pointer (a pointer reported twice fails). */
function standingFields(events: readonly StreamEvent[]): Map<string, unknown> {
  const fields = new Map<string, unknown>();
  for (const e of events) {
    if (e.type === "rewind") {
      for (const p of [...fields.keys()]) if (e.retracted.some((r) => within(p, r))) fields.delete(p);
    } else if (e.type === "field") {
      expect(fields.has(e.pointer)).toBe(false);
      fields.set(e.pointer, e.value);
    }
  }
  return fields;
}

function record(s: {
  on(type: StreamEvent["type"], fn: (e: StreamEvent) => void): () => void;
}): StreamEvent[] {
  const events: StreamEvent[] = [];
  const types = [
    "status",
    "partial",
    "field",
    "field-state",
    "retry",
    "rewind",
    "complete",
    "error",
  ] as const;
  for (const type of types) s.on(type, (e) => events.push(e));
  return events;
}

const PROVIDERS: SimulatedProvider[] = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"];

describe("the simulator answering differently on a retry", () => {
  for (const provider of PROVIDERS) {
    it(`${provider}: a rewind withdraws what the first attempt showed, before the retry's answer`, async () => {
      const s = ask(provider, true);
      const events = record(s);
      const value = await s.result;
      const rewinds = events.filter((e) => e.type === "rewind");
      expect(rewinds).toHaveLength(1);
      expect(rewinds[0]).toMatchObject({ type: "rewind", attempt: 1 });
      const at = events.indexOf(rewinds[0]!);
      const retryAt = events.findIndex((e) => e.type === "retry");
      expect(retryAt).toBeGreaterThanOrEqual(0);
      expect(retryAt).toBeLessThan(at);
      // Nothing of the retry's answer came before its rewind.
      expect(events.slice(retryAt + 1, at).filter((e) => e.type !== "status")).toEqual([]);
      for (const [pointer, v] of standingFields(events))
        expect(valueAt(value, fromPointer(pointer))).toEqual(v);
    });

    it(`${provider}: a retry that agrees withdraws nothing and reports each field once`, async () => {
      const s = ask(provider, false);
      const events = record(s);
      const value = await s.result;
      expect(events.filter((e) => e.type === "retry")).toHaveLength(1);
      expect(events.filter((e) => e.type === "rewind")).toEqual([]);
      const fields = events.flatMap((e) => (e.type === "field" ? [e.pointer] : []));
      expect(new Set(fields).size).toBe(fields.length);
      for (const [pointer, v] of standingFields(events))
        expect(valueAt(value, fromPointer(pointer))).toEqual(v);
    });
  }
});

/** A `source` function: attempt 0 sends `first` then drops, attempt 1 sends `second`, paced. */
function divergent(first: string[], second: string[], delayMs: number) {
  return async ({ attempt }: { attempt: number }) => {
    const chunks = attempt === 0 ? first : second;
    let i = 0;
    return new ReadableStream<string>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else if (attempt === 0) controller.error(new TypeError("terminated"));
        else controller.close();
      },
    });
  };
}

describe("the relay and the browser client", () => {
  it("carry the rewind across a dropped connection, once, and end on the retry's answer", async () => {
    const first = ['{"title":"Soup",', '"steps":["Boil water",', '"Add salt"'];
    const second = ['{"title":"Stew",', '"steps":["Brown the meat"', ',"Simmer"]}'];
    const s = structuredStream({
      provider: "text",
      source: divergent(first, second, 15),
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const { id } = await env.relay.start(s);
    const tapped: TappedEvent[] = [];
    const client = subscribe(`${env.server.url}/streams/${id}`, {
      fetch: tapFetch({ onEvent: (e) => tapped.push(e) }),
      retry: { baseDelayMs: 5 },
    });
    const events: StreamEvent[] = [];
    for (const type of ["partial", "field", "rewind", "retry"] as const) {
      client.on(type, (e) => events.push(e as StreamEvent));
    }
    // Drop the connection while the first attempt is still on screen.
    await until(() => tapped.some((e) => e.event === "field"), "a field event");
    env.server.cut();
    const value = await client.done;
    expect(value).toEqual({ title: "Stew", steps: ["Brown the meat", "Simmer"] });
    expect(await s.result).toEqual(value);
    expect(client.stats.connections).toBeGreaterThanOrEqual(2);
    const rewinds = events.filter((e) => e.type === "rewind");
    expect(rewinds).toEqual([{ type: "rewind", retracted: ["/title", "/steps"], attempt: 1 }]);
    // On the wire: one `rewind` event with its id, in order.
    expect(tapped.filter((e) => e.event === "rewind")).toHaveLength(1);
    // No snapshot the client showed splices the two answers.
    for (const e of events) {
      if (e.type !== "partial") continue;
      const v = e.value as { title?: string; steps?: string[] };
      if (v.title === "Stew") expect(v.steps ?? []).not.toContain("Boil water");
      if (v.title === "Soup") expect(v.steps ?? []).not.toContain("Brown the meat");
    }
    for (const [pointer, v] of standingFields(events))
      expect(valueAt(value, fromPointer(pointer))).toEqual(v);
  });

  it("a client that joins after the rewind resumes straight onto the retry's answer", async () => {
    const s = structuredStream({
      provider: "text",
      source: divergent(['{"a":"one","b":'], ['{"a":"two","b":2}'], 1),
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const { id } = await env.relay.start(s);
    await s.result;
    const client = subscribe(`${env.server.url}/streams/${id}`);
    const rewinds: unknown[] = [];
    client.on("rewind", (e) => rewinds.push(e));
    expect(await client.done).toEqual({ a: "two", b: 2 });
    // Replayed from the log: the rewind is part of the stream's history, told once.
    expect(rewinds.length).toBeLessThanOrEqual(1);
  });
});

describe("the CLI's live view", () => {
  it("says the retry's answer replaced the earlier one and forgets the withdrawn field states", () => {
    let view = createViewState({ command: "run", now: 0 });
    const error = Object.assign(new Error("The connection broke."), { code: "connection_lost" });
    const events: StreamEvent[] = [
      { type: "status", status: "streaming" },
      { type: "field-state", path: ["title"], pointer: "/title", state: "complete" },
      {
        type: "partial",
        value: { title: "Soup" },
        progress: { completed: 1, total: 2, percent: 50, pending: [] },
      },
      { type: "retry", attempt: 1, delayMs: 5, error: error as never },
    ];
    for (const e of events) view = applyEvent(view, e, 1);
    expect(view.states.get("/title")).toBe("complete");
    expect(renderTerminal(view, { width: 100 }).join("\n")).not.toMatch(/replaced/);
    view = applyEvent(view, { type: "rewind", retracted: ["/title"], attempt: 1 }, 2);
    expect(view.states.has("/title")).toBe(false);
    expect(renderTerminal(view, { width: 100 }).join("\n")).toMatch(
      /the retry's answer replaced the earlier one/,
    );
  });

  it("run --simulator --fault drop-once --diverge: the NDJSON records a rewind before the retry's answer", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      stdin: Object.assign((async function* () {})(), { isTTY: false }),
      stdout: { write: (text: string) => out.push(text) },
      stderr: { write: (text: string) => err.push(text), isTTY: false, columns: 80, rows: 24 },
      env: {},
      cwd: process.cwd(),
    };
    const argv = [
      "run",
      "--simulator",
      "--schema",
      "examples/article-summary.schema.json",
      "--prompt",
      "Lemons",
    ];
    const code = await runCli(
      [...argv, "--fault", "drop-once", "--diverge", "--pace", "fast", "--json"],
      io as never,
    );
    expect(code).toBe(0);
    const records = err
      .join("")
      .trimEnd()
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as { type: string; retracted?: string[] });
    const types = records.map((r) => r.type);
    const rewindAt = types.indexOf("rewind");
    expect(rewindAt).toBeGreaterThan(types.indexOf("retry"));
    expect(records[rewindAt]?.retracted?.length).toBeGreaterThan(0);
    expect(types.at(-1)).toBe("complete");
    expect(JSON.parse(out.join(""))).toEqual(expect.any(Object));
  });
});
