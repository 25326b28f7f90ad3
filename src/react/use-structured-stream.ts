import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from "react";
import { type PathSegment, valueAt } from "../json/index.ts";
import type { FieldState } from "../stream/index.ts";
import {
  createStructuredStreamStore,
  fieldStateOf,
  type StructuredStreamOptions,
  type StructuredStreamState,
  type StructuredStreamStore,
  toSegments,
} from "./store.ts";

/** What {@link useStructuredStream} returns: the current state, and what to do with the stream. */
export interface UseStructuredStreamResult<T = unknown, I = void> extends StructuredStreamState<T> {
  /** Starts a stream with `input` (passed to the `start` option or the `url` function), replacing the current one. */
  start(input?: I): void;
  /** Stops reading: status `error` with code `aborted` (the server-side stream is not affected). */
  abort(reason?: unknown): void;
  /**
   * Stops the stream on the server too (the relay cancels its model call), then shows it as
   * {@link UseStructuredStreamResult.abort} does; resolves to whether the relay accepted.
   */
  cancel(reason?: unknown): Promise<boolean>;
  /** Starts again with the last input (after an error, or to get a fresh answer). */
  retry(): void;
  /** `pending`, `streaming` or `complete` for the field at `path` (a JSON Pointer, or keys and indexes). */
  stateOf(path: string | readonly PathSegment[]): FieldState;
  /**
   * The store behind this hook: the same object for the component's whole life. Pass it (rather
   * than the result, which changes on every update) to memoized children that call {@link useField}.
   */
  store: StructuredStreamStore<T, I>;
}

/** What {@link useField} returns. */
export interface FieldView<V = unknown> {
  /** The field's value so far (undefined until it starts); keeps its identity while unchanged. */
  readonly value: V | undefined;
  readonly state: FieldState;
}

/**
 * Reads a structured stream relayed by `structream/server` into React state (React 18 and 19,
 * through `useSyncExternalStore`, so concurrent rendering never tears). A fast stream is coalesced
 * to at most one render per animation frame (`throttle`), with the latest value; the value is
 * structurally shared, so `React.memo` and {@link useField} skip what did not change.
 *
 * @example
 * ```tsx
 * function Answer() {
 *   const answer = useStructuredStream<Recipe, string>({
 *     start: async (prompt) => (await fetch("/api/streams", { method: "POST", body: prompt })).json(),
 *   });
 *   return (
 *     <>
 *       <button onClick={() => answer.start("Lemon bread")}>Ask</button>
 *       <progress value={answer.progress?.percent ?? 0} max={100} />
 *       <h2>{answer.value?.title}</h2>
 *       {answer.error && <p role="alert">{answer.error.message}</p>}
 *     </>
 *   );
 * }
 * ```
 */
export function useStructuredStream<T = unknown, I = void>(
  options: StructuredStreamOptions<T, I>,
): UseStructuredStreamResult<T, I> {
  const [store] = useState(() => createStructuredStreamStore<T, I>(options));
  // The latest options, for the next `start`; set before the mount effect below reads them.
  useEffect(() => {
    store.setOptions(options);
  });
  useEffect(() => store.mount(), [store]);
  const state = useSyncExternalStore(store.subscribe, store.getSnapshot, store.getSnapshot);
  return useMemo(
    () => ({
      ...state,
      start: store.start,
      abort: store.abort,
      cancel: store.cancel,
      retry: store.retry,
      stateOf: (path: string | readonly PathSegment[]) => fieldStateOf(state, path),
      store,
    }),
    [state, store],
  );
}

/**
 * The value and state of one field of a stream, re-rendering its component only when that
 * field's subtree changes (its identity: unchanged subtrees are shared between snapshots) or its
 * state does, however fast the rest of the answer streams.
 *
 * @param stream - what {@link useStructuredStream} returned, or its `store` (stable: best for
 * `React.memo` children).
 * @param path - a JSON Pointer (`"/ingredients/0/name"`) or keys and indexes.
 *
 * @example
 * ```tsx
 * const Title = memo(function Title({ store }: { store: StructuredStreamStore<Recipe, string> }) {
 *   const title = useField<string>(store, "/title");
 *   return <h2 className={title.state}>{title.value ?? "…"}</h2>;
 * });
 * ```
 */
export function useField<V = unknown>(
  // biome-ignore lint/suspicious/noExplicitAny: any stream, whatever its value and input types.
  stream: UseStructuredStreamResult<any, any> | StructuredStreamStore<any, any>,
  path: string | readonly PathSegment[],
): FieldView<V> {
  const store = "store" in stream ? stream.store : stream;
  // One key for a path however it is spelled, so an inline array does not resubscribe each render.
  const key = typeof path === "string" ? path : JSON.stringify(path);
  const last = useRef<FieldView<V> | undefined>(undefined);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `key` stands for `path`.
  const getSnapshot = useCallback((): FieldView<V> => {
    const state = store.getSnapshot() as StructuredStreamState<unknown>;
    const segments = toSegments(path);
    const value = valueAt(state.value, segments) as V | undefined;
    const fieldState = fieldStateOf(state, path, value);
    const previous = last.current;
    if (previous !== undefined && Object.is(previous.value, value) && previous.state === fieldState)
      return previous;
    const view: FieldView<V> = Object.freeze({ value, state: fieldState });
    last.current = view;
    return view;
  }, [store, key]);
  return useSyncExternalStore(store.subscribe, getSnapshot, getSnapshot);
}
