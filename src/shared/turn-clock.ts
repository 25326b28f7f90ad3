/**
 * `performance.now()`, read at most once per turn of the event loop where the runtime has
 * `setImmediate` (Node, Bun, Deno); elsewhere on every call.
 *
 * A stream notes the time of every chunk (statistics, the idle time-out), and a clock read costs
 * about as much as parsing a few characters: chunks that arrive in one turn (an in-memory source,
 * many streams' chunks in one timers phase) share one read. A time read here is at most one turn
 * old, never later than a fresh read, and never earlier than one read before it.
 *
 * @example
 * ```ts
 * const arrived = turnNow(); // the same value for every chunk of this turn
 * ```
 */
export function turnNow(): number {
  if (cached !== undefined) return cached;
  const now = performance.now();
  if (nextTurn === undefined) return now;
  cached = now;
  nextTurn(forget);
  return now;
}

let cached: number | undefined;
const forget = () => {
  cached = undefined;
};
// Taken once, at load: a test's fake timers must not keep a stale time alive.
const nextTurn: ((task: () => void) => unknown) | undefined =
  typeof setImmediate === "function" ? setImmediate : undefined;
