export { JsonParseError, type JsonParseErrorCode, type JsonPosition } from "./errors.ts";
export {
  createParser,
  DEFAULT_MAX_DEPTH,
  DEFAULT_MAX_LENGTH,
  type Hold,
  type JsonParser,
  type ParserEvent,
  type ParserOptions,
  type PathSegment,
  parsePartial,
  type ValueKind,
} from "./parser.ts";
export { fromPointer, toPointer, valueAt } from "./pointer.ts";
export { type ChunkSource, PartialJsonStream, parseJsonStream } from "./stream.ts";
