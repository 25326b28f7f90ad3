import { type SchemaIssue, StreamError } from "../errors/index.ts";
import {
  createParser,
  JsonParseError,
  type JsonParser,
  type ParserEvent,
  type PathSegment,
} from "../json/index.ts";
import {
  type BuiltRequest,
  createProviderDecoder,
  createSdkMapper,
  detectProvider,
  detectSdkProvider,
  errorFromSdk,
  getProvider,
  type ProviderErrorEvent,
  type ProviderEvent,
  type ProviderId,
  readErrorResponse,
  type SdkEventMapper,
  type WireDecoder,
} from "../providers/index.ts";
import {
  type CompiledSchema,
  compileSchema,
  createSchemaTracker,
  type SchemaTracker,
} from "../schema/index.ts";
import { turnNow } from "../shared/index.ts";
import { type AnswerChannel, ChannelRouter } from "./channels.ts";
import type { StreamCore, StructuredStreamOptions } from "./structured-stream.ts";
import type { FieldState, Progress } from "./types.ts";

const EMPTY_PROGRESS: Progress = { completed: 0, total: 0, percent: 0, pending: [] };

type Chunk = string | Uint8Array | object;

function isResponse(value: unknown): value is Response {
  return typeof Response !== "undefined" && value instanceof Response;
}

/**
 * The UTF-8 length of a string chunk. A surrogate pair is 4 bytes, a lone surrogate 3 (it encodes
 * as U+FFFD). `afterHigh` says the previous chunk ended with a high surrogate, counted as 3 then:
 * a low surrogate that completes it adds the missing 1.
 */
const NON_ASCII = /[^\x00-\x7f]/;

function utf8Length(text: string, afterHigh: boolean): number {
  // Most answers are ASCII: one regular-expression scan instead of a loop in JavaScript.
  if (!NON_ASCII.test(text)) return text.length;
  let n = 0;
  let high = afterHigh;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xdc00 && c <= 0xdfff && high) n += 1;
    else n += 3;
    high = c >= 0xd800 && c <= 0xdbff;
  }
  return n;
}

/** Whether text holds only SSE comment lines and blank lines (keep-alive traffic). */
function isKeepAlive(text: string): boolean {
  return !/^(?!:)[^\r\n]*\S/m.test(text);
}

function endsWithHigh(text: string): boolean {
  const c = text.charCodeAt(text.length - 1);
  return c >= 0xd800 && c <= 0xdbff;
}

/** Errors that came from the transport (a read, the source function, the body): retryable. */
const transportErrors = new WeakSet<object>();

function asTransport(error: unknown): unknown {
  const marked = typeof error === "object" && error !== null ? error : new Error(String(error));
  transportErrors.add(marked);
  return marked;
}

/** Cancels the body of a source that arrived after its attempt was given up. */
function discardLate(source: unknown): void {
  if (isResponse(source)) void source.body?.cancel().catch(() => {});
  else if (source !== null && typeof source === "object") {
    if (typeof (source as ReadableStream).cancel === "function")
      void (source as ReadableStream).cancel().catch(() => {});
    else void (source as AsyncIterator<unknown>).return?.()?.catch?.(() => {});
  }
}

/** Reads a source chunk by chunk; `cancel` stops it (and, for HTTP, closes the socket). */
interface ChunkReader {
  read(): Promise<IteratorResult<Chunk>>;
  cancel(reason: unknown): Promise<void>;
}

function readerOf(source: ReadableStream<Uint8Array | string> | AsyncIterable<Chunk>): ChunkReader {
  if (typeof (source as ReadableStream).getReader === "function") {
    const reader = (source as ReadableStream<Uint8Array | string>).getReader();
    return {
      read: () => reader.read() as Promise<IteratorResult<Chunk>>,
      cancel: (reason) => reader.cancel(reason).catch(() => {}),
    };
  }
  const iterator = (source as AsyncIterable<Chunk>)[Symbol.asyncIterator]();
  return {
    read: iterator.next.bind(iterator),
    cancel: async () => {
      await iterator.return?.()?.catch?.(() => {});
    },
  };
}

