import { JsonParseError, type JsonParseErrorCode } from "./errors.ts";
import { byteIndexOfUnit, incompleteTailLength } from "./utf8.ts";

/** One step of a path into a JSON value: an object key or an array index. */
export type PathSegment = string | number;

/** The kind of a JSON value, known from its first character. */
export type ValueKind = "object" | "array" | "string" | "number" | "boolean" | "null";

/**
 * What the parser reports as it reads, synchronously and in document order.
 * - `start`: a value's first character arrived (`path` is where it will live).
 * - `add`: a value became visible in snapshots at `path` (a member, an element, or the root at
 *   `[]`): `""`, `{}` or `[]` for a value that shows as it streams, the complete value for one that
 *   shows only once complete (numbers, literals, held values), or the object so far for a gated
 *   object its keys released. `value` is the caller's to keep: the parser never changes it, except
 *   that an open container given as `{}`/`[]` (or a released gate's object) is a fresh copy that
 *   later `add` events fill in for whoever applies them.
 * - `append`: `text` was added to the end of the visible string at `path`.
 * - `end`: a value completed; `value` is final and never changes.
 *
 * For one value the order is `start`, then `add` (as it starts, or just before `end`), any
 * `append`s, then `end`. Applying `add` and `append` to an empty document in order rebuilds
 * {@link JsonParser.value} exactly, after every chunk: they are the snapshots' single source of truth.
 *
 * `path` is the parser's own live array, valid only during the call (no array is made per event):
 * copy it (`path.slice()`) to keep it.
 */
export type ParserEvent =
  | { type: "start"; path: readonly PathSegment[]; kind: ValueKind }
  | { type: "add"; path: readonly PathSegment[]; value: unknown }
  | { type: "append"; path: readonly PathSegment[]; text: string }
  | { type: "end"; path: readonly PathSegment[]; value: unknown };

/**
 * Returned from a `start` event to keep a value out of snapshots while it is open:
 * `true` holds it until it completes; a list of keys (objects only) holds the object until each
 * of those members has completed. `false`/`undefined` shows it progressively.
 */
export type Hold = boolean | readonly string[] | undefined;

/** Options of {@link createParser}. */
export interface ParserOptions {
  /**
   * Deepest nesting of arrays and objects accepted. The parser never recurses, so this guards
   * memory and snapshot cost rather than the stack; `Infinity` lifts it.
   * @defaultValue 1000
   */
  maxDepth?: number;
  /**
   * Most input accepted, in UTF-16 code units for string chunks or bytes for byte chunks.
   * @defaultValue 67108864 (64 Mi)
   */
  maxLength?: number;
  /**
   * Called for every value as it starts and ends. Return a {@link Hold} from a `start` event to
   * keep that value out of snapshots until it is complete.
   */
  onEvent?: (event: ParserEvent) => Hold | void;
}

/** An incremental JSON parser. See {@link createParser}. */
export interface JsonParser {
  /** Feeds the next chunk. Throws {@link JsonParseError} at the first character that cannot be JSON. */
  push(chunk: string | Uint8Array): void;
  /**
   * Immutable snapshot of the value so far (`undefined` before the root value starts). Reading it
   * twice without a push returns the same object; unchanged subtrees keep their identity. Still
   * readable after an error, so what arrived can be salvaged.
   */
  readonly value: unknown;
  /** Ends the input and returns the final value, identical to `JSON.parse` of the whole text. */
  end(): unknown;
  /** True once the root value is complete (only whitespace may follow). */
  readonly done: boolean;
  /** Input consumed so far: UTF-16 code units for string chunks, bytes for byte chunks. */
  readonly length: number;
}

/** Default of {@link ParserOptions.maxDepth}. */
export const DEFAULT_MAX_DEPTH = 1000;
/** Default of {@link ParserOptions.maxLength}. */
export const DEFAULT_MAX_LENGTH = 64 * 1024 * 1024;

// Tokenizer states.
const VALUE = 0; // a value must start (root, after ':' or after ',' in an array)
const ARRAY_START = 1; // after '[': a value or ']'
const OBJECT_START = 2; // after '{': a key or '}'
const KEY = 3; // after ',' in an object: a key
const COLON = 4;
const AFTER = 5; // after a value in a container: ',' or the closer
const STRING = 6;
const ESCAPE = 7;
const UNICODE = 8;
const NUMBER = 9;
const LITERAL = 10;
const DONE = 11;
const FAILED = 12;
const ENDED = 13;

