import type { PathSegment } from "./parser.ts";

/**
 * Formats a path as a JSON Pointer (RFC 6901): `["items", 0, "a/b"]` → `"/items/0/a~1b"`.
 * @see https://www.rfc-editor.org/rfc/rfc6901
 */
export function toPointer(path: readonly PathSegment[]): string {
  let out = "";
  for (const segment of path) {
    out += `/${typeof segment === "number" ? segment : segment.replace(/~/g, "~0").replace(/\//g, "~1")}`;
  }
  return out;
}

/**
 * The subtree at `path` in `root`, or `undefined` where the path leaves the value. Only own
 * members count: `valueAt({}, ["constructor"])` is `undefined`, as JSON has no inherited keys.
 */
export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (typeof node !== "object" || node === null || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Splits a JSON Pointer into its segments (all strings: a pointer does not say whether `0` is an
 * index or a key). `""` is the root.
 * @see https://www.rfc-editor.org/rfc/rfc6901
 */
export function fromPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (pointer[0] !== "/")
    throw new TypeError(`Not a JSON Pointer: ${JSON.stringify(pointer)} (must start with "/")`);
  return pointer
    .slice(1)
    .split("/")
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}
