/**
 * The providers whose streaming wire formats structream reads.
 * - `openai-chat`: Chat Completions (`chat.completion.chunk` SSE, `[DONE]`), also every
 *   OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama's `/v1`) through `baseURL`.
 * - `openai-responses`: the Responses API's typed SSE events.
 * - `anthropic`: the Messages API's SSE events.
 * - `gemini`: `streamGenerateContent?alt=sse`.
 * - `ollama`: `/api/chat` (and `/api/generate`) newline-delimited JSON.
 * - `text`: the body is the answer's JSON text itself.
 */
export type ProviderId = "openai-chat" | "openai-responses" | "anthropic" | "gemini" | "ollama" | "text";

/**
 * Every {@link ProviderId}, in a stable order.
 *
 * @example
 * ```ts
 * PROVIDER_IDS.includes(flag as ProviderId); // validate a CLI flag
 * ```
 */
export const PROVIDER_IDS: readonly ProviderId[] = [
  "openai-chat",
  "openai-responses",
  "anthropic",
  "gemini",
  "ollama",
  "text",
];

/**
 * Why the provider ended the answer, normalized:
 * - `stop`: a natural end (also a tool-call answer; `raw` keeps `tool_calls`/`tool_use`).
 * - `length`: truncated by the output-token limit or the context window.
 * - `content_filter`: stopped or blocked by a safety filter (also a blocked prompt).
 * - `refusal`: the model declined (Anthropic's `refusal` stop reason).
 * - `tool_calls`: reserved for callers that want tool calls apart; adapters report them as `stop`.
 * - `error`: the provider ended the answer because of an error it reports as a finish reason.
 * - `other`: anything else; `raw` says what.
 */
export type FinishReason =
  | "stop"
  | "length"
  | "content_filter"
  | "refusal"
  | "tool_calls"
  | "error"
  | "other";

/**
 * Token counts. A usage event is a running total, not an increment: a later one replaces the
 * fields it carries (Anthropic reports input tokens at the start and output tokens at the end;
 * Gemini repeats the totals on every chunk).
 */
export interface Usage {
  inputTokens?: number;
  outputTokens?: number;
  totalTokens?: number;
}

/**
 * A piece of the assistant's text (message content). Whether it is the answer or commentary (a
 * preamble before a tool call) is decided above the adapter, by the request or the `answer`
 * option; tool-call arguments are never text events.
 */
export interface TextEvent {
  type: "text";
  delta: string;
}

/**
 * A piece of the model's reasoning: Anthropic `thinking` blocks, OpenAI reasoning summaries
 * (`reasoning_summary_text`, chat `reasoning_content`), Gemini thought parts, Ollama `thinking`.
 * Never the answer. `redacted` marks a block whose content the provider encrypted
 * (`redacted_thinking`): it carries no readable text.
 */
export interface ReasoningEvent {
  type: "reasoning";
  delta: string;
  redacted?: boolean;
}

/**
 * A piece of a client tool call's arguments (JSON text). `index` numbers the calls of one response
 * from 0 in the order they started (not the provider's block index); the first event of a call
 * carries its `id` and `name`. The arguments are whole only after its {@link ToolCallEndEvent}
 * and the provider's end signal.
 */
export interface ToolCallEvent {
  type: "tool-call";
  index: number;
  id?: string;
  name?: string;
  delta: string;
}

/** A tool call's block ended: no more of its arguments will arrive. */
export interface ToolCallEndEvent {
  type: "tool-call-end";
  index: number;
}

/**
 * A tool the provider runs itself (Anthropic `server_tool_use` and its `*_tool_result`, Gemini
 * `executableCode` / `codeExecutionResult`, OpenAI's built-in tool items): reported so a consumer
 * can show it, never part of the answer. `phase` says whether this is the call's input or its
 * result; `delta` is a piece of the input's JSON text, or the result as JSON text.
 */
export interface ServerToolEvent {
  type: "server-tool";
  phase: "call" | "result";
  id?: string;
  name?: string;
  delta: string;
}