// Number grammar states (RFC 8259 section 6).
const N_MINUS = 0;
const N_ZERO = 1;
const N_INT = 2;
const N_DOT = 3;
const N_FRAC = 4;
const N_E = 5;
const N_ESIGN = 6;
const N_EXP = 7;

/** Marks "no partial child shown" (distinct from an `undefined` that JSON cannot hold anyway). */
const NONE: unique symbol = Symbol("none");
type Shown = unknown;

const LITERALS = ["true", "false", "null"] as const;
const LITERAL_VALUES = [true, false, null] as const;

const EXPECTED: Record<number, string> = {
  [VALUE]: "a value",
  [ARRAY_START]: "a value or ']'",
  [OBJECT_START]: "a string key or '}'",
  [KEY]: "a string key",
  [COLON]: "':'",
  [DONE]: "the end of the input",
};

class Frame {
  /** Receives completed members; handed out as the final value once the container closes. */
  builder: Record<string, unknown> | unknown[];
  /** The last snapshot of this container given out (a copy of `builder` plus a partial child). */
  published: unknown = undefined;
  /** The partial child included in `published`, or NONE. */
  shown: Shown = NONE;
  /**
   * The slot of the member being read already holds its partial value in `builder`. Keeping it
   * there lets a snapshot be one flat copy (`slice()`, `{...}`), which V8 does far faster than a
   * copy followed by an append (a new key or element reallocates).
   */
  partialInBuilder = false;
  /** `builder` changed since `published` was made. */
  dirty = true;
  /** Object: the key of the member being read. Array: the index of the element being read. */
  key: PathSegment = 0;
  hold: boolean;
  holdKeys: string[] | undefined;
  /** An `add` event showed it (open), so its completion adds nothing. */
  visible = false;

  constructor(
    readonly isArray: boolean,
    hold: Hold,
  ) {
    this.builder = isArray ? [] : {};
    this.hold = hold === true || (Array.isArray(hold) && hold.length > 0);
    this.holdKeys = Array.isArray(hold) && hold.length > 0 ? [...hold] : undefined;
  }
}

/** A run of string characters that need no attention (not a quote, backslash or control character). */
const PLAIN = /[^"\\\x00-\x1f]*/y;

const STREAM: TextDecodeOptions = { stream: true };
const EMPTY_BYTES = new Uint8Array(0);

function isAscii(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; i++) if (bytes[i] >= 0x80) return false;
  return true;
}

/** Pieces of a string in one flat block (see `appendString`). */
const STRING_BLOCK = 256;

function flatten(s: string): void {
  // V8 flattens a concatenated string in place on first indexed access.
  s.charCodeAt(0);
}

function isWhitespace(c: number): boolean {
  return c === 32 || c === 10 || c === 13 || c === 9;
}

