import { describe, expect, it } from "vitest";
import { cloneJson, jsonDiff } from "../../test/support/json-equal.ts";
import { partialReference } from "../../test/support/partial-reference.ts";
import { isStructreamError } from "../errors/index.ts";
import {
  createParser,
  type Hold,
  JsonParseError,
  type ParserEvent,
  type ParserOptions,
  PartialJsonStream,
  parseJsonStream,
  parsePartial,
} from "./index.ts";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Uint8Array.from(parts.flatMap((part) => (typeof part === "string" ? [...utf8(part)] : part)));

function splitEvery<T extends string | Uint8Array>(input: T, size: number): T[] {
  const chunks: T[] = [];
  for (let i = 0; i < input.length; i += size) chunks.push(input.slice(i, i + size) as T);
  return chunks;
}

/** Every chunking worth trying on a short input: whole, and every fixed size from 1 up. */
function chunkings<T extends string | Uint8Array>(input: T): T[][] {
  const out: T[][] = [[input]];
  for (let size = 1; size < Math.min(input.length, 12); size++) out.push(splitEvery(input, size));
  return out;
}

/** Pushes every chunk, reading a snapshot after each; returns the snapshots and end()'s value. */
function run(
  chunks: (string | Uint8Array)[],
  options?: ParserOptions,
): { snapshots: unknown[]; final: unknown } {
  const parser = createParser(options);
  const snapshots: unknown[] = [];
  for (const chunk of chunks) {
    parser.push(chunk);
    snapshots.push(parser.value);
  }
  return { snapshots, final: parser.end() };
}

function parseError(action: () => unknown): JsonParseError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(JsonParseError);
    return error as JsonParseError;
  }
  throw new Error("expected a JsonParseError, but nothing was thrown");
}

function failure(chunks: (string | Uint8Array)[], options?: ParserOptions): JsonParseError {
  return parseError(() => run(chunks, options));
}

function expectJson(actual: unknown, expected: unknown): void {
  expect(jsonDiff(actual, expected)).toBeUndefined();
}

/** Keeps a `start` or `end` event, with a copy of its (live) path. */
function keep(events: ParserEvent[], event: ParserEvent): void {
  if (event.type === "start" || event.type === "end") events.push({ ...event, path: event.path.slice() });
}

function collectEvents(chunks: string[], hold?: (event: ParserEvent) => Hold): ParserEvent[] {
  const events: ParserEvent[] = [];
  const parser = createParser({
    onEvent: (event) => {
      keep(events, event);
      return hold?.(event);
    },
  });
  for (const chunk of chunks) parser.push(chunk);
  parser.end();
  return events;
}

const pathIs = (path: readonly (string | number)[]) => (event: ParserEvent) =>
  event.type === "start" && JSON.stringify(event.path) === JSON.stringify(path);

