import { StructreamError } from "../errors/index.ts";
import {
  type JsonSchemaObject,
  restoreOptionalNulls,
  toAnthropicSchema,
  toStrictJsonSchema,
} from "./strict-schema.ts";
import type { BuiltRequest, ProviderId, ProviderRequest, RequestMessage, RequestOptions } from "./types.ts";

/**
 * The public APIs' base URLs; `baseURL` replaces them (an OpenAI-compatible server's `/v1`, a
 * proxy, a regional endpoint).
 *
 * @example
 * ```ts
 * // vLLM, llama.cpp, LM Studio and Ollama's /v1 speak "openai-chat":
 * buildOpenAIChatRequest({ schema, request, baseURL: "http://localhost:11434/v1" });
 * DEFAULT_BASE_URLS.anthropic; // "https://api.anthropic.com/v1"
 * ```
 */
export const DEFAULT_BASE_URLS: Readonly<Record<Exclude<ProviderId, "text">, string>> = {
  "openai-chat": "https://api.openai.com/v1",
  "openai-responses": "https://api.openai.com/v1",
  anthropic: "https://api.anthropic.com/v1",
  gemini: "https://generativelanguage.googleapis.com/v1beta",
  ollama: "http://localhost:11434",
};

/**
 * The Messages API version this layer speaks (the `anthropic-version` header).
 *
 * @example
 * ```ts
 * fetch(url, { headers: { "anthropic-version": ANTHROPIC_VERSION } });
 * ```
 */
export const ANTHROPIC_VERSION = "2023-06-01";

/**
 * Anthropic requires `max_tokens`; this is sent when the request has none.
 * @defaultValue 4096
 * @example
 * ```ts
 * buildAnthropicRequest({ schema, request: { model, messages, max_tokens: 1024 } }); // overrides it
 * ```
 */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/**
 * Reads a provider's API key and base URL from the environment, the way the official SDKs do
 * (`OPENAI_API_KEY`/`OPENAI_BASE_URL`, `ANTHROPIC_API_KEY`/`ANTHROPIC_BASE_URL`,
 * `GEMINI_API_KEY` or `GOOGLE_API_KEY`, `OLLAMA_HOST`). Empty outside Node-like runtimes.
 *
 * @example
 * ```ts
 * const { apiKey, baseURL } = providerEnv("openai-chat");
 * ```
 */
export function providerEnv(provider: ProviderId): { apiKey?: string; baseURL?: string } {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env ?? {};
  const pick = (...names: string[]) =>
    names.map((name) => env[name]).find((value) => value !== undefined && value !== "");
  const result: { apiKey?: string; baseURL?: string } = {};
  let apiKey: string | undefined;
  let baseURL: string | undefined;
  switch (provider) {
    case "openai-chat":
    case "openai-responses":
      apiKey = pick("OPENAI_API_KEY");
      baseURL = pick("OPENAI_BASE_URL");
      break;
    case "anthropic":
      apiKey = pick("ANTHROPIC_API_KEY");
      baseURL = pick("ANTHROPIC_BASE_URL");
      break;
    case "gemini":
      apiKey = pick("GEMINI_API_KEY", "GOOGLE_API_KEY");
      break;
    case "ollama": {
      const host = pick("OLLAMA_HOST");
      if (host) baseURL = /^https?:\/\//.test(host) ? host : `http://${host}`;
      break;
    }
    default:
      break;
  }
  if (apiKey !== undefined) result.apiKey = apiKey;
  if (baseURL !== undefined) result.baseURL = baseURL;
  return result;
}

function joinURL(base: string, path: string): string {
  return `${base.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`;
}

/** A schema name the APIs accept: `[a-zA-Z0-9_-]{1,64}`. */
function schemaNameOf(options: RequestOptions): string {
  const name = (options.schemaName ?? "response").replace(/[^a-zA-Z0-9_-]/g, "_").slice(0, 64);
  return name === "" ? "response" : name;
}

function finish(
  url: string,
  headers: Record<string, string>,
  body: Record<string, unknown>,
  options: RequestOptions,
  extra: Pick<BuiltRequest, "restore" | "schemaNotes"> = {},
): BuiltRequest {
  const init: BuiltRequest["init"] = {
    method: "POST",
    headers: { ...headers, ...options.headers },
    body: JSON.stringify(body),
  };
  if (options.signal) init.signal = options.signal;
  const built: BuiltRequest = { url, init, body };
  if (extra.restore) built.restore = extra.restore;
  if (extra.schemaNotes && extra.schemaNotes.length > 0) built.schemaNotes = extra.schemaNotes;
  return built;
}

