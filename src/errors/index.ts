export {
  isStreamError,
  type ParseFailure,
  type SchemaIssue,
  StreamError,
  type StreamErrorCode,
  type StreamErrorDetails,
} from "./stream-error.ts";
export { isStructreamError, StructreamError, type StructreamErrorOptions } from "./structream-error.ts";
