import type { Random } from "./random.ts";

/** `"realtime"` waits like a model does; `"fast"` sends everything at once (tests). */
export type Pace = "realtime" | "fast";

/** Timing of a simulated stream. */
export interface PaceOptions {
  /**
   * `"fast"` drops every delay; a request can ask for it with the header `x-sim-pace: fast`.
   * @defaultValue `"realtime"`
   */
  pace?: Pace;
  /**
   * Average deltas a second while streaming; each gap varies ±50% around it.
   * @defaultValue `70`
   */
  deltasPerSecond?: number;
  /**
   * Wait before the response starts (time to first byte), ±30%.
   * @defaultValue `300`
   */
  firstByteDelayMs?: number;
}

/** The delays of one response. */
export interface Pacer {
  firstByte(): number;
  betweenDeltas(): number;
}

export const DEFAULT_DELTAS_PER_SECOND = 70;
export const DEFAULT_FIRST_BYTE_DELAY_MS = 300;

export function createPacer(options: PaceOptions, random: Random): Pacer {
  if (options.pace === "fast") return { firstByte: () => 0, betweenDeltas: () => 0 };
  const perSecond = options.deltasPerSecond ?? DEFAULT_DELTAS_PER_SECOND;
  const gap = perSecond > 0 && Number.isFinite(perSecond) ? 1000 / perSecond : 0;
  const first = Math.max(0, options.firstByteDelayMs ?? DEFAULT_FIRST_BYTE_DELAY_MS);
  return {
    firstByte: () => Math.round(first * (0.7 + 0.6 * random.next())),
    betweenDeltas: () => gap * (0.5 + random.next()),
  };
}

/** Resolves after `ms`, or at once when `signal` aborts (the simulator is closing). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
  });
}
