import type { StandardSchemaV1 } from "@standard-schema/spec";
import { createParser, type EventSourceMessage } from "eventsource-parser";
import { type SchemaIssue, StreamError, type StreamErrorCode } from "../errors/index.ts";
import { toPointer, valueAt } from "../json/index.ts";
import {
  decodeRelayEvent,
  INITIAL_STATE,
  type RelayEvent,
  type RelayState,
  reduceRelayState,
} from "../server/index.ts";
import { EventQueue } from "../shared/index.ts";
import type { DeepPartial, Progress, StreamEvent, StreamStats, StreamStatus } from "../stream/index.ts";

/** Reconnection policy of {@link subscribe}. */
export interface SubscribeRetryOptions {
  /**
   * Reconnections in a row without receiving an event before the subscription fails with
   * `connection_lost` (the count starts again once an event arrives).
   * @defaultValue 8
   */
  maxRetries?: number;
  /**
   * First delay; it doubles on each failed try, with jitter (a random 50–100 % of it).
   * @defaultValue the server's `retry:` hint, else 1_000
   */
  baseDelayMs?: number;
  /**
   * Longest delay.
   * @defaultValue 30_000
   */
  maxDelayMs?: number;
}

/** Options of {@link subscribe}. */
export interface SubscribeOptions<T = unknown> {
  /**
   * The fetch to use (a wrapper that adds auth, a test double).
   * @defaultValue `globalThis.fetch`
   */
  fetch?: typeof fetch;
  /** Request headers, or a function called before each connection (to refresh a token). */
  headers?: HeadersInit | (() => HeadersInit | Promise<HeadersInit>);
  /**
   * Method of the first request (`POST` to a route that answers with `toEventStreamResponse`).
   * Reconnections are always `GET`, to the resume URL the relay announced.
   * @defaultValue "GET"
   */
  method?: string;
  /** Body of the first request. */
  body?: BodyInit;
  /** The stream's token, sent as `Authorization: Bearer` (as `?token=` when `headers` set Authorization). */
  token?: string;
  /**
   * Validates the final value (any Standard Schema: zod, valibot, arktype). A mismatch ends the
   * subscription with a `schema_mismatch` error carrying the issues.
   */
  schema?: StandardSchemaV1<unknown, T>;
  /**
   * Validates the final value some other way; the shape of `compileSchema(jsonSchema).validateFinal`
   * from the schema layer, so a JSON Schema can be checked without the client bundling Ajv:
   * `validate: (value) => compiled.validateFinal(value)`. Runs after `schema` when both are given.
   */
  validate?: (
    value: unknown,
  ) =>
    | { value: T; issues?: undefined }
    | { issues: SchemaIssue[] }
    | Promise<{ value: T; issues?: undefined } | { issues: SchemaIssue[] }>;
  /** Aborts the subscription (the stream on the server goes on: it runs once whoever listens). */
  signal?: AbortSignal;
  /** Reconnection policy. */
  retry?: SubscribeRetryOptions;
  /** Resume after this event id (from a previous subscription to the same stream). */
  lastEventId?: string;
  /**
   * Largest SSE message accepted, in characters; a larger one fails the connection.
   * @defaultValue 33_554_432 (32 MiB)
   */
  maxEventSize?: number;
}

/** The connection, as a UI may want to show it. */
export type ConnectionState = "connecting" | "open" | "reconnecting" | "closed";

/** What a view renders: one immutable object, replaced (new identity) whenever anything changes. */
export interface SubscriptionSnapshot<T = unknown> {
  readonly value: DeepPartial<T> | T | undefined;
  readonly status: StreamStatus;
  readonly progress: Progress | undefined;
  readonly error: StreamError | undefined;
  readonly connection: ConnectionState;
  /** The model's reasoning so far (`reasoning` events joined; `""` when it sent none). */
  readonly reasoning: string;
  /** The text the model wrote beside the answer so far (`commentary` events joined; `""` when none). */
  readonly commentary: string;
}

