import { StreamError } from "../errors/index.ts";
import type { ToolCallEndEvent, ToolCallEvent } from "../providers/index.ts";
import type { SchemaInput } from "../schema/index.ts";
import { EventQueue } from "../shared/index.ts";
import type {
  StreamPartial,
  StreamValue,
  StructuredStream,
  StructuredStreamOptions,
} from "./structured-stream.ts";

/** The `tools` option: each client tool's name and the schema of its arguments. */
export type ToolSchemas = Record<string, SchemaInput>;

/** What identifies a tool call beside its stream. */
export interface ToolCallInfo<N extends string = string> {
  /** The tool's name, as the model called it. */
  readonly name: N;
  /** The provider's id for the call (to send its result back), when it gave one. */
  readonly id: string | undefined;
  /** The call's position among this response's calls, from 0, in the order they started. */
  readonly index: number;
  /** The attempt (0 for the first) whose response made the call. */
  readonly attempt: number;
}

/**
 * One tool call's arguments as a structured stream: partials, fields, progress and a validated
 * `result`, like the answer's. `result` resolves only after the call's block ended and the
 * provider's end signal arrived, never because the arguments happen to parse; a truncated,
 * refused or failed response rejects it (`truncated`, `refusal`, ...).
 */
export type ToolCallStream<
  N extends string = string,
  T = unknown,
  P = StreamPartial<undefined>,
> = StructuredStream<T, P> & ToolCallInfo<N>;

/** The union of typed call streams for a `tools` option (untyped when there is none). */
export type ToolCallOf<Tools> = [keyof Tools & string] extends [never]
  ? ToolCallStream
  : {
      [K in keyof Tools & string]: Tools[K] extends SchemaInput
        ? ToolCallStream<K, StreamValue<Tools[K]>, StreamPartial<Tools[K]>>
        : never;
    }[keyof Tools & string];

/** Makes a stream (the hub cannot import the class: structured-stream.ts imports the hub). */
export type StreamFactory = (options: StructuredStreamOptions) => StructuredStream;

/** Options handed down from the answer's stream to each call's stream. */
export type CallStreamOptions = Pick<StructuredStreamOptions, "validate" | "maxDepth" | "maxLength">;

class CallRecord {
  readonly pieces: string[] = [];
  ended = false;
  outcome: { error?: StreamError } | undefined;
  readonly sinks = new Set<EventQueue<string>>();
  constructor(
    readonly index: number,
    readonly attempt: number,
    readonly id: string | undefined,
    readonly name: string,
  ) {}
}

function sourceOf(queue: EventQueue<string>): AsyncIterable<string> {
  return {
    [Symbol.asyncIterator]: () => ({
      next: () => queue.next(),
      async return() {
        queue.cancel();
        return { done: true, value: undefined };
      },
    }),
  };
}

/**
 * Collects the client tool calls of every attempt and hands each subscriber of `toolCalls()` one
 * stream per call, fed with the call's arguments as they arrive.
 */
export class ToolCallHub {
  private readonly records: CallRecord[] = [];
  private readonly byAttempt = new Map<string, CallRecord>();
  private readonly subscribers = new Set<EventQueue<ToolCallStream>>();
  private ended: { error?: StreamError } | undefined;

  constructor(
    private readonly make: StreamFactory,
    private readonly tools: ToolSchemas | undefined,
    private readonly options: CallStreamOptions,
  ) {}

  /** The declared tool names, which the `"auto"` answer never takes for the answer. */
  get declared(): ReadonlySet<string> {
    return new Set(Object.keys(this.tools ?? {}));
  }

  /** A piece of a call of `attempt`. */
  event(attempt: number, event: ToolCallEvent | ToolCallEndEvent): void {
    const key = `${attempt}:${event.index}`;
    let record = this.byAttempt.get(key);
    if (record === undefined) {
      if (event.type === "tool-call-end") return;
      record = new CallRecord(event.index, attempt, event.id, event.name ?? "");
      this.byAttempt.set(key, record);
      this.records.push(record);
      for (const subscriber of this.subscribers) subscriber.push(this.streamOf(record));
    }
    if (record.outcome !== undefined) return;
    if (event.type === "tool-call-end") {
      record.ended = true;
      return;
    }
    if (event.delta === "") return;
    record.pieces.push(event.delta);
    for (const sink of record.sinks) sink.push(event.delta);
  }

