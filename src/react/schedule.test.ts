import { afterEach, describe, expect, it, vi } from "vitest";
import { createScheduler } from "./schedule.ts";

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("createScheduler", () => {
  it("runs once per animation frame however many times it is asked", () => {
    const frames: FrameRequestCallback[] = [];
    vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => frames.push(callback));
    vi.stubGlobal("cancelAnimationFrame", () => {});
    const run = vi.fn();
    const scheduler = createScheduler("frame", run);
    for (let i = 0; i < 50; i++) scheduler.request();
    expect(frames).toHaveLength(1);
    expect(run).not.toHaveBeenCalled();
    frames[0]!(0);
    expect(run).toHaveBeenCalledTimes(1);
    scheduler.request();
    expect(frames).toHaveLength(2);
  });

  it("falls back to a 16 ms timer where there is no requestAnimationFrame", () => {
    vi.useFakeTimers();
    vi.stubGlobal("requestAnimationFrame", undefined);
    const run = vi.fn();
    const scheduler = createScheduler("frame", run);
    scheduler.request();
    scheduler.request();
    vi.advanceTimersByTime(15);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);
  });

  it("waits the given milliseconds, runs at once when false, and forgets a cancelled run", () => {
    vi.useFakeTimers();
    const run = vi.fn();
    const timed = createScheduler(100, run);
    timed.request();
    vi.advanceTimersByTime(99);
    expect(run).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(run).toHaveBeenCalledTimes(1);

    timed.request();
    timed.cancel();
    vi.advanceTimersByTime(200);
    expect(run).toHaveBeenCalledTimes(1);

    timed.request();
    timed.flushNow();
    expect(run).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(200);
    expect(run).toHaveBeenCalledTimes(2);

    const immediate = createScheduler(false, run);
    immediate.request();
    immediate.request();
    expect(run).toHaveBeenCalledTimes(4);
  });
});