function splitRequest(request: ProviderRequest): {
  model: string;
  messages: readonly RequestMessage[];
  rest: Record<string, unknown>;
} {
  const { model, messages = [], ...rest } = request;
  if (typeof model !== "string" || model === "") {
    throw new StructreamError("invalid_request", "The request needs a model (request.model).");
  }
  return { model, messages, rest };
}

/**
 * Moves the portable sampling parameters (OpenAI's names: `temperature`, `top_p`, `top_k`,
 * `max_tokens`, `stop`, `seed`) to where a provider wants them, renamed; native names pass as they
 * are. Returns the moved ones and the rest.
 */
function movePortable(
  rest: Record<string, unknown>,
  names: Record<string, string>,
): { moved: Record<string, unknown>; rest: Record<string, unknown> } {
  const moved: Record<string, unknown> = {};
  const left: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(rest)) {
    const target = names[key];
    if (target === undefined) left[key] = value;
    else if (value !== undefined)
      moved[target] = key === "stop" && typeof value === "string" ? [value] : value;
  }
  return { moved, rest: left };
}

function openAIHeaders(options: RequestOptions): Record<string, string> {
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return headers;
}

function strictFormat(options: RequestOptions): {
  schema: JsonSchemaObject;
  strict: boolean;
  restore?: (value: unknown) => unknown;
  notes: string[];
} {
  const rewrite = toStrictJsonSchema(options.schema);
  const original = options.schema;
  const result: ReturnType<typeof strictFormat> = {
    schema: rewrite.schema,
    strict: rewrite.representable,
    notes: rewrite.representable ? rewrite.notes : ["Sent with strict: false.", ...rewrite.notes],
  };
  if (rewrite.nullableOptionals) result.restore = (value) => restoreOptionalNulls(value, original);
  return result;
}

/**
 * Builds an OpenAI Chat Completions streaming request with `response_format: { type:
 * "json_schema", json_schema: { name, schema, strict } }`, the schema rewritten for strict mode
 * (or sent with `strict: false` when strict mode cannot express it), and
 * `stream_options.include_usage` (pass `stream_options: null` for a server that rejects it).
 *
 * @example
 * ```ts
 * const { url, init } = buildOpenAIChatRequest({
 *   schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   request: { model: "gpt-4o-mini", messages: [{ role: "user", content: "Where is the Louvre?" }] },
 *   apiKey: process.env.OPENAI_API_KEY,
 * });
 * const response = await fetch(url, init);
 * ```
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
export function buildOpenAIChatRequest(options: RequestOptions): BuiltRequest {
  const { model, messages, rest } = splitRequest(options.request);
  const format = strictFormat(options);
  const body: Record<string, unknown> = {
    model,
    messages,
    stream: true,
    stream_options: { include_usage: true },
    response_format: {
      type: "json_schema",
      json_schema: { name: schemaNameOf(options), schema: format.schema, strict: format.strict },
    },
    ...rest,
  };
  if (body.stream_options === null) delete body.stream_options;
  const url = joinURL(options.baseURL ?? DEFAULT_BASE_URLS["openai-chat"], "chat/completions");
  return finish(url, openAIHeaders(options), body, options, {
    restore: format.restore,
    schemaNotes: format.notes,
  });
}

/**
 * Builds an OpenAI Responses API streaming request with `text.format: { type: "json_schema",
 * name, schema, strict }` (schema rewritten for strict mode as for Chat Completions); the
 * messages are sent as `input` unless the request has its own `input`.
 *
 * @example
 * ```ts
 * const { url, init } = buildOpenAIResponsesRequest({
 *   schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   request: { model: "gpt-4.1-mini", messages: [{ role: "user", content: "Where is the Louvre?" }] },
 * });
 * ```
 * @see https://platform.openai.com/docs/api-reference/responses/create
 */