describe("the final value (rule 1)", () => {
  const documents = [
    '{"a": 1, "b": [true, false, null], "c": "x", "d": {}}',
    '"just a string"',
    "123",
    "-0",
    "[-0, 0, -0.0, -0e5]",
    "1e400",
    "-1e400",
    "1e-400",
    "[0.1, 1E+2, 1e-2, 12345678901234567890, 1.7976931348623157e308, 5e-324, 2.5E-3]",
    '{"b": 1, "a": 2, "2": 3, "1": 4}',
    '{"a": 1, "b": 2, "a": 3}',
    '{"a": [1], "a": {"x": "y"}, "a": null}',
    '"\\u0000\\ud83d\\ude00\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC"',
    '"\\ud800" ',
    '["\\udc00\\ud800", "\\ud83dx"]',
    "[]",
    "{}",
    " \t\r\n [ 1 , 2 ] \t\r\n ",
    '[[[]], {"": {"": ""}}]',
    '"é€😀𝄞 \u2028\u2029"',
  ];

  it.each(documents)(
    "equals JSON.parse for %j under every chunking of the string and its UTF-8 bytes",
    (text) => {
      const expected = JSON.parse(text);
      for (const chunks of [...chunkings(text), ...chunkings(utf8(text))]) {
        expectJson(run(chunks).final, expected);
      }
    },
  );

  it("keeps -0 as -0", () => {
    expect(Object.is(run(["-0"]).final, -0)).toBe(true);
    expect(Object.is((run(["[-0.0e1]"]).final as number[])[0], -0)).toBe(true);
  });

  it("turns numbers beyond the double range into Infinity and tiny ones into 0", () => {
    expect(run(["[1e400, -1e400, 1e-400]"]).final).toEqual([Infinity, -Infinity, 0]);
  });

  it("keeps a duplicate key at its first position with its last value", () => {
    const value = run(['{"a": 1, "b": 2, "a": 3}']).final as Record<string, number>;
    expect(Object.keys(value)).toEqual(["a", "b"]);
    expect(value.a).toBe(3);
  });

  it("makes __proto__ an own data property and leaves the prototype alone", () => {
    const text = '{"__proto__": {"polluted": true}, "a": {"__proto__": []}}';
    for (const chunks of chunkings(text)) {
      const value = run(chunks).final as Record<string, unknown>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.hasOwn(value, "__proto__")).toBe(true);
      expect(Object.getPrototypeOf(value.a)).toBe(Object.prototype);
      expect(Object.hasOwn(value.a as object, "__proto__")).toBe(true);
      expect((value as { polluted?: unknown }).polluted).toBeUndefined();
      expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
      expectJson(value, JSON.parse(text));
    }
  });

  it("makes __proto__ an own data property in snapshots too", () => {
    const parser = createParser();
    parser.push('{"__proto__": {"x": "y');
    const snapshot = parser.value as Record<string, unknown>;
    expect(Object.getPrototypeOf(snapshot)).toBe(Object.prototype);
    expect(Object.hasOwn(snapshot, "__proto__")).toBe(true);
    expectJson(snapshot, partialReference('{"__proto__": {"x": "y'));
  });

  it("decodes UTF-8 bytes split anywhere, never garbling a character cut between chunks", () => {
    const text = '["é", "€", "😀", "𝄞", {"ключ": "値"}]';
    const encoded = utf8(text);
    for (let a = 0; a <= encoded.length; a++) {
      for (let b = a; b <= encoded.length; b += 3) {
        const chunks = [encoded.slice(0, a), encoded.slice(a, b), encoded.slice(b)];
        expectJson(run(chunks).final, JSON.parse(text));
      }
    }
  });

  it("drops a leading byte order mark from bytes, also when it arrives byte by byte", () => {
    const input = bytes([0xef, 0xbb, 0xbf], '{"a": [1]}');
    for (const chunks of chunkings(input)) expectJson(run(chunks).final, { a: [1] });
  });

  it("keeps a byte order mark inside a string and rejects one after the start", () => {
    expect(run([bytes('"', [0xef, 0xbb, 0xbf], '"')]).final).toBe("\ufeff");
    expect(failure([bytes("[", [0xef, 0xbb, 0xbf], "1]")]).offset).toBe(1);
    // Only one leading mark is dropped, as TextDecoder does.
    expect(failure([bytes([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf], "1")]).offset).toBe(3);
  });

  it("rejects a byte order mark at the start of string input, as JSON.parse does", () => {
    expect(() => JSON.parse("\ufeff{}")).toThrow();
    const error = failure(["\ufeff{}"]);
    expect(error.offset).toBe(0);
    expect(error.code).toBe("unexpected_character");
  });

  it.each([
    ["a byte that never starts a character", [0xff]],
    ["a lone continuation byte", [0x80]],
    ["an overlong encoding", [0xc0, 0x80]],
    ["an encoded surrogate", [0xed, 0xa0, 0x80]],
    ["a code point beyond U+10FFFF", [0xf4, 0x90, 0x80, 0x80]],
    ["a truncated sequence", [0xe2, 0x82]],
    ["a truncated four-byte sequence before an ASCII letter", [0xf0, 0x9f, 0x98, 0x41]],
  ])("replaces %s inside a string with U+FFFD, as TextDecoder does", (_name, invalid) => {
    const input = bytes('["a', invalid, 'b"]');
    const expected = JSON.parse(new TextDecoder().decode(input));
    expect(expected[0]).toContain("\ufffd");
    for (const chunks of chunkings(input)) expectJson(run(chunks).final, expected);
  });

  it("turns a truncated sequence at the very end of the input into U+FFFD and then rejects the unclosed string", () => {
    const error = failure([bytes('"a', [0xe2, 0x82])]);
    expect(error.code).toBe("unexpected_end");
    expect(error.offset).toBe(4);
  });

  it("rejects invalid UTF-8 outside strings at the offending byte", () => {
    const error = failure([bytes('["é", ', [0xff], "]")]);
    expect(error.offset).toBe(7);
    expect(error.column).toBe(8);
  });

  const invalid = [
    "[1,]",
    "01",
    "1.e1",
    '{"a" 1}',
    "{'a': 1}",
    "[1 2]",
    "NaN",
    "Infinity",
    "-",
    "+1",
    ".5",
    "1.",
    "1e",
    "1e+",
    "-01",
    "0x10",
    '"\\x"',
    '"\\u12g4"',
    '"a\nb"',
    '"tab\there"',
    "tru",
    "truex",
    "nul",
    "[1]]",
    '{"a": 1,}',
    "{,}",
    "[,1]",
    "[1,,2]",
    "",
    "   ",
    '"abc',
    '{"a": 1}{}',
    "1 2",
    "/* comment */ 1",
    "\u00a01",
    '{"a"}',
    "[1}",
    '{"a": 1]',
    '["\\u00"]',
  ];

  it.each(invalid)("rejects %j like JSON.parse, under every chunking", (text) => {
    expect(() => JSON.parse(text)).toThrow();
    for (const chunks of chunkings(text)) failure(chunks);
    failure([utf8(text)]);
  });
});

