import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { displayWidth, fitLines, sanitize, truncateEnd, truncateStart, wrap } from "./text.ts";

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
});

describe("width and cutting", () => {
  it("counts wide characters as two columns and combining marks as none", () => {
    expect(displayWidth("abc")).toBe(3);
    expect(displayWidth("日本語")).toBe(6);
    expect(displayWidth("e\u0301")).toBe(1);
    expect(displayWidth("🙂")).toBe(2);
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
