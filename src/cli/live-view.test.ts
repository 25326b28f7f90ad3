import { describe, expect, it } from "vitest";
import type { StreamEvent, StreamStats } from "../stream/index.ts";
import { createLiveView, HIDE_CURSOR, MIN_LIVE_COLUMNS, MIN_LIVE_ROWS, SHOW_CURSOR } from "./live-view.ts";
import { applyEvent, createViewState } from "./view-state.ts";

function terminal(columns = 80, rows = 24) {
  const writes: string[] = [];
  return { writes, output: { isTTY: true, columns, rows, write: (text: string) => writes.push(text) } };
}

const base = createViewState({
  command: "run",
  schema: { type: "object", properties: { a: { type: "string" }, b: { type: "number" } } },
  now: 0,
});

describe("the live view", () => {
  it("hides the cursor, redraws in place by moving up over the last frame, and gives the cursor back", () => {
    const { writes, output } = terminal();
    let clock = 0;
    const live = createLiveView(output, { color: false, now: () => clock, intervalMs: 0 });
    expect(writes[0]).toBe(HIDE_CURSOR);
    live.update(base);
    const first = writes[1]!;
    expect(first).not.toContain("\x1b[4F");
    const lines = first.split("\n").length - 1;
    clock = 50;
    live.update(
      applyEvent(
        base,
        { type: "partial", value: { a: "x" }, progress: { completed: 0, total: 2, percent: 0, pending: [] } },
        50,
      ),
    );
    expect(writes[2]!.startsWith(`\x1b[?2026h\x1b[${lines}F`)).toBe(true);
    expect(writes[2]).toContain('"x');
    expect(writes[2]).toContain("\x1b[0J");
    live.finish(base);
    expect(writes.at(-1)).toBe(SHOW_CURSOR);
  });

  it("draws at most one frame per interval, and the latest state when it does", async () => {
    const { writes, output } = terminal();
    let clock = 0;
    const live = createLiveView(output, { color: false, now: () => clock, intervalMs: 30 });
    live.update(base);
    for (let i = 0; i < 50; i++) {
      live.update(
        applyEvent(
          base,
          {
            type: "partial",
            value: { a: `v${i}` },
            progress: { completed: 0, total: 2, percent: 0, pending: [] },
          },
          i,
        ),
      );
    }
    expect(writes).toHaveLength(2);
    clock = 40;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(writes).toHaveLength(3);
    expect(writes[2]).toContain('"v49');
    live.finish(base);
  });

  it("starts again from the top of the screen after the terminal gets narrower", () => {
    const { writes, output } = terminal(80, 24);
    const live = createLiveView(output, { color: false, intervalMs: 0 });
    live.update(base);
    output.columns = 40;
    live.update({ ...base, now: 1 });
    expect(writes[2]!.startsWith("\x1b[?2026h\x1b[H\x1b[0J")).toBe(true);
    output.columns = 60;
    live.update({ ...base, now: 2 });
    expect(writes[3]).toMatch(/^\x1b\[\?2026h\x1b\[\d+F/);
    live.finish(base);
  });

  it("keeps every frame within the terminal so moving up lands on the first line", () => {
    const { writes, output } = terminal(30, 6);
    const live = createLiveView(output, { color: true, intervalMs: 0 });
    const long = applyEvent(
      base,
      {
        type: "partial",
        value: { a: "word ".repeat(100), b: 1 },
        progress: { completed: 1, total: 2, percent: 50, pending: [] },
      },
      1,
    );
    live.update(long);
    const frame = writes[1]!.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
    const rows = frame.split("\n").slice(0, -1);
    expect(rows.length).toBeLessThanOrEqual(5);
    for (const row of rows) expect([...row].length).toBeLessThanOrEqual(29);
    live.finish(long);
  });
});

const STATS: StreamStats = {
  startedAt: 0,
  durationMs: 1200,
  chunks: 3,
  bytes: 40,
  deltas: 3,
  deltasPerSecond: 2,
  retries: 0,
};

describe("a terminal too small for the live view", () => {
  const partial = (value: unknown, completed: number): StreamEvent => ({
    type: "partial",
    value,
    progress: { completed, total: 2, percent: completed * 50, pending: [] },
  });

  it.each([
    [5, 24],
    [MIN_LIVE_COLUMNS - 1, 24],
    [80, MIN_LIVE_ROWS - 1],
  ])("prints plain lines at %i×%i: one per event, never a cursor move", (columns, rows) => {
    const { writes, output } = terminal(columns, rows);
    let clock = 0;
    const live = createLiveView(output, { color: false, now: () => clock, intervalMs: 0 });
    let view = applyEvent(base, { type: "status", status: "streaming" }, 0);
    live.update(view);
    // Many partials of one field: no line for any of them until the field completes.
    for (let i = 1; i <= 200; i++) {
      clock = i;
      view = applyEvent(view, partial({ a: "x".repeat(i) }, 0), i);
      live.update(view);
    }
    view = applyEvent(view, { type: "field-state", pointer: "/a", path: ["a"], state: "complete" }, 201);
    view = applyEvent(view, partial({ a: "done", b: 2 }, 1), 202);
    live.update(view);
    view = applyEvent(view, { type: "complete", value: { a: "done", b: 2 }, stats: STATS }, 203);
    live.finish(view);
    const text = writes.join("");
    expect(text).not.toMatch(/\x1b\[\d*[FAJK]|\x1b\[H|\x1b\[\?2026/);
    expect(text.replace(HIDE_CURSOR, "").replace(SHOW_CURSOR, "").split("\n").filter(Boolean)).toEqual([
      "streaming",
      "✓ a",
      "✓ b",
      "✓ complete",
      expect.stringMatching(/^done in /),
    ]);
  });

  it("goes back to frames when the terminal is widened", () => {
    const { writes, output } = terminal(10, 24);
    const live = createLiveView(output, { color: false, now: () => 0, intervalMs: 0 });
    live.update(applyEvent(base, { type: "status", status: "streaming" }, 0));
    output.columns = 80;
    live.update(applyEvent(base, partial({ a: "x" }, 0), 1));
    expect(writes.at(-1)).toContain("\x1b[?2026h");
    expect(writes.at(-1)).toContain('"x');
    live.finish(base);
  });
});
