import { StructreamError } from "../errors/index.ts";
import { getProvider, PROVIDER_IDS } from "../providers/index.ts";
import type { StructuredStreamOptions } from "./structured-stream.ts";

function invalid(option: string, allowed: string, got: unknown): StructreamError {
  return new StructreamError(
    "invalid_option",
    `structuredStream: \`${option}\` must be ${allowed}; got ${describe(got)}.`,
  );
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint")
    return String(value);
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : typeof value;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isSource(value: unknown): boolean {
  if (typeof value === "function") return true;
  if (typeof Response !== "undefined" && value instanceof Response) return true;
  if (typeof value !== "object" || value === null) return false;
  return (
    typeof (value as ReadableStream).getReader === "function" ||
    typeof (value as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function"
  );
}

function checkCount(options: Record<string, unknown>, key: string, name: string, min: number): void {
  const value = options[key];
  if (value === undefined) return;
  if (typeof value !== "number" || Number.isNaN(value) || value < min || !Number.isInteger(value)) {
    throw invalid(name, `an integer of at least ${min}`, value);
  }
}

function checkDuration(options: Record<string, unknown>, key: string, name: string, min: number): void {
  const value = options[key];
  if (value === undefined) return;
  // Infinity is allowed: it turns a time-out off.
  if (typeof value !== "number" || Number.isNaN(value) || value < min) {
    throw invalid(name, `a number of milliseconds of at least ${min} (or Infinity)`, value);
  }
}

function checkString(options: Record<string, unknown>, key: string): void {
  const value = options[key];
  if (value !== undefined && typeof value !== "string") throw invalid(key, "a string", value);
}

/**
 * Checks the options of `structuredStream` before anything starts, so a mistake surfaces where it
 * was made (synchronously, naming the option and what it may be) rather than as a failed
 * connection later. Options this file does not know are left alone (the types catch those).
 *
 * @throws a {@link StructreamError} with code `invalid_option`.
 */
export function checkOptions(options: StructuredStreamOptions): void {
  if (!isObject(options)) throw invalid("options", "an object", options);
  const o = options as unknown as Record<string, unknown>;
  if (o.source === undefined && o.request === undefined) {
    throw new StructreamError(
      "invalid_option",
      "structuredStream needs a `source` to read or a `request` to send; got neither.",
    );
  }
  if (o.source !== undefined && o.request !== undefined) {
    throw new StructreamError(
      "invalid_option",
      "structuredStream takes either a `source` or a `request`, not both.",
    );
  }
  if (o.source !== undefined && !isSource(o.source)) {
    throw invalid(
      "source",
      "a Response, a ReadableStream, an async iterable of chunks, or a function returning one",
      o.source,
    );
  }
  if (o.request !== undefined) {
    if (!isObject(o.request)) throw invalid("request", "an object with `model` and `messages`", o.request);
    if (typeof o.request.model !== "string" || o.request.model === "") {
      throw invalid("request.model", "a non-empty string", o.request.model);
    }
  }
  const providers = [...PROVIDER_IDS, "auto"];
  if (o.provider !== undefined) {
    if (typeof o.provider !== "string" || !providers.includes(o.provider)) {
      throw invalid("provider", `one of ${providers.map((p) => `"${p}"`).join(", ")}`, o.provider);
    }
    if (o.request !== undefined && o.provider !== "auto") {
      const adapter = getProvider(o.provider as (typeof PROVIDER_IDS)[number]);
      if (adapter.buildRequest === undefined) {
        const callable = PROVIDER_IDS.filter((id) => getProvider(id).buildRequest !== undefined);
        throw invalid(
          "provider",
          `one that can make requests (${callable.map((p) => `"${p}"`).join(", ")}) when \`request\` is given`,
          o.provider,
        );
      }
    }
  }
  if (o.validate !== undefined && o.validate !== "early" && o.validate !== "final") {
    throw invalid("validate", '"early" or "final"', o.validate);
  }
  if (o.lenient !== undefined && typeof o.lenient !== "boolean")
    throw invalid("lenient", "a boolean", o.lenient);
  if (o.atomic !== undefined) {
    if (!Array.isArray(o.atomic) || o.atomic.some((p) => typeof p !== "string")) {
      throw invalid("atomic", "an array of JSON Pointers (strings)", o.atomic);
    }
  }
  if (o.gate !== undefined) {
    if (
      !isObject(o.gate) ||
      Object.values(o.gate).some((keys) => !Array.isArray(keys) || keys.some((k) => typeof k !== "string"))
    ) {
      throw invalid("gate", "an object mapping JSON Pointers to arrays of keys", o.gate);
    }
  }
  if (o.retry !== undefined) {
    if (!isObject(o.retry)) throw invalid("retry", "an object", o.retry);
    checkCount(o.retry, "maxRetries", "retry.maxRetries", 0);
    checkDuration(o.retry, "baseDelayMs", "retry.baseDelayMs", 0);
    checkDuration(o.retry, "maxDelayMs", "retry.maxDelayMs", 0);
    checkDuration(o.retry, "maxRetryAfterMs", "retry.maxRetryAfterMs", 0);
  }
  checkCount(o, "maxRetries", "maxRetries", 0);
  checkDuration(o, "idleTimeoutMs", "idleTimeoutMs", 1);
  checkDuration(o, "timeoutMs", "timeoutMs", 1);
  checkCount(o, "maxDepth", "maxDepth", 1);
  checkCount(o, "maxLength", "maxLength", 1);
  if (o.signal !== undefined) {
    const signal = o.signal as AbortSignal | null;
    if (
      typeof signal !== "object" ||
      signal === null ||
      typeof signal.addEventListener !== "function" ||
      typeof signal.aborted !== "boolean"
    ) {
      throw invalid("signal", "an AbortSignal", o.signal);
    }
  }
  if (o.fetch !== undefined && typeof o.fetch !== "function") throw invalid("fetch", "a function", o.fetch);
  if (
    o.answer !== undefined &&
    o.answer !== "auto" &&
    o.answer !== "text" &&
    !(isObject(o.answer) && typeof o.answer.tool === "string" && o.answer.tool !== "")
  ) {
    throw invalid("answer", '"auto", "text" or { tool: "name" }', o.answer);
  }
  if (o.tools !== undefined) {
    if (
      !isObject(o.tools) ||
      Object.values(o.tools).some((t) => t === null || (typeof t !== "object" && typeof t !== "function"))
    ) {
      throw invalid("tools", "an object mapping tool names to schemas", o.tools);
    }
  }
  checkString(o, "apiKey");
  checkString(o, "baseURL");
  if (typeof o.baseURL === "string") {
    try {
      new URL(o.baseURL);
    } catch {
      throw invalid("baseURL", "an absolute URL such as https://api.openai.com/v1", o.baseURL);
    }
  }
  if (o.headers !== undefined) {
    if (!isObject(o.headers) || Object.values(o.headers).some((v) => typeof v !== "string")) {
      throw invalid("headers", "an object of string header values", o.headers);
    }
  }
  // arktype's types are functions.
  if (
    o.schema !== undefined &&
    (o.schema === null || (typeof o.schema !== "object" && typeof o.schema !== "function"))
  ) {
    throw invalid("schema", "a Standard Schema (zod, valibot, arktype) or a JSON Schema object", o.schema);
  }
}
