import { isStructreamError, StreamError, type StreamErrorCode } from "../errors/index.ts";
import {
  fromPointer,
  JsonParseError,
  type ParserEvent,
  type PathSegment,
  toPointer,
  valueAt,
} from "../json/index.ts";
import type { ProviderId, ProviderRequest } from "../providers/index.ts";
import {
  type CompiledSchema,
  compileSchema,
  type InferOutput,
  type InferPartial,
  type JsonSchemaObject,
  type SchemaInput,
} from "../schema/index.ts";
import { changeSize, EventQueue, turnNow } from "../shared/index.ts";
import { Attempt } from "./attempt.ts";
import { backoffDelay, type RetryOptions, sleep } from "./backoff.ts";
import type { AnswerChannel } from "./channels.ts";
import { checkOptions } from "./options.ts";
import { jsonEqual, reportConsumerError } from "./report.ts";
import { isWithin, STATE_RANK, type Standing, standing, stateReader, withoutWhitespace } from "./rewind.ts";
import { ToolCallHub, type ToolCallOf, type ToolCallStream, type ToolSchemas } from "./tool-calls.ts";
import type {
  DeepPartial,
  FieldState,
  Progress,
  StreamChange,
  StreamElement,
  StreamEvent,
  StreamEventOf,
  StreamEventType,
  StreamStats,
  StreamStatus,
} from "./types.ts";

/** What a `source` function is given for each attempt. */
export interface SourceContext {
  /**
   * Aborted when this attempt is given up (time-out, failure, `abort()`, the caller's signal):
   * pass it to `fetch` so the request and its body are cancelled.
   */
  signal: AbortSignal;
  /** 0 for the first call, 1 for the first retry, and so on. */
  attempt: number;
}

/** What `structuredStream` can read. */
export type StreamSource =
  | Response
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<string | Uint8Array | object>
  /**
   * Called once per attempt, so a stream you open yourself can be retried.
   * @example
   * ```ts
   * source: ({ signal }) => fetch(url, { method: "POST", body, signal })
   * ```
   */
  | ((
      context: SourceContext,
    ) => Promise<
      Response | ReadableStream<Uint8Array | string> | AsyncIterable<string | Uint8Array | object>
    >);

/** Options of {@link structuredStream}. */
export interface StructuredStreamOptions<S extends SchemaInput | undefined = SchemaInput | undefined> {
  /** The expected shape: a Standard Schema (zod 4, valibot, arktype) or a JSON Schema object. */
  schema?: S;
  /**
   * The JSON Schema of `schema`, for Standard Schema libraries that cannot export one themselves
   * (valibot: `toJsonSchema(schema)` from `@valibot/to-json-schema`). zod 4 and arktype need none.
   */
  jsonSchema?: JsonSchemaObject;
  /** An HTTP response, its body, an SDK's event stream, or raw JSON text chunks. */
  source?: StreamSource;
  /** Ask structream to make the call: `model`, `messages` and native parameters. */
  request?: ProviderRequest;
  /**
   * The wire format. `"auto"` detects it from the content type and the first event.
   * @defaultValue "auto" for a source, "openai-chat" for a request
   */
  provider?: ProviderId | "auto";
  /** API key for `request` (else taken from nowhere: structream reads no environment). */
  apiKey?: string;
  /** Base URL for `request`, e.g. any OpenAI-compatible server. */
  baseURL?: string;
  /** Extra headers for `request`. */
  headers?: Record<string, string>;
  /** The `fetch` used for `request`. @defaultValue globalThis.fetch */
  fetch?: typeof fetch;
  /**
   * For models without a native structured mode: skip a leading Markdown fence or prose up to
   * the first `{` or `[`, and a trailing fence. Nothing else is forgiven.
   * @defaultValue false
   */
  lenient?: boolean;
  /**
   * `"early"` fails with `schema_mismatch` as soon as a completed field contradicts the schema;
   * `"final"` validates only the complete value.
   * @defaultValue "early"
   */
  validate?: "early" | "final";
  /** JSON Pointers (with `*` for any array index) of fields that must appear only complete. */
  atomic?: string[];
  /** Objects (by JSON Pointer, `*` for indexes) hidden until the listed keys are complete. */
  gate?: Record<string, string[]>;
  /** Retries when structream made the request (or `source` is a function). */
  retry?: RetryOptions;
  /** Shorthand for `retry.maxRetries`. @defaultValue 2 */
  maxRetries?: number;
  /**
   * Fail with `timeout` when no byte arrives for this long (retried).
   * @defaultValue 60000
   */
  idleTimeoutMs?: number;
  /** Overall deadline for the whole stream, retries included. @defaultValue none */
  timeoutMs?: number;
  /** Aborts the stream (`aborted`) in any status. Its listener is removed when the stream ends. */
  signal?: AbortSignal;
  /**
   * Which part of the response is the answer, for a `source` (a `request` decides it itself):
   * `"auto"` takes the text when it is JSON, or the tool call when the response carries one and
   * its text is prose (commentary); `{ tool: "name" }` that tool's arguments; `"text"` the text.
   * @defaultValue "auto"
   */
  answer?: AnswerChannel;
  /**
   * Client tools whose calls to stream, by name, with the schema of their arguments: each call
   * is a typed stream from `s.toolCalls()`. A declared tool's call is never taken for the answer.
   */
  tools?: ToolSchemas;
  /** Limits of the JSON parser. */
  maxDepth?: number;
  /** Most answer text accepted, in UTF-16 code units. @defaultValue 64 Mi */
  maxLength?: number;
}

/** The value type a stream produces for a schema. */
export type StreamValue<S> = S extends SchemaInput ? InferOutput<S> : unknown;

/**
 * The type of a stream's snapshots: a deep-partial of the schema's *input* side, since snapshots
 * are the JSON as it arrives, before the validator's transforms run.
 */
export type StreamPartial<S> = S extends SchemaInput ? InferPartial<S> : unknown;

type Listener<T, K extends StreamEventType, P = DeepPartial<T>> = (event: StreamEventOf<T, K, P>) => void;

const TERMINAL: ReadonlySet<StreamStatus> = new Set(["complete", "error"]);

function toPath(path: string | readonly PathSegment[]): PathSegment[] {
  return typeof path === "string" ? fromPointer(path) : [...path];
}

type PartialEvent = Extract<StreamEvent<unknown>, { type: "partial" }>;

