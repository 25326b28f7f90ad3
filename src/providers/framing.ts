import { createParser, type EventSourceMessage } from "eventsource-parser";
import type { ProviderErrorEvent, ProviderEvent, SdkEventMapper, WireDecoder } from "./types.ts";

const SNIPPET = 120;

/**
 * The most text one event (an SSE event, an NDJSON line) may hold before the decoder gives up
 * with a `limit_exceeded` error rather than buffer without end.
 *
 * @defaultValue 16 Mi characters
 * @example
 * ```ts
 * // A body without a single line break reads as one endless event:
 * createProviderDecoder("openai-chat").push("x".repeat(MAX_EVENT_LENGTH + 1)); // [{ errorType: "limit_exceeded", ... }]
 * ```
 */
export const MAX_EVENT_LENGTH = 16 * 1024 * 1024;

function tooLarge(): ProviderErrorEvent {
  return {
    type: "error",
    errorType: "limit_exceeded",
    message: `One stream event is longer than ${MAX_EVENT_LENGTH} characters; the body is not what this provider sends.`,
    retryable: false,
  };
}

function snippet(text: string): string {
  return text.length > SNIPPET ? `${text.slice(0, SNIPPET)}…` : text;
}

/** The error event for a stream event that is not the JSON it should be. */
export function malformedEvent(message: string): ProviderErrorEvent {
  return { type: "error", errorType: "malformed_event", message, retryable: false };
}

type Parsed = { ok: true; value: unknown } | { ok: false };

function parseJson(text: string): Parsed {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false };
  }
}

/** What a JSON-over-SSE adapter does with a data line that is not JSON (OpenAI's `[DONE]`). */
export type NonJsonHandler = (data: string) => ProviderEvent[] | undefined;

/**
 * A decoder for server-sent events whose data lines hold JSON objects, each handed to `mapper`.
 * eventsource-parser does the framing (CR, LF and CRLF line ends, multi-line data, comments and
 * keep-alives, lines split across chunks).
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createJsonSseDecoder(mapper: SdkEventMapper, onNonJson?: NonJsonHandler): WireDecoder {
  let out: ProviderEvent[] = [];
  let ending = false;
  let dispatched = 0;
  let strayLine: string | undefined;
  let stopped = false;

  const onEvent = (message: EventSourceMessage): void => {
    dispatched++;
    const data = message.data;
    const special = onNonJson?.(data);
    if (special !== undefined) {
      out.push(...special);
      return;
    }
    const parsed = parseJson(data);
    if (parsed.ok) {
      out.push(...mapper.map(parsed.value));
      return;
    }
    // A last event cut by the end of the body reads as a cut stream (no finish), not as garbage.
    if (ending) return;
    if (message.event === "error") {
      // Anthropic's SDK accepts a non-JSON error payload as the message itself.
      out.push({ type: "error", errorType: "error", message: data || "error event", retryable: false });
      return;
    }
    out.push(malformedEvent(`A ${message.event ?? "data"} event is not valid JSON: ${snippet(data)}`));
  };

  const parser = createParser({
    onEvent,
    maxBufferSize: MAX_EVENT_LENGTH,
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") {
        stopped = true;
        out.push(tooLarge());
        return;
      }
      // Remember the first line that is not SSE, to explain a body that is something else.
      if (strayLine === undefined && dispatched === 0) strayLine = error.line ?? error.message;
    },
  });

  const take = (): ProviderEvent[] => {
    const events = out;
    out = [];
    return events;
  };

  return {
    push(text) {
      if (!stopped) parser.feed(text);
      return take();
    },
    end() {
      if (stopped) return take();
      ending = true;
      // The spec discards an event without its blank line at the end of the body; a whole one
      // still carries the provider's end signal, so dispatch it (a cut one is dropped above).
      parser.feed("\n\n");
      ending = false;
      if (dispatched === 0 && strayLine !== undefined) {
        out.push(malformedEvent(`The body is not server-sent events; it starts with: ${snippet(strayLine)}`));
      }
      out.push(...mapper.end());
      return take();
    },
  };
}

/**
 * A decoder for newline-delimited JSON (Ollama): one JSON object a line, LF or CRLF, blank lines
 * skipped, a last line without its newline read at the end.
 */
export function createNdjsonDecoder(mapper: SdkEventMapper): WireDecoder {
  let buffer = "";
  let stopped = false;

  const line = (raw: string, final: boolean, out: ProviderEvent[]): void => {
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    const parsed = parseJson(text);
    if (parsed.ok) out.push(...mapper.map(parsed.value));
    else if (!final) out.push(malformedEvent(`A line is not valid JSON: ${snippet(text)}`));
  };

  return {
    push(text) {
      const out: ProviderEvent[] = [];
      if (stopped) return out;
      buffer += text;
      let start = 0;
      let newline = buffer.indexOf("\n", start);
      while (newline !== -1) {
        line(buffer.slice(start, newline), false, out);
        start = newline + 1;
        newline = buffer.indexOf("\n", start);
      }
      buffer = buffer.slice(start);
      if (buffer.length > MAX_EVENT_LENGTH) {
        stopped = true;
        buffer = "";
        out.push(tooLarge());
      }
      return out;
    },
    end() {
      const out: ProviderEvent[] = [];
      if (stopped) return out;
      line(buffer, true, out);
      buffer = "";
      out.push(...mapper.end());
      return out;
    },
  };
}

/** Reads a record field of an unknown value. */
export function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** A string field, or undefined. */
export function stringField(value: unknown, key: string): string | undefined {
  const v = field(value, key);
  return typeof v === "string" ? v : undefined;
}

/** A finite number field, or undefined. */
export function numberField(value: unknown, key: string): number | undefined {
  const v = field(value, key);
  return typeof v === "number" && Number.isFinite(v) ? v : undefined;
}

/** Drops the undefined fields of a usage record; undefined when none is left. */
export function compactUsage(usage: {
  inputTokens: number | undefined;
  outputTokens: number | undefined;
  totalTokens: number | undefined;
}): ProviderEvent | undefined {
  const result: Record<string, number> = {};
  for (const [key, value] of Object.entries(usage)) if (value !== undefined) result[key] = value;
  return Object.keys(result).length === 0 ? undefined : { type: "usage", usage: result };
}