describe("partial values (rule 2)", () => {
  const examples: [string, unknown][] = [
    ["", undefined],
    [" \n\t", undefined],
    ['{"a": 12', {}],
    ['{"a": 12,', { a: 12 }],
    ['{"a": "he', { a: "he" }],
    ["[1,2", [1]],
    ["[1,2 ", [1, 2]],
    ["[1,2]", [1, 2]],
    ["[", []],
    ["{", {}],
    ['"', ""],
    ['{"a', {}],
    ['{"a"', {}],
    ['{"a":', {}],
    ['{"a": ', {}],
    ['{"a": [', { a: [] }],
    ['{"a": {"b": {', { a: { b: {} } }],
    ['{"a": "', { a: "" }],
    ["[tru", []],
    ["[true", [true]],
    ["[fals", []],
    ["[false", [false]],
    ["[nul", []],
    ["[null", [null]],
    ["[-", []],
    ["[1.5e", []],
    ["[1.5e3", []],
    ["12", undefined],
    ["-0", undefined],
    ["true", true],
    ["nul", undefined],
    ['"ab\\', "ab"],
    ['"ab\\u00', "ab"],
    ['"ab\\u00e9', "abé"],
    ['"\\ud83d', ""],
    ['"\\ud83d\\', ""],
    ['"\\ud83d\\ude', ""],
    ['"\\ud83d\\ude00', "😀"],
    ['"\\ud83dx', "\ud83dx"],
    ['{"a": 1, "a": ', { a: 1 }],
    ['{"a": 1, "a": 2', { a: 1 }],
    ['{"a": 1, "a": "', { a: "" }],
    ['[{"a": [1, {"b": "c', [{ a: [1, { b: "c" }] }]],
  ];

  it.each(examples)("shows %j as %j", (text, expected) => {
    expectJson(partialReference(text), expected);
    expectJson(parsePartial(text), expected);
    const parser = createParser();
    parser.push(text);
    expectJson(parser.value, expected);
  });

  it("is undefined before the root value starts", () => {
    const parser = createParser();
    expect(parser.value).toBeUndefined();
    parser.push("  \n ");
    expect(parser.value).toBeUndefined();
    parser.push("[");
    expect(parser.value).toEqual([]);
  });

  it("shows a root number only at end(), or once whitespace delimits it", () => {
    const parser = createParser();
    parser.push("12");
    expect(parser.value).toBeUndefined();
    parser.push("3");
    expect(parser.value).toBeUndefined();
    expect(parser.end()).toBe(123);
    expect(parser.value).toBe(123);

    const spaced = createParser();
    spaced.push("-0.5 ");
    expect(spaced.value).toBe(-0.5);
  });

  it("shows numbers inside containers once a comma, bracket, brace or whitespace follows", () => {
    for (const delimiter of [",", "]", " ", "\n", "\t", "\r"]) {
      expectJson(parsePartial(`[12${delimiter}`), [12]);
    }
    expectJson(parsePartial('{"n": -1.5e2}'), { n: -150 });
  });

  it("holds back an unfinished escape pushed at the end of a chunk", () => {
    const parser = createParser();
    parser.push('["ab\\');
    expect(parser.value).toEqual(["ab"]);
    parser.push("n");
    expect(parser.value).toEqual(["ab\n"]);
    parser.push("\\u0");
    expect(parser.value).toEqual(["ab\n"]);
    parser.push("0");
    expect(parser.value).toEqual(["ab\n"]);
    parser.push("e9 and more");
    expect(parser.value).toEqual(["ab\né and more"]);
  });

  it("holds back a high surrogate at the end of a chunk until the next character (string input)", () => {
    const parser = createParser();
    parser.push('"smile \ud83d');
    expect(parser.value).toBe("smile ");
    parser.push('\ude00!"');
    expect(parser.value).toBe("smile 😀!");
    expect(parser.end()).toBe("smile 😀!");
  });

  it("pairs an escaped surrogate pair split across chunks", () => {
    const parser = createParser();
    parser.push('["\\ud83d');
    expect(parser.value).toEqual([""]);
    parser.push("\\ude");
    expect(parser.value).toEqual([""]);
    parser.push('00"]');
    expect(parser.end()).toEqual(["😀"]);
  });

  it("shows a lone high surrogate once something other than its pair follows, or the string closes", () => {
    const parser = createParser();
    parser.push('["\\ud83d');
    parser.push("x");
    expect(parser.value).toEqual(["\ud83dx"]);
    const closed = createParser();
    closed.push('["\\ud83d"');
    expect(closed.value).toEqual(["\ud83d"]);
  });

  it("holds back an unfinished UTF-8 sequence (byte input)", () => {
    const euro = utf8("€");
    const parser = createParser();
    parser.push(bytes('{"a": "price ', [euro[0]]));
    expect(parser.value).toEqual({ a: "price " });
    parser.push(euro.slice(1, 2));
    expect(parser.value).toEqual({ a: "price " });
    parser.push(bytes([euro[2]], "5"));
    expect(parser.value).toEqual({ a: "price €5" });
  });

  it("matches the reference at every prefix of a document read one character at a time", () => {
    const text = '{"title": "Sum\\u00e9 \\"q\\" 😀", "n": [1, -2.5e1, true, null], "o": {"k": {}}, "e": []}';
    const parser = createParser();
    for (let i = 0; i < text.length; i++) {
      parser.push(text[i]);
      const diff = jsonDiff(parser.value, partialReference(text.slice(0, i + 1)));
      expect(diff, `after ${JSON.stringify(text.slice(0, i + 1))}`).toBeUndefined();
    }
    expectJson(parser.end(), JSON.parse(text));
  });
});