/** Measurements of a subscription. */
export interface SubscriptionStats {
  /** `Date.now()` when `subscribe` was called. */
  startedAt: number;
  /** Connections opened (1 plus the reconnections). */
  connections: number;
  reconnects: number;
  /** Characters of SSE text received. */
  bytes: number;
  /** SSE messages received (not counting keep-alive comments). */
  events: number;
  /** The id of the last event applied: what a reconnection sends as `Last-Event-ID`. */
  lastEventId: string | undefined;
  /** From `subscribe` to the first event of the stream, in ms. */
  timeToFirstEventMs?: number;
  /** From `subscribe` to the first `field` event, in ms. */
  timeToFirstFieldMs?: number;
  /** The server-side stream's stats, from its `complete` event. */
  server?: StreamStats;
}

/**
 * A live view of a relayed stream: the same `value`, `status`, `progress` and events as the
 * server-side structured stream, as a store any UI library can use (`subscribe`/`getSnapshot`, the
 * shape of React's `useSyncExternalStore`), as an async iterable of events, and as a promise.
 */
export interface Subscription<T = unknown> extends AsyncIterable<StreamEvent<T>> {
  /** The stream's value so far (structurally shared: unchanged parts keep their identity). */
  readonly value: DeepPartial<T> | T | undefined;
  readonly status: StreamStatus;
  readonly progress: Progress | undefined;
  readonly error: StreamError | undefined;
  readonly connection: ConnectionState;
  /**
   * The model's reasoning so far: every `reasoning` event's `delta`, joined (`""` when it sent none,
   * or from a relay that does not relay it). Never part of the answer. Exact across reconnections:
   * a resume replays each piece once, and a resync from a snapshot takes the snapshot's text.
   *
   * @example
   * ```ts
   * answer.subscribe(() => (thinking.textContent = answer.reasoning));
   * ```
   */
  readonly reasoning: string;
  /** The text the model wrote beside the answer so far (`commentary` events joined), like {@link Subscription.reasoning}. */
  readonly commentary: string;
  readonly stats: SubscriptionStats;
  /** The stream's id, once the relay said it. */
  readonly id: string | undefined;
  /** Calls `listener` after each change (at most once per network chunk); returns the unsubscribe. */
  subscribe(listener: () => void): () => void;
  /** The current {@link SubscriptionSnapshot}: the same object until something changes. */
  getSnapshot(): SubscriptionSnapshot<T>;
  /** Calls `listener` for each event of `type`; returns the unsubscribe. */
  on<K extends StreamEvent<T>["type"]>(
    type: K,
    listener: (event: Extract<StreamEvent<T>, { type: K }>) => void,
  ): () => void;
  /** Stops reading (status `error`, code `aborted`); the server-side stream is not affected. */
  abort(reason?: unknown): void;
  /**
   * Stops the stream on the server too: asks the relay to cancel it and its model call (`DELETE` on
   * the stream's URL, with its token, on whichever instance answers), then stops reading like
   * {@link Subscription.abort} (status `error`, code `aborted`: a UI shows it as "stopped", not as
   * a failure). Resolves to `true` when the relay accepted (202, or 204 for a stream that had
   * already ended), `false` when it refused or could not be reached (the subscription stops anyway).
   *
   * @example
   * ```ts
   * stopButton.onclick = () => void answer.cancel("Stopped from the page.");
   * ```
   */
  cancel(reason?: unknown): Promise<boolean>;
  /** The final, validated value; rejects with the subscription's {@link StreamError}. */
  readonly done: Promise<T>;
}

const EMPTY_PROGRESS: Progress = Object.freeze({
  completed: 0,
  total: 0,
  percent: 0,
  pending: [],
}) as Progress;
const RETRYABLE_STATUS = new Set([408, 425, 429, 500, 502, 503, 504]);
const STREAM_ERROR_CODES = new Set<string>([
  "refusal",
  "truncated",
  "connection_lost",
  "timeout",
  "rate_limited",
  "provider_error",
  "invalid_json",
  "schema_mismatch",
  "aborted",
  "unsupported_format",
  "limit_exceeded",
]);

function toStreamError(code: string, message: string, details: { partial?: unknown; status?: number } = {}) {
  // Codes the relay or a newer server sends that a StreamError does not know keep their name in `reason`.
  return STREAM_ERROR_CODES.has(code)
    ? new StreamError(code as StreamErrorCode, message, details)
    : new StreamError("provider_error", message, { ...details, reason: code });
}

