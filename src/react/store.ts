import type { StandardSchemaV1 } from "@standard-schema/spec";
import {
  type ConnectionState,
  type SubscribeOptions,
  type SubscribeRetryOptions,
  type Subscription,
  type SubscriptionStats,
  subscribe,
} from "../client/index.ts";
import { isStreamError, StreamError } from "../errors/index.ts";
import { fromPointer, type PathSegment, toPointer, valueAt } from "../json/index.ts";
import type { DeepPartial, FieldState, Progress, StreamStatus } from "../stream/index.ts";
import { createScheduler, type Scheduler, type Throttle } from "./schedule.ts";

/** Where to read a relayed stream from, as your server's start route answers it. */
export interface StreamTarget {
  /** The relay's SSE URL of the stream (`GET`), absolute or relative to the page. */
  url: string | URL;
  /** The stream's token, when the relay gives streams one (sent as `Authorization: Bearer`). */
  token?: string;
  /** Extra request headers for this stream (replace {@link StructuredStreamOptions.headers}). */
  headers?: HeadersInit;
}

/** Options of {@link useStructuredStream} and {@link createStructuredStreamStore}. */
export interface StructuredStreamOptions<T = unknown, I = void> {
  /**
   * The relay URL to read, or a function of `start`'s input that gives it. Use `start` instead when
   * your server must first create the stream (a `POST` that answers with its id and token).
   */
  url?: string | URL | ((input: I) => string | URL);
  /**
   * Creates the stream on your server and says where to read it: called by `start(input)` (and
   * `retry()`, with the same input). Its `signal` aborts when `abort()` or a newer `start` wins.
   * A rejection ends the stream with status `error` (a {@link StreamError} as is, anything else
   * as `provider_error` with the original in `cause`).
   *
   * @example
   * ```ts
   * start: async (prompt, signal) => {
   *   const res = await fetch("/api/streams", { method: "POST", body: JSON.stringify({ prompt }), signal });
   *   if (!res.ok) throw new Error((await res.json()).error.message);
   *   return res.json(); // { url, token }
   * }
   * ```
   */
  start?: (input: I, signal: AbortSignal) => StreamTarget | Promise<StreamTarget>;
  /** Validates the final value in the browser too (any Standard Schema: zod, valibot, arktype). */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * The fetch used to read the relay (a wrapper that adds auth, a test double).
   * @defaultValue `globalThis.fetch`
   */
  fetch?: typeof fetch;
  /** Request headers, or a function called before each connection (to refresh a token). */
  headers?: SubscribeOptions["headers"];
  /** Reconnection policy of the client (`maxRetries`, `baseDelayMs`, `maxDelayMs`). */
  reconnect?: SubscribeRetryOptions;
  /**
   * How often views hear about changes. A fast stream can change a hundred times a second; by
   * default React renders at most once per animation frame, with the latest value. A terminal
   * change (`complete`, `error`) and your own `start`/`abort` are delivered at once.
   * @defaultValue `"frame"`
   */
  throttle?: Throttle;
  /**
   * Start on mount (with no input) and again when remounted.
   * @defaultValue `true` when `url` is a string or URL and there is no `start`, else `false`
   */
  autoStart?: boolean;
}

/** A `retry` event of the server-side stream: it failed and is trying again. */
export interface RetryNotice {
  /** 1 for the first retry. */
  attempt: number;
  /** The wait before this retry, in ms. */
  delayMs: number;
  /** What failed (`code` and `message`). */
  error: StreamError;
  /** `Date.now()` when the notice arrived. */
  at: number;
  /**
   * Set when this retry's answer contradicted what was shown: the JSON Pointers it withdrew (their
   * values and field states were replaced by the retry's). Say so: "the retry's answer replaced the
   * earlier one".
   */
  replaced?: readonly string[];
}

/**
 * What a view renders: one immutable object, replaced (new identity) whenever anything changes,
 * at most once per throttle period. Values are structurally shared: an unchanged subtree keeps
 * its identity from one state to the next.
 */
