export {
  createProviderDecoder,
  createSdkMapper,
  type DecoderOptions,
  getProvider,
  isProviderId,
} from "./adapters.ts";
export { anthropicAdapter } from "./anthropic.ts";
export {
  DETECT_MAX_TEXT,
  type DetectInput,
  type DetectResult,
  detectProvider,
  detectSdkProvider,
} from "./detect.ts";
export {
  errorFromSdk,
  type HeaderReader,
  httpErrorEvent,
  isRetryableErrorType,
  isRetryableStatus,
  parseRetryAfter,
  readErrorResponse,
} from "./errors.ts";
export { MAX_EVENT_LENGTH } from "./framing.ts";
export { geminiAdapter } from "./gemini.ts";
export { createLenientFilter, type LenientFilter, withLenient } from "./lenient.ts";
export { ollamaAdapter } from "./ollama.ts";
export { openaiChatAdapter } from "./openai-chat.ts";
export { openaiResponsesAdapter } from "./openai-responses.ts";
export {
  ANTHROPIC_VERSION,
  buildAnthropicRequest,
  buildGeminiRequest,
  buildOllamaRequest,
  buildOpenAIChatRequest,
  buildOpenAIResponsesRequest,
  DEFAULT_ANTHROPIC_MAX_TOKENS,
  DEFAULT_BASE_URLS,
  providerEnv,
} from "./request.ts";
export {
  type JsonSchemaObject,
  restoreOptionalNulls,
  type SchemaRewrite,
  toAnthropicSchema,
  toStrictJsonSchema,
} from "./strict-schema.ts";
export { textAdapter } from "./text.ts";
export {
  type BuiltRequest,
  type EndEvent,
  type FinishEvent,
  type FinishReason,
  PROVIDER_IDS,
  type ProviderAdapter,
  type ProviderErrorEvent,
  type ProviderEvent,
  type ProviderId,
  type ProviderRequest,
  type ReasoningEvent,
  type RefusalEvent,
  type RequestMessage,
  type RequestOptions,
  type SdkEventMapper,
  type ServerToolEvent,
  type TextEvent,
  type ToolCallEndEvent,
  type ToolCallEvent,
  type Usage,
  type UsageEvent,
  type WireDecoder,
} from "./types.ts";
