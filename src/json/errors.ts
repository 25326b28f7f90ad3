import { StructreamError } from "../errors/index.ts";

/** Stable codes of {@link JsonParseError}. */
export type JsonParseErrorCode =
  /** A character that cannot continue any JSON text at this point. */
  | "unexpected_character"
  /** The input ended (`end()`) before the JSON text was complete. */
  | "unexpected_end"
  /** Containers nested deeper than `maxDepth`. */
  | "max_depth"
  /** More input than `maxLength` units. */
  | "max_length"
  /** `push()` or `end()` after the parser ended or failed. */
  | "parser_closed"
  /** String and byte chunks mixed in one parse. */
  | "mixed_input";

/** Where a {@link JsonParseError} happened. */
export interface JsonPosition {
  /** Zero-based offset of the offending character: UTF-16 code units for string input, bytes for byte input. */
  offset: number;
  /** One-based line (lines end at LF). */
  line: number;
  /** One-based column, in the same units as `offset`. */
  column: number;
}

/**
 * The input is not JSON. `offset`, `line` and `column` point at the first character at which the
 * input stops being a prefix of any JSON text (for `unexpected_end`: the input's length).
 *
 * @example
 * ```ts
 * try { parsePartial("[1,]"); } catch (e) {
 *   if (e instanceof JsonParseError) console.log(e.code, e.offset); // "unexpected_character" 3
 * }
 * ```
 */
export class JsonParseError extends StructreamError implements JsonPosition {
  declare readonly code: JsonParseErrorCode;
  readonly offset: number;
  readonly line: number;
  readonly column: number;

  constructor(code: JsonParseErrorCode, message: string, position: JsonPosition) {
    super(code, message);
    this.offset = position.offset;
    this.line = position.line;
    this.column = position.column;
  }
}
