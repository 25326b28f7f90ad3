import type { Random } from "./random.ts";

/**
 * Strings that match a JSON Schema `pattern`, for the common subset of ECMAScript regular
 * expressions: literals, `.`, classes (`[a-z0-9_-]`, `[^,]`), `\d \w \s` and their negations,
 * groups with alternation, and quantifiers (`? * + {n} {n,} {n,m}`). Anchors are honoured by
 * generating exactly the pattern. Lookarounds, back-references and `\b` are not supported: the
 * caller gets `undefined` and falls back (see `generateValue`).
 *
 * @see https://json-schema.org/draft/2020-12/json-schema-core#section-6.4 (patterns are ECMA-262, unanchored)
 */

type Node =
  | { kind: "seq"; items: Node[] }
  | { kind: "alt"; options: Node[] }
  | { kind: "repeat"; node: Node; min: number; max: number }
  | { kind: "char"; text: string }
  | { kind: "set"; ranges: [number, number][]; negated: boolean }
  | { kind: "empty" };

class Unsupported extends Error {}

const DIGIT: [number, number][] = [[48, 57]];
const WORD: [number, number][] = [
  [97, 122],
  [65, 90],
  [48, 57],
  [95, 95],
];
const SPACE: [number, number][] = [
  [32, 32],
  [9, 10],
  [13, 13],
];
const LETTER: [number, number][] = [
  [97, 122],
  [65, 90],
];

function parse(source: string): Node {
  let pos = 0;
  const peek = (): string | undefined => source[pos];

  const parseAlternation = (): Node => {
    const options = [parseSequence()];
    while (peek() === "|") {
      pos++;
      options.push(parseSequence());
    }
    return options.length === 1 ? options[0]! : { kind: "alt", options };
  };

  const parseSequence = (): Node => {
    const items: Node[] = [];
    while (pos < source.length && peek() !== "|" && peek() !== ")") {
      const atom = parseAtom();
      items.push(parseQuantifier(atom));
    }
    return { kind: "seq", items };
  };

  const parseQuantifier = (atom: Node): Node => {
    const ch = peek();
    let min: number;
    let max: number;
    if (ch === "*") [min, max] = [0, 3];
    else if (ch === "+") [min, max] = [1, 4];
    else if (ch === "?") [min, max] = [0, 1];
    else if (ch === "{") {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(source.slice(pos));
      if (!match) return atom; // a literal "{" in non-unicode mode; ajv uses the u flag, where it is an error
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] === "" ? min + 3 : Number(match[3]);
      pos += match[0].length - 1;
    } else return atom;
    pos++;
    if (peek() === "?") pos++; // lazy quantifiers generate the same strings
    if (atom.kind === "empty") return atom;
    return { kind: "repeat", node: atom, min, max: Math.min(max, min + 8) };
  };

  const parseEscape = (inClass: boolean): Node => {
    const ch = source[pos++];
    switch (ch) {
      case "d":
        return { kind: "set", ranges: DIGIT, negated: false };
      case "D":
        return { kind: "set", ranges: DIGIT, negated: true };
      case "w":
        return { kind: "set", ranges: WORD, negated: false };
      case "W":
        return { kind: "set", ranges: WORD, negated: true };
      case "s":
        return { kind: "set", ranges: SPACE, negated: false };
      case "S":
        return { kind: "set", ranges: SPACE, negated: true };
      case "t":
        return { kind: "char", text: "\t" };
      case "n":
        return { kind: "char", text: "\n" };
      case "r":
        return { kind: "char", text: "\r" };
      case "f":
        return { kind: "char", text: "\f" };
      case "v":
        return { kind: "char", text: "\v" };
      case "0":
        return { kind: "char", text: "\0" };
      case "x": {
        const hex = source.slice(pos, pos + 2);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) throw new Unsupported();
        pos += 2;
        return { kind: "char", text: String.fromCharCode(Number.parseInt(hex, 16)) };
      }
      case "u": {
        const braced = /^\{([0-9a-fA-F]+)\}/.exec(source.slice(pos));
        if (braced) {
          pos += braced[0].length;
          return { kind: "char", text: String.fromCodePoint(Number.parseInt(braced[1]!, 16)) };
        }
        const hex = source.slice(pos, pos + 4);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new Unsupported();
        pos += 4;
        return { kind: "char", text: String.fromCharCode(Number.parseInt(hex, 16)) };
      }
      case "p":
      case "P": {
        const match = /^\{([^}]+)\}/.exec(source.slice(pos));
        if (!match) throw new Unsupported();
        pos += match[0].length;
        const name = match[1]!;
        const ranges = /^(L|Letter|Ll|Lu|Alphabetic|Alpha)$/.test(name)
          ? name === "Lu"
            ? [[65, 90] as [number, number]]
            : name === "Ll"
              ? [[97, 122] as [number, number]]
              : LETTER
          : /^(N|Nd|Number|digit)$/.test(name)
            ? DIGIT
            : undefined;
        if (!ranges) throw new Unsupported();
        return { kind: "set", ranges, negated: ch === "P" };
      }
      case "b":
        if (inClass) return { kind: "char", text: "\b" };
        throw new Unsupported();
      case "B":
      case "k":
      case undefined:
        throw new Unsupported();
      default:
        if (/[1-9]/.test(ch)) throw new Unsupported(); // back-reference
        return { kind: "char", text: ch };
    }
  };

  const parseClass = (): Node => {
    let negated = false;
    if (peek() === "^") {
      negated = true;
      pos++;
    }
    const ranges: [number, number][] = [];
    while (pos < source.length && peek() !== "]") {
      let low: number;
      if (peek() === "\\") {
        pos++;
        const escaped = parseEscape(true);
        if (escaped.kind === "set") {
          if (escaped.negated) throw new Unsupported();
          ranges.push(...escaped.ranges);
          continue;
        }
        low = (escaped as { text: string }).text.codePointAt(0)!;
      } else {
        low = source.codePointAt(pos)!;
        pos += low > 0xffff ? 2 : 1;
      }
      if (peek() === "-" && source[pos + 1] !== "]" && pos + 1 < source.length) {
        pos++;
        let high: number;
        if (peek() === "\\") {
          pos++;
          const escaped = parseEscape(true);
          if (escaped.kind !== "char") throw new Unsupported();
          high = escaped.text.codePointAt(0)!;
        } else {
          high = source.codePointAt(pos)!;
          pos += high > 0xffff ? 2 : 1;
        }
        if (high < low) throw new Unsupported();
        ranges.push([low, high]);
      } else ranges.push([low, low]);
    }
    if (peek() !== "]") throw new Unsupported();
    pos++;
    return { kind: "set", ranges, negated };
  };

  const parseAtom = (): Node => {
    const ch = source[pos++]!;
    switch (ch) {
      case "(": {
        if (peek() === "?") {
          if (source.startsWith("?:", pos)) pos += 2;
          else if (/^\?<[A-Za-z_$][\w$]*>/.test(source.slice(pos))) pos = source.indexOf(">", pos) + 1;
          else throw new Unsupported(); // lookahead or lookbehind
        }
        const inner = parseAlternation();
        if (peek() !== ")") throw new Unsupported();
        pos++;
        return inner;
      }
      case "[":
        return parseClass();
      case ".":
        return { kind: "set", ranges: LETTER, negated: false };
      case "\\":
        return parseEscape(false);
      case "^":
      case "$":
        return { kind: "empty" };
      case ")":
      case "*":
      case "+":
      case "?":
        throw new Unsupported();
      default: {
        const code = source.codePointAt(pos - 1)!;
        if (code > 0xffff) pos++;
        return { kind: "char", text: String.fromCodePoint(code) };
      }
    }
  };

  const tree = parseAlternation();
  if (pos !== source.length) throw new Unsupported();
  return tree;
}

