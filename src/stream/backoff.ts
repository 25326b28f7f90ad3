/** Retry pacing of {@link StructuredStreamOptions}. */
export interface RetryOptions {
  /**
   * Retries after a retryable failure (connection lost, time-out, 429, 408, 5xx, overloaded).
   * @defaultValue 2
   */
  maxRetries?: number;
  /** @defaultValue 500 */
  baseDelayMs?: number;
  /** @defaultValue 10000 */
  maxDelayMs?: number;
  /**
   * The longest `retry-after` a provider may ask for. A longer one fails the stream at once with
   * `rate_limited` (its `retryAfterMs` says how long the provider asked for) instead of sleeping.
   * @defaultValue `maxDelayMs`
   */
  maxRetryAfterMs?: number;
}

/**
 * Exponential backoff with full jitter: a random delay in `[0, min(max, base * 2^attempt))`, so
 * many clients failing together do not retry together.
 * @see https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export function backoffDelay(
  attempt: number,
  options: RetryOptions = {},
  random: () => number = Math.random,
): number {
  const base = options.baseDelayMs ?? 500;
  const max = options.maxDelayMs ?? 10_000;
  const ceiling = Math.min(max, base * 2 ** attempt);
  return Math.floor(random() * ceiling);
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts. Leaves no timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