describe("snapshots (rule 3)", () => {
  it("returns the same object when read twice without a push in between", () => {
    const parser = createParser();
    parser.push('{"a": [1, {"b": "x');
    expect(parser.value).toBe(parser.value);
    parser.push("");
    expect(parser.value).toBe(parser.value);
  });

  it("keeps the identity of subtrees that did not change", () => {
    const parser = createParser();
    parser.push('{"done": {"x": [1, 2]}, "list": [');
    const first = parser.value as { done: object; list: unknown[] };
    parser.push('{"a": "b"}, ');
    const second = parser.value as { done: object; list: unknown[] };
    expect(second).not.toBe(first);
    expect(second.done).toBe(first.done);
    parser.push('"str');
    const third = parser.value as { done: object; list: unknown[] };
    expect(third.done).toBe(first.done);
    expect(third.list[0]).toBe(second.list[0]);
    parser.push("ing");
    const fourth = parser.value as { done: object; list: unknown[] };
    expect(fourth.list[0]).toBe(second.list[0]);
    expect(fourth.list[1]).toBe("string");
  });

  it("returns the previous snapshot when a push changed nothing visible", () => {
    const parser = createParser();
    parser.push("[1, 2");
    const before = parser.value;
    parser.push("3");
    expect(parser.value).toBe(before);
    parser.push("  ");
    expect(parser.value).not.toBe(before);
    expect(parser.value).toEqual([1, 23]);
  });

  it("never changes a snapshot once returned", () => {
    const text = '{"a": [1, {"b": "xyz"}, [2, [3]]], "c": {"d": "e"}, "a": "replaced"}';
    const parser = createParser();
    const seen: [unknown, unknown][] = [];
    for (const c of text) {
      parser.push(c);
      const snapshot = parser.value;
      seen.push([snapshot, cloneJson(snapshot)]);
    }
    parser.end();
    for (const [snapshot, copy] of seen) expectJson(snapshot, copy);
  });

  it("lets a duplicate key replace the earlier value in later snapshots", () => {
    const parser = createParser();
    parser.push('{"a": [1], "b": 2, "a": "');
    expect(parser.value).toEqual({ a: "", b: 2 });
    expect(Object.keys(parser.value as object)).toEqual(["a", "b"]);
    parser.push('x"}');
    expect(parser.end()).toEqual({ a: "x", b: 2 });
  });

  it("returns from end() a value that also keeps unchanged subtrees", () => {
    const parser = createParser();
    parser.push('{"a": {"b": [1]}, "c": "d');
    const before = parser.value as { a: object };
    parser.push('"}');
    const final = parser.end() as { a: object };
    expect(final.a).toBe(before.a);
  });
});