export function buildOpenAIResponsesRequest(options: RequestOptions): BuiltRequest {
  const { model, messages, rest } = splitRequest(options.request);
  const format = strictFormat(options);
  const portable = movePortable(rest, { max_tokens: "max_output_tokens" });
  const { text, ...others } = { ...portable.rest, ...portable.moved };
  const body: Record<string, unknown> = {
    model,
    input: messages,
    stream: true,
    ...others,
    text: {
      format: {
        type: "json_schema",
        name: schemaNameOf(options),
        schema: format.schema,
        strict: format.strict,
      },
      ...(typeof text === "object" && text !== null ? text : {}),
    },
  };
  const url = joinURL(options.baseURL ?? DEFAULT_BASE_URLS["openai-responses"], "responses");
  return finish(url, openAIHeaders(options), body, options, {
    restore: format.restore,
    schemaNotes: format.notes,
  });
}

/** The text of a message's content: the string itself, or its text parts joined. */
function textOf(content: RequestMessage["content"]): string {
  if (typeof content === "string") return content;
  return content
    .map((part) => (typeof part === "string" ? part : ((part as { text?: unknown }).text ?? "")))
    .filter((text): text is string => typeof text === "string" && text !== "")
    .join("\n");
}

const isSystem = (message: RequestMessage) => message.role === "system" || message.role === "developer";

/**
 * Builds an Anthropic Messages streaming request. System and developer messages become the
 * top-level `system`; `max_tokens` defaults to {@link DEFAULT_ANTHROPIC_MAX_TOKENS}. The answer's
 * format is structured outputs (`output_config: { format: { type: "json_schema", schema } }`,
 * the schema adapted as the official SDK does), or, with `anthropicMode: "tool"` or a schema
 * structured outputs cannot express, one forced tool (`tools: [{ name, input_schema }]`,
 * `tool_choice: { type: "tool", name }`) whose input streams as the answer.
 *
 * @example
 * ```ts
 * const { url, init } = buildAnthropicRequest({
 *   schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   request: { model: "claude-sonnet-4-5", messages: [{ role: "user", content: "Where is the Louvre?" }] },
 *   apiKey: process.env.ANTHROPIC_API_KEY,
 * });
 * ```
 * @see https://docs.claude.com/en/api/messages
 */
export function buildAnthropicRequest(options: RequestOptions): BuiltRequest {
  const { model, messages, rest } = splitRequest(options.request);
  const system = messages.filter(isSystem).map((message) => textOf(message.content));
  const conversation = messages.filter((message) => !isSystem(message));
  const mode = options.anthropicMode ?? "auto";
  const rewrite = toAnthropicSchema(options.schema);
  const useTool = mode === "tool" || (mode === "auto" && !rewrite.representable);
  const name = schemaNameOf(options);
  const notes = !useTool
    ? rewrite.notes
    : mode === "auto"
      ? ["Structured outputs cannot express the schema; sent as a forced tool.", ...rewrite.notes]
      : [];

  const body: Record<string, unknown> = {
    model,
    max_tokens: DEFAULT_ANTHROPIC_MAX_TOKENS,
    ...(system.length > 0 ? { system: system.join("\n\n") } : {}),
    messages: conversation,
    stream: true,
  };
  if (useTool) {
    const root = options.schema;
    if (root.type !== "object" && typeof root.properties !== "object") {
      throw new StructreamError(
        "unsupported_schema",
        "Anthropic needs an object at the root of the schema; wrap the value in one (e.g. { items: [...] }).",
      );
    }
    body.tools = [{ name, description: "Give the answer as this tool's input.", input_schema: root }];
    body.tool_choice = { type: "tool", name };
  } else {
    if (!rewrite.representable) {
      throw new StructreamError(
        "unsupported_schema",
        `Anthropic structured outputs cannot express the schema (${rewrite.notes.join(" ")}); use anthropicMode: "tool".`,
      );
    }
    body.output_config = { format: { type: "json_schema", schema: rewrite.schema } };
  }
  const portable = movePortable(rest, { stop: "stop_sequences" });
  const { output_config: outputConfig, ...others } = { ...portable.rest, ...portable.moved };
  Object.assign(body, others);
  if (typeof outputConfig === "object" && outputConfig !== null) {
    body.output_config = { ...(body.output_config as object | undefined), ...outputConfig };
  }
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "text/event-stream",
    "anthropic-version": ANTHROPIC_VERSION,
  };
  if (options.apiKey) headers["x-api-key"] = options.apiKey;
  const url = joinURL(options.baseURL ?? DEFAULT_BASE_URLS.anthropic, "messages");
  return finish(url, headers, body, options, { schemaNotes: notes });
}