export interface StructuredStreamState<T = unknown> {
  /** The value so far (a deep partial of `T`), the validated value once complete. */
  readonly value: DeepPartial<T> | T | undefined;
  /** `"idle"` until `start`, then the stream's status. */
  readonly status: StreamStatus;
  readonly progress: Progress | undefined;
  /** JSON Pointers of the expected fields not yet complete (`progress.pending`, `[]` before). */
  readonly pending: readonly string[];
  /** Why the stream ended badly (`code`, `message`); undefined otherwise. */
  readonly error: StreamError | undefined;
  /** The client's measurements; `stats.server` holds the server-side stream's, once complete. */
  readonly stats: SubscriptionStats | undefined;
  /** The connection to the relay: `"closed"` before `start` and after the end. */
  readonly connection: ConnectionState;
  /** The server-side stream's retries, oldest first. */
  readonly retries: readonly RetryNotice[];
  /** The state of each field the stream announced, by JSON Pointer. */
  readonly fields: ReadonlyMap<string, FieldState>;
  /** The relay's id of the stream, once known. */
  readonly id: string | undefined;
  /**
   * The model's reasoning so far, live (`""` when it sent none): thinking, reasoning summaries,
   * thoughts. Never part of the answer; show it apart (collapsed, dimmed).
   */
  readonly reasoning: string;
  /** The text the model wrote beside the answer so far, live (`""` when none). */
  readonly commentary: string;
}

/** A store of one relayed stream at a time, in the shape of `useSyncExternalStore`. */
export interface StructuredStreamStore<T = unknown, I = void> {
  /** Calls `listener` after changes (at most once per throttle period); returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The current state: the same object until the next notification. */
  getSnapshot(): StructuredStreamState<T>;
  /** Starts a stream (stopping the current one, if any). */
  start(input?: I): void;
  /** Stops reading the current stream: status `error`, code `aborted`. */
  abort(reason?: unknown): void;
  /**
   * Stops the current stream on the server too: the relay cancels it and its model call (see
   * `Subscription.cancel`), and the view shows status `error` with code `aborted` like
   * {@link StructuredStreamStore.abort}. Resolves to `true` when the relay accepted, `false` when it
   * refused, could not be reached, or no stream was running (reading stops all the same).
   *
   * @example
   * ```tsx
   * <button onClick={() => void answer.cancel("Stopped from the page.")}>Stop</button>
   * ```
   */
  cancel(reason?: unknown): Promise<boolean>;
  /** Starts again with the last `start`'s input. */
  retry(): void;
  /** Replaces the options (`throttle` included); takes effect from the next `start`. */
  setOptions(options: StructuredStreamOptions<T, I>): void;
  /** Starts when `autoStart` says so; returns a function that stops the stream and every timer. */
  mount(): () => void;
}

const EMPTY_PENDING: readonly string[] = Object.freeze([]);
const NO_FIELDS: ReadonlyMap<string, FieldState> = new Map();
const NO_RETRIES: readonly RetryNotice[] = Object.freeze([]);

const IDLE: StructuredStreamState<never> = Object.freeze({
  value: undefined,
  status: "idle",
  progress: undefined,
  pending: EMPTY_PENDING,
  error: undefined,
  stats: undefined,
  connection: "closed",
  retries: NO_RETRIES,
  fields: NO_FIELDS,
  id: undefined,
  reasoning: "",
  commentary: "",
});

/** Segments of a path given as a JSON Pointer or as keys and indexes. */
export function toSegments(path: string | readonly PathSegment[]): readonly PathSegment[] {
  return typeof path === "string" ? fromPointer(path) : path;
}

/**
 * The state of the field at `path` in `state`: what the stream announced for it, else what its
 * value and `pending` say (after a resume from a snapshot the announcements may be missing).
 */