describe("errors (rule 4)", () => {
  it.each([
    ["[1,]", 3],
    ["01", 1],
    ["1.e1", 2],
    ['{"a": tx}', 7],
    ['["\\q"]', 3],
    ["[1 2]", 3],
  ])("fails %j at offset %i, whatever the chunking", (text, offset) => {
    for (const chunks of chunkings(text)) {
      const error = failure(chunks);
      expect(error.offset).toBe(offset);
      expect(error.line).toBe(1);
      expect(error.column).toBe(offset + 1);
    }
  });

  it("is an Error with a stable code, a human message and a position", () => {
    const error = failure(["[1,]"]);
    expect(error).toBeInstanceOf(Error);
    expect(isStructreamError(error)).toBe(true);
    expect(error.name).toBe("JsonParseError");
    expect(error.code).toMatch(/^[a-z]+(_[a-z]+)*$/);
    expect(error.message.length).toBeGreaterThan(10);
    expect(error.message).not.toBe(error.code);
    expect({ offset: error.offset, line: error.line, column: error.column }).toEqual({
      offset: 3,
      line: 1,
      column: 4,
    });
  });

  it("reports 1-based line and column on multi-line input", () => {
    const text = '{\n  "a": 1,\n  "b": ]\n}';
    for (const chunks of chunkings(text)) {
      const error = failure(chunks);
      expect([error.offset, error.line, error.column]).toEqual([19, 3, 8]);
    }
  });

  it("counts UTF-16 code units for string input and bytes for byte input", () => {
    const text = '["é😀", x]';
    expect(failure([text])).toMatchObject({ offset: 8, line: 1, column: 9 });
    for (const chunks of chunkings(utf8(text))) {
      expect(failure(chunks)).toMatchObject({ offset: 11, line: 1, column: 12 });
    }
  });

  it("counts columns from the start of the error's line in each mode", () => {
    const text = '["é",\n"😀", x]';
    expect(failure([text])).toMatchObject({ offset: 12, line: 2, column: 7 });
    for (const chunks of chunkings(utf8(text))) {
      expect(failure(chunks)).toMatchObject({ offset: 15, line: 2, column: 9 });
    }
  });

  it("counts a dropped byte order mark in byte offsets", () => {
    expect(failure([bytes([0xef, 0xbb, 0xbf], "[1,]")]).offset).toBe(6);
  });

  it.each([
    ["", 0],
    ["   ", 3],
    ['{"a": [1, 2', 11],
    ["[1", 2],
    ['"abc', 4],
    ['"abc\\', 5],
    ["tru", 3],
    ["-", 1],
    ["1e", 2],
    ['{"a"', 4],
  ])("fails at end() on the unfinished %j at offset = input length", (text, offset) => {
    for (const chunks of chunkings(text)) {
      const parser = createParser();
      for (const chunk of chunks) parser.push(chunk);
      const error = parseError(() => parser.end());
      expect(error.code).toBe("unexpected_end");
      expect(error.offset).toBe(offset);
    }
  });

  it("fails at end() with the length in bytes for byte input", () => {
    const parser = createParser();
    parser.push(utf8('["é'));
    expect(parseError(() => parser.end()).offset).toBe(4);
  });

  it("keeps in value everything that arrived, the string being read included, after an error", () => {
    const cases: [string[], unknown][] = [
      [['{"s":"hello wor', "\u0001"], { s: "hello wor" }],
      [['{"s":"hello wor\u0001'], { s: "hello wor" }],
      [['{"a":[1,"x', 'yz\n"]'], { a: [1, "xyz"] }],
      [['"hello wor', "\u0000"], "hello wor"],
      [['{"s":"ab\\', "q"], { s: "ab" }],
      [['{"s":"ab\\u12', "G"], { s: "ab" }],
    ];
    for (const [chunks, expected] of cases) {
      const parser = createParser();
      expect(() => {
        for (const chunk of chunks) parser.push(chunk);
      }).toThrow(JsonParseError);
      expect(parser.value, JSON.stringify(chunks)).toEqual(expected);
    }
  });

  it("reports the text before a bad character as an append before it throws", () => {
    const appended: string[] = [];
    const parser = createParser({
      onEvent: (event) => void (event.type === "append" && appended.push(event.text)),
    });
    parser.push('{"s":"hel');
    expect(() => parser.push("lo\u0001")).toThrow(JsonParseError);
    expect(appended.join("")).toBe("hello");
  });

  it("throws on every call after an error", () => {
    const parser = createParser();
    parser.push("[1,");
    parseError(() => parser.push("]"));
    parseError(() => parser.push("2]"));
    parseError(() => parser.push(""));
    parseError(() => parser.end());
    parseError(() => parser.end());
  });

  it("throws on every call after end()", () => {
    const parser = createParser();
    parser.push("[]");
    parser.end();
    parseError(() => parser.push(" "));
    parseError(() => parser.end());
  });

  it("throws on every call after an error at end()", () => {
    const parser = createParser();
    parser.push("[");
    parseError(() => parser.end());
    parseError(() => parser.push("]"));
    parseError(() => parser.end());
  });
});