/** Partial events a queue merged, with the event whose value they give (the latest merged in). */
const mergedPartials = new WeakMap<object, { latest: PartialEvent; size: number }>();

/** Most characters of changes merged into one partial event (see `changeSize`). */
const MERGE_MOST = 65_536;

/**
 * The merge rule of an event queue: a partial replaces the unread partial before it, carrying the
 * changes of both (so a consumer of `changes` misses none), with consecutive appends to one string
 * joined into one, up to `MERGE_MOST`. The merged event is the queue's own: its `changes` grow in
 * place.
 */
function mergePartials<E extends StreamEvent<unknown>>(last: E, next: E): E | undefined {
  if (last.type !== "partial" || next.type !== "partial") return undefined;
  const incoming = next as PartialEvent;
  const before = (last as PartialEvent).changes;
  if (before === undefined || incoming.changes === undefined) return next;
  let merged = last as PartialEvent;
  let state = mergedPartials.get(merged);
  const size = changeSize(incoming.changes);
  // Merged changes stay a moderate batch (a burst read late would otherwise make megabytes of one).
  if ((state?.size ?? changeSize(before)) + size > MERGE_MOST) return undefined;
  if (state === undefined) {
    const source = { latest: incoming, size: changeSize(before) };
    state = source;
    merged = {
      type: "partial",
      get value() {
        return source.latest.value;
      },
      progress: incoming.progress,
      changes: before.slice(),
    };
    mergedPartials.set(merged, state);
  }
  state.latest = incoming;
  state.size += size;
  merged.progress = incoming.progress;
  const changes = merged.changes as StreamChange[];
  for (const change of incoming.changes) {
    const tail = changes[changes.length - 1];
    if (change[0] === ">" && tail !== undefined && tail[0] === ">" && tail[1] === change[1]) {
      changes[changes.length - 1] = [">", tail[1], tail[2] + change[2]];
    } else changes.push(change);
  }
  return merged as E;
}

/** Not read yet (a partial event's value is made when first read). */
const UNREAD: unique symbol = Symbol("unread");

/**
 * The value of the partial events made since the last time one of them was read: they all show
 * the snapshot made at that first read. So values are made lazily and still never step back: an
 * event read late shows no more than a later event read before it.
 */
interface ValueCell {
  value: unknown;
}

/**
 * A `partial` event. Its `value` is a getter on the class, so the snapshot is made only when it is
 * first read (and an event coalesced away before anyone read it never makes one); a getter on the
 * prototype keeps every event one shape, where an accessor per object costs several times more.
 * Being a getter, `value` is not copied by `{ ...event }`: `toJSON` and Node's inspector show it.
 */
class LazyPartial {
  readonly type = "partial";
  declare changes?: StreamChange[];
  #core: { readonly value: unknown; seal(cell: ValueCell): void } | undefined;
  #cell: ValueCell | undefined;
  #value: unknown;
  constructor(
    core: { readonly value: unknown; seal(cell: ValueCell): void },
    cell: ValueCell | undefined,
    known: unknown,
    readonly progress: Progress,
  ) {
    this.#core = core;
    this.#cell = cell;
    this.#value = known;
  }
  get value(): unknown {
    if (this.#value === UNREAD) {
      const cell = this.#cell as ValueCell;
      if (cell.value === UNREAD) {
        cell.value = this.#core?.value;
        this.#core?.seal(cell);
      }
      this.#value = cell.value;
      this.#cell = undefined;
      this.#core = undefined;
    }
    return this.#value;
  }
  toJSON(): object {
    const { type, value, progress, changes } = this;
    return changes === undefined ? { type, value, progress } : { type, value, progress, changes };
  }
  [Symbol.for("nodejs.util.inspect.custom")](): object {
    return this.toJSON();
  }
}

/**
 * A structured answer streaming in: an async iterable and a `ReadableStream` of
 * {@link StreamEvent}s, with the latest state readable synchronously.
 */
export class StructuredStream<T = unknown, P = DeepPartial<T>, C = ToolCallStream> extends ReadableStream<
  StreamEvent<T, P>