/**
 * Reads `reader` until its end (resolves true) or until `take` asks to stop (false). Each chunk is
 * handed over from the read's own `.then`, with no promise made per chunk, and an abort rejects at
 * once, even while a read is pending (a source that hangs does not hold the attempt).
 */
function pump(reader: ChunkReader, signal: AbortSignal, take: (chunk: Chunk) => boolean): Promise<boolean> {
  return new Promise<boolean>((resolve, reject) => {
    let settled = false;
    // Set by the abort listener: cheaper than asking the signal (a checked getter) every chunk.
    let aborted = signal.aborted;
    const settle = (outcome: () => void) => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", onAbort);
      outcome();
    };
    const onAbort = () => {
      aborted = true;
      settle(() => reject(signal.reason));
    };
    const fail = (error: unknown) => settle(() => reject(error));
    const failRead = (error: unknown) => fail(asTransport(error));
    const read = () => {
      if (aborted) {
        onAbort();
        return;
      }
      let next: Promise<IteratorResult<Chunk>>;
      try {
        next = reader.read();
      } catch (error) {
        fail(error);
        return;
      }
      next.then(step, failRead);
    };
    const step = (next: IteratorResult<Chunk>) => {
      if (settled) return;
      if (next.done) {
        settle(() => resolve(true));
        return;
      }
      let stop: boolean;
      try {
        stop = take(next.value);
      } catch (error) {
        fail(error);
        return;
      }
      if (stop) settle(() => resolve(false));
      else read();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    read();
  });
}

/**
 * Text appended a delta at a time and read rarely (on a failure, or by a retry's comparison).
 * Deltas are joined into flat blocks every few hundred: a rope of every delta would hold two
 * small objects per delta, several times the text, all of them surviving young collections.
 */
class TextLog {
  private blocks: string[] = [];
  private parts: string[] = [];
  length = 0;

  append(delta: string): void {
    this.parts.push(delta);
    this.length += delta.length;
    if (this.parts.length === 512) this.seal();
  }

  private seal(): void {
    this.blocks.push(this.parts.join(""));
    // Emptied in place: the array keeps its room for the next block's deltas.
    this.parts.length = 0;
  }

  toString(): string {
    if (this.parts.length > 0) this.seal();
    if (this.blocks.length > 1) this.blocks = [this.blocks.join("")];
    return this.blocks[0] ?? "";
  }
}

let anyJsonSchema: CompiledSchema | undefined;
/** The schema that accepts any JSON value (for a stream without one). */
function anyJson(): CompiledSchema {
  anyJsonSchema ??= compileSchema({});
  return anyJsonSchema;
}

/** One try at reading the answer: its own connection, decoder, parser and schema tracker. */
export class Attempt {
  /** The answer's JSON text received by this attempt, as flat blocks (see `TextLog`). */
  private readonly received = new TextLog();
  /** The answer's JSON text received by this attempt (joined when read: on failures and retries). */
  get text(): string {
    return this.received.toString();
  }
  private readonly parser: JsonParser;
  private readonly tracker: SchemaTracker;
  private readonly abort = new AbortController();
  private idleTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly idleTimeoutMs: number;
  private restore: BuiltRequest["restore"];
  private finish: Extract<ProviderEvent, { type: "finish" }> | undefined;
  private refusal = "";
  private providerError: ProviderErrorEvent | undefined;
  private providerId: ProviderId | undefined;
  /** The format was detected (not given) as raw JSON text. */
  private detectedText = false;
  /** Which channel is the answer: from the request structream built, else the `answer` option. */
  private answerChannel: AnswerChannel;
  private router: ChannelRouter | undefined;
  /** A parse failure, held until the provider's end signal says whether a refusal or a cut outranks it. */
  private parseError: unknown;
  /** The provider's end signal arrived: nothing after it is read. */
  private ended = false;
  /** The response only called tools: there is no answer to validate. */
  private noAnswer = false;
  /** The model's reasoning and commentary text of this attempt. */
  reasoning = "";
  commentary = "";
  /** The last string chunk ended with a high surrogate (for exact byte counts). */
  private afterHigh = false;
  private readonly releaseOuter: () => void;

