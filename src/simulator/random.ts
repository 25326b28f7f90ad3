/**
 * Seeded randomness: every choice the simulator makes (values, delta sizes, ids) comes from here, so
 * the same seed, schema and prompt always give the same answer.
 */

/** A deterministic source of numbers; `fork` derives an independent stream for one concern. */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both included. */
  int(min: number, max: number): number;
  /** One element of a non-empty list. */
  pick<T>(items: readonly T[]): T;
  /** True with probability `p`. */
  chance(p: number): boolean;
  /** A new generator whose sequence depends on this one's seed and `label`, not on how far this one has run. */
  fork(label: string): Random;
}

/**
 * A 53-bit string hash (cyrb53). Not cryptographic: it spreads seeds, prompts and schemas over the
 * generator's state space.
 */
export function hashString(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A seeded generator (mulberry32 over a 32-bit state). */
export function createRandom(seed: number | string): Random {
  const base =
    typeof seed === "number" && Number.isInteger(seed) ? seed >>> 0 : hashString(String(seed)) >>> 0;
  let state = base;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int(min, max) {
      if (max <= min) return min;
      return min + Math.floor(next() * (max - min + 1));
    },
    pick(items) {
      return items[Math.floor(next() * items.length)]!;
    },
    chance(p) {
      return next() < p;
    },
    fork(label) {
      return createRandom(hashString(label, base) >>> 0);
    },
  };
}
