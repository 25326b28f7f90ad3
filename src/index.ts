/**
 * structream: stream structured outputs from language models.
 *
 * The root entry point, read as a table of contents. Browser delivery lives in
 * `structream/server`, `structream/client` and `structream/react`; the local provider simulator
 * in `structream/simulator`; the parser alone, without the schema layer and ajv, in
 * `structream/json`.
 *
 * @packageDocumentation
 */

// Errors: one hierarchy with stable codes.
export {
  isStreamError,
  isStructreamError,
  type ParseFailure,
  type SchemaIssue,
  StreamError,
  type StreamErrorCode,
  type StreamErrorDetails,
  StructreamError,
} from "./errors/index.ts";
// The incremental JSON parser.
export {
  type ChunkSource,
  createParser,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  fromPointer,
  type Hold,
  JsonParseError,
  type JsonParseErrorCode,
  type JsonParser,
  type JsonPosition,
  type ParserEvent,
  type ParserOptions,
  PartialJsonStream,
  type PathSegment,
  parseJsonStream,
  parsePartial,
  toPointer,
  type ValueKind,
} from "./json/index.ts";
// Provider wire formats, for reading a provider's stream by hand.
export {
  type BuiltRequest,
  createProviderDecoder,
  createSdkMapper,
  DEFAULT_BASE_URLS,
  detectProvider,
  type FinishReason,
  PROVIDER_IDS,
  type ProviderEvent,
  type ProviderId,
  type ProviderRequest,
  type RequestMessage,
  toStrictJsonSchema,
  type WireDecoder,
} from "./providers/index.ts";
// Schemas: Standard Schema (zod 4, valibot, arktype) or JSON Schema.
export {
  type CompiledSchema,
  compileSchema,
  type FromJsonSchema,
  type InferInput,
  type InferOutput,
  type InferPartial,
  type JsonSchemaObject,
  type SchemaInput,
  toJsonSchema,
} from "./schema/index.ts";
// The structured stream and its lifecycle.
export {
  type AnswerChannel,
  backoffDelay,
  type DeepPartial,
  type FieldState,
  type Progress,
  type RetryOptions,
  type SourceContext,
  type StreamChange,
  type StreamElement,
  type StreamEvent,
  type StreamEventOf,
  type StreamEventType,
  type StreamSource,
  type StreamStats,
  type StreamStatus,
  type StreamValue,
  StructuredStream,
  type StructuredStreamOptions,
  structuredStream,
  type TokenUsage,
  type ToolCallInfo,
  type ToolCallOf,
  type ToolCallStream,
  type ToolSchemas,
} from "./stream/index.ts";
