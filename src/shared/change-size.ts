/**
 * Roughly how many characters a list of patch operations carries: an append (`>`) counts its text,
 * any other operation 64. Used to bound a batch of merged changes (the stream's queue, the relay's
 * patches) without encoding it.
 *
 * @example
 * ```ts
 * changeSize([[">", "/a", "hello"], ["+", "/b", 1]]); // 69
 * ```
 */
export function changeSize(ops: readonly (readonly [string, string, unknown?])[]): number {
  let size = 0;
  for (const op of ops) size += op[0] === ">" && typeof op[2] === "string" ? op[2].length : 64;
  return size;
}
