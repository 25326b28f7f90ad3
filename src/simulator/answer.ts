import { splitDeltas } from "./deltas.ts";
import type { Fault } from "./faults.ts";
import { generateValue } from "./generate-value.ts";
import { createRandom, type Random } from "./random.ts";
import { violateSchema } from "./violate-schema.ts";

/** The provider wire formats the simulator speaks. */
export type SimulatedProvider = "openai-chat" | "openai-responses" | "anthropic" | "gemini" | "ollama";

/** What the simulator needs from a provider request, whatever its shape. */
export interface SimRequest {
  model: string;
  /** The last user message's text. */
  prompt: string;
  /** The JSON Schema the answer follows; undefined: {@link DEFAULT_ANSWER_SCHEMA}. */
  schema: unknown;
  /** The name of the tool the request forces; the answer streams as that tool's arguments. */
  tool?: string;
  stream: boolean;
  /** OpenAI Chat `stream_options.include_usage`. */
  includeUsage?: boolean;
  /** Gemini: `alt=sse` (true) or the streamed JSON array (false). */
  sse?: boolean;
  /** The request body, for the fields a provider echoes back (Responses echoes most of them). */
  body: Record<string, unknown>;
}

/** One response's content, before any wire format. */
export interface Answer {
  /** `"json"`: `text` is the answer's JSON (possibly cut or broken by a fault); `"refusal"`: a refusal message. */
  kind: "json" | "refusal";
  text: string;
  deltas: string[];
  finish: "stop" | "length" | "refusal";
  request: SimRequest;
  inputTokens: number;
  outputTokens: number;
  /** Unix seconds. */
  created: number;
  /** Seeded, for ids. */
  random: Random;
}

/**
 * The schema of answers to requests that ask for JSON without giving a schema (`json_object`,
 * Ollama's `format: "json"`, no format at all).
 */
export const DEFAULT_ANSWER_SCHEMA = {
  type: "object",
  properties: {
    title: { type: "string" },
    summary: { type: "string" },
    points: { type: "array", items: { type: "string" }, minItems: 2, maxItems: 4 },
  },
  required: ["title", "summary", "points"],
  additionalProperties: false,
} as const;

export const REFUSAL_MESSAGE = "I'm sorry, but I can't help with that request.";

/** Breaks JSON text the way models do: a trailing comma before the last closing bracket. */
function breakJson(text: string): string {
  const last = Math.max(text.lastIndexOf("}"), text.lastIndexOf("]"));
  if (last > 0 && text.length - last <= 1 && text[last - 1] !== "{" && text[last - 1] !== "[")
    return `${text.slice(0, last)},${text.slice(last)}`;
  return `${text},`;
}

/** Builds the content of one response from the request, the fault in force and the seed. */
export function planAnswer(
  request: SimRequest,
  fault: Fault,
  seed: number | string,
  requestNumber: number,
): Answer {
  const schema = request.schema ?? DEFAULT_ANSWER_SCHEMA;
  const random = createRandom(`${String(seed)}\u0000ids\u0000${requestNumber}`);
  const created = Math.floor(Date.now() / 1000);
  const inputTokens = Math.ceil((request.prompt.length + (JSON.stringify(schema)?.length ?? 0)) / 4) + 8;
  const finishPlan = (kind: Answer["kind"], text: string, finish: Answer["finish"]): Answer => {
    const deltas = splitDeltas(text, { seed });
    return { kind, text, deltas, finish, request, inputTokens, outputTokens: deltas.length, created, random };
  };

  if (fault.kind === "refusal") return finishPlan("refusal", REFUSAL_MESSAGE, "refusal");

  let value = generateValue(schema, { seed, prompt: request.prompt });
  if (fault.kind === "schema-violation") value = violateSchema(schema, value).value;
  let text = JSON.stringify(value);
  if (fault.kind === "invalid-json") text = breakJson(text);
  if (fault.kind === "truncate") {
    const chars = Array.from(text);
    const at = Math.min(fault.at ?? Math.floor(chars.length * 0.6), Math.max(0, chars.length - 1));
    return finishPlan("json", chars.slice(0, at).join(""), "length");
  }
  return finishPlan("json", text, "stop");
}