function inRanges(code: number, ranges: readonly [number, number][]): boolean {
  return ranges.some(([low, high]) => code >= low && code <= high);
}

function pickFromSet(node: { ranges: [number, number][]; negated: boolean }, random: Random): string {
  if (node.negated) {
    const candidates: number[] = [];
    for (let code = 0x61; code <= 0x7a; code++) if (!inRanges(code, node.ranges)) candidates.push(code);
    for (let code = 0x20; code <= 0x7e; code++) if (!inRanges(code, node.ranges)) candidates.push(code);
    if (candidates.length === 0) throw new Unsupported();
    return String.fromCodePoint(random.pick(candidates));
  }
  if (node.ranges.length === 0) throw new Unsupported();
  // Prefer lowercase letters when the class allows them: the value reads better.
  const lower = node.ranges.filter(([low, high]) => low >= 0x61 && high <= 0x7a);
  const ranges = lower.length > 0 && random.chance(0.7) ? lower : node.ranges;
  const total = ranges.reduce((sum, [low, high]) => sum + (high - low + 1), 0);
  let index = Math.floor(random.next() * total);
  for (const [low, high] of ranges) {
    const size = high - low + 1;
    if (index < size) return String.fromCodePoint(low + index);
    index -= size;
  }
  return String.fromCodePoint(ranges[0]![0]);
}

function emit(node: Node, random: Random): string {
  switch (node.kind) {
    case "seq":
      return node.items.map((item) => emit(item, random)).join("");
    case "alt":
      return emit(random.pick(node.options), random);
    case "repeat": {
      const count = random.int(node.min, node.max);
      let out = "";
      for (let i = 0; i < count; i++) out += emit(node.node, random);
      return out;
    }
    case "char":
      return node.text;
    case "set":
      return pickFromSet(node, random);
    case "empty":
      return "";
  }
}

/**
 * A string matching `pattern` (tested with the `u` flag, as ajv does), preferring one whose length
 * in code points lies in [minLength, maxLength]; `undefined` when the pattern is outside the
 * supported subset or no attempt matched.
 */
export function stringForPattern(
  pattern: string,
  random: Random,
  minLength = 0,
  maxLength = Number.POSITIVE_INFINITY,
): string | undefined {
  let regex: RegExp;
  let tree: Node;
  try {
    regex = new RegExp(pattern, "u");
    tree = parse(pattern);
  } catch {
    return undefined;
  }
  let fallback: string | undefined;
  for (let attempt = 0; attempt < 12; attempt++) {
    let candidate: string;
    try {
      candidate = emit(tree, random);
    } catch {
      return undefined;
    }
    if (!regex.test(candidate)) continue;
    const length = [...candidate].length;
    if (length >= minLength && length <= maxLength) return candidate;
    fallback ??= candidate;
  }
  return fallback;
}
