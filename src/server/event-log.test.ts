import { describe, expect, it } from "vitest";
import { createMemoryEventLog, type LogEntry } from "./index.ts";

const meta = { tokenHash: "", createdAt: 0 };

async function collect(iterable: AsyncIterable<LogEntry>): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const entry of iterable) out.push(entry);
  return out;
}

describe("createMemoryEventLog", () => {
  it("numbers a stream's events 1, 2, 3 and gives them back after any id", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    expect(await log.append("s", { type: "a", data: "1" })).toBe(1);
    expect(await log.append("s", { type: "b", data: "2" })).toBe(2);
    expect(await log.append("s", { type: "c", data: "3", last: true })).toBe(3);
    expect((await collect(log.read("s", 0))).map((e) => e.id)).toEqual([1, 2, 3]);
    expect(await collect(log.read("s", 1))).toEqual([
      { id: 2, type: "b", data: "2" },
      { id: 3, type: "c", data: "3", last: true },
    ]);
    expect(await collect(log.read("s", 3))).toEqual([]);
  });

  it("yields stored events, then live ones as they come, and stops after the last", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    await log.append("s", { type: "a", data: "1" });
    const reading = collect(log.read("s", 0));
    await new Promise((r) => setTimeout(r, 5));
    await log.append("s", { type: "b", data: "2" });
    await new Promise((r) => setTimeout(r, 5));
    await log.append("s", { type: "c", data: "3", last: true });
    expect((await reading).map((e) => e.type)).toEqual(["a", "b", "c"]);
  });

  it("follows a stream through a cursor: stored entries, a call per append, done after the last", async () => {
    const log = createMemoryEventLog({ maxEvents: 4 });
    await log.create("s", meta);
    await log.append("s", { type: "a", data: "1" });
    await log.append("s", { type: "b", data: "2" });
    let calls = 0;
    const cursor = log.follow!("s", 1, () => calls++);
    expect(cursor.next()).toEqual({ id: 2, type: "b", data: "2" });
    expect(cursor.next()).toBeUndefined();
    expect(cursor.done).toBe(false);
    // A reader that takes nothing while the bounded log moves on resumes at the oldest entry kept.
    for (let i = 3; i <= 8; i++) await log.append("s", { type: "e", data: String(i) });
    expect(calls).toBe(6);
    expect(cursor.next()?.id).toBe(5);
    await log.append("s", { type: "end", data: "", last: true });
    expect([cursor.next()?.id, cursor.next()?.id, cursor.next()?.id, cursor.next()?.id]).toEqual([
      6, 7, 8, 9,
    ]);
    expect(cursor.next()).toBeUndefined();
    expect(cursor.done).toBe(true);
  });

  it("ends a cursor when its stream goes away, and calls nothing after close", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    let calls = 0;
    const cursor = log.follow!("s", 0, () => calls++);
    const other = log.follow!("s", 0, () => calls++);
    other.close();
    await log.append("s", { type: "a", data: "1" });
    expect(calls).toBe(1);
    await log.close!();
    expect(calls).toBe(2);
    expect(cursor.next()).toBeUndefined();
    expect(cursor.done).toBe(true);
    expect(log.follow!("unknown", 0, () => calls++).next()).toBeUndefined();
  });

  it("ends a reader waiting for events when its signal aborts", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    await log.append("s", { type: "a", data: "1" });
    const controller = new AbortController();
    const reading = collect(log.read("s", 0, { signal: controller.signal }));
    setTimeout(() => controller.abort(), 10);
    expect((await reading).map((e) => e.id)).toEqual([1]);
  });

  it("keeps at most maxEvents per stream, dropping the oldest", async () => {
    const log = createMemoryEventLog({ maxEvents: 5 });
    await log.create("s", meta);
    for (let i = 0; i < 3000; i++) await log.append("s", { type: "e", data: String(i + 1) });
    await log.append("s", { type: "end", data: "", last: true });
    const entries = await collect(log.read("s", 0));
    expect(entries.map((e) => e.id)).toEqual([2997, 2998, 2999, 3000, 3001]);
    expect((await collect(log.read("s", 2998))).map((e) => e.id)).toEqual([2999, 3000, 3001]);
  });

  it("serves a slow reader correctly while the log drops and compacts under it", async () => {
    const log = createMemoryEventLog({ maxEvents: 2000 });
    await log.create("s", meta);
    for (let i = 0; i < 1500; i++) await log.append("s", { type: "e", data: "" });
    const seen: number[] = [];
    for await (const entry of log.read("s", 0)) {
      seen.push(entry.id);
      if (entry.id === 10) {
        for (let i = 0; i < 2500; i++) await log.append("s", { type: "e", data: "" });
        await log.append("s", { type: "end", data: "", last: true });
      }
    }
    // Ids only ever increase; after the jump (entries dropped) the reader continues from the oldest kept.
    expect(seen.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(seen[10]).toBeGreaterThan(11);
    for (let i = 11; i < seen.length; i++) expect(seen[i]).toBe(seen[i - 1] + 1);
    expect(seen[seen.length - 1]).toBe(4001);
  });

  it("forgets an ended stream ttlMs after its last event, and never a running one", async () => {
    let now = 0;
    const log = createMemoryEventLog({ ttlMs: 1000, now: () => now });
    await log.create("ended", meta);
    await log.create("running", meta);
    await log.append("ended", { type: "x", data: "", last: true });
    await log.append("running", { type: "x", data: "" });
    now = 999;
    expect(await log.meta("ended")).toEqual(meta);
    now = 1000;
    expect(await log.meta("ended")).toBeUndefined();
    expect(await collect(log.read("ended", 0))).toEqual([]);
    now = 1_000_000;
    expect(await log.meta("running")).toEqual(meta);
  });

  it("holds at most maxStreams: evicts the ended stream that expires first, refuses when all run", async () => {
    let now = 0;
    const log = createMemoryEventLog({ maxStreams: 2, now: () => now });
    await log.create("a", meta);
    await log.create("b", meta);
    await expect(log.create("c", meta)).rejects.toMatchObject({ code: "limit_exceeded" });
    now = 5;
    await log.append("b", { type: "x", data: "", last: true });
    now = 6;
    await log.append("a", { type: "x", data: "", last: true });
    await log.create("c", meta);
    expect(await log.meta("b")).toBeUndefined();
    expect(await log.meta("a")).toEqual(meta);
  });

  it("refuses a second stream with the same id, and events for unknown or ended streams", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    await expect(log.create("s", meta)).rejects.toMatchObject({ code: "stream_exists" });
    await expect(log.append("nope", { type: "x", data: "" })).rejects.toMatchObject({ code: "not_found" });
    await log.append("s", { type: "x", data: "", last: true });
    await expect(log.append("s", { type: "x", data: "" })).rejects.toMatchObject({ code: "stream_ended" });
    expect(await log.meta("nope")).toBeUndefined();
  });

  it("ends every reader when closed", async () => {
    const log = createMemoryEventLog();
    await log.create("s", meta);
    const reading = collect(log.read("s", 0));
    await log.close?.();
    expect(await reading).toEqual([]);
  });
});