/**
 * The provider's end-of-stream signal (`[DONE]`, `message_stop`, `response.completed`, Gemini's
 * last `finishReason`, Ollama's `done: true`): the body holds nothing more of this answer, and
 * whatever follows it is ignored.
 */
export interface EndEvent {
  type: "end";
}

/** A piece of the model's refusal message, as it streams (OpenAI's `refusal`). */
export interface RefusalEvent {
  type: "refusal";
  delta: string;
}

/**
 * The provider's own end signal arrived. An answer is complete only after this event: a stream
 * that ends without one was cut. Events may still follow it (OpenAI sends the usage chunk after
 * the finish chunk), so read the source to its end.
 */
export interface FinishEvent {
  type: "finish";
  reason: FinishReason;
  /** The provider's own value (`"max_tokens"`, `"SAFETY"`, `"tool_calls"`, `"[DONE]"`, ...). */
  raw?: string;
  /**
   * A sentence from the provider about the end, when it sent one (Gemini's `finishMessage`,
   * Anthropic's `stop_details.explanation`).
   */
  detail?: string;
}

/** Token counts, as a running total (see {@link Usage}). */
export interface UsageEvent {
  type: "usage";
  usage: Usage;
}

/**
 * The provider reported an error (an HTTP error answer, or an error event in the stream), or a
 * stream event could not be read (`errorType: "malformed_event"`, never retryable).
 */
export interface ProviderErrorEvent {
  type: "error";
  /** The provider's own error type or code (`"overloaded_error"`, `"rate_limit_exceeded"`, `"RESOURCE_EXHAUSTED"`), else `http_<status>`, `network_error` or `malformed_event`. */
  errorType: string;
  /** The provider's message, for a person. */
  message: string;
  /** The HTTP status, when the error came as an HTTP answer. */
  status?: number;
  /** Whether the same request may succeed if sent again (429, 408, 5xx, overloaded). */
  retryable: boolean;
  /** How long the provider asked to wait before retrying (`retry-after-ms`, `retry-after`). */
  retryAfterMs?: number;
}

/**
 * One normalized event, the same for every provider.
 *
 * @example
 * ```ts
 * for (const event of decoder.push(text)) {
 *   if (event.type === "text") parser.push(event.delta);
 *   else if (event.type === "finish" && event.reason === "length") console.warn("truncated");
 * }
 * ```
 */
export type ProviderEvent =
  | TextEvent
  | ReasoningEvent
  | ToolCallEvent
  | ToolCallEndEvent
  | ServerToolEvent
  | RefusalEvent
  | FinishEvent
  | UsageEvent
  | ProviderErrorEvent
  | EndEvent;

/**
 * A synchronous push decoder from a provider's wire text to normalized events. It takes decoded
 * text (decode bytes with `new TextDecoder()` and `{ stream: true }`): any split of the same text
 * gives the same events.
 *
 * @example
 * ```ts
 * const decoder = createProviderDecoder("anthropic");
 * const utf8 = new TextDecoder();
 * for await (const bytes of response.body!) handle(decoder.push(utf8.decode(bytes, { stream: true })));
 * handle(decoder.end());
 * ```
 */
export interface WireDecoder {
  /** Feeds the next piece of text; returns the events it completed. */
  push(text: string): ProviderEvent[];
  /**
   * Ends the input; returns the events that were waiting. A last event without its terminating
   * blank line (SSE) or newline (NDJSON) still counts when it is whole; a cut one is dropped, so
   * the stream reads as cut (no finish event) rather than as malformed.
   */
  end(): ProviderEvent[];
  /**
   * Whether the last {@link WireDecoder.push} carried only keep-alive traffic (SSE comments such as
   * `: keep-alive`, blank lines): such traffic must not count as the provider making progress.
   */
  readonly keepAliveOnly?: boolean;
}