describe("limits (rule 5)", () => {
  const deep = "[".repeat(100_000) + "]".repeat(100_000);

  it("rejects a document nested 100,000 deep with max_depth under the default limit", () => {
    const error = failure([deep]);
    expect(error.code).toBe("max_depth");
    expect(error.offset).toBe(1000);
  });

  it("parses a document nested 100,000 deep with maxDepth: Infinity, without recursion", () => {
    const parser = createParser({ maxDepth: Number.POSITIVE_INFINITY });
    for (const chunk of splitEvery(deep, 1000)) {
      parser.push(chunk);
      void parser.value;
    }
    let node = parser.end();
    for (let depth = 1; depth < 100_000; depth++) {
      expect(Array.isArray(node) && node.length === 1).toBe(true);
      node = (node as unknown[])[0];
    }
    expect(node).toEqual([]);
  });

  it("accepts nesting exactly maxDepth deep and rejects one level more, counting objects and arrays", () => {
    const nest = (depth: number) => '{"a": ['.repeat(depth / 2) + "]}".repeat(depth / 2);
    expectJson(run([nest(10)], { maxDepth: 10 }).final, JSON.parse(nest(10)));
    expect(failure([nest(12)], { maxDepth: 11 }).code).toBe("max_depth");
    expect(failure([`[${nest(10)}]`], { maxDepth: 10 }).code).toBe("max_depth");
    expectJson(
      run(["[".repeat(1000) + "]".repeat(1000)]).final,
      JSON.parse("[".repeat(1000) + "]".repeat(1000)),
    );
    expect(failure(["[".repeat(1001)]).code).toBe("max_depth");
  });

  it("rejects input longer than maxLength code units with max_length", () => {
    expect(run(["[1,2]"], { maxLength: 5 }).final).toEqual([1, 2]);
    expect(run(["[1,", "2]"], { maxLength: 5 }).final).toEqual([1, 2]);
    expect(failure(["[1,22]"], { maxLength: 5 }).code).toBe("max_length");
    expect(failure(["[1,", "2]  "], { maxLength: 5 }).code).toBe("max_length");
  });

  it("counts maxLength in bytes for byte input", () => {
    expect(run([utf8('"é"')], { maxLength: 4 }).final).toBe("é");
    expect(failure([utf8('"éa"')], { maxLength: 4 }).code).toBe("max_length");
    expect(failure(splitEvery(utf8('"éa"'), 1), { maxLength: 4 }).code).toBe("max_length");
  });
});