export function fieldStateOf(
  state: StructuredStreamState<unknown>,
  path: string | readonly PathSegment[],
  value: unknown = valueAt(state.value, toSegments(path)),
): FieldState {
  if (value === undefined) return "pending";
  if (state.status === "complete") return "complete";
  const pointer = typeof path === "string" ? path : toPointer(path);
  const announced = state.fields.get(pointer);
  if (announced !== undefined) return announced;
  const prefix = `${pointer}/`;
  return state.pending.some((p) => p === pointer || p.startsWith(prefix)) ? "streaming" : "complete";
}

function toError(error: unknown, fallbackCode: "provider_error" | "aborted" = "provider_error"): StreamError {
  if (isStreamError(error)) return error;
  const message =
    error instanceof Error
      ? error.message
      : typeof error === "string"
        ? error
        : "The stream failed to start.";
  return new StreamError(fallbackCode, message, { cause: error });
}

const TERMINAL = new Set<StreamStatus>(["complete", "error"]);

/**
 * Creates the store behind {@link useStructuredStream}, usable without React (any view library
 * with a subscribe/getSnapshot contract).
 *
 * @example
 * ```ts
 * const store = createStructuredStreamStore({ url: `/api/streams/${id}`, throttle: 50 });
 * const stop = store.mount();
 * store.subscribe(() => render(store.getSnapshot().value));
 * ```
 */
