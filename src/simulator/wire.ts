import type { Answer, SimRequest, SimulatedProvider } from "./answer.ts";
import type { Random } from "./random.ts";
import { isObject } from "./schema-walk.ts";

/** One write of a stream; `delta` frames are spaced by the pace's between-deltas delay. */
export interface Frame {
  text: string;
  delta: boolean;
}

/** A response stream in one provider's format. */
export interface WireStream {
  contentType: string;
  frames: Frame[];
  /** Index of the first content frame, and of the first frame after the content (the end of the stream). */
  contentStart: number;
  contentEnd: number;
  /** The provider's mid-stream error event, written as frame number `index`. */
  errorFrame(index: number): string;
  /** A data line that is not JSON, in the provider's framing, written as frame number `index`. */
  malformedFrame(index: number): string;
}

/** A provider's error response. */
export interface WireError {
  body: unknown;
  contentType?: string;
}

/** Everything the server needs to speak one provider's API. */
export interface WireFormat {
  provider: SimulatedProvider;
  /** The header that carries the request id in this provider's responses. */
  requestIdHeader?: string;
  /** Reads the request; throws {@link BadRequest} for what the real API answers with 400. */
  parse(body: Record<string, unknown>, url: URL): SimRequest;
  stream(answer: Answer, requestId: string): WireStream;
  /** The non-streaming response body. */
  complete(answer: Answer, requestId: string): unknown;
  error(status: number, message: string | undefined, requestId: string): WireError;
  /** The HTTP status that stands for a mid-stream error in a non-streaming response. */
  midStreamErrorStatus: number;
}

/** A request the real API would reject with 400 (its message is the provider's error message). */
export class BadRequest extends Error {}

/** One SSE event: optional `event:` name, one `data:` line, blank line. */
export function sse(data: unknown, event?: string, newline = "\n"): string {
  return `${event === undefined ? "" : `event: ${event}${newline}`}data: ${JSON.stringify(data)}${newline}${newline}`;
}

/** An id like the provider's: `prefix` and `length` random characters. */
export function makeId(random: Random, prefix: string, length: number, alphabet = ALPHANUMERIC): string {
  let out = prefix;
  for (let i = 0; i < length; i++) out += alphabet[random.int(0, alphabet.length - 1)];
  return out;
}

export const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
export const HEX = "0123456789abcdef";

/** The text of a message's content: a string, or the text parts of a part list. */
export function textOf(content: unknown): string {
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) return "";
  return content
    .map((part) =>
      typeof part === "string" ? part : isObject(part) && typeof part.text === "string" ? part.text : "",
    )
    .filter((text) => text !== "")
    .join("\n");
}

/** The last message whose role is `role` (or has no role, when `roleless` allows it). */
export function lastWithRole(
  messages: unknown,
  role: string,
  roleless = false,
): Record<string, unknown> | undefined {
  if (!Array.isArray(messages)) return undefined;
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (isObject(message) && (message.role === role || (roleless && message.role === undefined)))
      return message;
  }
  return undefined;
}

/** Cuts an event's JSON in the middle: what a broken proxy or a buggy server sends. */
export function cutJson(data: unknown): string {
  const json = JSON.stringify(data);
  return json.slice(0, Math.max(1, Math.floor(json.length / 2)));
}

export function stringField(body: Record<string, unknown>, key: string, fallback: string): string {
  const value = body[key];
  return typeof value === "string" && value !== "" ? value : fallback;
}
