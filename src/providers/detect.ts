import { createParser, type EventSourceMessage } from "eventsource-parser";
import { field, stringField } from "./framing.ts";
import type { ProviderId } from "./types.ts";

/**
 * How much text detection reads before it gives up waiting for a first event.
 *
 * @example
 * ```ts
 * if (pending.length > DETECT_MAX_TEXT) throw new Error("no event in sight");
 * ```
 */
export const DETECT_MAX_TEXT = 65_536;

/** What {@link detectProvider} decided. */
export type DetectResult =
  | { provider: ProviderId }
  | {
      provider: undefined;
      /** True while more text could decide it: call again with the longer text. */
      needMore: boolean;
      /** Why it cannot tell, for a person (only final when `needMore` is false). */
      reason: string;
    };

const ANTHROPIC_TYPES = new Set([
  "message_start",
  "message_delta",
  "message_stop",
  "content_block_start",
  "content_block_delta",
  "content_block_stop",
  "ping",
]);

function snippet(text: string): string {
  const line = text.trim().slice(0, 60).replace(/\s+/g, " ");
  return text.trim().length > 60 ? `${line}…` : line;
}

/**
 * Names the provider of one parsed event object (a wire event's JSON, or an object an official
 * SDK's stream yields); undefined when its shape matches none.
 *
 * @example
 * ```ts
 * detectSdkProvider({ object: "chat.completion.chunk", choices: [] }); // "openai-chat"
 * detectSdkProvider({ type: "message_start", message: {} });           // "anthropic"
 * ```
 */
export function detectSdkProvider(event: unknown): ProviderId | undefined {
  if (typeof event === "string") return "text";
  if (typeof event !== "object" || event === null || Array.isArray(event)) return undefined;
  const type = stringField(event, "type");
  if (field(event, "object") === "chat.completion.chunk" || Array.isArray(field(event, "choices")))
    return "openai-chat";
  if (type?.startsWith("response.")) return "openai-responses";
  if (type !== undefined && ANTHROPIC_TYPES.has(type)) return "anthropic";
  if (type === "error") {
    // Anthropic nests the error; the Responses API puts code and message on the event.
    return typeof field(event, "error") === "object" ? "anthropic" : "openai-responses";
  }
  if (field(event, "candidates") !== undefined || field(event, "promptFeedback") !== undefined)
    return "gemini";
  if (
    typeof field(event, "done") === "boolean" &&
    (field(event, "message") !== undefined || field(event, "response") !== undefined)
  ) {
    return "ollama";
  }
  const error = field(event, "error");
  if (typeof error === "string") return "ollama";
  if (typeof error === "object" && error !== null) {
    // Google's errors carry an RPC status name; OpenAI's a type.
    return typeof field(error, "status") === "string" ? "gemini" : "openai-chat";
  }
  if (field(event, "usageMetadata") !== undefined) return "gemini";
  return undefined;
}

function firstSseMessage(text: string): EventSourceMessage | undefined {
  let first: EventSourceMessage | undefined;
  const parser = createParser({
    onEvent: (message) => {
      first ??= message;
    },
  });
  parser.feed(text);
  return first;
}

function fromSse(text: string, final: boolean): DetectResult {
  const message = firstSseMessage(final ? `${text}\n\n` : text);
  if (message === undefined) {
    return final || text.length > DETECT_MAX_TEXT
      ? {
          provider: undefined,
          needMore: false,
          reason: "The body holds no server-sent event to tell its provider by.",
        }
      : { provider: undefined, needMore: true, reason: "Waiting for the first server-sent event." };
  }
  const name = message.event;
  if (name?.startsWith("response.")) return { provider: "openai-responses" };
  if (name !== undefined && ANTHROPIC_TYPES.has(name)) return { provider: "anthropic" };
  if (message.data.trim() === "[DONE]") return { provider: "openai-chat" };
  let data: unknown;
  try {
    data = JSON.parse(message.data);
  } catch {
    return {
      provider: undefined,
      needMore: false,
      reason: `The first server-sent event is not JSON (${snippet(message.data)}); pass the provider explicitly.`,
    };
  }
  const provider = detectSdkProvider(data);
  if (provider !== undefined && provider !== "text" && provider !== "ollama") return { provider };
  return {
    provider: undefined,
    needMore: false,
    reason: `The first server-sent event matches no known provider (${snippet(message.data)}); pass the provider explicitly.`,
  };
}

/** What {@link detectProvider} reads. */
export interface DetectInput {
  /** The response's `content-type`, if known. */
  contentType?: string | null | undefined;
  /** The body's text so far (decoded). */
  text: string;
  /** True once the body has ended: no more text will come. @defaultValue false */
  final?: boolean;
}

const SSE_FIELDS = ["data:", "event:", "id:", "retry:"];
const OLLAMA_START = '{"model":';

