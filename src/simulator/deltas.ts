import { createRandom } from "./random.ts";

/** Options of {@link splitDeltas}. */
export interface SplitDeltasOptions {
  /**
   * The same text and seed always split the same way.
   * @defaultValue `0`
   */
  seed?: number | string;
}

/**
 * Cuts `text` into token-sized deltas of 1 to 8 characters (mostly 2 to 5, like a tokenizer's
 * output), never inside a surrogate pair: each delta is a well-formed string, as the providers
 * send them. The simulator splits its answers with the request's seed, so this reproduces them.
 *
 * @example
 * ```ts
 * splitDeltas('{"title":"Review Café","stars":3}', { seed: 3 });
 * // ['{"ti', 'tle"', ':', '"Rev', 'iew Café', '","st', 'ars"', ':3}']: what the simulator sends for seed 3
 * ```
 */
export function splitDeltas(text: string, options: SplitDeltasOptions = {}): string[] {
  const random = createRandom(`${String(options.seed ?? 0)}\u0000deltas\u0000${text.length}`);
  const chars = Array.from(text);
  const deltas: string[] = [];
  let index = 0;
  while (index < chars.length) {
    const roll = random.next();
    const size = roll < 0.1 ? 1 : roll < 0.85 ? random.int(2, 5) : random.int(6, 8);
    deltas.push(chars.slice(index, index + size).join(""));
    index += size;
  }
  return deltas;
}
