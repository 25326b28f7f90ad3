/**
 * Terminal text helpers: make model output safe to print, and measure and cut it by the columns
 * it takes rather than by its length.
 */

// C0 and C1 controls, DEL, and the bidirectional overrides: printed raw, text from a model could
// move the cursor, change colours, set the window title or reorder what the user reads.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes text from the model printable on one line: line breaks become `↵`, tabs a space, other
 * control characters and bidi overrides `�`.
 *
 * @example
 * ```ts
 * sanitize("a\nb\u001b[2J"); // "a↵b�[2J"
 * ```
 */
export function sanitize(text: string): string {
  return text
    .replace(/\r\n|\r|\n/g, "↵")
    .replace(/\t/g, " ")
    .replace(UNSAFE, "\ufffd");
}

function isZeroWidth(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x20d0 && cp <= 0x20ff)
  );
}

function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}

/** Columns one code point takes: 0, 1 or 2 (East Asian wide and emoji). */
export function charWidth(char: string): number {
  const cp = char.codePointAt(0) ?? 0;
  if (isZeroWidth(cp)) return 0;
  return isWide(cp) ? 2 : 1;
}

/**
 * Columns a (sanitized) string takes on a terminal.
 *
 * @example
 * ```ts
 * displayWidth("héllo"); // 5
 * displayWidth("日本"); // 4
 * ```
 */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of text) width += charWidth(char);
  return width;
}

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
  for (const char of text) {
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
  const chars = [...text];
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
    for (const char of word) {
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
  for (const char of text) {
    const w = charWidth(char);
    if (used + w > width) break;
    out += char;
    used += w;
  }
  return out;
}

function tailColumns(text: string, width: number): string {
  const chars = [...text];
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