export function createStructuredStreamStore<T = unknown, I = void>(
  initialOptions: StructuredStreamOptions<T, I>,
): StructuredStreamStore<T, I> {
  let options = initialOptions;
  let throttle: Throttle = options.throttle ?? "frame";
  const listeners = new Set<() => void>();
  let snapshot: StructuredStreamState<T> = IDLE;
  let scheduler: Scheduler = createScheduler(throttle, notify);

  // The stream in progress; a newer `start` bumps `generation` so late answers are ignored.
  let generation = 0;
  let current: Subscription<T> | undefined;
  let detach: (() => void) | undefined;
  let starting: AbortController | undefined;
  let localStatus: StreamStatus = "idle";
  let localError: StreamError | undefined;
  let fields = new Map<string, FieldState>();
  let fieldsChanged = false;
  let snapshotFields: ReadonlyMap<string, FieldState> = NO_FIELDS;
  let retries: readonly RetryNotice[] = NO_RETRIES;
  let lastInput: I | undefined;
  let mounted = 0;

  function build(): StructuredStreamState<T> {
    if (fieldsChanged) {
      fieldsChanged = false;
      snapshotFields = new Map(fields);
    }
    if (current === undefined) {
      return Object.freeze({
        ...IDLE,
        status: localStatus,
        error: localError,
        connection: localStatus === "connecting" ? "connecting" : "closed",
        retries,
        fields: snapshotFields,
      }) as StructuredStreamState<T>;
    }
    const s = current.getSnapshot();
    return Object.freeze({
      value: s.value,
      status: s.status,
      progress: s.progress,
      pending: s.progress?.pending ?? EMPTY_PENDING,
      error: s.error,
      stats: { ...current.stats },
      connection: s.connection,
      retries,
      fields: snapshotFields,
      id: current.id,
      reasoning: s.reasoning,
      commentary: s.commentary,
    });
  }

  function notify(): void {
    snapshot = build();
    for (const listener of [...listeners]) listener();
  }

  /** Something changed: tell the views at the next frame, or now for what a person waits on. */
  function changed(urgent = false): void {
    scheduler.request();
    if (urgent) scheduler.flushNow();
  }

  function stopCurrent(): void {
    generation++;
    starting?.abort();
    starting = undefined;
    detach?.();
    detach = undefined;
    const stopping = current;
    current = undefined;
    // Listeners are gone first: the `aborted` error of a stream being replaced is nobody's news.
    stopping?.abort("Replaced by a new stream.");
  }

  function attach(subscription: Subscription<T>): void {
    current = subscription;
    const offs = [
      subscription.subscribe(() => changed(TERMINAL.has(subscription.status))),
      subscription.on("field-state", (event) => {
        fields.set(event.pointer, event.state);
        fieldsChanged = true;
        changed();
      }),
      subscription.on("retry", (event) => {
        retries = Object.freeze([
          ...retries,
          { attempt: event.attempt, delayMs: event.delayMs, error: event.error, at: Date.now() },
        ]);
        changed();
      }),
      subscription.on("rewind", (event) => {
        // What the retry withdrew starts over: its field states go, its values follow in the patch.
        for (const pointer of [...fields.keys()]) {
          if (event.retracted.some((r) => r === "" || pointer === r || pointer.startsWith(`${r}/`))) {
            fields.delete(pointer);
          }
        }
        fieldsChanged = true;
        const last = retries[retries.length - 1];
        if (last !== undefined)
          retries = Object.freeze([...retries.slice(0, -1), { ...last, replaced: event.retracted }]);
        changed();
      }),
    ];
    detach = () => {
      for (const off of offs) off();
    };
  }

  async function begin(input: I, id: number, controller: AbortController): Promise<void> {
    let target: StreamTarget;
    try {
      if (options.start !== undefined) target = await options.start(input, controller.signal);
      else if (typeof options.url === "function") target = { url: options.url(input) };
      else if (options.url !== undefined) target = { url: options.url };
      else throw new TypeError("useStructuredStream needs a `url` or a `start` function.");
    } catch (error) {
      if (id !== generation) return;
      starting = undefined;
      localStatus = "error";
      localError = toError(error);
      changed(true);
      return;
    }
    if (id !== generation) return;
    starting = undefined;
    const subscribeOptions: SubscribeOptions<T> = {};
    if (options.fetch !== undefined) subscribeOptions.fetch = options.fetch;
    const headers = target.headers ?? options.headers;
    if (headers !== undefined) subscribeOptions.headers = headers;
    if (target.token !== undefined) subscribeOptions.token = target.token;
    if (options.schema !== undefined) subscribeOptions.schema = options.schema;
    if (options.reconnect !== undefined) subscribeOptions.retry = options.reconnect;
    attach(subscribe<T>(target.url, subscribeOptions));
    changed();
  }

  const store: StructuredStreamStore<T, I> = {
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    getSnapshot: () => snapshot,
    start(input?: I) {
      stopCurrent();
      lastInput = input;
      fields = new Map();
      fieldsChanged = true;
      retries = NO_RETRIES;
      localStatus = "connecting";
      localError = undefined;
      const controller = new AbortController();
      starting = controller;
      changed(true);
      void begin(input as I, generation, controller);
    },
    abort(reason?: unknown) {
      if (current !== undefined) {
        current.abort(reason);
        changed(true);
        return;
      }
      if (starting === undefined) return;
      stopCurrent();
      localStatus = "error";
      localError = toError(reason ?? "The stream was aborted.", "aborted");
      changed(true);
    },
    cancel(reason?: unknown) {
      const subscription = current;
      if (subscription === undefined) {
        // Not created yet: nothing on the server to cancel.
        store.abort(reason);
        return Promise.resolve(false);
      }
      return subscription.cancel(reason).finally(() => changed(true));
    },
    retry() {
      store.start(lastInput);
    },
    setOptions(next) {
      options = next;
      const nextThrottle = next.throttle ?? "frame";
      if (nextThrottle !== throttle) {
        throttle = nextThrottle;
        scheduler.cancel();
        scheduler = createScheduler(throttle, notify);
        scheduler.request();
      }
    },
    mount() {
      mounted++;
      const auto =
        options.autoStart ??
        (options.start === undefined && options.url !== undefined && typeof options.url !== "function");
      if (auto) store.start();
      return () => {
        mounted--;
        if (mounted > 0) return;
        stopCurrent();
        scheduler.cancel();
      };
    },
  };
  return store;
}