function geminiParts(content: RequestMessage["content"]): unknown[] {
  if (typeof content === "string") return [{ text: content }];
  return content.map((part) => {
    if (typeof part === "string") return { text: part };
    const record = part as Record<string, unknown>;
    // OpenAI-shaped text parts become Gemini text parts; native parts pass through.
    return record.type === "text" && typeof record.text === "string" ? { text: record.text } : part;
  });
}

/**
 * Builds a Gemini `streamGenerateContent?alt=sse` request with `generationConfig:
 * { responseMimeType: "application/json", responseJsonSchema }` (the JSON Schema as given). The
 * messages become `contents` (`assistant` is `model`; system and developer messages are the
 * `systemInstruction`), unless the request has its own `contents`; the portable parameters
 * (`temperature`, `top_p`, `top_k`, `max_tokens`, `stop`, `seed`) move into `generationConfig`.
 *
 * @example
 * ```ts
 * const { url, init } = buildGeminiRequest({
 *   schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   request: { model: "gemini-2.5-flash", messages: [{ role: "user", content: "Where is the Louvre?" }] },
 *   apiKey: process.env.GEMINI_API_KEY,
 * });
 * ```
 * @see https://ai.google.dev/gemini-api/docs/structured-output
 */
export function buildGeminiRequest(options: RequestOptions): BuiltRequest {
  const { model, messages, rest: all } = splitRequest(options.request);
  const { moved, rest } = movePortable(all, {
    temperature: "temperature",
    top_p: "topP",
    top_k: "topK",
    max_tokens: "maxOutputTokens",
    stop: "stopSequences",
    seed: "seed",
  });
  const { generationConfig, ...others } = rest;
  const system = messages.filter(isSystem).map((message) => textOf(message.content));
  const contents = messages
    .filter((message) => !isSystem(message))
    .map((message) => ({
      role: message.role === "assistant" || message.role === "model" ? "model" : "user",
      parts: Array.isArray(message.parts) ? message.parts : geminiParts(message.content),
    }));
  const body: Record<string, unknown> = {
    contents,
    ...(system.length > 0 ? { systemInstruction: { parts: [{ text: system.join("\n\n") }] } } : {}),
    ...others,
    generationConfig: {
      responseMimeType: "application/json",
      responseJsonSchema: options.schema,
      ...moved,
      ...(typeof generationConfig === "object" && generationConfig !== null ? generationConfig : {}),
    },
  };
  const path = `models/${encodeURIComponent(model.replace(/^models\//, ""))}:streamGenerateContent?alt=sse`;
  const headers: Record<string, string> = { "content-type": "application/json", accept: "text/event-stream" };
  if (options.apiKey) headers["x-goog-api-key"] = options.apiKey;
  return finish(joinURL(options.baseURL ?? DEFAULT_BASE_URLS.gemini, path), headers, body, options);
}

/**
 * Builds an Ollama `/api/chat` streaming request with the JSON Schema as `format`; the portable
 * parameters (`temperature`, `top_p`, `top_k`, `max_tokens` as `num_predict`, `stop`, `seed`)
 * move into `options`.
 *
 * @example
 * ```ts
 * const { url, init } = buildOllamaRequest({
 *   schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
 *   request: { model: "llama3.2", messages: [{ role: "user", content: "Where is the Louvre?" }] },
 * });
 * ```
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */
export function buildOllamaRequest(options: RequestOptions): BuiltRequest {
  const { model, messages, rest: all } = splitRequest(options.request);
  const { moved, rest } = movePortable(all, {
    temperature: "temperature",
    top_p: "top_p",
    top_k: "top_k",
    max_tokens: "num_predict",
    stop: "stop",
    seed: "seed",
  });
  const { options: modelOptions, ...others } = rest;
  const body: Record<string, unknown> = { model, messages, stream: true, format: options.schema, ...others };
  if (Object.keys(moved).length > 0 || modelOptions !== undefined) {
    body.options = {
      ...moved,
      ...(typeof modelOptions === "object" && modelOptions !== null ? modelOptions : {}),
    };
  }
  const headers: Record<string, string> = {
    "content-type": "application/json",
    accept: "application/x-ndjson",
  };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  return finish(joinURL(options.baseURL ?? DEFAULT_BASE_URLS.ollama, "api/chat"), headers, body, options);
}
