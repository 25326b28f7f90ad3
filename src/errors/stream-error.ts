import { StructreamError } from "./structream-error.ts";

/** Stable codes of {@link StreamError}. */
export type StreamErrorCode =
  /** The model declined (a refusal message, or a stop by a safety or content filter). */
  | "refusal"
  /** The provider stopped early (token limit, ...): the JSON is cut. `reason` says why. */
  | "truncated"
  /** The body ended or broke before the provider's end marker. */
  | "connection_lost"
  /** No byte arrived for `idleTimeoutMs`, or the overall `timeoutMs` passed. */
  | "timeout"
  /** HTTP 429; `retryAfterMs` is the provider's requested delay when it gave one. */
  | "rate_limited"
  /** An HTTP error status or an error event from the provider (`status`, `providerType`). */
  | "provider_error"
  /** The text is not JSON (`parse` holds the parser's code and position). */
  | "invalid_json"
  /** The JSON contradicts the schema (`issues` lists every problem with its path). */
  | "schema_mismatch"
  /** `abort()` or the caller's AbortSignal ended the stream. */
  | "aborted"
  /** The source's format could not be recognised, or an option is not usable with it. */
  | "unsupported_format"
  /** A configured limit was reached (size, events, concurrent streams). */
  | "limit_exceeded";

/** One way the value contradicts its schema. */
export interface SchemaIssue {
  /** Where, as keys and indexes. */
  path: (string | number)[];
  /** Where, as a JSON Pointer (RFC 6901). */
  pointer: string;
  /** Stable snake_case reason, e.g. `invalid_type`, `invalid_enum`, `unknown_property`. */
  code: string;
  /** What is wrong, for a person. */
  message: string;
  /** What the schema allows, when known. */
  expected?: string;
  /** What arrived, when known. */
  received?: string;
}

/** Position of a JSON syntax error inside the answer text. */
export interface ParseFailure {
  code: string;
  offset: number;
  line: number;
  column: number;
}

/** Context carried by a {@link StreamError}. */
export interface StreamErrorDetails {
  /** The last partial value shown before the failure: nothing received is lost. */
  partial?: unknown;
  /** The raw answer text received (the JSON text, not the wire format). */
  text?: string;
  issues?: SchemaIssue[];
  status?: number;
  retryAfterMs?: number;
  refusal?: string;
  reason?: string;
  providerType?: string;
  parse?: ParseFailure;
  /** Whether structream would retry this failure when it made the request itself. */
  retryable?: boolean;
  cause?: unknown;
}

/**
 * Why a structured stream failed, with everything that arrived before it did.
 *
 * @example
 * ```ts
 * try { await s.result; } catch (error) {
 *   if (error instanceof StreamError && error.code === "truncated") show(error.partial);
 * }
 * ```
 */
export class StreamError extends StructreamError {
  declare readonly code: StreamErrorCode;
  /** The last partial value shown before the failure. */
  partial: unknown;
  /** The raw answer text received. */
  text: string;
  readonly issues?: SchemaIssue[];
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly refusal?: string;
  readonly reason?: string;
  readonly providerType?: string;
  readonly parse?: ParseFailure;
  readonly retryable: boolean;

  constructor(code: StreamErrorCode, message: string, details: StreamErrorDetails = {}) {
    super(code, message, { cause: details.cause });
    this.partial = details.partial;
    this.text = details.text ?? "";
    this.retryable = details.retryable ?? false;
    if (details.issues !== undefined) this.issues = details.issues;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.refusal !== undefined) this.refusal = details.refusal;
    if (details.reason !== undefined) this.reason = details.reason;
    if (details.providerType !== undefined) this.providerType = details.providerType;
    if (details.parse !== undefined) this.parse = details.parse;
  }
}

/** True for a {@link StreamError}, also one from another copy of the package. */
export function isStreamError(value: unknown): value is StreamError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as Record<symbol, unknown>)[Symbol.for("structream.error")] === true &&
    (value as { name?: unknown }).name === "StreamError"
  );
}
