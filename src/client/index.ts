/**
 * structream/client: reads a stream relayed by structream/server in the browser (or any runtime
 * with `fetch` and web streams), with resume, structurally shared snapshots and a store for any UI
 * library.
 *
 * @example
 * ```ts
 * import { subscribe } from "structream/client";
 *
 * const answer = subscribe("/api/streams/" + id, { schema: Recipe, token });
 * const stop = answer.subscribe(() => {
 *   const { value, status, progress } = answer.getSnapshot();
 *   render(value, status, progress?.percent);
 * });
 * const recipe = await answer.done;
 * stop();
 * ```
 *
 * @module
 */
export {
  type ConnectionState,
  type SubscribeOptions,
  type SubscribeRetryOptions,
  type Subscription,
  type SubscriptionSnapshot,
  type SubscriptionStats,
  subscribe,
} from "./subscribe.ts";
