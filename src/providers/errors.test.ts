import { APIError as AnthropicAPIError } from "@anthropic-ai/sdk";
import { APIError as OpenAIAPIError } from "openai";
import { describe, expect, it } from "vitest";
import {
  errorFromSdk,
  httpErrorEvent,
  isRetryableErrorType,
  isRetryableStatus,
  parseRetryAfter,
  readErrorResponse,
} from "./index.ts";

const NOW = Date.parse("2025-01-01T00:00:00Z");

describe("parseRetryAfter", () => {
  it("prefers retry-after-ms, then reads retry-after as seconds or as an HTTP date", () => {
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "150", "retry-after": "9" }))).toBe(150);
    expect(parseRetryAfter(new Headers({ "retry-after": "2" }))).toBe(2000);
    expect(parseRetryAfter(new Headers({ "retry-after": "0.5" }))).toBe(500);
    expect(parseRetryAfter(new Headers({ "retry-after": "Wed, 01 Jan 2025 00:00:30 GMT" }), NOW)).toBe(
      30_000,
    );
  });

  it("never goes negative and ignores what it cannot read", () => {
    expect(parseRetryAfter(new Headers({ "retry-after": "Tue, 31 Dec 2024 00:00:00 GMT" }), NOW)).toBe(0);
    expect(parseRetryAfter(new Headers({ "retry-after": "soon" }))).toBeUndefined();
    expect(parseRetryAfter(new Headers({ "retry-after-ms": "x", "retry-after": "1" }))).toBe(1000);
    expect(parseRetryAfter(new Headers())).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe("retry rules", () => {
  it("retries 408, 429 and 5xx (529 included), and no other 4xx", () => {
    expect([408, 429, 500, 503, 529].map(isRetryableStatus)).toEqual([true, true, true, true, true]);
    expect([400, 401, 403, 404, 409, 422].map(isRetryableStatus)).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it("retries overloaded and server error types sent mid-stream", () => {
    expect(isRetryableErrorType("overloaded_error")).toBe(true);
    expect(isRetryableErrorType("UNAVAILABLE")).toBe(true);
    expect(isRetryableErrorType("invalid_request_error")).toBe(false);
    expect(isRetryableErrorType(undefined)).toBe(false);
  });
});

describe("httpErrorEvent", () => {
  it("reads OpenAI's error body and the rate-limit headers", () => {
    const body = JSON.stringify({
      error: { message: "Rate limit reached", type: "requests", param: null, code: "rate_limit_exceeded" },
    });
    expect(httpErrorEvent(429, new Headers({ "retry-after-ms": "20" }), body)).toEqual({
      type: "error",
      errorType: "rate_limit_exceeded",
      message: "Rate limit reached",
      status: 429,
      retryable: true,
      retryAfterMs: 20,
    });
  });

  it("reads Anthropic's error body: overloaded (529) is retryable, invalid_request (400) is not", () => {
    const overloaded = JSON.stringify({
      type: "error",
      error: { type: "overloaded_error", message: "Overloaded" },
    });
    expect(httpErrorEvent(529, new Headers(), overloaded)).toMatchObject({
      errorType: "overloaded_error",
      retryable: true,
      status: 529,
    });
    const invalid = JSON.stringify({
      type: "error",
      error: { type: "invalid_request_error", message: "max_tokens: Field required" },
    });
    expect(httpErrorEvent(400, new Headers(), invalid)).toMatchObject({
      errorType: "invalid_request_error",
      message: "max_tokens: Field required",
      retryable: false,
    });
  });

  it("reads Google's error body, also wrapped in an array", () => {
    const error = {
      error: { code: 429, message: "Resource has been exhausted", status: "RESOURCE_EXHAUSTED" },
    };
    const expected = {
      errorType: "RESOURCE_EXHAUSTED",
      message: "Resource has been exhausted",
      retryable: true,
    };
    expect(httpErrorEvent(429, null, JSON.stringify(error))).toMatchObject(expected);
    expect(httpErrorEvent(429, null, JSON.stringify([error]))).toMatchObject(expected);
  });

  it("reads Ollama's string error, and a body that is not JSON", () => {
    expect(
      httpErrorEvent(404, null, '{"error":"model \\"llama9\\" not found, try pulling it first"}'),
    ).toEqual({
      type: "error",
      errorType: "http_404",
      message: 'model "llama9" not found, try pulling it first',
      status: 404,
      retryable: false,
    });
    expect(httpErrorEvent(502, null, "<html>Bad Gateway</html>")).toMatchObject({
      errorType: "http_502",
      message: "HTTP 502: <html>Bad Gateway</html>",
      retryable: true,
    });
  });

  it("obeys x-should-retry over the status rule", () => {
    expect(httpErrorEvent(409, new Headers({ "x-should-retry": "true" }), "")).toMatchObject({
      retryable: true,
    });
    expect(httpErrorEvent(500, new Headers({ "x-should-retry": "false" }), "")).toMatchObject({
      retryable: false,
    });
  });

  it("reads a Response", async () => {
    const response = new Response(
      JSON.stringify({ error: { message: "Bad key", type: "invalid_request_error" } }),
      {
        status: 401,
        headers: { "content-type": "application/json" },
      },
    );
    expect(await readErrorResponse(response, "openai-chat")).toEqual({
      type: "error",
      errorType: "invalid_request_error",
      message: "Bad key",
      status: 401,
      retryable: false,
    });
  });
});

describe("errorFromSdk", () => {
  it("maps openai's APIError with its status, code and retry headers", () => {
    const error = new OpenAIAPIError(
      429,
      { message: "Slow down", type: "requests", code: "rate_limit_exceeded", param: null },
      undefined,
      new Headers({ "retry-after": "3" }),
    );
    expect(errorFromSdk(error)).toEqual({
      type: "error",
      errorType: "rate_limit_exceeded",
      message: "Slow down",
      status: 429,
      retryable: true,
      retryAfterMs: 3000,
    });
  });

  it("maps @anthropic-ai/sdk's APIError thrown for an error event mid-stream", () => {
    const body = { type: "error", error: { type: "overloaded_error", message: "Overloaded" } };
    const error = new AnthropicAPIError(undefined, body, undefined, new Headers(), "overloaded_error");
    expect(errorFromSdk(error)).toEqual({
      type: "error",
      errorType: "overloaded_error",
      message: "Overloaded",
      retryable: true,
    });
  });

  it("returns undefined for anything that is not a provider error", () => {
    expect(errorFromSdk(new TypeError("x is not a function"))).toBeUndefined();
    expect(errorFromSdk("boom")).toBeUndefined();
  });
});
