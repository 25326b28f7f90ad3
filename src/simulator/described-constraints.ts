/**
 * Constraints a provider's request format moved out of the schema into its `description`, read
 * back: Anthropic's structured outputs accept no numeric bounds, string lengths, patterns or
 * unknown formats, so its SDK (and structream's `toAnthropicSchema`) appends them to the
 * description as `{minimum: 1, pattern: "^[a-z]+$"}`. A real model reads and follows them; so does
 * the simulator.
 */
import { type SchemaObject, setKey } from "./schema-walk.ts";

/** Index just past the JSON value that starts at `start`, or -1; stops at `limit` (the block's `}`). */
function valueEnd(text: string, start: number, limit: number): number {
  let depth = 0;
  let inString = false;
  for (let k = start; k < limit; k++) {
    const c = text[k];
    if (inString) {
      if (c === "\\") k++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") {
      if (depth === 0) return -1;
      depth--;
    } else if (c === "," && depth === 0) return k;
  }
  return depth === 0 && !inString ? limit : -1;
}

/** `{key: JSON, key: JSON}` (the whole of `text`) as an object, or undefined when it is not one. */
function parseBlock(text: string): SchemaObject | undefined {
  if (!text.startsWith("{") || !text.endsWith("}")) return undefined;
  const limit = text.length - 1;
  const out: SchemaObject = {};
  let i = 1;
  while (i < limit) {
    const key = /^[A-Za-z_$][\w$]*/.exec(text.slice(i, i + 64))?.[0];
    if (key === undefined || text.slice(i + key.length, i + key.length + 2) !== ": ") return undefined;
    i += key.length + 2;
    const end = valueEnd(text, i, limit);
    if (end === -1) return undefined;
    try {
      setKey(out, key, JSON.parse(text.slice(i, end)));
    } catch {
      return undefined;
    }
    i = end;
    if (i === limit) break;
    if (text.slice(i, i + 2) !== ", ") return undefined;
    i += 2;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The keywords written at the end of a description as `{minimum: 1, maximum: 9}` (the whole
 * description, or after a blank line), or undefined when it carries none.
 *
 * @example
 * ```ts
 * constraintsInDescription('With its unit.\n\n{pattern: "^\\\\d+ g$"}'); // { pattern: "^\\d+ g$" }
 * ```
 */
export function constraintsInDescription(description: string): SchemaObject | undefined {
  for (let at = description.indexOf("{"); at !== -1; at = description.indexOf("{", at + 1)) {
    if (at !== 0 && description.slice(at - 2, at) !== "\n\n") continue;
    const block = parseBlock(description.slice(at).trimEnd());
    if (block !== undefined) return block;
  }
  return undefined;
}

/**
 * The schema node with the constraints of its description ({@link constraintsInDescription})
 * applied as keywords; a keyword the node already has wins. Returns the same node when its
 * description carries none.
 */
export function withDescribedConstraints(schema: SchemaObject): SchemaObject {
  const description = schema.description;
  if (typeof description !== "string") return schema;
  const extra = constraintsInDescription(description);
  if (extra === undefined) return schema;
  const out: SchemaObject = { ...schema };
  for (const [key, value] of Object.entries(extra)) {
    if (key !== "description" && !(key in out)) setKey(out, key, value);
  }
  return out;
}
