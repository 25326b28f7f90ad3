export { backoffDelay, type RetryOptions } from "./backoff.ts";
export {
  type SourceContext,
  type StreamSource,
  type StreamValue,
  StructuredStream,
  type StructuredStreamOptions,
  structuredStream,
} from "./structured-stream.ts";
export type {
  DeepPartial,
  FieldState,
  Progress,
  StreamChange,
  StreamEvent,
  StreamEventOf,
  StreamEventType,
  StreamStats,
  StreamStatus,
  TokenUsage,
} from "./types.ts";
