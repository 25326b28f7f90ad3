import type { Random } from "./random.ts";

/**
 * Readable text for string values: the prompt's own words mixed with a small built-in vocabulary,
 * so an answer about "a recipe for lemon bread" talks about lemons and bread.
 */

const VOCABULARY = [
  "amber",
  "archive",
  "atlas",
  "balance",
  "beacon",
  "bright",
  "bridge",
  "canvas",
  "careful",
  "signal",
  "clear",
  "coastal",
  "compass",
  "current",
  "detail",
  "early",
  "echo",
  "field",
  "focus",
  "garden",
  "gentle",
  "harbor",
  "journey",
  "ledger",
  "lively",
  "meadow",
  "method",
  "modern",
  "morning",
  "native",
  "north",
  "orbit",
  "outline",
  "pattern",
  "pilot",
  "practical",
  "quiet",
  "rapid",
  "record",
  "river",
  "routine",
  "season",
  "simple",
  "steady",
  "summit",
  "system",
  "timber",
  "travel",
  "valley",
  "vivid",
  "window",
  "working",
] as const;

const CONNECTORS = [
  "and",
  "with",
  "for",
  "across",
  "near",
  "through",
  "about",
  "beyond",
  "over",
  "under",
] as const;

const STOPWORDS = new Set(
  (
    "a an the and or but if then else of to in on at by for with about as into from over under is are was were be " +
    "been being it its this that these those there here what which who whom whose when where why how all any each " +
    "few more most other some such no nor not only own same so than too very can will just should now i me my we " +
    "our you your he him his she her they them their do does did doing have has had having give gives return " +
    "returns please make list json schema object field fields value values output answer respond write generate " +
    "describe tell using use also"
  ).split(" "),
);

/** The prompt's distinct content words, in order of first appearance, lowercased (at most 48). */
export function promptWords(prompt: string): string[] {
  const seen = new Set<string>();
  for (const match of prompt.toLowerCase().matchAll(/\p{L}[\p{L}\p{M}'-]*/gu)) {
    const word = match[0].replace(/['-]+$/, "");
    if (word.length < 3 || STOPWORDS.has(word) || seen.has(word)) continue;
    seen.add(word);
    if (seen.size >= 48) break;
  }
  return [...seen];
}

/** Builders of readable strings from one seeded generator. */
export interface Prose {
  /** One lowercase word (from the prompt more often than not). */
  word(): string;
  /** One lowercase ASCII word from the built-in vocabulary (for hostnames, emails, slugs). */
  asciiWord(): string;
  /** `count` words joined by spaces, lowercase. */
  phrase(count: number): string;
  /** Title Case, 2 to 5 words. */
  title(): string;
  /** A capitalized sentence of 6 to 14 words ending in a period. */
  sentence(): string;
  /** 1 to `max` sentences. */
  sentences(max: number): string;
}

/** Prose whose words come from `words` (the prompt's) 60% of the time, and from the vocabulary otherwise. */
export function createProse(random: Random, words: readonly string[]): Prose {
  const word = (): string =>
    words.length > 0 && random.chance(0.6) ? random.pick(words) : random.pick(VOCABULARY);
  const phrase = (count: number): string => {
    const out: string[] = [];
    for (let i = 0; i < count; i++)
      out.push(i > 0 && i < count - 1 && random.chance(0.2) ? random.pick(CONNECTORS) : word());
    return out.join(" ");
  };
  const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);
  const sentence = (): string => {
    const count = random.int(6, 14);
    const parts: string[] = [];
    for (let i = 0; i < count; i++) {
      let next = i > 0 && i < count - 1 && random.chance(0.25) ? random.pick(CONNECTORS) : word();
      // Now and then a quoted word or a dash, so answers exercise JSON escapes and multi-byte UTF-8
      // the way real model output does.
      if (i > 0 && random.chance(0.06)) next = `"${next}"`;
      else if (i > 1 && i < count - 1 && random.chance(0.04)) next = `— ${next}`;
      parts.push(next);
    }
    return `${capitalize(parts.join(" "))}.`;
  };
  return {
    word,
    asciiWord: () => random.pick(VOCABULARY),
    phrase,
    title: () =>
      phrase(random.int(2, 5))
        .split(" ")
        .map((w, i) => (i > 0 && (CONNECTORS as readonly string[]).includes(w) ? w : capitalize(w)))
        .join(" "),
    sentence,
    sentences(max) {
      const count = random.int(1, Math.max(1, max));
      const out: string[] = [];
      for (let i = 0; i < count; i++) out.push(sentence());
      return out.join(" ");
    },
  };
}
