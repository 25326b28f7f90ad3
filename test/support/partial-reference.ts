/**
 * A slow, recursive, obviously-correct statement of the parser's partial-value rule (rule 2), used
 * as the oracle in the property tests. It reads a whole prefix of a JSON text and returns what a
 * snapshot of that prefix must show:
 *
 * - `undefined` before the root value starts;
 * - objects and arrays as soon as they open;
 * - strings with their decoded content so far, minus an unfinished escape (`\`, `\u00`) and a
 *   trailing high surrogate (the next character may pair with it);
 * - numbers once delimited (`,` `]` `}` or whitespace), literals once fully spelled;
 * - an object member once its key is complete and its value shows, an array element once it shows.
 *
 * It is also strict: a text that is not a prefix of any JSON text throws {@link NotAPrefixError},
 * which gives the expected error offset by binary search ({@link longestValidPrefix}).
 */
export class NotAPrefixError extends Error {}

const HIDDEN = Symbol("hidden");
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

interface Part {
  value: unknown; // HIDDEN when nothing shows yet
  complete: boolean;
}

/** The snapshot a parser must show after reading exactly `prefix`. */
export function partialReference(prefix: string): unknown {
  const reader = new Reader(prefix);
  const root = reader.value();
  if (root.complete) {
    reader.skipWhitespace();
    if (!reader.atEnd) reader.fail();
  }
  return root.value === HIDDEN ? undefined : root.value;
}

/** True when some JSON text starts with `text`. */
export function isJsonPrefix(text: string): boolean {
  try {
    partialReference(text);
    return true;
  } catch (error) {
    if (error instanceof NotAPrefixError) return false;
    throw error;
  }
}

/** Length of the longest prefix of `text` that is a prefix of some JSON text (prefixes of prefixes are prefixes, so binary search holds). */
export function longestValidPrefix(text: string): number {
  let [low, high] = [0, text.length]; // isJsonPrefix(text.slice(0, low)) always holds
  while (low < high) {
    const middle = Math.ceil((low + high) / 2);
    if (isJsonPrefix(text.slice(0, middle))) low = middle;
    else high = middle - 1;
  }
  return low;
}

class Reader {
  i = 0;
  constructor(readonly s: string) {}

  get atEnd(): boolean {
    return this.i >= this.s.length;
  }

  fail(): never {
    throw new NotAPrefixError(`not a prefix of any JSON text (at ${this.i})`);
  }

  skipWhitespace(): void {
    while (!this.atEnd && " \t\n\r".includes(this.s[this.i])) this.i++;
  }

  value(): Part {
    this.skipWhitespace();
    if (this.atEnd) return { value: HIDDEN, complete: false };
    const c = this.s[this.i];
    if (c === "{") return this.object();
    if (c === "[") return this.array();
    if (c === '"') return this.string();
    if (c === "t" || c === "f" || c === "n")
      return this.literal(c === "t" ? "true" : c === "f" ? "false" : "null");
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    return this.fail();
  }

  literal(word: string): Part {
    const got = this.s.slice(this.i, this.i + word.length);
    if (got !== word.slice(0, got.length)) this.fail();
    this.i += got.length;
    return got === word ? { value: JSON.parse(word), complete: true } : { value: HIDDEN, complete: false };
  }

  number(): Part {
    const start = this.i;
    while (!this.atEnd && "+-.eE0123456789".includes(this.s[this.i])) this.i++;
    const token = this.s.slice(start, this.i);
    if (this.atEnd) {
      // More digits may follow: a valid number prefix is a number, or becomes one with a "0" appended.
      if (!NUMBER.test(token) && !NUMBER.test(`${token}0`)) this.fail();
      return { value: HIDDEN, complete: false };
    }
    if (!NUMBER.test(token)) this.fail();
    return { value: JSON.parse(token), complete: true };
  }

  string(): Part {
    this.i++;
    let out = "";
    const unfinished = (): Part => {
      this.i = this.s.length;
      const last = out.charCodeAt(out.length - 1);
      return { value: last >= 0xd800 && last <= 0xdbff ? out.slice(0, -1) : out, complete: false };
    };
    for (;;) {
      if (this.atEnd) return unfinished();
      const c = this.s[this.i];
      if (c === '"') {
        this.i++;
        return { value: out, complete: true };
      }
      if (c < " ") this.fail();
      if (c !== "\\") {
        out += c;
        this.i++;
        continue;
      }
      const e = this.s[this.i + 1];
      if (e === undefined) return unfinished();
      if (e === "u") {
        const hex = this.s.slice(this.i + 2, this.i + 6);
        if (!/^[0-9a-fA-F]*$/.test(hex)) this.fail();
        if (hex.length < 4) return unfinished();
        out += String.fromCharCode(Number.parseInt(hex, 16));
        this.i += 6;
      } else if (Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        this.i += 2;
      } else {
        this.fail();
      }
    }
  }

  array(): Part {
    this.i++;
    const items: unknown[] = [];
    this.skipWhitespace();
    if (this.s[this.i] === "]") return this.close(items);
    for (;;) {
      const item = this.value();
      if (item.value !== HIDDEN) items.push(item.value);
      if (!item.complete) return { value: items, complete: false };
      this.skipWhitespace();
      if (this.atEnd) return { value: items, complete: false };
      if (this.s[this.i] === "]") return this.close(items);
      if (this.s[this.i] !== ",") this.fail();
      this.i++;
    }
  }

  object(): Part {
    this.i++;
    const members: Record<string, unknown> = {};
    this.skipWhitespace();
    if (this.s[this.i] === "}") return this.close(members);
    for (;;) {
      this.skipWhitespace();
      if (this.atEnd) return { value: members, complete: false };
      if (this.s[this.i] !== '"') this.fail();
      const key = this.string();
      this.skipWhitespace();
      if (!key.complete || this.atEnd) return { value: members, complete: false };
      if (this.s[this.i] !== ":") this.fail();
      this.i++;
      const member = this.value();
      if (member.value !== HIDDEN) {
        // defineProperty: "__proto__" is an own data property, as with JSON.parse; a duplicate key keeps its place.
        const descriptor = { value: member.value, enumerable: true, writable: true, configurable: true };
        Object.defineProperty(members, key.value as string, descriptor);
      }
      if (!member.complete) return { value: members, complete: false };
      this.skipWhitespace();
      if (this.atEnd) return { value: members, complete: false };
      if (this.s[this.i] === "}") return this.close(members);
      if (this.s[this.i] !== ",") this.fail();
      this.i++;
    }
  }

  close(value: unknown): Part {
    this.i++;
    return { value, complete: true };
  }
}
