/**
 * structream/react: React hooks (18 and 19) for structured streams relayed by structream/server.
 * React is an optional peer dependency, imported only here: the package's other entry points never
 * pull it in.
 *
 * - {@link useStructuredStream}: the stream's value, status, progress, pending fields, error,
 *   statistics and retries as React state, with `start`, `abort` and `retry`; renders are coalesced
 *   to one per animation frame by default.
 * - {@link useField}: one field's value and state, re-rendering only when that field changes.
 * - {@link createStructuredStreamStore}: the same store without React.
 *
 * @example
 * ```tsx
 * import { useField, useStructuredStream } from "structream/react";
 *
 * function Article() {
 *   const article = useStructuredStream<Article, string>({
 *     start: async (prompt) => {
 *       const res = await fetch("/api/streams", { method: "POST", body: JSON.stringify({ prompt }) });
 *       return res.json(); // { url, token }
 *     },
 *   });
 *   return (
 *     <form onSubmit={(e) => { e.preventDefault(); article.start("Streams in TypeScript"); }}>
 *       <button>Summarize</button> {article.status} {article.progress?.percent ?? 0}%
 *       <Headline store={article.store} />
 *     </form>
 *   );
 * }
 *
 * const Headline = memo(({ store }: { store: StructuredStreamStore<Article, string> }) => {
 *   const { value, state } = useField<string>(store, "/headline");
 *   return <h1 data-state={state}>{value}</h1>;
 * });
 * ```
 *
 * @module
 */
export type { Throttle } from "./schedule.ts";
export {
  createStructuredStreamStore,
  fieldStateOf,
  type RetryNotice,
  type StreamTarget,
  type StructuredStreamOptions,
  type StructuredStreamState,
  type StructuredStreamStore,
} from "./store.ts";
export {
  type FieldView,
  type UseStructuredStreamResult,
  useField,
  useStructuredStream,
} from "./use-structured-stream.ts";
