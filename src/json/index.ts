/**
 * structream/json: the incremental JSON parser alone (no schema layer, no ajv, no providers), for
 * a bundle or a runtime that needs only partial values from a stream of text.
 *
 * @packageDocumentation
 */
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