describe("events", () => {
  const text = '{"a": [1, "x", {"b": null}], "c": true}';
  const expected: ParserEvent[] = [
    { type: "start", path: [], kind: "object" },
    { type: "start", path: ["a"], kind: "array" },
    { type: "start", path: ["a", 0], kind: "number" },
    { type: "end", path: ["a", 0], value: 1 },
    { type: "start", path: ["a", 1], kind: "string" },
    { type: "end", path: ["a", 1], value: "x" },
    { type: "start", path: ["a", 2], kind: "object" },
    { type: "start", path: ["a", 2, "b"], kind: "null" },
    { type: "end", path: ["a", 2, "b"], value: null },
    { type: "end", path: ["a", 2], value: { b: null } },
    { type: "end", path: ["a"], value: [1, "x", { b: null }] },
    { type: "start", path: ["c"], kind: "boolean" },
    { type: "end", path: ["c"], value: true },
    { type: "end", path: [], value: JSON.parse(text) },
  ];

  it("reports the start and end of every value in document order, with paths", () => {
    expect(collectEvents([text])).toEqual(expected);
  });

  it("reports the same events whatever the chunking", () => {
    for (const chunks of chunkings(text)) expect(collectEvents(chunks)).toEqual(expected);
    const events: ParserEvent[] = [];
    const parser = createParser({ onEvent: (event) => keep(events, event) });
    for (const chunk of splitEvery(utf8(text), 1)) parser.push(chunk);
    parser.end();
    expect(events).toEqual(expected);
  });

  it("fires start when a value's first character arrives and end when it completes", () => {
    const events: ParserEvent[] = [];
    const parser = createParser({ onEvent: (event) => keep(events, event) });
    parser.push('{"n": 1');
    expect(events.map((e) => `${e.type} ${JSON.stringify(e.path)}`)).toEqual(["start []", 'start ["n"]']);
    parser.push("2");
    expect(events).toHaveLength(2);
    parser.push(" }");
    expect(events.map((e) => `${e.type} ${JSON.stringify(e.path)}`)).toEqual([
      "start []",
      'start ["n"]',
      'end ["n"]',
      "end []",
    ]);
  });

  it("ends a root number only at end()", () => {
    const events: ParserEvent[] = [];
    const parser = createParser({ onEvent: (event) => keep(events, event) });
    parser.push("42");
    expect(events).toEqual([{ type: "start", path: [], kind: "number" }]);
    parser.end();
    expect(events.at(-1)).toEqual({ type: "end", path: [], value: 42 });
  });

  it("passes one live path array to every event instead of making one per event", () => {
    const paths = new Set<readonly (string | number)[]>();
    const seen: string[] = [];
    const parser = createParser({
      onEvent: (event) => {
        paths.add(event.path);
        if (event.type === "start" || event.type === "end") seen.push(JSON.stringify(event.path));
      },
    });
    parser.push('{"a": [1, 2]}');
    parser.end();
    expect(paths.size).toBe(1);
    expect(seen).toEqual(["[]", '["a"]', '["a",0]', '["a",0]', '["a",1]', '["a",1]', '["a"]', "[]"]);
  });

  it("reports duplicate keys and __proto__ with their key as the path segment", () => {
    const events = collectEvents(['{"__proto__": 1, "a": 2, "a": 3}']).filter((e) => e.type === "end");
    expect(events.map((e) => e.path)).toEqual([["__proto__"], ["a"], ["a"], []]);
  });

  it("holds a value returned true from its start event out of snapshots until it completes", () => {
    const parser = createParser({ onEvent: (event) => pathIs(["title"])(event) || undefined });
    parser.push('{"title": "Hel');
    expect(parser.value).toEqual({});
    parser.push('lo", "body": "wor');
    expect(parser.value).toEqual({ title: "Hello", body: "wor" });
  });

  it("holds a container returned true until it closes, keeping its siblings progressive", () => {
    const text = '{"user": {"name": "Al", "tags": ["a"]}, "note": "hi"}';
    const parser = createParser({ onEvent: pathIs(["user"]) });
    const prefixes: unknown[] = [];
    for (const c of text) {
      parser.push(c);
      prefixes.push(cloneJson(parser.value));
    }
    const closeAt = text.indexOf("]}") + 1;
    for (let i = 0; i < closeAt; i++) expect(prefixes[i]).toEqual({});
    expect(prefixes[closeAt]).toEqual({ user: { name: "Al", tags: ["a"] } });
    expect(prefixes.at(-2)).toEqual({ user: { name: "Al", tags: ["a"] }, note: "hi" });
  });

  it("holds the root returned true until it completes", () => {
    const parser = createParser({ onEvent: pathIs([]) });
    parser.push('[1, 2, "x');
    expect(parser.value).toBeUndefined();
    parser.push('"]');
    expect(parser.value).toEqual([1, 2, "x"]);
  });

  it("holds an object returned a key list until those members have completed", () => {
    const parser = createParser({
      onEvent: (event) => (pathIs(["meta"])(event) ? ["id", "name"] : undefined),
    });
    parser.push('{"meta": {"name": "Ad');
    expect(parser.value).toEqual({});
    parser.push('a", "other": [1');
    expect(parser.value).toEqual({});
    parser.push(', 2], "id": 7');
    expect(parser.value).toEqual({});
    parser.push(', "notes": "long');
    expect(parser.value).toEqual({ meta: { name: "Ada", other: [1, 2], id: 7, notes: "long" } });
  });

  it("holds an object whose key list names a missing member until it closes", () => {
    const parser = createParser({ onEvent: (event) => (pathIs([])(event) ? ["missing"] : undefined) });
    parser.push('{"a": 1, "b": "x"');
    expect(parser.value).toBeUndefined();
    parser.push("}");
    expect(parser.value).toEqual({ a: 1, b: "x" });
  });

  it("holds an array element returned true, leaving earlier elements visible", () => {
    const parser = createParser({ onEvent: pathIs([1]) });
    parser.push('[{"a": 1}, {"b": "xy');
    expect(parser.value).toEqual([{ a: 1 }]);
    parser.push('z"}');
    expect(parser.value).toEqual([{ a: 1 }, { b: "xyz" }]);
  });

  it("shows values progressively when start returns false or undefined", () => {
    for (const hold of [false, undefined]) {
      const parser = createParser({ onEvent: () => hold });
      parser.push('{"a": "he');
      expect(parser.value).toEqual({ a: "he" });
    }
  });

  it("hides nothing from the final value and events when values are held", () => {
    const text = '{"a": {"b": [1, "two"]}, "c": "d"}';
    const events = collectEvents([text], () => true);
    expect(events.filter((e) => e.type === "end").at(-1)).toEqual({
      type: "end",
      path: [],
      value: JSON.parse(text),
    });
    expect(run([text], { onEvent: () => true }).final).toEqual(JSON.parse(text));
  });
});

