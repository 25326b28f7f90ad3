import { field, numberField, stringField } from "./framing.ts";
import type { ProviderErrorEvent, ProviderId } from "./types.ts";

/**
 * Error types and codes that say "try again" without an HTTP status (errors sent mid-stream):
 * Anthropic's `overloaded_error` (HTTP 529), `api_error` (500), `rate_limit_error` (429) and
 * `timeout_error`; OpenAI's `server_error` and `rate_limit_exceeded`; Google's RPC statuses for
 * 429, 500, 503 and 504.
 */
const RETRYABLE_TYPES = new Set([
  "overloaded_error",
  "api_error",
  "rate_limit_error",
  "timeout_error",
  "server_error",
  "rate_limit_exceeded",
  "RESOURCE_EXHAUSTED",
  "INTERNAL",
  "UNAVAILABLE",
  "DEADLINE_EXCEEDED",
]);

/**
 * Whether an HTTP status is worth retrying: 408 (request timeout), 429 (rate limited) and every
 * 5xx (Anthropic's 529 overloaded included). Other 4xx are the request's fault and fail again.
 *
 * @example
 * ```ts
 * isRetryableStatus(429); // true
 * isRetryableStatus(400); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * Whether a provider error type or code, as sent in an error event or body, is worth retrying.
 *
 * @example
 * ```ts
 * isRetryableErrorType("overloaded_error"); // true
 * isRetryableErrorType("invalid_request_error"); // false
 * ```
 */
export function isRetryableErrorType(errorType: string | undefined): boolean {
  return errorType !== undefined && RETRYABLE_TYPES.has(errorType);
}

/** The subset of `Headers` read here, so plain objects with a `get` work too. */
export interface HeaderReader {
  get(name: string): string | null;
}

/**
 * How long the provider asked to wait, in milliseconds: `retry-after-ms` (a number of
 * milliseconds, sent by OpenAI and Anthropic) first, else `retry-after` as seconds or as an HTTP
 * date. Undefined when neither is present or readable; never negative.
 *
 * @example
 * ```ts
 * parseRetryAfter(new Headers({ "retry-after": "2" })); // 2000
 * parseRetryAfter(new Headers({ "retry-after-ms": "150" })); // 150
 * ```
 * @see https://www.rfc-editor.org/rfc/rfc9110#field.retry-after
 */
