/**
 * Reports an exception thrown by a consumer's callback (an `on()` listener, a `watch` callback)
 * through the runtime's usual channel for uncaught errors: `reportError` where the platform has it
 * (browsers, Deno, Bun), else a rethrow from a microtask (Node's `uncaughtException`), as
 * `EventTarget` does. The consumer's bug stays the consumer's: the stream goes on, and the
 * exception is never retried or relabelled as a transport failure.
 */
export function reportConsumerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === "function") {
    report(error);
    return;
  }
  queueMicrotask(() => {
    throw error;
  });
}

/** Structural equality of two JSON values (snapshots), shared subtrees compared by identity first. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  for (const k of ka) {
    if (!Object.hasOwn(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) return false;
  }
  return true;
}