/** `relative` against `base`, which may itself be relative to the page (in a browser). */
function resolveUrl(relative: string, base: string): string {
  try {
    return new URL(relative, new URL(base, globalThis.location?.href)).href;
  } catch {
    return relative;
  }
}

function issuePath(path: StandardSchemaV1.Issue["path"]): (string | number)[] {
  return (path ?? []).map((segment) => {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    return typeof key === "number" ? key : String(key);
  });
}

type Outcome = { kind: "retry"; error: StreamError; delayMs?: number; resync?: boolean } | { kind: "stop" };

/** A slow consumer gets the latest partial value, not every step in between. */
const latestPartial = <T>(last: StreamEvent<T>, next: StreamEvent<T>) =>
  last.type === "partial" && next.type === "partial" ? next : undefined;

class SubscriptionImpl<T> implements Subscription<T> {
  private state: RelayState = { ...INITIAL_STATE, status: "connecting" };
  private errorValue: StreamError | undefined;
  private reasoningText = "";
  private commentaryText = "";
  private connectionValue: ConnectionState = "connecting";
  private snapshot: SubscriptionSnapshot<T> | undefined;
  private dirty = false;
  private finished = false;
  private finalValue: T | undefined;
  private streamId: string | undefined;
  private resumeUrl: string | undefined;
  private token: string | undefined;
  private serverRetryMs: number | undefined;
  /** 404s in a row on reconnection (see `refused`). */
  private notFound = 0;
  private readonly storeListeners = new Set<() => void>();
  private readonly eventListeners = new Map<string, Set<(event: never) => void>>();
  private readonly queues = new Set<EventQueue<StreamEvent<T>>>();
  private readonly controller = new AbortController();
  private current: AbortController | undefined;
  /** A resume snapshot said the stream had already ended. */
  private endedInSnapshot: StreamStatus | undefined;
  private donePromise: Promise<T> | undefined;
  private settle: { resolve: (value: T) => void; reject: (error: StreamError) => void } | undefined;
  private readonly fetchFn: typeof fetch;
  readonly stats: SubscriptionStats = {
    startedAt: Date.now(),
    connections: 0,
    reconnects: 0,
    bytes: 0,
    events: 0,
    lastEventId: undefined,
  };
  private readonly started = performance.now();