function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  // Plain assignment to "__proto__" would change the prototype; JSON.parse makes an own property.
  if (key === "__proto__") {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function describeChar(c: string): string {
  const code = c.charCodeAt(0);
  if (code < 0x20 || code === 0x7f)
    return `control character U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  return JSON.stringify(c);
}

class Parser implements JsonParser {
  private readonly maxDepth: number;
  private readonly maxLength: number;
  private readonly onEvent: ((event: ParserEvent) => Hold | void) | undefined;

  private state = VALUE;
  private readonly frames: Frame[] = [];
  private root: unknown = undefined;

  // String being read: `strHead` (flat blocks) then `str` (the pieces since the last block).
  private strHead = "";
  private str = "";
  /** Pieces appended to `str` since the last block was made. */
  private strPieces = 0;
  private strIsKey = false;
  private strHeld = false;
  /** The string being read shows in snapshots (a value, not held, under no held container). */
  private strShown = false;
  /** The string read so far ends with a high surrogate, which snapshots hold back. */
  private strTailHigh = false;
  /** How many open containers are held back: inside them nothing shows. */
  private heldFrames = 0;
  private hex = 0;
  private hexCount = 0;
  private pendingKey = "";
  /** A high surrogate held back from `append` events until the next character decides. */
  private strHeldHigh = "";
  /** The state the parser failed in (a string's partial text stays visible after an error). */
  private failedIn = VALUE;
  /**
   * The path of the value being read, shared by every event (see {@link ParserEvent}): one segment
   * per open frame (`path[d]` is `frames[d].key`). Kept as a stack (push on open, pop on close):
   * cutting and growing an array's length per event makes V8 reallocate it and costs more than the
   * parse itself.
   */
  private readonly path: PathSegment[] = [];

  // Number or literal being read.
  private numState = N_MINUS;
  private numText = "";
  private literal = 0;
  private literalPos = 0;

  // Position bookkeeping (units of the input: code units or bytes).
  private consumed = 0;
  private lines = 1;
  private lineStart = 0;

  // Byte input.
  private mode: "unset" | "string" | "bytes" = "unset";
  private decoder: TextDecoder | undefined;
  private held: Uint8Array = EMPTY_BYTES;
  private bomCheck: Uint8Array | undefined = new Uint8Array(0);

  // Snapshot cache.
  private changed = true;
  private snapshot: unknown = undefined;
  private failure: JsonParseError | undefined;

  constructor(options: ParserOptions) {
    this.maxDepth = options.maxDepth ?? DEFAULT_MAX_DEPTH;
    this.maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
    this.onEvent = options.onEvent;
  }

  get done(): boolean {
    return this.state === DONE || this.state === ENDED;
  }

  get length(): number {
    return this.consumed;
  }

  push(chunk: string | Uint8Array): void {
    this.assertOpen();
    if (typeof chunk === "string") {
      if (this.mode === "bytes")
        this.fail("mixed_input", "Cannot push a string after byte chunks.", this.consumed);
      this.mode = "string";
      this.feedUnits(chunk);
    } else {
      if (this.mode === "string")
        this.fail("mixed_input", "Cannot push bytes after string chunks.", this.consumed);
      this.mode = "bytes";
      this.feedBytes(chunk);
    }
  }

  end(): unknown {
    this.assertOpen();
    if (this.mode === "bytes") {
      const bom = this.bomCheck;
      if (bom !== undefined && bom.length > 0) {
        this.bomCheck = undefined;
        this.decodeAndFeed(bom, false);
      }
      // Flushing turns a truncated trailing sequence into U+FFFD, as TextDecoder.decode does.
      const rest = this.decoder?.decode() ?? "";
      if (rest.length > 0) this.feedText(rest, this.held, this.consumed - this.held.length);
      this.held = EMPTY_BYTES;
    }
    const ns = this.numState;
    const numberIsWhole = ns === N_ZERO || ns === N_INT || ns === N_FRAC || ns === N_EXP;
    if (this.state === NUMBER && this.frames.length === 0 && numberIsWhole) this.finishNumber();
    if (this.state !== DONE) {
      const what =
        this.state === VALUE && this.frames.length === 0 ? "no JSON value" : "an unfinished JSON value";
      this.fail("unexpected_end", `Unexpected end of input: ${what}.`, this.consumed);
    }
    this.state = ENDED;
    this.changed = true;
    return this.root;
  }

  get value(): unknown {
    if (!this.changed) return this.snapshot;
    this.changed = false;
    const frames = this.frames;
    if (frames.length === 0) {
      this.snapshot = this.inString() && this.strShown ? this.partialString() : this.root;
      return this.snapshot;
    }
    // Only the open values on the path from the root to the cursor can change; everything else
    // is complete and shared. Frames below the shallowest held one are not shown at all.
    let limit = frames.length;
    for (let d = 0; d < frames.length; d++) {
      if (frames[d].hold) {
        limit = d;
        break;
      }
    }
    let child: Shown = NONE;
    if (limit === frames.length && this.inString() && this.strShown) child = this.partialString();
    for (let d = limit - 1; d >= 0; d--) {
      const f = frames[d];
      if (f.dirty || f.shown !== child || f.published === undefined) {
        f.published = this.copy(f, child);
        f.shown = child;
        f.dirty = false;
      }
      child = f.published;
    }
    this.snapshot = limit === 0 ? undefined : child;
    return this.snapshot;
  }

  private copy(f: Frame, child: Shown): unknown {
    if (f.isArray) {
      const builder = f.builder as unknown[];
      if (child !== NONE) {
        if (f.partialInBuilder) builder[builder.length - 1] = child;
        else {
          builder.push(child);
          f.partialInBuilder = true;
        }
      }
      return builder.slice();
    }
    if (child !== NONE) {
      setMember(f.builder as Record<string, unknown>, f.key as string, child);
      f.partialInBuilder = true;
    }
    return { ...(f.builder as Record<string, unknown>) };
  }

  private inString(): boolean {
    const state = this.state === FAILED ? this.failedIn : this.state;
    return state === STRING || state === ESCAPE || state === UNICODE;
  }

  private partialString(): string {
    // A trailing high surrogate may still pair with the next character. (Tracked on append:
    // reading the last character of a concatenated string would flatten it on every snapshot.)
    const str = this.strHead + this.str;
    return this.strTailHigh ? str.slice(0, -1) : str;
  }

  private appendString(piece: string): void {
    this.str += piece;
    if (++this.strPieces === STRING_BLOCK) {
      // A long string read in small pieces is kept as a few flat blocks, not as a rope of every
      // piece: the garbage collector would trace (and promote) each piece until the string ends.
      flatten(this.str);
      this.strHead += this.str;
      this.str = "";
      this.strPieces = 0;
    }
    const last = piece.charCodeAt(piece.length - 1);
    const tailHigh = last >= 0xd800 && last <= 0xdbff;
    this.strTailHigh = tailHigh;
    if (!this.strShown) return;
    this.changed = true;
    const onEvent = this.onEvent;
    if (onEvent === undefined || this.strIsKey) return;
    // The event says what the snapshot gained: a trailing high surrogate waits for its pair.
    let text = tailHigh ? piece.slice(0, -1) : piece;
    if (this.strHeldHigh !== "") text = this.strHeldHigh + text;
    this.strHeldHigh = tailHigh ? piece[piece.length - 1] : "";
    if (text !== "") onEvent({ type: "append", path: this.path, text });
  }

  private assertOpen(): void {
    if (this.failure) {
      throw new JsonParseError(
        "parser_closed",
        `The parser already failed: ${this.failure.message}`,
        this.failure,
      );
    }
    if (this.state === ENDED) {
      throw new JsonParseError("parser_closed", "The parser already ended.", this.position(this.consumed));
    }
  }

  // ---- byte input -------------------------------------------------------------------------

  private feedBytes(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.bomCheck !== undefined) {
      // A leading byte-order mark is dropped, as TextDecoder does; wait until three bytes decide.
      const joined = new Uint8Array(this.bomCheck.length + chunk.length);
      joined.set(this.bomCheck);
      joined.set(chunk, this.bomCheck.length);
      const isBomPrefix =
        joined[0] === 0xef &&
        (joined.length < 2 || joined[1] === 0xbb) &&
        (joined.length < 3 || joined[2] === 0xbf);
      if (isBomPrefix && joined.length < 3) {
        this.bomCheck = joined;
        return;
      }
      this.bomCheck = undefined;
      if (isBomPrefix) {
        this.consumed += 3;
        this.lineStart = 3;
        this.decodeAndFeed(joined.subarray(3), true);
      } else {
        this.decodeAndFeed(joined, true);
      }
      return;
    }
    this.decodeAndFeed(chunk, true);
  }

  private decodeAndFeed(bytes: Uint8Array, stream: boolean): void {
    if (bytes.length === 0) return;
    if (this.consumed + bytes.length > this.maxLength) {
      this.decodeAndFeed(bytes.subarray(0, Math.max(0, this.maxLength - this.consumed)), stream);
      this.fail(
        "max_length",
        `Input longer than the limit of ${this.maxLength} bytes (maxLength).`,
        this.maxLength,
      );
    }
    const previous = this.held;
    const base = this.consumed - previous.length;
    this.consumed += bytes.length;
    if (previous.length === 0 && bytes.length <= 32 && isAscii(bytes)) {
      // Small ASCII chunks (most of JSON's punctuation and keys) skip TextDecoder, whose per-call
      // cost dominates at a few bytes a chunk; nothing is pending in it, so its state is unchanged.
      this.feedText(String.fromCharCode.apply(null, bytes as unknown as number[]), bytes, base);
      return;
    }
    this.decoder ??= new TextDecoder("utf-8", { ignoreBOM: true });
    const text = this.decoder.decode(bytes, stream ? STREAM : undefined);
    // The raw bytes behind `text`: what was held back before, plus this chunk, less its new tail.
    let raw: Uint8Array;
    if (previous.length === 0) raw = bytes;
    else {
      raw = new Uint8Array(previous.length + bytes.length);
      raw.set(previous);
      raw.set(bytes, previous.length);
    }
    const tail = stream && raw[raw.length - 1] >= 0x80 ? incompleteTailLength(raw) : 0;
    this.held = tail > 0 ? raw.slice(raw.length - tail) : EMPTY_BYTES;
    this.feedText(text, raw, base);
  }

  // ---- string input -----------------------------------------------------------------------

  private feedUnits(chunk: string): void {
    if (chunk.length === 0) return;
    if (this.consumed + chunk.length > this.maxLength) {
      this.feedUnits(chunk.slice(0, Math.max(0, this.maxLength - this.consumed)));
      this.fail(
        "max_length",
        `Input longer than the limit of ${this.maxLength} characters (maxLength).`,
        this.maxLength,
      );
    }
    const base = this.consumed;
    this.consumed += chunk.length;
    this.feedText(chunk, undefined, base);
  }

  /**
   * Runs the tokenizer over `text`. `raw` (byte input) and `base` map positions in `text` back to
   * input offsets for errors and line counting.
   */
  private feedText(text: string, raw: Uint8Array | undefined, base: number): void {
    this.raw = raw;
    this.base = base;
    this.run(text);
  }

  private raw: Uint8Array | undefined;
  private base = 0;

  /**
   * Counts a line break. JSON allows a raw LF only in whitespace (anywhere else it is an error, at
   * its own position), so counting in the whitespace loops counts them all, at no extra pass.
   */
  private newline(i: number): void {
    this.lines++;
    if (this.raw === undefined) this.lineStart = this.base + i + 1;
    else {
      // Byte input: the byte offset is worked out only if an error needs it.
      this.lineStart = -1;
      this.lineRaw = this.raw;
      this.lineBase = this.base;
      this.lineUnit = i + 1;
    }
  }

  private lineRaw: Uint8Array | undefined;
  private lineBase = 0;
  private lineUnit = 0;

  private offsetOf(index: number): number {
    return this.raw === undefined ? this.base + index : this.base + byteIndexOfUnit(this.raw, index);
  }

  private position(offset: number): { offset: number; line: number; column: number } {
    if (this.lineStart === -1) this.lineStart = this.lineBase + byteIndexOfUnit(this.lineRaw!, this.lineUnit);
    return { offset, line: this.lines, column: offset - this.lineStart + 1 };
  }

  private fail(code: JsonParseErrorCode, message: string, offset: number): never {
    const position = this.position(offset);
    const error = new JsonParseError(
      code,
      `${message} (line ${position.line}, column ${position.column}, offset ${position.offset})`,
      position,
    );
    if (code !== "parser_closed" && code !== "mixed_input") {
      this.failure = error;
      if (this.state !== FAILED) this.failedIn = this.state;
      this.state = FAILED;
      this.changed = true;
    }
    throw error;
  }

  private unexpected(text: string, i: number): never {
    const what = describeChar(text[i]);
    const offset = this.offsetOf(i);
    this.fail("unexpected_character", `Unexpected ${what}: expected ${this.expected()}.`, offset);
  }

  private expected(): string {
    switch (this.state) {
      case AFTER:
        return this.frames[this.frames.length - 1].isArray ? "',' or ']'" : "',' or '}'";
      case STRING:
        return "more of the string (control characters must be escaped, as \\n)";
      case ESCAPE:
        return 'an escape: one of \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u';
      case UNICODE:
        return "a hexadecimal digit of a \\u escape";
      case NUMBER:
        return "a digit";
      case LITERAL:
        return `"${LITERALS[this.literal]}"`;
      default:
        return EXPECTED[this.state] ?? "valid JSON";
    }
  }

  // ---- events -----------------------------------------------------------------------------

  private emitStart(kind: ValueKind): Hold {
    const onEvent = this.onEvent;
    if (onEvent === undefined) return undefined;
    return onEvent({ type: "start", path: this.path, kind }) ?? undefined;
  }

  private emitAdd(value: unknown): void {
    this.onEvent?.({ type: "add", path: this.path, value });
  }

  /** Positions the cursor on the next member or element before a value starts. */
  private enterValue(): void {
    const depth = this.frames.length;
    const top = this.frames[depth - 1];
    if (top === undefined) return;
    if (top.isArray) top.key = (top.builder as unknown[]).length;
    else top.key = this.pendingKey;
    if (this.onEvent !== undefined) this.path[depth - 1] = top.key;
  }

  /**
   * A value completed. `shown`: an `add` already made it visible (an open container or string
   * that showed as it streamed), so only a value that was hidden until now is added.
   */
  private complete(value: unknown, shown = false): void {
    this.changed = true;
    const frames = this.frames;
    const depth = frames.length;
    const onEvent = this.onEvent;
    if (depth === 0) {
      this.root = value;
      this.state = DONE;
      if (onEvent !== undefined) {
        if (!shown) this.emitAdd(value);
        onEvent({ type: "end", path: this.path, value });
      }
      return;
    }
    const f = frames[depth - 1];
    // If the last snapshot already showed exactly this value, it stays valid.
    const absorbed = !f.dirty && f.published !== undefined && f.shown === value;
    if (f.isArray) {
      const builder = f.builder as unknown[];
      if (f.partialInBuilder) builder[builder.length - 1] = value;
      else builder.push(value);
    } else setMember(f.builder as Record<string, unknown>, f.key as string, value);
    f.partialInBuilder = false;
    if (absorbed) f.shown = NONE;
    else f.dirty = true;
    // Visible now unless an ancestor is held: the parent, if its gate opens below, shows whole.
    const visible = this.heldFrames === 0;
    let released = false;
    if (f.holdKeys !== undefined) {
      const at = f.holdKeys.indexOf(f.key as string);
      if (at !== -1) {
        f.holdKeys.splice(at, 1);
        if (f.holdKeys.length === 0) {
          f.holdKeys = undefined;
          f.hold = false;
          this.heldFrames--;
          released = this.heldFrames === 0;
        }
      }
    }
    this.state = AFTER;
    if (onEvent === undefined) return;
    // Changes come before the value's `end`, so whoever reports the end has shown the value.
    if (visible && !shown) this.emitAdd(value);
    else if (released) {
      f.visible = true;
      const so = f.isArray ? (f.builder as unknown[]).slice() : { ...(f.builder as Record<string, unknown>) };
      // The parent's own path, for this one event.
      const key = this.path.pop() as PathSegment;
      this.emitAdd(so);
      this.path.push(key);
    }
    onEvent({ type: "end", path: this.path, value });
  }

  private open(isArray: boolean, i: number): void {
    if (this.frames.length >= this.maxDepth) {
      this.fail(
        "max_depth",
        `Nesting deeper than the limit of ${this.maxDepth} (maxDepth).`,
        this.offsetOf(i),
      );
    }
    this.enterValue();
    const frame = new Frame(isArray, this.emitStart(isArray ? "array" : "object"));
    if (frame.hold) this.heldFrames++;
    if (this.onEvent !== undefined) {
      if (this.heldFrames === 0) {
        frame.visible = true;
        this.emitAdd(isArray ? [] : {});
      }
      this.path.push(0);
    }
    this.frames.push(frame);
    this.changed = true;
    this.state = isArray ? ARRAY_START : OBJECT_START;
  }

  private close(): void {
    const f = this.frames.pop()!;
    if (this.onEvent !== undefined) this.path.pop();
    if (f.hold) this.heldFrames--;
    // Keep the identity of the last snapshot when it already equals the final value.
    const value = !f.dirty && f.published !== undefined && f.shown === NONE ? f.published : f.builder;
    this.complete(value, f.visible);
  }

  private finishNumber(): void {
    this.complete(Number(this.numText));
    this.numText = "";
  }

  // ---- the tokenizer ----------------------------------------------------------------------

  private run(text: string): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      switch (this.state) {
        case VALUE:
        case ARRAY_START: {
          let c = text.charCodeAt(i);
          while (isWhitespace(c)) {
            if (c === 10) this.newline(i);
            if (++i === n) return;
            c = text.charCodeAt(i);
          }
          if (c === 93 && this.state === ARRAY_START) {
            this.close();
            i++;
            break;
          }
          i = this.startValue(text, i, c);
          break;
        }
        case OBJECT_START:
        case KEY: {
          let c = text.charCodeAt(i);
          while (isWhitespace(c)) {
            if (c === 10) this.newline(i);
            if (++i === n) return;
            c = text.charCodeAt(i);
          }
          if (c === 34) {
            this.str = "";
            this.strHead = "";
            this.strPieces = 0;
            this.strIsKey = true;
            this.strShown = false;
            this.state = STRING;
            i++;
          } else if (c === 125 && this.state === OBJECT_START) {
            this.close();
            i++;
          } else this.unexpected(text, i);
          break;
        }
        case COLON: {
          let c = text.charCodeAt(i);
          while (isWhitespace(c)) {
            if (c === 10) this.newline(i);
            if (++i === n) return;
            c = text.charCodeAt(i);
          }
          if (c !== 58) this.unexpected(text, i);
          this.state = VALUE;
          i++;
          break;
        }
        case AFTER: {
          let c = text.charCodeAt(i);
          while (isWhitespace(c)) {
            if (c === 10) this.newline(i);
            if (++i === n) return;
            c = text.charCodeAt(i);
          }
          const top = this.frames[this.frames.length - 1];
          if (c === 44) this.state = top.isArray ? VALUE : KEY;
          else if (c === (top.isArray ? 93 : 125)) this.close();
          else this.unexpected(text, i);
          i++;
          break;
        }
        case STRING:
          i = this.readString(text, i);
          break;
        case ESCAPE: {
          const c = text.charCodeAt(i);
          let s: string;
          switch (c) {
            case 34:
              s = '"';
              break;
            case 92:
              s = "\\";
              break;
            case 47:
              s = "/";
              break;
            case 98:
              s = "\b";
              break;
            case 102:
              s = "\f";
              break;
            case 110:
              s = "\n";
              break;
            case 114:
              s = "\r";
              break;
            case 116:
              s = "\t";
              break;
            case 117:
              this.state = UNICODE;
              this.hex = 0;
              this.hexCount = 0;
              i++;
              continue;
            default:
              this.unexpected(text, i);
          }
          this.appendString(s);
          this.state = STRING;
          i++;
          break;
        }
        case UNICODE: {
          while (i < n) {
            const c = text.charCodeAt(i);
            const h =
              c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
            if (h < 0) this.unexpected(text, i);
            this.hex = this.hex * 16 + h;
            i++;
            if (++this.hexCount === 4) {
              this.appendString(String.fromCharCode(this.hex));
              this.state = STRING;
              break;
            }
          }
          break;
        }
        case NUMBER:
          i = this.readNumber(text, i);
          break;
        case LITERAL: {
          const word = LITERALS[this.literal];
          while (i < n) {
            if (text.charCodeAt(i) !== word.charCodeAt(this.literalPos)) this.unexpected(text, i);
            i++;
            if (++this.literalPos === word.length) {
              this.complete(LITERAL_VALUES[this.literal]);
              break;
            }
          }
          break;
        }
        case DONE: {
          let c = text.charCodeAt(i);
          while (isWhitespace(c)) {
            if (c === 10) this.newline(i);
            if (++i === n) return;
            c = text.charCodeAt(i);
          }
          this.unexpected(text, i);
          break;
        }
        default:
          return;
      }
    }
  }

  private startValue(text: string, i: number, c: number): number {
    if (c === 34) {
      this.enterValue();
      this.strHeld = this.emitStart("string") === true;
      this.str = "";
      this.strHead = "";
      this.strPieces = 0;
      this.strIsKey = false;
      this.strTailHigh = false;
      this.strHeldHigh = "";
      this.strShown = !this.strHeld && this.heldFrames === 0;
      if (this.strShown) {
        this.changed = true;
        this.emitAdd("");
      }
      this.state = STRING;
      return i + 1;
    }
    if (c === 123 || c === 91) {
      this.open(c === 91, i);
      return i + 1;
    }
    if (c === 45 || (c >= 48 && c <= 57)) {
      this.enterValue();
      this.emitStart("number");
      this.numState = c === 45 ? N_MINUS : c === 48 ? N_ZERO : N_INT;
      this.numText = "";
      this.state = NUMBER;
      // The character is read again by readNumber so that the whole number is one slice.
      return this.readNumber(text, i, true);
    }
    const literal = c === 116 ? 0 : c === 102 ? 1 : c === 110 ? 2 : -1;
    if (literal < 0) this.unexpected(text, i);
    this.enterValue();
    this.emitStart(literal === 2 ? "null" : "boolean");
    this.literal = literal;
    this.literalPos = 1;
    this.state = LITERAL;
    return i + 1;
  }

  private readString(text: string, i: number): number {
    const n = text.length;
    const start = i;
    for (; i < n; i++) {
      let c = text.charCodeAt(i);
      if (c > 92 || (c > 34 && c !== 92)) {
        // Long runs of plain characters: a compiled regular expression skips them faster than a
        // JavaScript loop (it runs as native code).
        if (n - i > 16) {
          PLAIN.lastIndex = i;
          PLAIN.test(text);
          i = PLAIN.lastIndex;
          if (i >= n) break;
          c = text.charCodeAt(i);
        } else continue;
      }
      if (c === 34) {
        let s = this.strHead + this.str;
        const shown = this.strShown && !this.strIsKey;
        if (s === "") s = text.slice(start, i);
        else {
          if (i > start) s += text.slice(start, i);
          // A string read over many chunks is a rope of small pieces; flattening it once here keeps
          // the garbage collector from tracing (and the consumer from re-flattening) every piece.
          flatten(s);
        }
        if (shown && this.onEvent !== undefined) {
          // What the last snapshot lacks: this chunk's part, and a high surrogate held back.
          const rest = this.strHeldHigh + (i > start ? text.slice(start, i) : "");
          if (rest !== "") this.onEvent({ type: "append", path: this.path, text: rest });
          this.strHeldHigh = "";
        }
        this.str = "";
        this.strHead = "";
        this.strPieces = 0;
        this.strShown = false;
        if (this.strIsKey) {
          this.pendingKey = s;
          this.state = COLON;
        } else this.complete(s, shown);
        return i + 1;
      }
      if (c === 92) {
        if (i > start) this.appendString(text.slice(start, i));
        this.state = ESCAPE;
        return i + 1;
      }
      if (c < 0x20) {
        // What arrived before the bad character stays in `value` (and its `append` is reported).
        if (i > start) this.appendString(text.slice(start, i));
        this.unexpected(text, i);
      }
    }
    if (n > start) this.appendString(text.slice(start, n));
    return n;
  }

  private readNumber(text: string, i: number, first = false): number {
    const n = text.length;
    const start = i;
    if (first) i++;
    let ns = this.numState;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      const digit = c >= 48 && c <= 57;
      switch (ns) {
        case N_MINUS:
          if (!digit) this.numError(text, start, i);
          ns = c === 48 ? N_ZERO : N_INT;
          continue;
        case N_ZERO:
          if (c === 46) ns = N_DOT;
          else if (c === 101 || c === 69) ns = N_E;
          else return this.endNumber(text, start, i);
          continue;
        case N_INT:
          if (digit) continue;
          if (c === 46) ns = N_DOT;
          else if (c === 101 || c === 69) ns = N_E;
          else return this.endNumber(text, start, i);
          continue;
        case N_DOT:
          if (!digit) this.numError(text, start, i);
          ns = N_FRAC;
          continue;
        case N_FRAC:
          if (digit) continue;
          if (c === 101 || c === 69) ns = N_E;
          else return this.endNumber(text, start, i);
          continue;
        case N_E:
          if (c === 43 || c === 45) ns = N_ESIGN;
          else if (digit) ns = N_EXP;
          else this.numError(text, start, i);
          continue;
        case N_ESIGN:
          if (!digit) this.numError(text, start, i);
          ns = N_EXP;
          continue;
        default:
          if (digit) continue;
          return this.endNumber(text, start, i);
      }
    }
    this.numState = ns;
    this.numText += text.slice(start, n);
    return n;
  }

  private numError(text: string, start: number, i: number): never {
    this.numText += text.slice(start, i);
    this.unexpected(text, i);
  }

  private endNumber(text: string, start: number, i: number): number {
    this.numText += text.slice(start, i);
    this.finishNumber();
    // The delimiter is read again in the state after the value.
    return i;
  }
}

/**
 * Creates an incremental JSON parser: push string or byte chunks as they arrive and read an
 * immutable, structurally shared snapshot of the value at any moment. Linear in the input, no
 * recursion, exact `JSON.parse` semantics once complete.
 *
 * @example
 * ```ts
 * const parser = createParser();
 * parser.push('{"title": "Str');
 * parser.value; // { title: "Str" }
 * parser.push('eams", "tags": [1, 2');
 * parser.value; // { title: "Streams", tags: [1] }
 * parser.push("]}");
 * parser.end(); // { title: "Streams", tags: [1, 2] }
 * ```
 */
export function createParser(options: ParserOptions = {}): JsonParser {
  return new Parser(options);
}

/**
 * The partial value of a JSON prefix, by the same rules as {@link JsonParser.value}. Throws
 * {@link JsonParseError} when `text` is not a prefix of any JSON text.
 *
 * @example
 * ```ts
 * parsePartial('{"a": 12'); // {}
 * parsePartial('{"a": 12,'); // { a: 12 }
 * parsePartial('{"a": "he'); // { a: "he" }
 * ```
 */
export function parsePartial(text: string, options: Omit<ParserOptions, "onEvent"> = {}): unknown {
  const parser = createParser(options);
  parser.push(text);
  return parser.value;
}
