import type { StreamError } from "../errors/index.ts";
import type { PathSegment } from "../json/index.ts";
import type { DeepPartial, FieldState, Progress } from "../schema/index.ts";

export type { DeepPartial, FieldState, Progress };

/** Where a stream is in its life. */
export type StreamStatus = "idle" | "connecting" | "streaming" | "validating" | "complete" | "error";

/** Token counts, as reported by the provider. */
export interface TokenUsage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/** Measurements of one stream, on the stream and on its `complete` event. */
export interface StreamStats {
  /** `Date.now()` when the stream started. */
  startedAt: number;
  /** From the start to the first byte of the answer (of the attempt that delivered it). */
  timeToFirstByteMs?: number;
  /** From the start to the first completed field. */
  timeToFirstFieldMs?: number;
  /** From the start to now, or to the end. */
  durationMs: number;
  /** Wire chunks read (all attempts). */
  chunks: number;
  /** Wire bytes read (all attempts; string chunks count their UTF-8 length). */
  bytes: number;
  /** Text deltas of the answer (all attempts). */
  deltas: number;
  /**
   * Deltas per second while the answer streamed (0 when they all came at once, in one turn of the
   * event loop, as from an in-memory source: chunks are timed once per turn).
   */
  deltasPerSecond: number;
  /** Retries made. */
  retries: number;
  /** Token usage, when the provider reports it. */
  usage?: TokenUsage;
  /** The model's reasoning text (of the attempt shown), when it sent any. */
  reasoning?: string;
  /** Text the model wrote beside the answer (of the attempt shown), when it wrote any. */
  commentary?: string;
}

/**
 * One change to the visible value, as a patch operation on a JSON Pointer (RFC 6901):
 * `["+", pointer, value]` adds a member or element (a value that streams in starts as `""`, `{}`
 * or `[]`), `[">", pointer, text]` appends text to a string, `["=", pointer, value]` sets a value
 * (the root as it appears, or the whole value when a retry takes over). The relay's wire format.
 * A container in a `+` or `=` operation is shared: copy it before changing it.
 */
export type StreamChange = ["+", string, unknown] | [">", string, string] | ["=", string, unknown];

/** Everything a structured stream tells, as a discriminated union on `type`. */
export type StreamEvent<T = unknown, P = DeepPartial<T>> =
  | { type: "status"; status: StreamStatus }
  | {
      type: "partial";
      /** The latest snapshot, made when first read (a slow reader gets the newest one). */
      value: P;
      progress: Progress;
      /** What changed since the previous partial event; only from `s.events({ changes: true })`. */
      changes?: StreamChange[];
    }
  | { type: "field"; path: PathSegment[]; pointer: string; value: unknown }
  | { type: "field-state"; path: PathSegment[]; pointer: string; state: FieldState }
  | { type: "retry"; attempt: number; delayMs: number; error: StreamError }
  /**
   * A retry's answer contradicts what was shown: the values at `retracted` (JSON Pointers) are
   * withdrawn. Sent before anything of attempt `attempt` (0 = the first call) that replaces them;
   * a retracted field is reported again when it completes anew.
   */
  | { type: "rewind"; retracted: string[]; attempt: number }
  /** A piece of the model's reasoning (thinking, reasoning summaries, thoughts): never the answer. */
  | { type: "reasoning"; delta: string }
  /** A piece of text the model wrote beside the answer (a preamble before a tool call). */
  | { type: "commentary"; delta: string }
  | { type: "complete"; value: T; stats: StreamStats }
  | { type: "error"; error: StreamError };

/** The `type`s of {@link StreamEvent}. */
export type StreamEventType = StreamEvent["type"];

/** The event of one `type`. */
export type StreamEventOf<T, K extends StreamEventType, P = DeepPartial<T>> = Extract<
  StreamEvent<T, P>,
  { type: K }
>;

/**
 * What `elements()` yields: each element once, with its index, or a retraction: a retry's answer
 * contradicted the elements from `index` on, which were withdrawn and will be yielded again (from
 * `index`) as the new answer completes them.
 */
export type StreamElement<E = unknown> =
  | { type: "element"; index: number; value: E }
  | { type: "retract"; index: number };
