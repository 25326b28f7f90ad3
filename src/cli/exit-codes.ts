import type { StreamErrorCode } from "../errors/index.ts";

/**
 * The CLI's exit codes. Each failure a script may want to branch on has its own code; the
 * `--help` text of every command prints this table.
 */
export const EXIT = {
  /** The answer arrived complete and valid; it is on stdout (or in `--out`). */
  ok: 0,
  /** Something unexpected (a bug, a file that cannot be written). */
  internal: 1,
  /** Bad usage: an unknown flag, a missing or invalid value, a schema file that cannot be read. */
  usage: 2,
  /** The model refused (or a safety filter stopped the answer). */
  refusal: 3,
  /** The provider cut the answer short (output token limit). */
  truncated: 4,
  /** The JSON arrived but contradicts the schema. */
  schemaMismatch: 5,
  /** The answer is not JSON. */
  invalidJson: 6,
  /** Connection lost, time-out, rate limit or provider error, after the retries. */
  connection: 7,
  /** The input stream's format was not recognised, or a size limit was reached. */
  unsupported: 8,
  /** Interrupted by Ctrl-C (SIGINT); what arrived is printed as a partial value. */
  interrupted: 130,
  /** Stopped by SIGTERM; as for Ctrl-C. */
  terminated: 143,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

const BY_CODE: Record<StreamErrorCode, ExitCode> = {
  refusal: EXIT.refusal,
  truncated: EXIT.truncated,
  schema_mismatch: EXIT.schemaMismatch,
  invalid_json: EXIT.invalidJson,
  connection_lost: EXIT.connection,
  timeout: EXIT.connection,
  rate_limited: EXIT.connection,
  provider_error: EXIT.connection,
  unsupported_format: EXIT.unsupported,
  limit_exceeded: EXIT.unsupported,
  aborted: EXIT.interrupted,
};

/**
 * The exit code for a stream's error code; unknown codes are internal errors.
 *
 * @example
 * ```ts
 * exitCodeFor("truncated"); // 4
 * ```
 */
export function exitCodeFor(code: string): ExitCode {
  return (BY_CODE as Record<string, ExitCode>)[code] ?? EXIT.internal;
}

const HINTS: Record<StreamErrorCode, string> = {
  refusal: "Rephrase the prompt, or check it against the provider's content policy.",
  truncated: "Ask for a shorter answer or a smaller schema.",
  schema_mismatch: "Loosen the schema, describe the fields in the prompt, or try a stronger model.",
  invalid_json: "Use a model with structured outputs, or pass --lenient if it wraps JSON in prose.",
  connection_lost: "Check the network and --base-url, then run again (or raise --max-retries).",
  timeout: "Check that the server answers, or raise --timeout.",
  rate_limited: "Wait a moment and run again, or raise --max-retries.",
  provider_error: "Check --model, the API key and --base-url; a 5xx may pass on a retry.",
  unsupported_format: "Pass --provider to say which wire format the input is in.",
  limit_exceeded: "The input is larger than structream accepts; split it or raise the limit.",
  aborted: "",
};

/**
 * What a person can do about an error, in one sentence (empty when there is nothing to do).
 *
 * @example
 * ```ts
 * hintFor("timeout"); // "Check that the server answers, or raise --timeout."
 * ```
 */
export function hintFor(code: string): string {
  return (HINTS as Record<string, string>)[code] ?? "";
}

/** The table printed by `--help`. */
export const EXIT_CODE_HELP = `Exit codes:
  0    complete: the validated JSON is on stdout (or in --out)
  1    unexpected error (a bug, a file that cannot be written)
  2    bad usage (unknown flag, missing or bad value, unreadable schema)
  3    refusal: the model declined
  4    truncated: the answer was cut off (output token limit)
  5    schema mismatch: the JSON contradicts the schema
  6    invalid JSON: the answer is not JSON
  7    connection lost, time-out, rate limit or provider error, after retries
  8    unrecognised input format, or a size limit reached
  130  interrupted by Ctrl-C (what arrived is printed as a partial value)
  143  stopped by SIGTERM (as for Ctrl-C)`;
