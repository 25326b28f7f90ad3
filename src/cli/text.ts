/**
 * Terminal text helpers: make model output safe to print, and measure and cut it by the columns
 * it takes rather than by its length. Widths come from `string-width` (Unicode's East Asian Width
 * and emoji presentation, one grapheme cluster at a time), and text is only ever cut between
 * grapheme clusters, so `👍🏽` or `e\u0301` never falls apart.
 */
import stringWidth from "string-width";

// What a model's text must never send to a terminal raw: C0 controls (but \t and line breaks,
// handled apart), DEL, C1 controls (U+0080–U+009F: U+009B is a one-byte CSI, U+009D an OSC),
// the line and paragraph separators, and the bidirectional controls (embeddings, overrides,
// isolates, marks: U+202E turns "txt.exe" into what looks like "exe.txt").
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

// The same classes in JSON text: JSON.stringify already writes C0 as `\u00XX` but leaves DEL,
// C1, the separators and the bidi controls raw inside strings. Outside strings JSON has none.
const UNSAFE_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const toEscape = (char: string): string => `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;

/**
 * Makes text from the model printable on one line: line breaks (and U+2028/U+2029) become `↵`,
 * tabs a space, other control characters (C0, DEL, C1) and bidi controls `�`.
 *
 * @example
 * ```ts
 * sanitize("a\nb\u001b[2J"); // "a↵b�[2J"
 * ```
 */
export function sanitize(text: string): string {
  return text
    .replace(/\r\n|\r|\n|\u2028|\u2029/g, "↵")
    .replace(/\t/g, " ")
    .replace(UNSAFE, "\ufffd");
}

/**
 * Escapes, in JSON text, every character a terminal could act on that `JSON.stringify` leaves raw
 * (DEL, C1 controls, U+2028/U+2029, bidi controls) as `\uXXXX`. The JSON means the same value;
 * it is only safe to print. Every JSON line the CLI writes (the answer on stdout, the NDJSON
 * records on stderr) goes through it.
 *
 * @example
 * ```ts
 * escapeJsonText(JSON.stringify("a\u009b2J\u202e")); // '"a\\u009b2J\\u202e"'
 * ```
 */
export function escapeJsonText(json: string): string {
  return json.replace(UNSAFE_IN_JSON, toEscape);
}

/**
 * `JSON.stringify(value, null, indent)`, safe to print on a terminal (see {@link escapeJsonText}).
 *
 * @example
 * ```ts
 * safeJson({ a: "\u202e" }); // '{"a":"\\u202e"}'
 * ```
 */
export function safeJson(value: unknown, indent?: number): string {
  return escapeJsonText(JSON.stringify(value, null, indent) ?? "null");
}

const segmenter = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/**
 * The grapheme clusters of `text` (what a reader sees as one character).
 *
 * @example
 * ```ts
 * graphemes("a👍🏽e\u0301"); // ["a", "👍🏽", "é"]
 * ```
 */
export function graphemes(text: string): string[] {
  const out: string[] = [];
  for (const { segment } of segmenter.segment(text)) out.push(segment);
  return out;
}

/**
 * Columns one grapheme cluster takes: 0 (a lone combining mark or zero-width character), 1, or
 * 2 (East Asian wide, emoji).
 *
 * @example
 * ```ts
 * charWidth("🚀"); // 2
 * ```
 */
export function charWidth(grapheme: string): number {
  // A terminal gives one cluster at most two cells; string-width sums the spacing marks of some
  // clusters (U+1D160, a musical note, measures 3), which would let a "fitting" line overflow.
  return Math.min(2, stringWidth(grapheme, { countAnsiEscapeCodes: true }));
}

/**
 * Columns a (sanitized) string takes on a terminal.
 *
 * @example
 * ```ts
 * displayWidth("héllo"); // 5
 * displayWidth("日本"); // 4
 * displayWidth("👍🏽 ok"); // 5
 * ```
 */
export function displayWidth(text: string): number {
  if (PRINTABLE_ASCII.test(text)) return text.length;
  let width = 0;
  for (const { segment } of segmenter.segment(text)) width += charWidth(segment);
  return width;
}

/** Text whose width is its length: the common case, measured without segmenting. */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * The head of `text` that fits in `width` columns, ending in `…` when it was cut.
 *
 * @example
 * ```ts
 * truncateEnd("streaming", 6); // "strea…"
 * ```
 */
export function truncateEnd(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  let out = "";
  let used = 0;
  for (const char of graphemes(text)) {
    const w = charWidth(char);
    if (used + w > width - 1) break;
    out += char;
    used += w;
  }
  return `${out}…`;
}

/**
 * The tail of `text` that fits in `width` columns, starting with `…` when it was cut: what a
 * string still streaming shows, so the newest words stay in view.
 *
 * @example
 * ```ts
 * truncateStart("streaming", 6); // "…aming"
 * ```
 */
export function truncateStart(text: string, width: number): string {
  if (width <= 0) return "";
  if (displayWidth(text) <= width) return text;
  const chars = graphemes(text);
  let out = "";
  let used = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const w = charWidth(chars[i]!);
    if (used + w > width - 1) break;
    out = chars[i] + out;
    used += w;
  }
  return `…${out}`;
}

/**
 * Cuts `text` into lines of at most `width` columns, at spaces where it can, mid-word where a
 * word is longer than a line.
 *
 * @example
 * ```ts
 * wrap("the quick brown fox", 10); // ["the quick", "brown fox"]
 * ```
 */
export function wrap(text: string, width: number): string[] {
  if (width <= 0) return [];
  const lines: string[] = [];
  let line = "";
  let lineWidth = 0;
  const words = text.split(/(?<= )/);
  for (const word of words) {
    const w = displayWidth(word);
    if (lineWidth + displayWidth(word.trimEnd()) <= width) {
      line += word;
      lineWidth += w;
      continue;
    }
    if (line !== "") {
      lines.push(line.trimEnd());
      line = "";
      lineWidth = 0;
    }
    if (displayWidth(word.trimEnd()) <= width) {
      line = word;
      lineWidth = w;
      continue;
    }
    for (const char of graphemes(word)) {
      const cw = charWidth(char);
      if (lineWidth + cw > width) {
        lines.push(line);
        line = "";
        lineWidth = 0;
      }
      line += char;
      lineWidth += cw;
    }
  }
  if (line.trimEnd() !== "" || lines.length === 0) lines.push(line.trimEnd());
  return lines;
}

function headColumns(text: string, width: number): string {
  let out = "";
  let used = 0;
  for (const char of graphemes(text)) {
    const w = charWidth(char);
    if (used + w > width) break;
    out += char;
    used += w;
  }
  return out;
}

function tailColumns(text: string, width: number): string {
  const chars = graphemes(text);
  let out = "";
  let used = 0;
  for (let i = chars.length - 1; i >= 0; i--) {
    const w = charWidth(chars[i]!);
    if (used + w > width) break;
    out = chars[i] + out;
    used += w;
  }
  return out;
}

/**
 * `text` in at most `maxLines` lines of `width` columns. When it does not fit, a value still
 * streaming keeps its tail (the newest text, after `…`), a complete one its head (before `…`).
 *
 * @example
 * ```ts
 * fitLines("one two three four", 9, 1, "tail"); // ["…ree four"]
 * ```
 */
export function fitLines(text: string, width: number, maxLines: number, keep: "head" | "tail"): string[] {
  if (width <= 0 || maxLines <= 0) return [];
  const lines = wrap(text, width);
  if (lines.length <= maxLines) return lines;
  if (keep === "head") {
    const head = lines.slice(0, maxLines);
    head[maxLines - 1] = `${headColumns(head[maxLines - 1]!, width - 1)}…`;
    return head;
  }
  if (maxLines === 1) return [`…${tailColumns(text, width - 1)}`];
  const tail = lines.slice(-maxLines);
  tail[0] = `…${tailColumns(tail[0]!, width - 1)}`;
  return tail;
}
