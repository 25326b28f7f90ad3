export { backoffDelay, type RetryOptions } from "./backoff.ts";
export type { AnswerChannel } from "./channels.ts";
export {
  type SourceContext,
  type StreamSource,
  type StreamValue,
  StructuredStream,
  type StructuredStreamOptions,
  structuredStream,
} from "./structured-stream.ts";
export type { ToolCallInfo, ToolCallOf, ToolCallStream, ToolSchemas } from "./tool-calls.ts";
export type {
  DeepPartial,
  FieldState,
  Progress,
  StreamChange,
  StreamElement,
  StreamEvent,
  StreamEventOf,
  StreamEventType,
  StreamStats,
  StreamStatus,
  TokenUsage,
} from "./types.ts";