const GEMINI_ARRAY = /^\[\s*\{\s*"(candidates|promptFeedback|usageMetadata|error)"/;

/**
 * Tells the provider of a streamed body from its content type and first text, for
 * `provider: "auto"`:
 * - `text/event-stream` (or a body that starts like SSE): by the first event's name or shape
 *   (`chat.completion.chunk` or `[DONE]`, `response.*`, `message_start`/`ping`, `candidates`);
 * - `application/x-ndjson`: Ollama; a body whose first line is an Ollama object
 *   (`done` and `message`/`response`), whatever its content type, too;
 * - `text/plain`, or JSON text that is no provider's envelope: `text`.
 *
 * It says clearly when it cannot: a non-streaming envelope (`stream: true` missing), Gemini
 * without `alt=sse`, prose where JSON or SSE was expected, an unknown first event. While the
 * first event is incomplete it answers `needMore` (never past {@link DETECT_MAX_TEXT} characters);
 * pass `final: true` once the body has ended.
 *
 * @example
 * ```ts
 * detectProvider({ contentType: "text/event-stream", text: 'data: {"choices":[]}\n\n' });
 * // { provider: "openai-chat" }
 * detectProvider({ contentType: "text/html", text: "<html>" });
 * // { provider: undefined, needMore: false, reason: "The body starts with \"<html>\", ..." }
 * ```
 */
export function detectProvider(input: DetectInput): DetectResult {
  const { contentType, text } = input;
  const final = input.final ?? false;
  const mediaType = contentType?.split(";")[0]?.trim().toLowerCase() || undefined;
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const start = body.trimStart();

  if (mediaType === "text/event-stream" || /^(data|event|id|retry):|^:/.test(start))
    return fromSse(body, final);
  if (mediaType === "application/x-ndjson") return { provider: "ollama" };
  if (start === "") {
    return final || body.length > DETECT_MAX_TEXT
      ? { provider: undefined, needMore: false, reason: "The body is empty." }
      : { provider: undefined, needMore: true, reason: "Waiting for the body's first characters." };
  }
  if (mediaType === "text/plain") return { provider: "text" };
  // Too short to tell "data:" from prose yet.
  if (!final && SSE_FIELDS.some((name) => name.length > start.length && name.startsWith(start))) {
    return { provider: undefined, needMore: true, reason: "Waiting for the body's first line." };
  }

  if (start.startsWith("{")) {
    const newline = start.indexOf("\n");
    const firstLine = newline === -1 ? (final ? start : undefined) : start.slice(0, newline);
    if (firstLine === undefined) {
      // Ollama's lines start with its model name; wait for the whole line only then.
      const compact = start.replace(/\s+/g, "");
      const couldBeOllama =
        compact.length < OLLAMA_START.length
          ? OLLAMA_START.startsWith(compact)
          : compact.startsWith(OLLAMA_START);
      if (couldBeOllama && start.length <= DETECT_MAX_TEXT) {
        return { provider: undefined, needMore: true, reason: "Waiting for the first line." };
      }
      return { provider: "text" };
    }
    let value: unknown;
    try {
      value = JSON.parse(firstLine);
    } catch {
      return { provider: "text" };
    }
    const provider = detectSdkProvider(value);
    if (provider === "ollama" && typeof field(value, "error") !== "string") return { provider };
    if (field(value, "error") !== undefined && Object.keys(value as object).length <= 2) {
      const error = field(value, "error");
      const message =
        typeof error === "string" ? error : (stringField(error, "message") ?? snippet(firstLine));
      return { provider: undefined, needMore: false, reason: `The body is an error: ${message}` };
    }
    if (Array.isArray(field(value, "choices")) || field(value, "object") === "response") {
      return {
        provider: undefined,
        needMore: false,
        reason: "The body is a non-streaming OpenAI response; send the request with stream: true.",
      };
    }
    if (stringField(value, "type") === "message" && Array.isArray(field(value, "content"))) {
      return {
        provider: undefined,
        needMore: false,
        reason: "The body is a non-streaming Anthropic message; send the request with stream: true.",
      };
    }
    return { provider: "text" };
  }
  if (start.startsWith("[")) {
    if (GEMINI_ARRAY.test(start)) {
      return {
        provider: undefined,
        needMore: false,
        reason: "The body is Gemini's JSON-array stream; request streamGenerateContent with ?alt=sse.",
      };
    }
    if (!final && start.length < 64 && /^\[\s*(\{\s*("\w*)?)?$/.test(start)) {
      return { provider: undefined, needMore: true, reason: "Waiting for the first array element." };
    }
    return { provider: "text" };
  }
  return {
    provider: undefined,
    needMore: false,
    reason: `The body starts with "${snippet(start)}", which is neither server-sent events, NDJSON nor JSON; pass provider: "text" (with lenient: true for prose around the JSON) or the right provider.`,
  };
}