  constructor(
    // biome-ignore lint/suspicious/noExplicitAny: the attempt reports to a core of any value type.
    private readonly core: StreamCore<any>,
    private readonly compiled: CompiledSchema | undefined,
    private readonly options: StructuredStreamOptions,
    outer: AbortSignal,
    /** 0 for the first attempt, 1 for the first retry, ... */
    readonly index = 0,
  ) {
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.answerChannel = options.answer ?? "auto";
    const onOuterAbort = () => this.abort.abort(outer.reason);
    if (outer.aborted) this.abort.abort(outer.reason);
    else outer.addEventListener("abort", onOuterAbort, { once: true });
    this.releaseOuter = () => outer.removeEventListener("abort", onOuterAbort);
    // Without a schema every value is a field: a tracker on the schema that accepts anything
    // keeps their states without a record per path (a map of every path grew with the answer).
    this.tracker = createSchemaTracker(compiled ?? anyJson(), {
      validate: compiled === undefined ? "final" : (options.validate ?? "early"),
      atomic: options.atomic,
      gate: options.gate,
      onField: (path, pointer, value) => this.core.showField(this, path, pointer, value),
      onFieldState: (path, pointer, state) => this.core.showFieldState(this, path, pointer, state),
    });
    this.parser = createParser({
      maxDepth: options.maxDepth,
      maxLength: options.maxLength,
      onEvent: (event) => this.onParserEvent(event),
    });
  }

  /** The parser's latest snapshot (readable after a parse error too, so nothing is lost). */
  get latest(): unknown {
    return this.parser.value;
  }

  get textLength(): number {
    return this.received.length;
  }

  get progress(): Progress {
    return this.compiled === undefined ? EMPTY_PROGRESS : this.tracker.progress;
  }

  stateOf(path: PathSegment[]): FieldState {
    return this.tracker.stateOf(path);
  }

  private onParserEvent(event: ParserEvent) {
    if (event.type === "add" || event.type === "append") {
      this.core.showChange(this, event);
      return undefined;
    }
    const hold = this.tracker.onParserEvent(event);
    if (
      event.type === "end" &&
      event.path.length > 0 &&
      typeof event.path[event.path.length - 1] === "number"
    ) {
      const arrayPath = event.path.slice(0, -1);
      if (this.core.wantsElements(arrayPath)) {
        const issues = this.compiled === undefined ? [] : this.tracker.validateAt(event.path, event.value);
        if (issues.length > 0) throw this.mismatch(issues);
        this.core.showElement(this, arrayPath, event.path[event.path.length - 1] as number, event.value);
      }
    }
    return hold;
  }

  private mismatch(issues: SchemaIssue[]): StreamError {
    const first = issues[0];
    const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : "";
    return new StreamError(
      "schema_mismatch",
      `The answer does not match the schema at ${first.pointer || "the root"}: ${first.message}${more}`,
      { issues, text: this.text },
    );
  }

  /**
   * Notes activity. One timer per attempt, re-armed only when it fires early: re-creating a timer
   * on every chunk would cost more than parsing the chunk.
   */
  private resetIdle(now = performance.now()): void {
    this.lastActivity = now;
    if (this.idleTimer !== undefined || !Number.isFinite(this.idleTimeoutMs)) return;
    const check = () => {
      const quiet = performance.now() - this.lastActivity;
      if (quiet + 1 < this.idleTimeoutMs) {
        this.idleTimer = setTimeout(check, this.idleTimeoutMs - quiet);
        return;
      }
      this.idleTimer = undefined;
      this.abort.abort(
        new StreamError("timeout", `No data arrived for ${this.idleTimeoutMs} ms (idleTimeoutMs).`, {
          retryable: true,
          reason: "idle",
        }),
      );
    };
    this.idleTimer = setTimeout(check, this.idleTimeoutMs);
  }