export function parseRetryAfter(
  headers: HeaderReader | undefined | null,
  now = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const ms = headers.get("retry-after-ms");
  if (ms !== null && ms.trim() !== "") {
    const value = Number(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headers.get("retry-after");
  if (after === null || after.trim() === "") return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(after);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Reads a provider's error payload, in any of the shapes the providers send:
 * OpenAI `{ error: { message, type, code } }`, Anthropic `{ type: "error", error: { type, message } }`,
 * the Responses API's `{ type: "error", code, message }`, Google `{ error: { code, message, status } }`
 * (also wrapped in an array), Ollama `{ error: "message" }`.
 */
export function readErrorPayload(payload: unknown): { errorType?: string; message?: string } {
  const body = Array.isArray(payload) ? payload[0] : payload;
  const error = field(body, "error");
  if (typeof error === "string") return { message: error };
  if (typeof error === "object" && error !== null) {
    const code = field(error, "code");
    return {
      // Google's numeric `code` is the HTTP status; its `status` names the error.
      errorType:
        stringField(error, "status") ??
        (typeof code === "string" ? code : undefined) ??
        stringField(error, "type") ??
        stringField(body, "type"),
      message: stringField(error, "message"),
    };
  }
  return {
    errorType: stringField(body, "code") ?? undefined,
    message: stringField(body, "message"),
  };
}

/**
 * Builds the normalized error event for an error payload sent inside a stream (no HTTP status).
 */
export function streamErrorEvent(payload: unknown, fallbackType = "error"): ProviderErrorEvent {
  const { errorType, message } = readErrorPayload(payload);
  const type = errorType ?? fallbackType;
  const code = numberField(field(payload, "error"), "code");
  const event: ProviderErrorEvent = {
    type: "error",
    errorType: type,
    message: message ?? `The provider sent an error (${type}).`,
    retryable: isRetryableErrorType(type),
  };
  if (code !== undefined && code >= 400 && code < 600) {
    event.status = code;
    event.retryable ||= isRetryableStatus(code);
  }
  return event;
}

/**
 * Builds the normalized error event for an HTTP error answer from its status, headers and body
 * text. `x-should-retry: true|false` (sent by OpenAI and Anthropic) overrides the status rule.
 *
 * @example
 * ```ts
 * const event = httpErrorEvent(429, new Headers({ "retry-after": "1" }),
 *   '{"error":{"message":"Slow down","type":"requests","code":"rate_limit_exceeded"}}');
 * // { type: "error", errorType: "rate_limit_exceeded", message: "Slow down", status: 429,
 * //   retryable: true, retryAfterMs: 1000 }
 * ```
 */
export function httpErrorEvent(
  status: number,
  headers: HeaderReader | undefined | null,
  bodyText: string,
  now = Date.now(),
): ProviderErrorEvent {
  let payload: unknown;
  try {
    payload = JSON.parse(bodyText);
  } catch {
    payload = undefined;
  }
  const { errorType, message } = payload === undefined ? {} : readErrorPayload(payload);
  const shouldRetry = headers?.get("x-should-retry");
  const retryable =
    shouldRetry === "true"
      ? true
      : shouldRetry === "false"
        ? false
        : isRetryableStatus(status) || isRetryableErrorType(errorType);
  const text = bodyText.trim();
  const event: ProviderErrorEvent = {
    type: "error",
    errorType: errorType ?? `http_${status}`,
    message:
      message ??
      (text && payload === undefined
        ? `HTTP ${status}: ${text.length > 200 ? `${text.slice(0, 200)}…` : text}`
        : `HTTP ${status}`),
    status,
    retryable,
  };
  const retryAfterMs = parseRetryAfter(headers, now);
  if (retryAfterMs !== undefined) event.retryAfterMs = retryAfterMs;
  return event;
}

/**
 * Maps an error thrown by an official SDK's stream (`openai`'s or `@anthropic-ai/sdk`'s
 * `APIError`, which both carry `status`, `headers` and the error body) to the normalized error
 * event. Returns undefined for anything else (an abort, a bug), which the caller should rethrow.
 *
 * @example
 * ```ts
 * try { for await (const chunk of sdkStream) ... } catch (error) {
 *   const event = errorFromSdk(error);
 *   if (!event) throw error;
 * }
 * ```
 */
export function errorFromSdk(error: unknown, now = Date.now()): ProviderErrorEvent | undefined {
  if (typeof error !== "object" || error === null) return undefined;
  const status = numberField(error, "status");
  const body = field(error, "error");
  const hasHeaders = typeof (field(error, "headers") as HeaderReader | undefined)?.get === "function";
  if (status === undefined && body === undefined && !hasHeaders) return undefined;
  const headers = hasHeaders ? (field(error, "headers") as HeaderReader) : undefined;
  // openai keeps `error` as the inner object; Anthropic keeps the whole body.
  const payload =
    field(body, "error") !== undefined || field(body, "type") === "error" ? body : { error: body };
  const read = body === undefined ? {} : readErrorPayload(payload);
  const errorType =
    read.errorType ??
    stringField(error, "type") ??
    stringField(error, "code") ??
    (status ? `http_${status}` : "error");
  const shouldRetry = headers?.get("x-should-retry");
  const event: ProviderErrorEvent = {
    type: "error",
    errorType,
    message:
      read.message ?? (error instanceof Error ? error.message : `The provider sent an error (${errorType}).`),
    retryable:
      shouldRetry === "true" ||
      (shouldRetry !== "false" &&
        ((status !== undefined && isRetryableStatus(status)) || isRetryableErrorType(errorType))),
  };
  if (status !== undefined) event.status = status;
  const retryAfterMs = parseRetryAfter(headers, now);
  if (retryAfterMs !== undefined) event.retryAfterMs = retryAfterMs;
  return event;
}

/** The most of an error body read, so a huge HTML error page costs little. */
const ERROR_BODY_LIMIT = 65_536;

/**
 * Reads an HTTP error `Response` (status not ok) into the normalized error event: the provider's
 * error type and message from its body, `retryable` from the status (or `x-should-retry`), and
 * `retryAfterMs` from the headers. Every provider's error body shape is understood, so `provider`
 * is only a hint and may be omitted.
 *
 * @example
 * ```ts
 * const response = await fetch(url, init);
 * if (!response.ok) {
 *   const error = await readErrorResponse(response, "anthropic");
 *   // { type: "error", errorType: "overloaded_error", status: 529, retryable: true, ... }
 * }
 * ```
 */
export async function readErrorResponse(
  response: Response,
  _provider?: ProviderId,
  now = Date.now(),
): Promise<ProviderErrorEvent> {
  let body = "";
  try {
    body = (await response.text()).slice(0, ERROR_BODY_LIMIT);
  } catch {
    // A body that breaks while read still leaves the status and headers to go by.
  }
  return httpErrorEvent(response.status, response.headers, body, now);
}
