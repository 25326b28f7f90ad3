import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  displayWidth,
  escapeJsonText,
  fitLines,
  graphemes,
  safeJson,
  sanitize,
  truncateEnd,
  truncateStart,
  wrap,
} from "./text.ts";

const RUNS = Number(process.env.FC_RUNS ?? 200);

describe("sanitize", () => {
  it("turns line breaks into a visible mark and tabs into spaces", () => {
    expect(sanitize("a\nb\r\nc\td")).toBe("a↵b↵c d");
  });

  it("neutralises escape sequences and bidi overrides a model could send to the terminal", () => {
    const hostile = "ok\u001b[2J\u001b]0;pwned\u0007\u009b31m\u202eevil";
    const clean = sanitize(hostile);
    expect(clean).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e]/);
    expect(clean).toBe("ok\ufffd[2J\ufffd]0;pwned\ufffd\ufffd31m\ufffdevil");
  });

  it("leaves no character of any control class (C0, DEL, C1, separators, bidi) in any text", () => {
    const unsafe = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 80 }), (text) => {
        expect(sanitize(text)).not.toMatch(unsafe);
      }),
      { numRuns: RUNS },
    );
  });
});

describe("escapeJsonText and safeJson", () => {
  const CONTROLS = [
    "\u0000",
    "\u001b",
    "\u007f",
    "\u0085",
    "\u009b",
    "\u009d",
    "\u2028",
    "\u202e",
    "\u2066",
    "\u200f",
  ];

  it("writes every control class as \\uXXXX, and the JSON still means the same value", () => {
    const value = { text: `a${CONTROLS.join("b")}c`, "k\u202e": ["\u009b31m"] };
    const json = safeJson(value, 2);
    expect(json).toMatch(/^[\u0020-\u007e\n]*$/);
    expect(JSON.parse(json)).toEqual(value);
    expect(escapeJsonText('"\u009d0;title\u0007"')).toBe('"\\u009d0;title\u0007"');
  });

  it("keeps any value's meaning and prints no control character (any string)", () => {
    const unsafe =
      /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 60 }), (text) => {
        const json = safeJson({ text });
        expect(json).not.toMatch(unsafe);
        expect(JSON.parse(json)).toEqual({ text });
      }),
      { numRuns: RUNS },
    );
  });
});

/**
 * Widths written down by hand from the Unicode data (East Asian Width W/F, Emoji_Presentation),
 * not computed by the code under test: the property test below measures strings made of them.
 */
const KNOWN_WIDTHS: readonly (readonly [string, number])[] = [
  // Emoji with default emoji presentation, a skin-tone sequence, a ZWJ family, a flag.
  ["🚀", 2],
  ["✅", 2],
  ["⚡", 2],
  ["👍🏽", 2],
  ["🙂", 2],
  ["🎉", 2],
  ["👨\u200d👩\u200d👧", 2],
  ["🇫🇷", 2],
  // CJK ideographs, kana, Hangul, a fullwidth Latin letter.
  ["日", 2],
  ["本", 2],
  ["語", 2],
  ["カ", 2],
  ["한", 2],
  ["Ａ", 2],
  // Narrow: ASCII, Latin with a precomposed or combining accent (one or two marks), Greek.
  ["a", 1],
  ["Z", 1],
  [" ", 1],
  ["é", 1],
  ["e\u0301", 1],
  ["a\u0300\u0301", 1],
  ["n\u0303", 1],
  ["Ω", 1],
  ["ß", 1],
];

describe("width and cutting", () => {
  it("counts wide characters and emoji as two columns and combining marks as none", () => {
    expect(displayWidth("abc")).toBe(3);
    expect(displayWidth("日本語")).toBe(6);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("🙂")).toBe(2);
    for (const emoji of ["🚀", "✅", "⚡", "👍🏽"]) expect(displayWidth(emoji), emoji).toBe(2);
    expect(graphemes("👍🏽e\u0301")).toEqual(["👍🏽", "e\u0301"]);
  });

  it("measures any mix of emoji, CJK and combining marks as the sum of their known widths", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...KNOWN_WIDTHS), { maxLength: 40 }), (parts) => {
        const text = parts.map(([s]) => s).join("");
        const expected = parts.reduce((sum, [, w]) => sum + w, 0);
        expect(displayWidth(text)).toBe(expected);
      }),
      { numRuns: RUNS },
    );
  });

  it("cuts only between grapheme clusters and never past the width (emoji, CJK, combining marks)", () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...KNOWN_WIDTHS), { maxLength: 30 }),
        fc.integer({ min: 1, max: 30 }),
        (parts, width) => {
          const pieces = parts.map(([s]) => s);
          const text = pieces.join("");
          const head = truncateEnd(text, width);
          const tail = truncateStart(text, width);
          const known = new Map(KNOWN_WIDTHS);
          const widthOf = (s: string) => graphemes(s).reduce((sum, g) => sum + (known.get(g) ?? 1), 0);
          expect(widthOf(head)).toBeLessThanOrEqual(width);
          expect(widthOf(tail)).toBeLessThanOrEqual(width);
          // Whatever is kept is whole pieces: a prefix (head) or a suffix (tail) of the originals.
          const kept = head.endsWith("…") ? head.slice(0, -1) : head;
          expect(pieces.slice(0, graphemes(kept).length).join("")).toBe(kept);
          const keptTail = tail.startsWith("…") ? tail.slice(1) : tail;
          const n = graphemes(keptTail).length;
          expect(n === 0 ? "" : pieces.slice(-n).join("")).toBe(keptTail);
          for (const line of wrap(text, Math.max(2, width)))
            expect(widthOf(line)).toBeLessThanOrEqual(Math.max(2, width));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("keeps the head of a complete value and the tail of a streaming one", () => {
    expect(truncateEnd("streaming", 6)).toBe("strea…");
    expect(truncateStart("streaming", 6)).toBe("…aming");
    expect(truncateEnd("short", 10)).toBe("short");
    expect(truncateEnd("日本語テキスト", 7)).toBe("日本語…");
  });

  it("wraps at spaces and breaks words longer than a line", () => {
    expect(wrap("the quick brown fox", 10)).toEqual(["the quick", "brown fox"]);
    expect(wrap("abcdefghijkl", 5)).toEqual(["abcde", "fghij", "kl"]);
  });

  it("fits text in a few lines, ending in … (head) or starting with … (tail)", () => {
    const text = "one two three four five six seven eight nine ten";
    const head = fitLines(text, 12, 2, "head");
    const tail = fitLines(text, 12, 2, "tail");
    expect(head).toHaveLength(2);
    expect(head[1]!.endsWith("…")).toBe(true);
    expect(head[0]).toBe("one two");
    expect(tail).toHaveLength(2);
    expect(tail[0]!.startsWith("…")).toBe(true);
    expect(tail[1]).toBe("nine ten");
    expect(fitLines("one two three four", 9, 1, "tail")).toEqual(["…ree four"]);
  });

  it("never returns a line wider than asked, nor more lines (any text, width, line count)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 200 }),
        fc.integer({ min: 2, max: 60 }),
        fc.integer({ min: 1, max: 4 }),
        fc.constantFrom("head" as const, "tail" as const),
        (raw, width, maxLines, keep) => {
          const lines = fitLines(sanitize(raw), width, maxLines, keep);
          expect(lines.length).toBeLessThanOrEqual(maxLines);
          for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(width);
        },
      ),
      { numRuns: RUNS },
    );
  });
});