  private lastActivity = 0;
  /** When the chunk being handled arrived (one clock read per chunk, not one per event). */
  private now = 0;

  /** Reads the answer to the provider's end signal; returns the parsed (unvalidated) value. */
  async run(provider: ProviderId | "auto"): Promise<unknown> {
    try {
      return await this.read(provider);
    } catch (thrown) {
      // This attempt's open tool calls end with it (a retry's calls are new streams).
      const error =
        thrown instanceof StreamError
          ? thrown
          : new StreamError("connection_lost", "The attempt that made this call failed.", { cause: thrown });
      this.core.toolCallHub.fail(this.index, error);
      throw thrown;
    }
  }

  private async read(provider: ProviderId | "auto"): Promise<unknown> {
    const signal = this.abort.signal;
    let reader: ChunkReader | undefined;
    let finished = false;
    let bodyDone = false;
    const aborted = new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => {});
    try {
      this.resetIdle();
      let source = this.options.source;
      let contentType: string | undefined;
      if (this.options.request !== undefined) {
        source = await Promise.race([this.send(provider === "auto" ? "openai-chat" : provider), aborted]);
        if (provider === "auto") provider = "openai-chat";
      } else if (typeof source === "function") {
        let opened: ReturnType<typeof source>;
        try {
          opened = Promise.resolve(source({ signal, attempt: this.index }));
        } catch (error) {
          throw asTransport(error);
        }
        // A source that answers after this attempt was given up has its body cancelled.
        opened.then(
          (late) => {
            if (signal.aborted) discardLate(late);
          },
          () => {},
        );
        source = await Promise.race([opened.catch((error) => Promise.reject(asTransport(error))), aborted]);
      }
      if (isResponse(source)) {
        contentType = source.headers.get("content-type") ?? undefined;
        if (!source.ok) throw await this.httpError(source, provider);
        if (source.body === null) {
          throw new StreamError("connection_lost", "The response has no body.", { retryable: true });
        }
        source = source.body;
      }
      reader = readerOf(source as ReadableStream<Uint8Array | string> | AsyncIterable<Chunk>);
      const bytes = new TextDecoder();
      let decoder: WireDecoder | undefined;
      let mapper: SdkEventMapper | undefined;
      let pending = "";
      // One `take` per chunk, called from the read's own `.then` (see `pump`).
      const take = (chunk: Chunk): boolean => {
        const now = turnNow();
        this.now = now;
        let events: ProviderEvent[];
        if (typeof chunk === "string" || chunk instanceof Uint8Array) {
          const text = typeof chunk === "string" ? chunk : bytes.decode(chunk, { stream: true });
          if (typeof chunk === "string") {
            this.core.noteBytes(utf8Length(chunk, this.afterHigh), now);
            this.afterHigh = endsWithHigh(chunk);
          } else this.core.noteBytes(chunk.length, now);
          // Comment-only traffic (`: keep-alive`) is no progress: it must not hold off the idle time-out.
          if (decoder === undefined && !isKeepAlive(text)) this.resetIdle(now);
          if (decoder === undefined) {
            pending += text;
            if (provider === "auto") {
              const detected = detectProvider({ contentType, text: pending });
              if (detected.provider === undefined) {
                if (detected.needMore) return false;
                throw new StreamError(
                  "unsupported_format",
                  `Cannot tell the stream's format: ${detected.reason}`,
                );
              }
              provider = detected.provider;
              this.detectedText = provider === "text";
            }
            this.providerId = provider;
            decoder = createProviderDecoder(provider);
            events = decoder.push(pending);
            pending = "";
          } else {
            events = decoder.push(text);
            if (decoder.keepAliveOnly !== true) this.resetIdle(now);
          }
        } else {
          this.core.noteBytes(0, now);
          this.resetIdle(now);
          if (mapper === undefined) {
            const id = provider === "auto" ? detectSdkProvider(chunk) : provider;
            if (id === undefined) {
              throw new StreamError(
                "unsupported_format",
                "Cannot tell which provider's SDK produced these stream events: pass `provider`.",
              );
            }
            this.providerId = id;
            mapper = createSdkMapper(id);
          }
          events = mapper.map(chunk);
        }
        this.handle(events);
        return this.providerError !== undefined || this.ended;
      };
      bodyDone = await pump(reader, signal, take);
      this.now = performance.now();
      if (this.providerError === undefined && !this.ended) {
        if (decoder === undefined && pending !== "") {
          const detected = detectProvider({ contentType, text: pending, final: true });
          if (detected.provider === undefined) {
            throw new StreamError(
              "unsupported_format",
              `Cannot tell the stream's format: ${detected.reason}`,
            );
          }
          this.providerId = detected.provider;
          this.detectedText = detected.provider === "text";
          decoder = createProviderDecoder(detected.provider);
          this.handle(decoder.push(pending));
        }
        this.handle(decoder?.end() ?? mapper?.end() ?? []);
      }
      finished = true;
      return this.conclude();
    } catch (thrown) {
      if (signal.aborted) throw signal.reason;
      // The official SDKs throw their API errors mid-stream rather than yielding them.
      const sdkError = thrown instanceof StreamError ? undefined : errorFromSdk(thrown);
      if (sdkError !== undefined) throw this.providerFailure(sdkError);
      // Only the transport's failures are retryable; an exception from anywhere else (a bug, a
      // consumer's code) is not a lost connection and must not call the model again. A source
      // that fails with a StreamError (a tool call's arguments, cut) says itself what happened.
      if (
        typeof thrown === "object" &&
        thrown !== null &&
        transportErrors.has(thrown) &&
        !(thrown instanceof StreamError)
      ) {
        const message = thrown instanceof Error ? thrown.message : String(thrown);
        throw new StreamError("connection_lost", `The connection broke mid-stream (${message}).`, {
          retryable: true,
          cause: thrown,
          text: this.text,
        });
      }
      throw thrown;
    } finally {
      if (this.idleTimer !== undefined) clearTimeout(this.idleTimer);
      this.releaseOuter();
      if (!finished) {
        // A failed attempt's signal aborts, so a source function's own fetch is cancelled too.
        if (!signal.aborted) this.abort.abort(new StreamError("aborted", "This attempt was given up."));
      }
      // Also after the provider's end signal: whatever follows it is not read, and the
      // connection is released at once rather than left to the server to close.
      if (!bodyDone && reader !== undefined) await reader.cancel(signal.reason ?? "stopped");
    }
  }

  private async send(provider: ProviderId): Promise<Response> {
    const options = this.options;
    const adapter = getProvider(provider);
    if (adapter.buildRequest === undefined) {
      throw new StreamError(
        "unsupported_format",
        `The "${provider}" provider cannot make requests: pass a source.`,
      );
    }
    const built = adapter.buildRequest({
      schema: this.compiled?.jsonSchema ?? {},
      request: options.request!,
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      headers: options.headers,
    });
    this.restore = built.restore;
    // A request that forces a tool (Anthropic's tool mode) makes that tool's input the answer.
    const choice = built.body.tool_choice as { name?: unknown } | undefined;
    this.answerChannel =
      typeof choice === "object" && choice !== null && typeof choice.name === "string"
        ? { tool: choice.name }
        : "text";
    const doFetch = options.fetch ?? globalThis.fetch;
    try {
      return await doFetch(built.url, { ...built.init, signal: this.abort.signal });
    } catch (error) {
      if (this.abort.signal.aborted) throw this.abort.signal.reason;
      const message =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new StreamError("connection_lost", `Could not reach ${built.url}: ${message}`, {
        retryable: true,
        cause: error,
      });
    }
  }

  private async httpError(response: Response, provider: ProviderId | "auto"): Promise<StreamError> {
    const event = await readErrorResponse(response, provider === "auto" ? undefined : provider);
    return this.providerFailure(event);
  }

  private providerFailure(event: ProviderErrorEvent): StreamError {
    if (event.errorType === "limit_exceeded") {
      // A limit structream enforces on the wire (an oversized event), not the provider's error.
      return new StreamError("limit_exceeded", event.message, { text: this.text });
    }
    const rateLimited = event.status === 429 || /rate.?limit|resource_exhausted/i.test(event.errorType);
    const where = event.status !== undefined ? `HTTP ${event.status}` : event.errorType;
    return new StreamError(
      rateLimited ? "rate_limited" : "provider_error",
      rateLimited
        ? `The provider is rate limiting requests (${where}): ${event.message}`
        : `The provider reported an error (${where}): ${event.message}`,
      {
        status: event.status,
        providerType: event.errorType,
        retryable: event.retryable,
        retryAfterMs: event.retryAfterMs,
        text: this.text,
      },
    );
  }

  private routerFor(): ChannelRouter {
    if (this.router !== undefined) return this.router;
    const hub = this.core.toolCallHub;
    this.router = new ChannelRouter(this.answerChannel, hub.declared, this.options.lenient === true, {
      answer: (delta) => {
        this.pushText(delta);
        this.changed = true;
      },
      commentary: (delta) => {
        this.commentary += delta;
        this.core.showChannel(this, "commentary", delta);
      },
      reasoning: (delta) => {
        this.reasoning += delta;
        this.core.showChannel(this, "reasoning", delta);
      },
      toolCall: (event) => hub.event(this.index, event),
    });
    return this.router;
  }

  private changed = false;

  private handle(events: ProviderEvent[]): void {
    if (events.length === 0) return;
    const router = this.routerFor();
    this.changed = false;
    for (const event of events) {
      if (this.ended) break;
      switch (event.type) {
        case "text":
          this.core.noteDelta(this.now);
          if (event.delta !== "") router.text(event.delta);
          break;
        case "tool-call":
        case "tool-call-end":
          if (event.type === "tool-call") this.core.noteDelta(this.now);
          router.toolCall(event);
          break;
        case "reasoning":
          if (event.delta !== "") {
            this.reasoning += event.delta;
            this.core.showChannel(this, "reasoning", event.delta);
          }
          break;
        case "server-tool":
          // A tool the provider ran: never the answer.
          break;
        case "refusal":
          this.refusal += event.delta;
          break;
        case "finish":
          this.finish = event;
          break;
        case "usage":
          this.core.noteUsage(event.usage);
          break;
        case "error":
          this.providerError ??= event;
          break;
        case "end":
          this.ended = true;
          break;
      }
    }
    if (this.changed) this.core.showPartial(this, this.progress);
  }

  private pushText(delta: string): void {
    this.received.append(delta);
    this.core.noteText(this, delta);
    if (this.parseError !== undefined) return;
    try {
      this.parser.push(delta);
    } catch (error) {
      // A limit is not outranked by anything: it stops the reading at once.
      if (!(error instanceof JsonParseError) || error.code === "max_length" || error.code === "max_depth")
        throw error;
      // Held: a refusal or truncation reported after this text outranks the parse failure.
      this.parseError = error;
      return;
    }
    const issues = this.tracker.issues;
    if (issues !== undefined && issues.length > 0) throw this.mismatch(issues);
  }

  private conclude(): unknown {
    if (this.providerError !== undefined) throw this.providerFailure(this.providerError);
    const finish = this.finish;
    // Prose with no tool call after it was the answer after all.
    if (finish !== undefined && finish.reason !== "refusal" && finish.reason !== "content_filter")
      this.router?.settle();
    if (this.refusal !== "" || finish?.reason === "refusal" || finish?.reason === "content_filter") {
      // The refusal's words: OpenAI's refusal deltas, Anthropic's stop_details explanation, else
      // the prose the model wrote instead of the answer.
      const prose = this.commentary.trim() || (this.parseError !== undefined ? this.text.trim() : "");
      const message = this.refusal !== "" ? this.refusal : (finish?.detail ?? (prose || undefined));
      throw new StreamError(
        "refusal",
        message !== undefined
          ? `The model refused: ${message}`
          : `The model's answer was stopped by a safety or content filter (${finish?.raw ?? finish?.reason ?? "refusal"}).`,
        { refusal: message, reason: finish?.raw ?? finish?.reason, text: this.text },
      );
    }
    if (finish?.reason === "length") {
      throw new StreamError(
        "truncated",
        `The answer was cut off by the provider (${finish.raw ?? "length"}): raise the output token limit.`,
        { reason: finish.raw ?? "length", text: this.text },
      );
    }
    if (finish === undefined && this.providerId !== "text") {
      // A body that is already not JSON stays so however it ended.
      if (this.parseError !== undefined) throw this.parseError;
      throw new StreamError(
        "connection_lost",
        "The stream ended before the provider's end signal: the answer may be incomplete.",
        { retryable: true, text: this.text },
      );
    }
    if (finish !== undefined && finish.reason !== "stop" && finish.reason !== "tool_calls") {
      throw new StreamError(
        "provider_error",
        `The provider ended the answer with "${finish.raw ?? finish.reason}"${finish.detail ? `: ${finish.detail}` : ""}.`,
        { reason: finish.raw ?? finish.reason, providerType: finish.raw, text: this.text },
      );
    }
    if (finish === undefined) this.router?.settle();
    // The provider's end signal with a normal stop: the tool calls' arguments are final.
    this.core.toolCallHub.settle(this.index);
    if (this.parseError !== undefined) throw this.parseError;
    if (this.router?.toolCallsOnly === true) {
      // A turn that only calls tools has no answer: the result is undefined, the calls are the point.
      this.noAnswer = true;
      return undefined;
    }
    const value = this.parser.end();
    if (this.detectedText && value !== null && typeof value === "object") {
      // A pretty-printed provider envelope (a non-streaming answer) reads as plain JSON until it
      // is whole; caught here, it fails with the reason instead of passing as the answer.
      const again = detectProvider({ text: JSON.stringify(value), final: true });
      if (again.provider === undefined) {
        throw new StreamError("unsupported_format", `Cannot tell the stream's format: ${again.reason}`, {
          text: this.text,
        });
      }
    }
    this.core.showPartial(this, this.progress);
    return this.restore ? this.restore(value) : value;
  }

  /** Validates the complete value with the user's own validator; resolves to its output. */
  async validateFinal(value: unknown): Promise<unknown> {
    if (this.compiled === undefined || this.noAnswer) return value;
    let outcome: Awaited<ReturnType<CompiledSchema["validateFinal"]>>;
    try {
      outcome = await this.compiled.validateFinal(value);
    } catch (error) {
      // The user's validator threw instead of reporting issues: the value was not accepted.
      const message = error instanceof Error ? error.message : String(error);
      throw new StreamError("schema_mismatch", `The schema's validator threw: ${message}`, {
        issues: [{ path: [], pointer: "", code: "validator_threw", message }],
        text: this.text,
        cause: error,
      });
    }
    if ("issues" in outcome && outcome.issues !== undefined) throw this.mismatch(outcome.issues);
    return outcome.value;
  }
}