describe("done and length", () => {
  it("reports done once the root value is complete and length in input units", () => {
    const parser = createParser();
    parser.push('{"a": "é"');
    expect(parser.done).toBe(false);
    expect(parser.length).toBe(9);
    parser.push("} ");
    expect(parser.done).toBe(true);
    const bytewise = createParser();
    bytewise.push(utf8('"é"'));
    expect(bytewise.length).toBe(4);
  });
});

describe("stream wrappers", () => {
  const text = '{"items": [{"id": 1, "name": "one"}, {"id": 2, "name": "two 😀"}]}';

  async function* source(chunks: (string | Uint8Array)[]) {
    for (const chunk of chunks) yield chunk;
  }

  it("parseJsonStream yields snapshots that end with the final value", async () => {
    const snapshots: unknown[] = [];
    for await (const snapshot of parseJsonStream(source(splitEvery(text, 7)))) snapshots.push(snapshot);
    expect(snapshots.length).toBeGreaterThan(2);
    expectJson(snapshots.at(-1), JSON.parse(text));
    expectJson(snapshots[0], partialReference(text.slice(0, 7)));
  });

  it("parseJsonStream reads byte chunks from a ReadableStream", async () => {
    const chunks = splitEvery(utf8(text), 5);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const chunk of chunks) controller.enqueue(chunk);
        controller.close();
      },
    });
    let last: unknown;
    for await (const snapshot of parseJsonStream(stream)) last = snapshot;
    expectJson(last, JSON.parse(text));
  });

  it("parseJsonStream rejects with JsonParseError on invalid input", async () => {
    const read = async () => {
      for await (const _ of parseJsonStream(source(["[1,", "]"]))) {
        // drain
      }
    };
    await expect(read()).rejects.toBeInstanceOf(JsonParseError);
  });

  it("PartialJsonStream turns chunks into snapshots and errors on invalid input", async () => {
    const from = (chunks: string[]) =>
      new ReadableStream<string>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      });
    const values: unknown[] = [];
    for await (const value of from(splitEvery(text, 3)).pipeThrough(new PartialJsonStream()))
      values.push(value);
    expectJson(values.at(-1), JSON.parse(text));

    const failing = async () => {
      for await (const _ of from(["[1,", "}"]).pipeThrough(new PartialJsonStream())) {
        // drain
      }
    };
    await expect(failing()).rejects.toBeInstanceOf(JsonParseError);
  });
});
