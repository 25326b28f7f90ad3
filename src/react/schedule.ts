/**
 * How often a store tells its views about changes:
 * - `"frame"`: at most once per animation frame (`requestAnimationFrame`; a 16 ms timer where
 *   there is none, as in Node or a worker);
 * - a number: at most once per that many milliseconds;
 * - `false`: at once, on every change the client reports (at most once per network chunk).
 */
export type Throttle = "frame" | number | false;

/** Runs a callback later, once, however many times `request` is called before it runs. */
export interface Scheduler {
  /** Asks for one run; a no-op while one is already due. */
  request(): void;
  /** Runs the due callback now, if any. */
  flushNow(): void;
  /** Forgets the due run. */
  cancel(): void;
}

const FRAME_FALLBACK_MS = 16;

export function createScheduler(throttle: Throttle, run: () => void): Scheduler {
  let due = false;
  let cancelTimer: (() => void) | undefined;

  const fire = () => {
    cancelTimer = undefined;
    if (!due) return;
    due = false;
    run();
  };

  const arm = (): (() => void) | undefined => {
    if (throttle === false) return undefined;
    if (throttle === "frame" && typeof globalThis.requestAnimationFrame === "function") {
      const handle = globalThis.requestAnimationFrame(fire);
      return () => globalThis.cancelAnimationFrame(handle);
    }
    const ms = throttle === "frame" ? FRAME_FALLBACK_MS : Math.max(0, throttle);
    const handle = setTimeout(fire, ms);
    return () => clearTimeout(handle);
  };

  return {
    request() {
      if (due) return;
      due = true;
      if (throttle === false) {
        fire();
        return;
      }
      cancelTimer = arm();
    },
    flushNow() {
      cancelTimer?.();
      cancelTimer = undefined;
      fire();
    },
    cancel() {
      due = false;
      cancelTimer?.();
      cancelTimer = undefined;
    },
  };
}