  /** The provider's end signal arrived for `attempt` with a normal stop: its calls are final. */
  settle(attempt: number): void {
    for (const record of this.records) {
      if (record.attempt !== attempt || record.outcome !== undefined) continue;
      if (record.ended) this.conclude(record, {});
      else
        this.conclude(record, {
          error: new StreamError(
            "truncated",
            `The response ended before the ${record.name} call's arguments did.`,
            {
              reason: "tool_call_open",
              text: record.pieces.join(""),
            },
          ),
        });
    }
  }

  /** `attempt` failed: each of its open calls fails with the same error. */
  fail(attempt: number, error: StreamError): void {
    for (const record of this.records) {
      if (record.attempt === attempt && record.outcome === undefined) {
        const own = new StreamError(error.code, error.message, {
          reason: error.reason,
          refusal: error.refusal,
          cause: error,
          text: record.pieces.join(""),
        });
        this.conclude(record, { error: own });
      }
    }
  }

  /** The answer's stream ended: no more calls will come. */
  close(error?: StreamError): void {
    if (this.ended !== undefined) return;
    this.ended = error === undefined ? {} : { error };
    for (const record of this.records) {
      if (record.outcome !== undefined) continue;
      // Made only for a call left open (an error's stack trace costs more than a whole small stream).
      const reason =
        error ??
        new StreamError("connection_lost", "The stream ended before this call's arguments did.", {
          reason: "tool_call_open",
        });
      this.fail(record.attempt, reason);
    }
    for (const subscriber of this.subscribers) subscriber.close();
    this.subscribers.clear();
  }

  /** A new iterator over every call, those already made first. */
  subscribe(): AsyncIterableIterator<ToolCallStream> {
    const queue = new EventQueue<ToolCallStream>();
    for (const record of this.records) queue.push(this.streamOf(record));
    if (this.ended !== undefined) queue.close();
    else this.subscribers.add(queue);
    const subscribers = this.subscribers;
    const iterator: AsyncIterableIterator<ToolCallStream> = {
      next: () => queue.next(),
      async return() {
        queue.cancel();
        subscribers.delete(queue);
        return { done: true, value: undefined };
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }

  private conclude(record: CallRecord, outcome: { error?: StreamError }): void {
    record.outcome = outcome;
    for (const sink of record.sinks) {
      if (outcome.error) sink.fail(outcome.error);
      else sink.close();
    }
    record.sinks.clear();
  }

  private streamOf(record: CallRecord): ToolCallStream {
    const queue = new EventQueue<string>();
    for (const piece of record.pieces) queue.push(piece);
    if (record.outcome?.error) queue.fail(record.outcome.error);
    else if (record.outcome) queue.close();
    else record.sinks.add(queue);
    const schema =
      this.tools !== undefined && Object.hasOwn(this.tools, record.name)
        ? this.tools[record.name]
        : undefined;
    const stream = this.make({
      source: sourceOf(queue),
      provider: "text",
      schema,
      validate: this.options.validate,
      maxDepth: this.options.maxDepth,
      maxLength: this.options.maxLength,
      // The answer's stream watches the connection; a call's arguments may pause between blocks.
      idleTimeoutMs: Number.POSITIVE_INFINITY,
      maxRetries: 0,
    });
    // A call nobody awaits must not end the process when its response fails.
    void stream.result.catch(() => {});
    Object.defineProperties(stream, {
      name: { value: record.name, enumerable: true },
      id: { value: record.id, enumerable: true },
      index: { value: record.index, enumerable: true },
      attempt: { value: record.attempt, enumerable: true },
    });
    return stream as ToolCallStream;
  }
}
