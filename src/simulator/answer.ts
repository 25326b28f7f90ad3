import { splitDeltas } from "./deltas.ts";
import type { Fault } from "./faults.ts";
import { generateValue } from "./generate-value.ts";
import { createRandom, type Random } from "./random.ts";
import { violateSchema } from "./violate-schema.ts";

/** The provider wire formats the simulator speaks. */
export type SimulatedProvider = "openai-chat" | "openai-responses" | "anthropic" | "gemini" | "ollama";

/**
 * Blocks a response may carry besides the answer, as the real APIs send them:
 * - `preamble`: a sentence of text before the answer's tool call (only when the request forces a
 *   tool: with a JSON-schema text answer the real APIs write no prose, and neither does this);
 * - `thinking`: reasoning before the answer (Anthropic `thinking` with its signature, Responses
 *   reasoning summaries, Gemini thought parts, Ollama `thinking`, chat `reasoning_content` as
 *   OpenAI-compatible servers send it);
 * - `tools`: two client tool calls (`lookup`, `get_time`) before the answer;
 * - `server-tool`: a tool the provider runs itself before the answer (Anthropic `web_search`,
 *   Responses `web_search_call`, Gemini code execution; chat and Ollama have none).
 */
export type SimBlock = "preamble" | "thinking" | "tools" | "server-tool";

/** Every {@link SimBlock}. */
export const SIM_BLOCKS: readonly SimBlock[] = ["preamble", "thinking", "tools", "server-tool"];

/** The extra blocks of one response, planned with the answer. */
export interface AnswerExtras {
  preamble?: string[];
  thinking?: string[];
  toolCalls?: { name: string; arguments: string; deltas: string[] }[];
  serverTool?: { name: string; query: string };
}

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
  /** Extra blocks to send besides the answer (the server fills this from options and headers). */
  blocks?: ReadonlySet<SimBlock>;
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
  /** Blocks before the answer (see {@link SimBlock}). */
  extras: AnswerExtras;
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
  const extras = planExtras(request, seed);
  const finishPlan = (kind: Answer["kind"], text: string, finish: Answer["finish"]): Answer => {
    const deltas = splitDeltas(text, { seed });
    const extraTokens =
      (extras.preamble?.length ?? 0) +
      (extras.thinking?.length ?? 0) +
      (extras.toolCalls ?? []).reduce((n, call) => n + call.deltas.length, 0);
    return {
      kind,
      text,
      deltas,
      finish,
      request,
      inputTokens,
      outputTokens: deltas.length + extraTokens,
      created,
      random,
      extras: kind === "refusal" ? {} : extras,
    };
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

function planExtras(request: SimRequest, seed: number | string): AnswerExtras {
  const blocks = request.blocks;
  if (blocks === undefined || blocks.size === 0) return {};
  const topic = request.prompt.trim().split(/\s+/).slice(0, 6).join(" ") || "the question";
  const extras: AnswerExtras = {};
  if (blocks.has("preamble") && request.tool !== undefined) {
    extras.preamble = splitDeltas(`I'll look into ${topic} and record the answer now.`, { seed });
  }
  if (blocks.has("thinking")) {
    extras.thinking = splitDeltas(
      `The user asks about ${topic}. I should fill every field the schema asks for, with values that fit its constraints.`,
      { seed },
    );
  }
  if (blocks.has("tools")) {
    extras.toolCalls = [
      { name: "lookup", arguments: JSON.stringify({ query: topic }) },
      { name: "get_time", arguments: JSON.stringify({ zone: "UTC" }) },
    ].map((call) => ({ ...call, deltas: splitDeltas(call.arguments, { seed }) }));
  }
  if (blocks.has("server-tool")) extras.serverTool = { name: "web_search", query: topic };
  return extras;
}
