import { describe, expect, it } from "vitest";
import { structuredStream } from "../stream/index.ts";
import { turnNow } from "./turn-clock.ts";

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** Spins for `ms` without leaving the turn (no timer). */
function spin(ms = 0.01): void {
  const start = performance.now();
  while (performance.now() - start < ms);
}

describe("turnNow", () => {
  it("reads the clock once per turn: the same time all turn, never ahead of a fresh read", async () => {
    await nextTurn();
    const first = turnNow();
    spin();
    await Promise.resolve(); // microtasks are the same turn
    expect(turnNow()).toBe(first);
    expect(performance.now()).toBeGreaterThan(first);
  });

  it("moves on in the next turn, never backwards", async () => {
    const before = turnNow();
    spin();
    await nextTurn();
    const after = turnNow();
    expect(after).toBeGreaterThan(before);
    expect(after).toBeLessThanOrEqual(performance.now());
  });

  it("never stamps a chunk before its stream started, when the turn's time was read earlier", async () => {
    await nextTurn();
    turnNow(); // another stream read the clock earlier in this turn
    spin(5);
    async function* chunks() {
      yield '{"a":';
      yield "1}";
    }
    const s = structuredStream({ source: chunks(), provider: "text" });
    const { stats } = await new Promise<{ stats: { timeToFirstByteMs?: number } }>((resolve) =>
      s.on("complete", resolve),
    );
    expect(stats.timeToFirstByteMs).toBeGreaterThanOrEqual(0);
  });
});