> {
  /** The validated final value; rejects with {@link StreamError}. */
  readonly result: Promise<T>;

  // biome-ignore lint/suspicious/noExplicitAny: the core is shared by every typing of the stream (keeps StructuredStream<T> assignable to StructuredStream).
  private readonly core: StreamCore<any>;
  private readonly eventQueue: EventQueue<StreamEvent<T, P>>;

  constructor(options: StructuredStreamOptions) {
    const queue = new EventQueue<StreamEvent<T, P>>(mergePartials);
    let core!: StreamCore<T>;
    super(
      {
        async pull(controller) {
          core.attach(false);
          const next = await queue.next();
          if (next.done) controller.close();
          else controller.enqueue(next.value);
        },
        cancel(reason) {
          queue.cancel();
          core.abort(reason ?? "The consumer cancelled the stream.");
        },
      },
      { highWaterMark: 0 },
    );
    core = new StreamCore<T>(options, queue as unknown as EventQueue<StreamEvent<T>>);
    this.eventQueue = queue;
    this.core = core;
    this.result = core.result;
  }

  /** The latest visible snapshot (typed deep-partial of the final value). */
  get value(): P | undefined {
    return this.core.value as P | undefined;
  }

  get status(): StreamStatus {
    return this.core.status;
  }

  get progress(): Progress {
    return this.core.progress;
  }

  get stats(): StreamStats {
    return this.core.snapshotStats();
  }

  /** The error that ended the stream, if any. */
  get error(): StreamError | undefined {
    return this.core.error;
  }

  /** `pending`, `streaming` or `complete` for the field at `path` (keys and indexes, or a JSON Pointer). */
  stateOf(path: string | readonly PathSegment[]): FieldState {
    return this.core.stateOf(toPath(path));
  }

  /**
   * Calls `listener` whenever the subtree at `path` changes (its identity changes), and never
   * otherwise. Returns a function that stops watching.
   */
  watch(path: string | readonly PathSegment[], listener: (value: unknown) => void): () => void {
    return this.core.watch(toPath(path), listener);
  }

  /** Listens to one event type; returns a function that stops listening. */
  on<K extends StreamEventType>(type: K, listener: Listener<T, K>): () => void {
    return this.core.on(type, listener as unknown as Listener<T, StreamEventType>);
  }

  /** Listens to the next event of one type only. */
  once<K extends StreamEventType>(type: K, listener: Listener<T, K>): () => void {
    const off = this.on(type, (event) => {
      off();
      listener(event);
    });
    return off;
  }

  /** The snapshots alone, one per change (as the AI SDK's `partialObjectStream`). */
  partials(): AsyncIterableIterator<P> {
    return this.core.partials() as AsyncIterableIterator<P>;
  }

  /**
   * Each element of the array at `path` (root by default), once, complete and validated on its
   * own against its schema, in order.
   */
  elements<E = unknown>(path: string | readonly PathSegment[] = []): AsyncIterableIterator<StreamElement<E>> {
    return this.core.elements(toPath(path)) as AsyncIterableIterator<StreamElement<E>>;
  }

  /**
   * One typed stream per client tool call the model makes (see `tools`), in the order they
   * start, each with its `name`, `id` and `index`. A call's `result` resolves only after its
   * block ended and the provider's end signal arrived; a truncated or refused response fails
   * every open call. The iterator ends when this stream ends.
   *
   * @example
   * ```ts
   * const s = structuredStream({ source, tools: { search: SearchArgs } });
   * for await (const call of s.toolCalls()) if (call.name === "search") run(await call.result);
   * ```
   */
  toolCalls(): AsyncIterableIterator<C> {
    return this.core.toolCallHub.subscribe() as AsyncIterableIterator<C>;
  }

  /** Ends the stream now with `aborted`, closing the HTTP body and every timer. */
  abort(reason?: unknown): void {
    this.core.abort(reason);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the overloads of ReadableStream.getReader.
  override getReader(options?: any): any {
    const reader = super.getReader(options);
    this.core.attach(false);
    return reader;
  }

  /**
   * The events, as `for await (const event of s)` gives them. With `changes: true` each `partial`
   * event also carries `changes`: what changed since the partial before it, as patch operations
   * (`["+", pointer, value]` add, `[">", pointer, text]` append, `["=", pointer, value]` set),
   * taken from the parser as it reads rather than from a diff of snapshots. Applied in order to an
   * empty document they rebuild every `value` (see the relay, which sends them as its patches).
   *
   * A consumer exists from this call on: events before it are not kept for it (nothing is kept
   * for a consumer that does not exist). A late one starts with the current `status`, the latest
   * `partial` (its changes setting the whole value) and, if the stream ended, its last event.
   *
   * @example
   * ```ts
   * for await (const event of s.events({ changes: true }))
   *   if (event.type === "partial") send(event.changes);
   * ```
   */
  events(options: { changes?: boolean } = {}): AsyncIterableIterator<StreamEvent<T, P>> {
    return this.iterate(options.changes === true);
  }

  override [Symbol.asyncIterator](): AsyncIterableIterator<StreamEvent<T, P>> {
    return this.iterate(false);
  }

  private iterate(changes: boolean): AsyncIterableIterator<StreamEvent<T, P>> {
    // The lock keeps this reader the only one; events are then taken from the queue directly,
    // which spares the three promises per event of a ReadableStream read.
    const reader = super.getReader();
    this.core.attach(changes);
    const queue = this.eventQueue;
    const core = this.core;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      // Releasing rejects the reader's `closed` promise with an error nobody sees; its stack trace
      // (through every await up to here) cost more than the rest of a stream's end.
      const limit = Error.stackTraceLimit;
      Error.stackTraceLimit = 0;
      try {
        reader.releaseLock();
      } finally {
        Error.stackTraceLimit = limit;
      }
    };
    queue.onEnd = release;
    const iterator: AsyncIterableIterator<StreamEvent<T, P>> = {
      // One promise per event, from the queue itself (the lock is released at the end by `onEnd`).
      next: () => queue.next(),
      async return() {
        // Leaving a for-await loop early cancels the stream, and with it the model's answer (an
        // ended stream has nothing left to cancel: a reader that stops at its last event, as the
        // relay does, only lets go of the lock).
        if (!released) {
          if (!TERMINAL.has(core.status)) await reader.cancel("The consumer stopped reading.");
          release();
        }
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

/**
 * Streams a structured answer: from any source (a fetch `Response`, a body stream, an SDK's event
 * stream, raw JSON text) or by making the provider call itself, to typed partial values, field
 * events, progress and a validated final value.
 *
 * @example
 * ```ts
 * const s = structuredStream({ source: response, schema: Article });
 * for await (const event of s) if (event.type === "partial") render(event.value);
 * const article = await s.result;
 * ```
 * @throws a `StructreamError` with code `invalid_option` (synchronously) when an option is not usable.
 */
export function structuredStream<
  S extends SchemaInput | undefined = undefined,
  Tools extends ToolSchemas = Record<never, never>,
>(
  options: StructuredStreamOptions<S> & { tools?: Tools },
): StructuredStream<StreamValue<S>, StreamPartial<S>, ToolCallOf<Tools>> {
  return new StructuredStream<StreamValue<S>, StreamPartial<S>, ToolCallOf<Tools>>(
    options as StructuredStreamOptions,
  );
}

class StreamCore<T> {
  status: StreamStatus = "idle";
  error: StreamError | undefined;
  readonly result: Promise<T>;

  private resolveResult!: (value: T) => void;
  private rejectResult!: (error: unknown) => void;
  private readonly listeners = new Map<StreamEventType, Set<Listener<T, StreamEventType>>>();
  /** Queues of `partials()` iterators: partial events only, at most one buffered each. */
  private readonly partialQueues = new Set<EventQueue<StreamEvent<T>>>();
  /** The event iterator exists (events go to `queue` only from then on). */
  private attached = false;
  /** Its partial events carry `changes`. */
  private changesWanted = false;
  /** Visible changes since the last partial event, as patch operations (when wanted). */
  private pendingChanges: StreamChange[] = [];
  /** Something visible changed since the last partial event. */
  private dirty = false;
  /** The attempt's progress object `shownProgress` was last made from. */
  private sourceProgress: Progress | undefined;
  /** The value shown after a failure, when it is not the parser's (see `fail`). */
  private frozen: { value: unknown } | undefined;
  /** The last event, once the stream ended (for an iterator that attaches afterwards). */
  private lastEvent: StreamEvent<T> | undefined;

  private readonly watchers = new Set<{ path: PathSegment[]; last: unknown; fn: (value: unknown) => void }>();
  private readonly elementSubs = new Set<{
    path: PathSegment[];
    pointer: string;
    next: number;
    queue: EventQueue<StreamElement<unknown>>;
  }>();
  private readonly controller = new AbortController();
  private readonly compiled: CompiledSchema | undefined;
  private readonly startedAt = Date.now();
  // On the chunks' clock (see turnNow), so no chunk is stamped before the stream started.
  private readonly started = turnNow();
  private endedAt: number | undefined;
  private attempt: Attempt | undefined;
  private shownProgress: Progress = { completed: 0, total: 0, percent: 0, pending: [] };
  private releaseSignal: (() => void) | undefined;
  /**
   * The attempt whose snapshot is on screen. A retry runs hidden until it has caught up with it
   * (or contradicts it, and a `rewind` withdraws what it contradicts): see {@link showPartial}.
   */
  private shownAttempt: Attempt | undefined;
  /** Field, field-state and element notices of a hidden retry, held until it takes over. */
  private held: (() => void)[] = [];
  /**
   * A retry catching up with the shown attempt: the shown answer's text without insignificant
   * whitespace, how much of the retry's (so written) was read and how much of it agrees.
   */
  private catchUp:
    | {
        attempt: Attempt;
        shown: string;
        length: number;
        agreed: number;
        inString: boolean;
        escaped: boolean;
        /** The retry's length at which the next whole comparison of values is due. */
        nextComparisonAt: number;
      }
    | undefined;
  /** Watchers compare by value once after a takeover (the new attempt's objects are new). */
  private relink = false;
  private firstByteMs: number | undefined;
  private firstFieldMs: number | undefined;
  private firstDeltaAt: number | undefined;
  private lastDeltaAt: number | undefined;
  readonly totals = { chunks: 0, bytes: 0, deltas: 0, retries: 0, usage: undefined as StreamStats["usage"] };

  constructor(
    private readonly options: StructuredStreamOptions,
    private readonly queue: EventQueue<StreamEvent<T>>,
  ) {
    checkOptions(options);
    const result = new Promise<T>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // A failure nobody observes must not take the process down: the error stays readable on
    // `s.error`, `s.status`, the `error` event and `result` for whoever looks.
    result.catch(() => {});
    this.result = result;
    this.toolCallHub = new ToolCallHub((o) => new StructuredStream(o), options.tools, {
      validate: options.validate,
      maxDepth: options.maxDepth,
      maxLength: options.maxLength,
    });
    this.compiled =
      options.schema === undefined
        ? undefined
        : compileSchema(options.schema, options.jsonSchema ? { jsonSchema: options.jsonSchema } : {});
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) queueMicrotask(() => this.abort(signal.reason));
      else {
        // Removed when the stream ends: a long-lived signal shared by many streams must not keep
        // every finished one reachable (nor trip Node's listener-leak warning).
        const onAbort = () => this.abort(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        this.releaseSignal = () => signal.removeEventListener("abort", onAbort);
      }
    }
    queueMicrotask(() => {
      void this.run();
    });
  }

  /** The value cell of the partial events made from now on (see `ValueCell`). */
  private cell: ValueCell = { value: UNREAD };
  /** A partial event was made with `cell`. */
  private cellUsed = false;

  /** `cell` got its value: the events made from now on get a new one. */
  seal(cell: ValueCell): void {
    if (cell !== this.cell) return;
    this.cell = { value: UNREAD };
    this.cellUsed = false;
  }

  /** The visible value, made from the shown attempt's parser when read (snapshots are lazy). */
  get value(): unknown {
    if (this.status === "complete") return this.finalValue;
    if (this.frozen !== undefined) return this.frozen.value;
    return this.shownAttempt?.latest;
  }

  /**
   * The event iterator starts consuming. Events are kept for it only from now on; one that comes
   * late is told where the stream is: its status, its latest value, and how it ended.
   */
  attach(changes: boolean): void {
    if (changes) this.changesWanted = true;
    if (this.attached) return;
    this.attached = true;
    if (this.status === "idle") return;
    const queue = this.queue;
    queue.push({ type: "status", status: this.status === "complete" ? "validating" : this.status });
    if (this.value !== undefined) {
      const value = this.value;
      queue.push(this.partialEvent(this.changesWanted ? [["=", "", value]] : undefined, value));
    }
    if (this.status === "complete") queue.push({ type: "status", status: "complete" });
    if (this.lastEvent !== undefined) {
      queue.push(this.lastEvent);
      queue.close();
    }
  }

  get progress(): Progress {
    return this.shownProgress;
  }

  snapshotStats(): StreamStats {
    const end = this.endedAt ?? performance.now();
    const deltaSpan =
      this.firstDeltaAt !== undefined && this.lastDeltaAt !== undefined
        ? this.lastDeltaAt - this.firstDeltaAt
        : 0;
    const stats: StreamStats = {
      startedAt: this.startedAt,
      durationMs: Math.round(end - this.started),
      chunks: this.totals.chunks,
      bytes: this.totals.bytes,
      deltas: this.totals.deltas,
      deltasPerSecond: deltaSpan > 0 ? Math.round((this.totals.deltas / deltaSpan) * 1000 * 10) / 10 : 0,
      retries: this.totals.retries,
    };
    if (this.firstByteMs !== undefined) stats.timeToFirstByteMs = Math.round(this.firstByteMs);
    if (this.firstFieldMs !== undefined) stats.timeToFirstFieldMs = Math.round(this.firstFieldMs);
    if (this.totals.usage !== undefined) stats.usage = { ...this.totals.usage };
    if (this.attempt?.reasoning) stats.reasoning = this.attempt.reasoning;
    if (this.attempt?.commentary) stats.commentary = this.attempt.commentary;
    return stats;
  }

  stateOf(path: PathSegment[]): FieldState {
    if (this.status === "complete") return "complete";
    // While a retry catches up, the states are those of what is on screen: they step back only
    // through a rewind.
    return (this.shownAttempt ?? this.attempt)?.stateOf(path) ?? "pending";
  }

  on(type: StreamEventType, listener: Listener<T, StreamEventType>): () => void {
    let set = this.listeners.get(type);
    if (set === undefined) this.listeners.set(type, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  watch(path: PathSegment[], fn: (value: unknown) => void): () => void {
    const watcher = { path, last: valueAt(this.value, path), fn };
    this.watchers.add(watcher);
    return () => this.watchers.delete(watcher);
  }

  partials(): AsyncIterableIterator<unknown> {
    // Only partial events reach this queue, and each replaces the unread one: it holds one at most.
    const queue = new EventQueue<StreamEvent<T>>((_, next) => next);
    // A late reader gets the latest snapshot (also what a failed stream salvaged), then the end.
    if (this.value !== undefined) queue.push(this.partialEvent(undefined));
    if (this.status === "error") queue.fail(this.error);
    else if (this.status === "complete") queue.close();
    else this.partialQueues.add(queue);
    const core = this;
    let last: unknown = UNREAD;
    const iterator: AsyncIterableIterator<unknown> = {
      async next() {
        for (;;) {
          const item = await queue.next();
          if (item.done) return { done: true, value: undefined };
          if (item.value.type !== "partial") continue;
          // The snapshot is made now, as the consumer pulls it: the latest, never one in between.
          const value = item.value.value;
          if (value === last) continue;
          last = value;
          return { done: false, value };
        }
      },
      async return() {
        queue.cancel();
        core.partialQueues.delete(queue);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  elements(path: PathSegment[]): AsyncIterableIterator<StreamElement<unknown>> {
    const queue = new EventQueue<StreamElement<unknown>>();
    const sub = { path, pointer: toPointer(path), next: 0, queue };
    // Elements that completed before this call.
    const current = valueAt(this.value, path);
    if (Array.isArray(current)) {
      for (let i = 0; i < current.length; i++) {
        if (this.status !== "complete" && this.stateOf([...path, i]) !== "complete") break;
        queue.push({ type: "element", index: i, value: current[i] });
        sub.next = i + 1;
      }
    }
    if (TERMINAL.has(this.status)) {
      if (this.status === "error") queue.fail(this.error);
      else queue.close();
    } else this.elementSubs.add(sub);
    const core = this;
    const iterator: AsyncIterableIterator<StreamElement<unknown>> = {
      next: () => queue.next(),
      async return() {
        queue.cancel();
        core.elementSubs.delete(sub);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private finalValue: unknown;

  abort(reason?: unknown): void {
    if (TERMINAL.has(this.status)) return;
    const message =
      typeof reason === "string"
        ? reason
        : reason instanceof Error
          ? reason.message
          : "The stream was aborted.";
    this.controller.abort(new StreamError("aborted", message, { cause: reason }));
  }

  // ---- emitting ----------------------------------------------------------------------------

  private emit(event: StreamEvent<T>, toPartials = true): void {
    // No work and no memory for a consumer that does not exist.
    if (this.attached) this.queue.push(event);
    if (toPartials && this.partialQueues.size > 0 && event.type === "partial")
      for (const q of this.partialQueues) q.push(event);
    const set = this.listeners.get(event.type);
    if (set !== undefined) {
      for (const listener of [...set]) {
        try {
          listener(event);
        } catch (error) {
          // A listener's bug must not break the stream; surface it without swallowing it.
          reportConsumerError(error);
        }
      }
    }
  }

  /** The client tool calls of every attempt (`toolCalls()`). */
  readonly toolCallHub: ToolCallHub;

  /** Called by an attempt with a piece of its reasoning or commentary. */
  showChannel(attempt: Attempt, type: "reasoning" | "commentary", delta: string): void {
    if (attempt !== this.attempt) return;
    this.emit({ type, delta });
  }

  private setStatus(status: StreamStatus): void {
    if (this.status === status) return;
    this.status = status;
    this.emit({ type: "status", status });
  }

  /** A partial event whose value is the snapshot made when it is first read. */
  private partialEvent(changes: StreamChange[] | undefined, known: unknown = UNREAD): StreamEvent<T> {
    let cell: ValueCell | undefined;
    if (known === UNREAD) {
      cell = this.cell;
      this.cellUsed = true;
    }
    const event = new LazyPartial(this, cell, known, this.shownProgress) as unknown as PartialEvent;
    if (changes !== undefined) event.changes = changes;
    return event as StreamEvent<T>;
  }

  /** A visible change the parser of `attempt` reported (its value's snapshot is left unmade). */
  showChange(attempt: Attempt, event: Extract<ParserEvent, { type: "add" | "append" }>): void {
    if (attempt !== this.shownAttempt) return;
    this.dirty = true;
    if (!this.changesWanted) return;
    const path = event.path;
    const depth = path.length;
    const fresh = this.fresh;
    // Inside a container this batch added, the change is made to it: one operation, not one per
    // member (the container is the parser's own copy for this event, seen by nobody yet).
    const parent = depth > 0 && fresh.length >= depth ? fresh[depth - 1] : undefined;
    if (parent !== undefined) {
      const key = path[depth - 1];
      if (event.type === "append") {
        (parent as Record<PathSegment, string>)[key] += event.text;
        return;
      }
      if (key === "__proto__") {
        Object.defineProperty(parent, key, {
          value: event.value,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      } else (parent as Record<PathSegment, unknown>)[key] = event.value;
    } else if (event.type === "append") {
      const pointer = this.pointerOf(path);
      const changes = this.pendingChanges;
      const tail = changes[changes.length - 1];
      // One chunk may bring several pieces of one string (escapes split it): one operation.
      if (tail !== undefined && tail[0] === ">" && tail[1] === pointer) {
        changes[changes.length - 1] = [">", pointer, tail[2] + event.text];
      } else changes.push([">", pointer, event.text]);
      return;
    } else
      this.pendingChanges.push(depth === 0 ? ["=", "", event.value] : ["+", toPointer(path), event.value]);
    fresh.length = depth + 1;
    fresh[depth] = typeof event.value === "object" && event.value !== null ? event.value : undefined;
  }

  /** The last path whose pointer `pointerOf` made, and that pointer. */
  private lastPath: PathSegment[] = [];
  private lastPointer = "";

  /**
   * The JSON Pointer of the parser's live path. A long string gets its appends one after another
   * at one path: compared segment by segment with the last one, its pointer is made once.
   */
  private pointerOf(path: readonly PathSegment[]): string {
    const last = this.lastPath;
    if (last.length === path.length) {
      let same = true;
      for (let i = path.length - 1; i >= 0; i--) {
        if (last[i] !== path[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastPointer;
    }
    this.lastPath = path.slice();
    this.lastPointer = toPointer(path);
    return this.lastPointer;
  }

  /**
   * Containers added by the pending changes, by depth along the parser's path (see `showChange`);
   * emptied whenever the pending changes are handed out.
   */
  private fresh: (object | undefined)[] = [];

  /** Hands out the pending changes (a new batch starts). */
  private takeChanges(): StreamChange[] {
    const changes = this.pendingChanges;
    this.pendingChanges = [];
    this.fresh = [];
    return changes;
  }

  /**
   * Called by an attempt after each chunk it read. A retry runs hidden while what it
   * has agrees with what is on screen and is behind it (nothing flickers, nothing is reported
   * twice); it takes over once it has caught up, or as soon as it contradicts something shown,
   * after a `rewind` event that withdraws exactly what it contradicts.
   */
  showPartial(attempt: Attempt, progress: Progress): void {
    if (attempt !== this.attempt) return;
    let rewound = false;
    if (attempt !== this.shownAttempt) {
      // A hidden retry is compared with the screen by text while the texts agree; its snapshot
      // is made only when a comparison of values is due, or when it takes over.
      const shown = this.shownAttempt;
      const before = this.value;
      const position = this.compareWithShown(attempt, shown);
      if (position.kind === "behind") return;
      const value = attempt.latest;
      const retracted = position.kind === "diverged" ? position.retracted : [];
      if (retracted.length > 0) {
        this.rewind(retracted, attempt);
        rewound = true;
      }
      this.takeOver(attempt, shown, retracted);
      // Its value replaces the screen's whole (for consumers of changes, one `=` at the root).
      this.takeChanges();
      if (!rewound && this.relink && jsonEqual(value, before)) this.dirty = false;
      else {
        this.dirty = value !== before;
        if (this.dirty && this.changesWanted) this.pendingChanges.push(["=", "", value]);
      }
    }
    // Progress never goes backwards (but through a rewind), and 100 is kept for `complete`. It is
    // kept current even when the value did not change (a chunk that only closes a string
    // completes a field): `s.progress`. The tracker gives a new object only when progress moved.
    const last = this.shownProgress;
    if (rewound) {
      this.sourceProgress = progress;
      this.shownProgress = { ...progress, percent: Math.min(99, progress.percent) };
    } else if (progress !== this.sourceProgress && progress.completed >= last.completed) {
      this.sourceProgress = progress;
      const percent = Math.min(99, Math.max(last.percent, progress.percent));
      this.shownProgress = { ...progress, percent: progress.total === 0 ? last.percent : percent };
    }
    this.flushPartial();
  }

  /** Emits the pending changes as one partial event (its value made when first read). */
  private flushPartial(): void {
    if (!this.dirty) return;
    this.dirty = false;
    let changes: StreamChange[] | undefined;
    if (this.changesWanted) changes = this.takeChanges();
    // Nobody to tell (a stream read only through `await s.result`): no event is made.
    if (this.heard("partial") || this.partialQueues.size > 0) this.emit(this.partialEvent(changes));
    if (this.watchers.size === 0) return;
    const value = this.value;
    const relink = this.relink;
    this.relink = false;
    for (const w of this.watchers) {
      const now = valueAt(value, w.path);
      if (now === w.last) continue;
      // After a takeover the new attempt's objects are new: only a changed value is a change.
      const same = relink && jsonEqual(now, w.last);
      w.last = now;
      if (same) continue;
      try {
        w.fn(now);
      } catch (error) {
        reportConsumerError(error);
      }
    }
  }

  /** Where a hidden retry stands against the shown attempt: by text while the texts agree. */
  private compareWithShown(attempt: Attempt, shown: Attempt | undefined): Standing {
    const c = this.catchUp;
    const visible = this.value;
    if (shown === undefined || visible === undefined || c === undefined || c.attempt !== attempt) {
      return { kind: "ahead" };
    }
    // The shown text is a prefix of the retry's: it has caught up.
    if (c.agreed >= c.shown.length) return { kind: "ahead" };
    if (c.agreed === c.length) {
      // Its text so far is the shown text's beginning: whatever it reported repeats the screen.
      this.held = [];
      return { kind: "behind" };
    }
    // The texts differ (another answer, or the same written otherwise: escapes, key order):
    // compare what each shows. Spaced out (every sixteenth of the shown text, and at the end) so
    // that a long catch-up costs a bounded number of whole comparisons.
    const ended = attempt.stateOf([]) === "complete";
    if (!ended && c.length < c.nextComparisonAt) return { kind: "behind" };
    c.nextComparisonAt = c.length + Math.max(256, Math.ceil(c.shown.length / 16));
    return standing(
      visible,
      attempt.latest,
      (path) => shown.stateOf(path) === "complete",
      (path) => attempt.stateOf(path) === "complete",
    );
  }

  /**
   * Called by an attempt with each piece of answer text. A retry catching up compares it, without
   * insignificant whitespace, with the shown attempt's text: one pass over each piece, so agreeing
   * with what was shown costs the same however the retry is chunked (and ignores a retry that only
   * spaces its JSON otherwise).
   */
  noteText(attempt: Attempt, delta: string): void {
    const c = this.catchUp;
    if (c === undefined || c.attempt !== attempt || attempt === this.shownAttempt) return;
    const shown = c.shown;
    for (let i = 0; i < delta.length; i++) {
      const ch = delta.charCodeAt(i);
      if (c.inString) {
        if (c.escaped) c.escaped = false;
        else if (ch === 0x5c) c.escaped = true;
        else if (ch === 0x22) c.inString = false;
      } else if (ch === 0x22) c.inString = true;
      else if (ch === 0x20 || ch === 0x0a || ch === 0x0d || ch === 0x09) continue;
      if (c.agreed === c.length && c.length < shown.length && shown.charCodeAt(c.length) === ch) c.agreed++;
      c.length++;
    }
  }

  /** Withdraws what a retry contradicts, for every consumer, before anything of the retry shows. */
  private rewind(retracted: string[], attempt: Attempt): void {
    this.emit({ type: "rewind", retracted, attempt: attempt.index });
    for (const sub of this.elementSubs) {
      let from = sub.next;
      for (const pointer of retracted) {
        if (isWithin(sub.pointer, pointer)) from = 0;
        else if (isWithin(pointer, sub.pointer)) {
          const index = Number(pointer.slice(sub.pointer.length + 1).split("/")[0]);
          if (Number.isInteger(index)) from = Math.min(from, index);
        }
      }
      if (from < sub.next) {
        sub.next = from;
        sub.queue.push({ type: "retract", index: from });
      }
    }
  }

  /** The retry becomes the shown attempt; its held notices go out, less what repeats the screen. */
  private takeOver(attempt: Attempt, shown: Attempt | undefined, retracted: string[]): void {
    // What was on screen says which notices the retry's repeat (read before the switch).
    this.previous =
      shown === undefined ? undefined : stateReader(this.value, (path) => shown.stateOf(path) === "complete");
    // Partial events of the attempt shown so far, read only after the switch, show that attempt's
    // value, not the retry's (which may contradict it).
    if (this.cellUsed && this.cell.value === UNREAD) this.cell.value = this.value;
    this.seal(this.cell);
    this.shownAttempt = attempt;
    this.relink = shown !== undefined;
    const held = this.held;
    this.held = [];
    this.retracted = new Set(retracted);
    for (const notice of held) notice();
    this.previous = undefined;
    this.retracted = new Set();
  }

  /** During a takeover: the states of what was on screen, and what the rewind withdrew. */
  private previous: ((path: PathSegment[]) => FieldState) | undefined;
  private retracted = new Set<string>();

  /** Someone would receive an event of this type (no event is made for nobody). */
  private heard(type: StreamEventType): boolean {
    return this.attached || (this.listeners.get(type)?.size ?? 0) > 0;
  }

  /** Whether a notice about `path` repeats what the previous attempt already reported. */
  private repeats(path: PathSegment[], state: FieldState): boolean {
    const previous = this.previous;
    if (previous === undefined) return false;
    if (this.retracted.size > 0) {
      // Withdrawn (itself or a container of it): it is news again.
      let pointer = toPointer(path);
      for (;;) {
        if (this.retracted.has(pointer)) return false;
        if (pointer === "") break;
        pointer = pointer.slice(0, pointer.lastIndexOf("/"));
      }
    }
    return STATE_RANK[previous(path)] >= STATE_RANK[state];
  }

  showField(attempt: Attempt, path: PathSegment[], pointer: string, value: unknown): void {
    if (attempt !== this.attempt) return;
    if (attempt !== this.shownAttempt) {
      this.held.push(() => this.showField(attempt, path, pointer, value));
      return;
    }
    // A retry re-reads fields the attempt before it already reported: report each once.
    if (this.repeats(path, "complete")) return;
    this.firstFieldMs ??= performance.now() - this.started;
    if (!this.heard("field")) return;
    this.emit({ type: "field", path, pointer, value });
  }

  showFieldState(attempt: Attempt, path: PathSegment[], pointer: string, state: FieldState): void {
    if (attempt !== this.attempt) return;
    if (attempt !== this.shownAttempt) {
      this.held.push(() => this.showFieldState(attempt, path, pointer, state));
      return;
    }
    if (this.repeats(path, state)) return;
    if (!this.heard("field-state")) return;
    this.emit({ type: "field-state", path, pointer, state });
  }

  showElement(attempt: Attempt, arrayPath: PathSegment[], index: number, value: unknown): void {
    if (attempt !== this.attempt) return;
    if (attempt !== this.shownAttempt) {
      this.held.push(() => this.showElement(attempt, arrayPath, index, value));
      return;
    }
    const pointer = toPointer(arrayPath);
    for (const sub of this.elementSubs) {
      if (sub.pointer === pointer && index === sub.next) {
        sub.next++;
        sub.queue.push({ type: "element", index, value });
      }
    }
  }

  wantsElements(arrayPath: PathSegment[]): boolean {
    if (this.elementSubs.size === 0) return false;
    const pointer = toPointer(arrayPath);
    for (const sub of this.elementSubs) if (sub.pointer === pointer) return true;
    return false;
  }

  noteBytes(chunkBytes: number, now: number): void {
    this.totals.chunks++;
    this.totals.bytes += chunkBytes;
    this.firstByteMs ??= now - this.started;
    if (this.status === "connecting" || this.status === "idle") this.setStatus("streaming");
  }

  noteDelta(now: number): void {
    this.totals.deltas++;
    this.firstDeltaAt ??= now;
    this.lastDeltaAt = now;
  }

  noteUsage(usage: NonNullable<StreamStats["usage"]>): void {
    this.totals.usage = { ...this.totals.usage, ...usage };
  }

  // ---- the run -----------------------------------------------------------------------------

  private async run(): Promise<void> {
    const options = this.options;
    const retry = { ...options.retry, maxRetries: options.retry?.maxRetries ?? options.maxRetries ?? 2 };
    const canRetry = options.request !== undefined || typeof options.source === "function";
    let deadline: ReturnType<typeof setTimeout> | undefined;
    if (options.timeoutMs !== undefined) {
      deadline = setTimeout(() => {
        this.controller.abort(
          new StreamError(
            "timeout",
            `The stream did not finish within ${options.timeoutMs} ms (timeoutMs).`,
            {
              reason: "deadline",
            },
          ),
        );
      }, options.timeoutMs);
    }
    try {
      for (let attemptNo = 0; ; attemptNo++) {
        const attempt = new Attempt(this, this.compiled, options, this.controller.signal, attemptNo);
        this.attempt = attempt;
        this.held = [];
        this.catchUp =
          this.shownAttempt === undefined
            ? undefined
            : {
                attempt,
                shown: withoutWhitespace(this.shownAttempt.text),
                length: 0,
                agreed: 0,
                inString: false,
                escaped: false,
                nextComparisonAt: 0,
              };
        // Nothing on screen yet: nothing to catch up with.
        if (this.value === undefined) this.shownAttempt = attempt;
        try {
          this.setStatus(options.request !== undefined ? "connecting" : "streaming");
          const value = await attempt.run(this.resolveProvider());
          this.setStatus("validating");
          // Abort is total: a validator still running (an async refinement) does not hold it off.
          const final = await abortable(attempt.validateFinal(value), this.controller.signal);
          this.complete(final as T);
          return;
        } catch (thrown) {
          const error = this.asStreamError(thrown, attempt);
          if (this.controller.signal.aborted)
            throw this.asStreamError(this.controller.signal.reason, attempt);
          if (!canRetry || !error.retryable || attemptNo >= retry.maxRetries) throw error;
          const maxRetryAfterMs = retry.maxRetryAfterMs ?? retry.maxDelayMs ?? 10_000;
          if (error.retryAfterMs !== undefined && error.retryAfterMs > maxRetryAfterMs) {
            // Sleeping for as long as the provider asks (an hour, say) is never what the caller
            // meant by a retry: fail now and say how long it asked for.
            throw new StreamError(
              "rate_limited",
              `The provider asked to wait ${error.retryAfterMs} ms before retrying, longer than ${maxRetryAfterMs} ms (retry.maxRetryAfterMs): ${error.message}`,
              {
                retryAfterMs: error.retryAfterMs,
                status: error.status,
                providerType: error.providerType,
                text: error.text,
                partial: error.partial,
                cause: error,
              },
            );
          }
          const delayMs = error.retryAfterMs ?? backoffDelay(attemptNo, retry);
          this.totals.retries++;
          this.emit({ type: "retry", attempt: attemptNo + 1, delayMs, error });
          await sleep(delayMs, this.controller.signal);
        }
      }
    } catch (thrown) {
      this.fail(this.asStreamError(thrown, this.attempt));
    } finally {
      if (deadline !== undefined) clearTimeout(deadline);
    }
  }

  private resolveProvider(): ProviderId | "auto" {
    const { provider, request } = this.options;
    if (provider !== undefined) return provider;
    return request !== undefined ? "openai-chat" : "auto";
  }

  private asStreamError(thrown: unknown, attempt: Attempt | undefined): StreamError {
    let error: StreamError;
    if (thrown instanceof StreamError) error = thrown;
    else if (thrown instanceof JsonParseError) {
      const parse = { code: thrown.code, offset: thrown.offset, line: thrown.line, column: thrown.column };
      // Every limit is `limit_exceeded`, whichever layer enforces it; the parser's code says which.
      error =
        thrown.code === "max_length" || thrown.code === "max_depth"
          ? new StreamError("limit_exceeded", `The answer exceeds a limit: ${thrown.message}`, {
              parse,
              cause: thrown,
            })
          : new StreamError("invalid_json", `The answer is not valid JSON: ${thrown.message}`, {
              parse,
              cause: thrown,
            });
    } else if (isStructreamError(thrown)) {
      error = new StreamError(thrown.code as StreamErrorCode, thrown.message, { cause: thrown });
    } else {
      // Transport failures were made StreamErrors where they happened (attempt.ts); anything else
      // is not the network's, so it is never retried nor called connection_lost.
      const message = thrown instanceof Error ? thrown.message : String(thrown);
      error = new StreamError("provider_error", `structream could not read the answer: ${message}`, {
        cause: thrown,
      });
    }
    if (error.partial === undefined) {
      // The failing attempt may have read past the last snapshot shown (the error came mid-chunk).
      const shown = attempt !== undefined && attempt === this.shownAttempt;
      error.partial = shown ? (attempt.latest ?? this.value) : this.value;
    }
    if (error.text === "" && attempt !== undefined) error.text = attempt.text;
    return error;
  }

  private complete(value: T): void {
    this.endedAt = performance.now();
    // The final partial carries 100% for the event stream; `partials()` skips it when it only
    // repeats the last snapshot (a validator without transforms returns an equal value).
    const repeat = jsonEqual(this.value, value);
    this.finalValue = value;
    const total = Math.max(this.shownProgress.total, this.attempt?.progress.total ?? 0);
    this.shownProgress = { completed: total, total, percent: 100, pending: [] };
    let changes: StreamChange[] | undefined;
    if (this.changesWanted) changes = this.takeChanges();
    this.dirty = false;
    this.emit(this.partialEvent(changes, value), !repeat);
    this.setStatus("complete");
    this.lastEvent = { type: "complete", value, stats: this.snapshotStats() };
    this.emit(this.lastEvent);
    for (const sub of this.elementSubs) {
      const array = valueAt(value, sub.path);
      if (Array.isArray(array))
        for (let i = sub.next; i < array.length; i++)
          sub.queue.push({ type: "element", index: i, value: array[i] });
      sub.queue.close();
    }
    this.elementSubs.clear();
    this.toolCallHub.close();
    this.closeQueues();
    this.resolveResult(value);
  }

  private fail(error: StreamError): void {
    if (TERMINAL.has(this.status)) return;
    this.endedAt = performance.now();
    this.error = error;
    if (this.dirty && error.code === "schema_mismatch") {
      // The chunk that failed was never shown: its values that broke the schema never show (a
      // snapshot of the rest is made once, here, rather than one per chunk in case of failure).
      let value = this.value;
      for (const issue of error.issues ?? []) value = withoutPath(value, issue.path);
      this.frozen = { value };
    }
    this.dirty = false;
    this.setStatus("error");
    this.lastEvent = { type: "error", error };
    this.emit(this.lastEvent);

    for (const sub of this.elementSubs) sub.queue.fail(error);
    this.elementSubs.clear();
    this.toolCallHub.close(error);
    this.closeQueues(error);
    this.rejectResult(error);
  }

  /** Ends every consumer's queue (`partials()` throws `error`) and lets go of every reference. */
  private closeQueues(error?: StreamError): void {
    // An iterator that attaches later is told how it ended (see `attach`).
    if (this.attached) this.queue.close();
    for (const q of this.partialQueues) {
      if (error !== undefined) q.fail(error);
      else q.close();
    }
    this.partialQueues.clear();
    this.watchers.clear();
    this.releaseSignal?.();
    this.releaseSignal = undefined;
  }

  // Exposed to attempts.
  get signal(): AbortSignal {
    return this.controller.signal;
  }
}

/** `value` without the member at `path` (copies the containers on the path only). */
function withoutPath(value: unknown, path: readonly PathSegment[]): unknown {
  if (path.length === 0 || typeof value !== "object" || value === null) return value;
  const [key, ...rest] = path;
  if (!Object.hasOwn(value, key)) return value;
  const child = (value as Record<PathSegment, unknown>)[key];
  if (Array.isArray(value)) {
    const copy = value.slice();
    if (rest.length === 0) copy.length = Math.min(copy.length, Number(key));
    else copy[Number(key)] = withoutPath(child, rest);
    return copy;
  }
  const copy = { ...(value as Record<string, unknown>) };
  if (rest.length === 0) delete copy[key as string];
  else copy[key as string] = withoutPath(child, rest);
  return copy;
}

/** Settles as `promise` does, or rejects with the signal's reason as soon as it aborts. */
function abortable<V>(promise: V | Promise<V>, signal: AbortSignal): Promise<V> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<V>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(promise).then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        // A validator that finished in the same turn as abort() still loses to it.
        if (signal.aborted) reject(signal.reason);
        else resolve(value);
      },
      (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

export type { StreamCore };