  constructor(
    private readonly url: string,
    private readonly options: SubscribeOptions<T>,
  ) {
    this.fetchFn = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.token = options.token;
    this.stats.lastEventId = options.lastEventId;
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) queueMicrotask(() => this.abort(signal.reason));
      else {
        // Removed when the subscription ends: a long-lived signal must not keep it reachable.
        const onAbort = () => this.abort(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        this.releaseSignal = () => signal.removeEventListener("abort", onAbort);
      }
    }
    void this.run().catch((error: unknown) => {
      this.fail(this.lost("The subscription failed", error));
      this.flush();
    });
  }

  get value(): DeepPartial<T> | T | undefined {
    return this.finished && this.finalValue !== undefined
      ? this.finalValue
      : (this.state.value as DeepPartial<T>);
  }
  get status(): StreamStatus {
    return this.state.status;
  }
  get progress(): Progress | undefined {
    return this.state.progress;
  }
  get error(): StreamError | undefined {
    return this.errorValue;
  }
  get connection(): ConnectionState {
    return this.connectionValue;
  }
  get reasoning(): string {
    return this.reasoningText;
  }
  get commentary(): string {
    return this.commentaryText;
  }
  get id(): string | undefined {
    return this.streamId;
  }

  get done(): Promise<T> {
    if (this.donePromise === undefined) {
      this.donePromise = new Promise<T>((resolve, reject) => {
        this.settle = { resolve, reject };
      });
      if (this.finished) {
        if (this.errorValue !== undefined) this.settle?.reject(this.errorValue);
        else this.settle?.resolve(this.finalValue as T);
      }
    }
    return this.donePromise;
  }

  subscribe(listener: () => void): () => void {
    this.storeListeners.add(listener);
    return () => {
      this.storeListeners.delete(listener);
    };
  }

  getSnapshot(): SubscriptionSnapshot<T> {
    this.snapshot ??= Object.freeze({
      value: this.value,
      status: this.state.status,
      progress: this.state.progress,
      error: this.errorValue,
      connection: this.connectionValue,
      reasoning: this.reasoningText,
      commentary: this.commentaryText,
    });
    return this.snapshot;
  }

  on<K extends StreamEvent<T>["type"]>(
    type: K,
    listener: (event: Extract<StreamEvent<T>, { type: K }>) => void,
  ) {
    let set = this.eventListeners.get(type);
    if (set === undefined) this.eventListeners.set(type, (set = new Set()));
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  [Symbol.asyncIterator](): AsyncIterator<StreamEvent<T>> {
    const queue = new EventQueue<StreamEvent<T>>(latestPartial);
    if (this.finished) queue.close();
    else this.queues.add(queue);
    return {
      next: () => queue.next(),
      return: async () => {
        // Leaving a `for await` early stops the subscription, as leaving any stream's loop does.
        this.queues.delete(queue);
        queue.close();
        if (!this.finished) this.abort("The consumer stopped iterating.");
        return { value: undefined, done: true };
      },
    };
  }

  async cancel(reason?: unknown): Promise<boolean> {
    if (this.finished) return false;
    // Never the first POST's URL: that would start another stream.
    const url =
      this.resumeUrl ?? ((this.options.method ?? "GET").toUpperCase() === "GET" ? this.url : undefined);
    let accepted = false;
    if (url !== undefined) {
      try {
        const target = await this.target(url);
        const response = await this.fetchFn(target.url, {
          method: "DELETE",
          headers: target.headers,
          cache: "no-store",
        });
        accepted = response.status === 202 || response.status === 204;
        void response.body?.cancel().catch(() => {});
      } catch {
        // Unreachable: the subscription stops all the same.
      }
    }
    this.abort(reason ?? "Stopped.");
    return accepted;
  }

  /** The URL and headers of a request to the relay: the caller's headers, and the token. */
  private async target(base: string): Promise<{ url: string; headers: Headers }> {
    let url = base;
    const headerInit =
      typeof this.options.headers === "function" ? await this.options.headers() : this.options.headers;
    const headers = new Headers(headerInit);
    if (this.token !== undefined) {
      if (headers.has("authorization")) {
        const withToken = new URL(resolveUrl(url, url), "http://relative.invalid");
        withToken.searchParams.set("token", this.token);
        url =
          withToken.origin === "http://relative.invalid"
            ? withToken.href.slice(withToken.origin.length)
            : withToken.href;
      } else headers.set("authorization", `Bearer ${this.token}`);
    }
    return { url, headers };
  }

  abort(reason?: unknown): void {
    if (this.finished) return;
    const message =
      typeof reason === "string"
        ? reason
        : reason instanceof Error
          ? reason.message
          : "The subscription was aborted.";
    this.controller.abort();
    this.current?.abort();
    this.fail(new StreamError("aborted", message, { partial: this.state.value, cause: reason }));
    this.flush();
  }

  // ---- state and events --------------------------------------------------------------------

  private changed(): void {
    this.dirty = true;
    this.snapshot = undefined;
  }

  /** Tells the store's listeners, once per batch of events. */
  private flush(): void {
    if (!this.dirty) return;
    this.dirty = false;
    for (const listener of [...this.storeListeners]) {
      try {
        listener();
      } catch (error) {
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private emit(event: StreamEvent<T>): void {
    for (const queue of this.queues) {
      queue.push(event);
    }
    const set = this.eventListeners.get(event.type);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as (event: StreamEvent<T>) => void)(event);
      } catch (error) {
        // A listener's bug must not break the subscription; surface it without swallowing it.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  private setStatus(status: StreamStatus): void {
    if (this.state.status === status) return;
    this.state = { ...this.state, status };
    this.changed();
    this.emit({ type: "status", status });
  }

  private setConnection(connection: ConnectionState): void {
    if (this.connectionValue === connection) return;
    this.connectionValue = connection;
    this.changed();
  }

  private emitPartial(): void {
    this.emit({
      type: "partial",
      value: this.state.value as DeepPartial<T>,
      progress: this.state.progress ?? EMPTY_PROGRESS,
    });
  }

  /** Adds `delta` to a channel's text and tells its listeners. */
  private appendChannel(type: "reasoning" | "commentary", delta: string): void {
    if (delta === "") return;
    if (type === "reasoning") this.reasoningText += delta;
    else this.commentaryText += delta;
    this.changed();
    this.emit({ type, delta });
  }

  /**
   * A snapshot's text of a channel (the whole text, so a client that resynced after a gap, or
   * resumed without it, has what it missed): what extends the client's text is told as one more
   * piece; anything else replaces it.
   */
  private resyncChannel(type: "reasoning" | "commentary", text: string | undefined): void {
    if (text === undefined) return;
    const known = type === "reasoning" ? this.reasoningText : this.commentaryText;
    if (text === known) return;
    if (text.startsWith(known)) {
      this.appendChannel(type, text.slice(known.length));
      return;
    }
    if (type === "reasoning") this.reasoningText = text;
    else this.commentaryText = text;
    this.changed();
  }

  /** Applies one relay event; throws (a protocol or patch error) without changing anything. */
  private apply(event: RelayEvent): void {
    switch (event.type) {
      case "stream":
        this.streamId = event.id;
        if (event.url !== undefined) this.resumeUrl = resolveUrl(event.url, this.url);
        if (event.token !== undefined) this.token = event.token;
        return;
      case "snapshot": {
        const before = this.state;
        const next = reduceRelayState(before, event);
        const terminal = next.status === "complete" || next.status === "error";
        if (terminal) this.endedInSnapshot = next.status;
        this.resyncChannel("reasoning", event.reasoning);
        this.resyncChannel("commentary", event.commentary);
        if (next === before) return;
        this.state = { ...next, status: terminal ? before.status : next.status };
        this.changed();
        if (next.value !== before.value) this.emitPartial();
        if (next.status !== before.status && !terminal) this.emit({ type: "status", status: next.status });
        return;
      }
      case "patch": {
        const next = reduceRelayState(this.state, event);
        if (next === this.state) return;
        this.state = next;
        this.changed();
        this.emitPartial();
        return;
      }
      case "progress":
        this.state = reduceRelayState(this.state, event);
        this.changed();
        return;
      case "status":
        // The final status comes with `complete`/`error`, after the value is validated here too.
        if (event.status !== "complete" && event.status !== "error") this.setStatus(event.status);
        return;
      case "field": {
        const value = "value" in event ? event.value : valueAt(this.state.value, event.path);
        this.stats.timeToFirstFieldMs ??= performance.now() - this.started;
        this.emit({ type: "field", path: event.path, pointer: toPointer(event.path), value });
        return;
      }
      case "field-state":
        this.emit({
          type: "field-state",
          path: event.path,
          pointer: toPointer(event.path),
          state: event.state,
        });
        return;
      case "retry":
        this.emit({
          type: "retry",
          attempt: event.attempt,
          delayMs: event.delayMs,
          error: toStreamError(event.error.code, event.error.message, { partial: this.state.value }),
        });
        return;
      case "rewind":
        // The patch that replaces what was withdrawn follows; consumers hear of the withdrawal first.
        this.emit({ type: "rewind", retracted: event.retracted, attempt: event.attempt });
        return;
      case "reasoning":
      case "commentary":
        this.appendChannel(event.type, event.delta);
        return;
      case "complete": {
        const value = "value" in event ? event.value : this.state.value;
        if (event.stats !== undefined) this.stats.server = event.stats;
        this.finished = true;
        void this.completeWith(value, event.stats);
        return;
      }
      case "error":
        this.fail(toStreamError(event.error.code, event.error.message, { partial: this.state.value }));
        return;
    }
  }

  private async completeWith(value: unknown, stats: StreamStats | undefined): Promise<void> {
    let final = value;
    const schema = this.options.schema;
    if (schema !== undefined) {
      this.setStatus("validating");
      this.flush();
      let result: StandardSchemaV1.Result<T>;
      try {
        result = await schema["~standard"].validate(value);
      } catch (error) {
        this.finished = false;
        this.fail(
          new StreamError("schema_mismatch", "The schema threw while validating", {
            partial: value,
            cause: error,
          }),
        );
        this.flush();
        return;
      }
      if (result.issues !== undefined) {
        const issues: SchemaIssue[] = result.issues.map((issue) => {
          const path = issuePath(issue.path);
          return { path, pointer: toPointer(path), code: "invalid_value", message: issue.message };
        });
        this.finished = false;
        this.fail(
          new StreamError(
            "schema_mismatch",
            `The final value does not match the schema: ${issues[0]?.message}`,
            {
              partial: value,
              issues,
            },
          ),
        );
        this.flush();
        return;
      }
      final = result.value;
    }
    const validate = this.options.validate;
    if (validate !== undefined) {
      this.setStatus("validating");
      this.flush();
      let result: Awaited<ReturnType<typeof validate>>;
      try {
        result = await validate(final);
      } catch (error) {
        this.finished = false;
        this.fail(
          new StreamError("schema_mismatch", "The validator threw", { partial: final, cause: error }),
        );
        this.flush();
        return;
      }
      if (result.issues !== undefined) {
        this.finished = false;
        this.fail(
          new StreamError(
            "schema_mismatch",
            `The final value does not match the schema: ${result.issues[0]?.message}`,
            {
              partial: final,
              issues: result.issues,
            },
          ),
        );
        this.flush();
        return;
      }
      final = result.value;
    }
    if (final !== this.state.value) {
      this.state = { ...this.state, value: final };
      this.changed();
    }
    const total = this.state.progress?.total ?? 0;
    this.state = { ...this.state, progress: { completed: total, total, percent: 100, pending: [] } };
    this.finalValue = final as T;
    this.finished = true;
    this.setStatus("complete");
    this.setConnection("closed");
    this.emit({ type: "complete", value: final as T, stats: stats ?? this.localStats() });
    this.closeQueues();
    this.settle?.resolve(final as T);
    this.current?.abort();
    this.flush();
  }

  private localStats(): StreamStats {
    const durationMs = performance.now() - this.started;
    return {
      startedAt: this.stats.startedAt,
      durationMs,
      chunks: this.stats.events,
      bytes: this.stats.bytes,
      deltas: 0,
      deltasPerSecond: 0,
      retries: 0,
    };
  }

  private fail(error: StreamError): void {
    if (this.finished) return;
    this.finished = true;
    this.errorValue = error;
    this.changed();
    this.setStatus("error");
    this.setConnection("closed");
    this.emit({ type: "error", error });
    this.closeQueues();
    this.current?.abort();
    // A failure nobody observes must not take the page or process down: it stays readable on the
    // store's snapshot, the `error` event and `done` for whoever looks.
    if (this.settle !== undefined) this.settle.reject(error);
  }

  private releaseSignal: (() => void) | undefined;

  private closeQueues(): void {
    for (const queue of this.queues) queue.close();
    this.queues.clear();
    this.releaseSignal?.();
    this.releaseSignal = undefined;
  }

  // ---- connection --------------------------------------------------------------------------

  private async run(): Promise<void> {
    const retry = this.options.retry ?? {};
    const maxRetries = retry.maxRetries ?? 8;
    const maxDelayMs = retry.maxDelayMs ?? 30_000;
    let failures = 0;
    let resyncs = 0;
    while (!this.finished) {
      const eventsBefore = this.stats.events;
      const outcome = await this.connectOnce();
      this.flush();
      if (this.finished || outcome.kind === "stop") return;
      if (this.stats.events > eventsBefore) failures = 0;
      failures++;
      if (outcome.resync === true) resyncs++;
      if (failures > maxRetries || resyncs > 3) {
        this.fail(outcome.error);
        this.flush();
        return;
      }
      const base = retry.baseDelayMs ?? this.serverRetryMs ?? 1_000;
      const exponential = Math.min(maxDelayMs, base * 2 ** (failures - 1));
      // "Equal jitter": spreads reconnections of many clients cut at once (a deploy) apart.
      let delay = outcome.resync === true ? 0 : exponential / 2 + (Math.random() * exponential) / 2;
      if (outcome.delayMs !== undefined) delay = Math.max(delay, Math.min(outcome.delayMs, maxDelayMs));
      this.setConnection("reconnecting");
      this.flush();
      const signal = this.controller.signal;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          signal.removeEventListener("abort", done);
          resolve();
        }
        signal.addEventListener("abort", done, { once: true });
      });
      this.stats.reconnects++;
    }
  }

  private async connectOnce(): Promise<Outcome> {
    const connection = new AbortController();
    this.current = connection;
    const first = this.stats.connections === 0;
    this.stats.connections++;
    const method =
      first && this.resumeUrl === undefined ? (this.options.method ?? "GET").toUpperCase() : "GET";
    if (!first && this.resumeUrl === undefined && (this.options.method ?? "GET").toUpperCase() !== "GET") {
      // Sending the POST again would start a second stream (a second model call).
      return this.stopWith(
        new StreamError("connection_lost", "The connection broke and the relay gave no URL to resume from", {
          partial: this.state.value,
        }),
      );
    }
    const { url, headers } = await this.target(this.resumeUrl ?? this.url);
    headers.set("accept", "text/event-stream");
    if (this.stats.lastEventId !== undefined) headers.set("last-event-id", this.stats.lastEventId);
    const init: RequestInit = { method, headers, signal: connection.signal, cache: "no-store" };
    if (method !== "GET" && method !== "HEAD" && this.options.body !== undefined)
      init.body = this.options.body;

    let response: Response;
    try {
      response = await this.fetchFn(url, init);
    } catch (error) {
      if (this.finished) return { kind: "stop" };
      return { kind: "retry", error: this.lost("The relay cannot be reached", error) };
    }
    if (this.finished) {
      void response.body?.cancel().catch(() => {});
      return { kind: "stop" };
    }
    if (response.status === 204) {
      // The relay's answer to a reconnection after the stream's last event.
      return this.stopWith(
        new StreamError(
          "connection_lost",
          "The stream had already ended at the last event this client has (204)",
          {
            partial: this.state.value,
          },
        ),
      );
    }
    if (!response.ok) return this.refused(response);
    const type = response.headers.get("content-type") ?? "";
    if (!type.toLowerCase().startsWith("text/event-stream") || response.body === null) {
      void response.body?.cancel().catch(() => {});
      return this.stopWith(
        new StreamError(
          "provider_error",
          `The relay answered ${type || "no content type"}, not text/event-stream`,
          {
            status: response.status,
            reason: "protocol_error",
            partial: this.state.value,
          },
        ),
      );
    }
    this.notFound = 0;
    this.setConnection("open");
    this.flush();
    return this.read(response.body, connection);
  }

  private lost(message: string, cause?: unknown): StreamError {
    return new StreamError("connection_lost", message, { partial: this.state.value, cause, retryable: true });
  }

  private stopWith(error: StreamError): Outcome {
    this.fail(error);
    return { kind: "stop" };
  }

  private async refused(response: Response): Promise<Outcome> {
    let code = `http_${response.status}`;
    let message = `The relay answered ${response.status}`;
    try {
      const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
      if (typeof body.error?.code === "string") code = body.error.code;
      if (typeof body.error?.message === "string") message = body.error.message;
    } catch {
      // Not the relay's JSON error (a proxy's page): the status says enough.
    }
    const error = new StreamError(response.status === 429 ? "rate_limited" : "provider_error", message, {
      status: response.status,
      reason: code,
      partial: this.state.value,
      retryable: RETRYABLE_STATUS.has(response.status),
    });
    // A stream this client was reading that is suddenly unknown: the relay's log may have lost it
    // (Redis restarted without persistence) until its writer records it again. Try a few times.
    const lostStream = response.status === 404 && this.stats.lastEventId !== undefined && this.notFound++ < 3;
    if (!RETRYABLE_STATUS.has(response.status) && !lostStream) return this.stopWith(error);
    if (response.status !== 404) this.notFound = 0;
    const retryAfter = Number(response.headers.get("retry-after"));
    return Number.isFinite(retryAfter) && retryAfter > 0
      ? { kind: "retry", error, delayMs: retryAfter * 1000 }
      : { kind: "retry", error };
  }

  private async read(body: ReadableStream<Uint8Array>, connection: AbortController): Promise<Outcome> {
    let broken: StreamError | undefined;
    let unavailable: StreamError | undefined;
    const parser = createParser({
      maxBufferSize: this.options.maxEventSize ?? 32 * 1024 * 1024,
      onRetry: (ms) => {
        this.serverRetryMs = ms;
      },
      onEvent: (message: EventSourceMessage) => {
        if (broken !== undefined || unavailable !== undefined || this.finished) return;
        this.stats.events++;
        this.stats.timeToFirstEventMs ??= performance.now() - this.started;
        const type = message.event ?? "message";
        if (message.id !== undefined) {
          // Ids are the stream's sequence numbers. One not above the last applied is a replay
          // (applying it again would double text); one that skips means events were lost, and so
          // does a first event that is not the stream's first. Only a snapshot may land anywhere
          // from the last id on: it replaces the whole state.
          const id = Number(message.id);
          const last = this.stats.lastEventId === undefined ? 0 : Number(this.stats.lastEventId);
          const isSnapshot = type === "snapshot";
          if (!Number.isSafeInteger(id) || id < last || (id === last && !isSnapshot)) return;
          if (id > last + 1 && !isSnapshot) {
            broken = new StreamError("connection_lost", `The relay skipped from event ${last} to ${id}`, {
              reason: "protocol_error",
              partial: this.state.value,
              retryable: true,
            });
            return;
          }
        }
        try {
          const event = decodeRelayEvent(type, message.data);
          if (event?.type === "unavailable") {
            unavailable = this.lost(`The relay cannot serve the stream now: ${event.error.message}`);
            return;
          }
          if (event !== undefined) this.apply(event);
          // Only an event that applied counts as received: a resume starts after it.
          if (message.id !== undefined) this.stats.lastEventId = message.id;
        } catch (error) {
          broken = new StreamError("provider_error", "The relay sent an event this client cannot apply", {
            reason: "protocol_error",
            partial: this.state.value,
            cause: error,
          });
        }
      },
      onError: (error) => {
        if (error.type === "max-buffer-size-exceeded") {
          broken = new StreamError("limit_exceeded", "An event is larger than maxEventSize", {
            cause: error,
          });
        }
      },
    });
    const reader = body.getReader();
    const decoder = new TextDecoder();
    try {
      while (true) {
        const { done, value } = await reader.read();
        if (done) break;
        const text = decoder.decode(value, { stream: true });
        this.stats.bytes += text.length;
        parser.feed(text);
        this.flush();
        if (this.finished || broken !== undefined || unavailable !== undefined) break;
      }
    } catch (error) {
      if (this.finished || connection.signal.aborted) return { kind: "stop" };
      return { kind: "retry", error: this.lost("The connection to the relay broke", error) };
    } finally {
      void reader.cancel().catch(() => {});
    }
    if (this.finished) return { kind: "stop" };
    // The relay's log is down: back off, then resume from the last event applied.
    if (unavailable !== undefined) return { kind: "retry", error: unavailable };
    if (broken === undefined && this.endedInSnapshot === "complete") {
      // Resumed after the end: the snapshot holds the final value.
      await this.completeWith(this.state.value, undefined);
      return { kind: "stop" };
    }
    if (broken === undefined && this.endedInSnapshot === "error") {
      return this.stopWith(
        toStreamError("provider_error", "The stream failed on the server", { partial: this.state.value }),
      );
    }
    if (broken !== undefined) {
      if (broken.code === "limit_exceeded") return this.stopWith(broken);
      // Reconnect at once from the last event that applied: the relay opens with a snapshot.
      return { kind: "retry", error: broken, resync: true };
    }
    return { kind: "retry", error: this.lost("The relay closed the connection before the stream ended") };
  }
}

/**
 * Subscribes to a relayed stream: reads the relay's server-sent events with `fetch` (so headers
 * can carry auth), applies its patches into immutable, structurally shared snapshots, and
 * reconnects with `Last-Event-ID` and exponential backoff with jitter until the stream completes
 * or fails. Runs in browsers, workers, Node, Deno and Bun (web streams only).
 *
 * @example
 * ```ts
 * const answer = subscribe(`/api/streams/${id}`, { schema: Recipe });
 * answer.subscribe(() => render(answer.getSnapshot()));   // any UI library
 * for await (const event of answer) if (event.type === "field") console.log(event.pointer, event.value);
 * const recipe = await answer.done;                        // validated with the schema
 * ```
 */
export function subscribe<T = unknown>(
  url: string | URL,
  options: SubscribeOptions<T> = {},
): Subscription<T> {
  return new SubscriptionImpl<T>(typeof url === "string" ? url : url.href, options);
}