/**
 * Maps the objects an official SDK's stream yields (`openai`'s chunk and event objects,
 * `@anthropic-ai/sdk`'s `RawMessageStreamEvent`s, `@google/genai`'s `GenerateContentResponse`s,
 * `ollama`'s `ChatResponse`s) to normalized events. Stateful: Anthropic's stop reason arrives in
 * `message_delta` and its end signal in `message_stop`.
 */
export interface SdkEventMapper {
  /** Maps one object the SDK yielded. */
  map(event: unknown): ProviderEvent[];
  /** The SDK's iterator finished; returns the events that were waiting. */
  end(): ProviderEvent[];
}

/** A message of {@link RequestOptions.request}, in the OpenAI shape every builder accepts. */
export interface RequestMessage {
  role: "system" | "developer" | "user" | "assistant" | (string & {});
  content: string | readonly unknown[];
  [key: string]: unknown;
}

/** The provider-level request: `model`, `messages`, and any native parameters passed through. */
export interface ProviderRequest {
  model: string;
  messages?: readonly RequestMessage[];
  [key: string]: unknown;
}

/** Options of {@link ProviderAdapter.buildRequest}. */
export interface RequestOptions {
  /** The answer's JSON Schema (the schema layer's `compiled.jsonSchema`). */
  schema: Record<string, unknown>;
  /** `model`, `messages` and native parameters; native fields win over what the builder adds. */
  request: ProviderRequest;
  /** Sent as `Authorization: Bearer`, `x-api-key` or `x-goog-api-key`; omitted when absent. */
  apiKey?: string;
  /**
   * The API's base URL, without the endpoint path.
   * @defaultValue the provider's public API (see {@link DEFAULT_BASE_URLS})
   */
  baseURL?: string;
  /** Extra headers, added last. */
  headers?: Record<string, string>;
  /**
   * The schema's name where the API asks for one (`response_format.json_schema.name`, the
   * forced tool's name); letters, digits, `_` and `-`, at most 64.
   * @defaultValue "response"
   */
  schemaName?: string;
  /**
   * Anthropic only: `"output_config"` asks for native structured outputs
   * (`output_config.format`); `"tool"` forces one tool whose input is the answer, for models or
   * gateways without structured outputs. `"auto"` uses `output_config` unless the schema cannot
   * be expressed there (an open map), then `tool`.
   * @defaultValue "auto"
   */
  anthropicMode?: "auto" | "output_config" | "tool";
  /** Abort signal for the request. */
  signal?: AbortSignal;
}

/** What a builder returns: the URL, the `fetch` init, and the body as an object for inspection. */
export interface BuiltRequest {
  url: string;
  init: RequestInit & { method: "POST"; headers: Record<string, string>; body: string };
  body: Record<string, unknown>;
  /**
   * Set when the schema sent differs from the one given (OpenAI strict mode turns optional
   * properties into required nullable ones): maps the provider's answer back to the shape the
   * original schema accepts, dropping the `null`s that stand for absent properties.
   */
  restore?: (value: unknown) => unknown;
  /** What was changed in the schema to fit the provider, for logs and debugging. */
  schemaNotes?: readonly string[];
}

/**
 * The one interface every provider adapter implements.
 *
 * @example
 * ```ts
 * const adapter = getProvider("gemini");
 * const { url, init } = adapter.buildRequest!({ schema, request: { model, messages }, apiKey });
 * const decoder = adapter.createDecoder();
 * ```
 */
export interface ProviderAdapter {
  readonly id: ProviderId;
  /** The content types this provider streams with (lower case, without parameters). */
  readonly contentTypes: readonly string[];
  /** The framing of the body: server-sent events, newline-delimited JSON, or plain text. */
  readonly framing: "sse" | "ndjson" | "text";
  /** A new decoder for one stream's body text. */
  createDecoder(): WireDecoder;
  /** A new mapper for one stream of the official SDK's event objects. */
  createSdkMapper(): SdkEventMapper;
  /** Builds the native structured-output streaming request. Absent for `text`. */
  buildRequest?(options: RequestOptions): BuiltRequest;
}
