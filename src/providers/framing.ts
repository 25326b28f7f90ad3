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

/** The most non-SSE text kept while waiting to see whether it is an unframed JSON error. */
const STRAY_KEPT = 64 * 1024;

/**
 * Feeding more than this at once would let one event longer than {@link MAX_EVENT_LENGTH} pass
 * whole through the framing's line scan, which checks its buffer only between feeds.
 */
const FEED_SLICE = 1024 * 1024;

/**
 * Tells, chunk by chunk, whether server-sent-event text carries anything but keep-alive traffic
 * (comment lines such as `: keep-alive`, blank lines). Linear: it stops looking at a chunk's lines
 * as soon as one carries a field, and only finds where the chunk's last line starts.
 */
function createKeepAliveScanner(): (text: string) => boolean {
  let lineStart = true;
  let inComment = false;
  const lineEnd = (text: string, from: number): number => {
    const lf = text.indexOf("\n", from);
    const cr = text.indexOf("\r", from);
    return lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
  };
  return (text) => {
    let activity = false;
    let i = 0;
    while (i < text.length && !activity) {
      if (lineStart) {
        const c = text.charCodeAt(i);
        if (c === 10 || c === 13) {
          i++;
          continue;
        }
        inComment = c === 58;
        lineStart = false;
      }
      const end = lineEnd(text, i);
      if (!inComment && end !== i) activity = true;
      if (end === -1) return activity;
      i = end + 1;
      lineStart = true;
    }
    if (i >= text.length) return activity;
    // Activity found: only the state at the chunk's end still matters.
    const lastLf = text.lastIndexOf("\n");
    const lastCr = text.lastIndexOf("\r");
    const last = Math.max(lastLf, lastCr);
    if (last < i - 1) return activity;
    if (last === text.length - 1) lineStart = true;
    else {
      lineStart = false;
      inComment = text.charCodeAt(last + 1) === 58;
    }
    return activity;
  };
}

/**
 * A decoder for server-sent events whose data lines hold JSON objects, each handed to `mapper`.
 * eventsource-parser does the framing (CR, LF and CRLF line ends, multi-line data, comments and
 * keep-alives, lines split across chunks). Once the mapper reports the provider's end signal (an
 * `end` event), everything after it is ignored. Text outside any SSE field that forms a JSON
 * object with an `error` member (Google writes its mid-stream errors so, without `data:`) is
 * handed to the mapper as an error payload.
 *
 * @see https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation
 */
export function createJsonSseDecoder(mapper: SdkEventMapper, onNonJson?: NonJsonHandler): WireDecoder {
  let out: ProviderEvent[] = [];
  let ending = false;
  let dispatched = 0;
  let strayLine: string | undefined;
  let stray = "";
  let stopped = false;
  let closed = false;
  let keepAliveOnly = false;
  const scan = createKeepAliveScanner();

  const emit = (events: ProviderEvent[]): void => {
    for (const event of events) {
      if (closed) return;
      out.push(event);
      if (event.type === "end") closed = true;
    }
  };

  const onEvent = (message: EventSourceMessage): void => {
    if (closed) return;
    dispatched++;
    stray = "";
    const data = message.data;
    const special = onNonJson?.(data);
    if (special !== undefined) {
      emit(special);
      return;
    }
    const parsed = parseJson(data);
    if (parsed.ok) {
      emit(mapper.map(parsed.value));
      return;
    }
    // A last event cut by the end of the body reads as a cut stream (no finish), not as garbage.
    if (ending) return;
    if (message.event === "error") {
      // Anthropic's SDK accepts a non-JSON error payload as the message itself.
      emit([{ type: "error", errorType: "error", message: data || "error event", retryable: false }]);
      return;
    }
    emit([malformedEvent(`A ${message.event ?? "data"} event is not valid JSON: ${snippet(data)}`)]);
  };

  /** Collects lines outside SSE; once they form a JSON error payload, reports it. */
  const onStray = (line: string): void => {
    if (closed) return;
    if (strayLine === undefined && dispatched === 0) strayLine = line;
    if (stray.length + line.length > STRAY_KEPT) return;
    stray = stray === "" ? line : `${stray}\n${line}`;
    const trimmed = line.trimEnd();
    if (!trimmed.endsWith("}") && !trimmed.endsWith("]")) return;
    const parsed = parseJson(stray);
    if (!parsed.ok) return;
    stray = "";
    // Google's non-SSE answer is an array of responses; its error tail an object or a one-item array.
    const payload = Array.isArray(parsed.value) ? parsed.value[parsed.value.length - 1] : parsed.value;
    const error = field(payload, "error");
    if (error !== undefined && error !== null) {
      strayLine = undefined;
      emit(mapper.map(payload));
    }
  };

  const parser = createParser({
    onEvent,
    maxBufferSize: MAX_EVENT_LENGTH,
    onError: (error) => {
      if (error.type === "max-buffer-size-exceeded") {
        stopped = true;
        if (!closed) out.push(tooLarge());
        return;
      }
      onStray(error.line ?? error.message);
    },
  });

  const feed = (text: string): void => {
    for (let at = 0; at < text.length && !stopped && !closed; at += FEED_SLICE) {
      parser.feed(text.length <= FEED_SLICE ? text : text.slice(at, at + FEED_SLICE));
    }
  };

  const take = (): ProviderEvent[] => {
    const events = out;
    out = [];
    return events;
  };

  return {
    get keepAliveOnly() {
      return keepAliveOnly;
    },
    push(text) {
      if (stopped || closed) {
        keepAliveOnly = false;
        return take();
      }
      keepAliveOnly = !scan(text);
      feed(text);
      return take();
    },
    end() {
      if (stopped || closed) return take();
      ending = true;
      // The spec discards an event without its blank line at the end of the body; a whole one
      // still carries the provider's end signal, so dispatch it (a cut one is dropped above).
      parser.feed("\n\n");
      ending = false;
      if (dispatched === 0 && strayLine !== undefined && !closed) {
        out.push(malformedEvent(`The body is not server-sent events; it starts with: ${snippet(strayLine)}`));
      }
      if (!closed) emit(mapper.end());
      return take();
    },
  };
}

/**
 * A decoder for newline-delimited JSON (Ollama): one JSON object a line, LF or CRLF, blank lines
 * skipped, a last line without its newline read at the end. Linear in the body: a line's pieces
 * are kept apart and joined once, when its newline arrives.
 */
export function createNdjsonDecoder(mapper: SdkEventMapper): WireDecoder {
  const pieces: string[] = [];
  let pending = 0;
  let stopped = false;
  let closed = false;
  let keepAliveOnly = false;

  const line = (raw: string, final: boolean, out: ProviderEvent[]): void => {
    if (closed) return;
    const text = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (text.trim() === "") return;
    const parsed = parseJson(text);
    const events = parsed.ok
      ? mapper.map(parsed.value)
      : final
        ? []
        : [malformedEvent(`A line is not valid JSON: ${snippet(text)}`)];
    for (const event of events) {
      if (closed) return;
      out.push(event);
      if (event.type === "end") closed = true;
    }
  };

  return {
    get keepAliveOnly() {
      return keepAliveOnly;
    },
    push(text) {
      const out: ProviderEvent[] = [];
      if (stopped || closed) return out;
      keepAliveOnly = !/\S/.test(text);
      let newline = text.indexOf("\n");
      if (newline === -1) {
        pieces.push(text);
        pending += text.length;
      } else if (pending + newline > MAX_EVENT_LENGTH) {
        pending += newline;
      } else {
        pieces.push(text.slice(0, newline));
        line(pieces.join(""), false, out);
        pieces.length = 0;
        pending = 0;
        let start = newline + 1;
        newline = text.indexOf("\n", start);
        while (newline !== -1 && !closed) {
          if (newline - start > MAX_EVENT_LENGTH) break;
          line(text.slice(start, newline), false, out);
          start = newline + 1;
          newline = text.indexOf("\n", start);
        }
        if (newline !== -1 && !closed) pending = MAX_EVENT_LENGTH + 1;
        else if (start < text.length && !closed) {
          pieces.push(text.slice(start));
          pending = text.length - start;
        }
      }
      if (pending > MAX_EVENT_LENGTH && !closed) {
        stopped = true;
        pieces.length = 0;
        out.push(tooLarge());
      }
      return out;
    },
    end() {
      const out: ProviderEvent[] = [];
      if (stopped || closed) return out;
      line(pieces.join(""), true, out);
      pieces.length = 0;
      if (!closed) out.push(...mapper.end());
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
