/**
 * The JSONTestSuite parsing cases (https://github.com/nst/JSONTestSuite), read from the shared
 * checkout beside the repository and never copied into it. By file-name prefix:
 * - `y_`: must be accepted, equal to `JSON.parse` of the UTF-8 decoded bytes;
 * - `n_`: must be rejected with a JsonParseError;
 * - `i_`: implementation-defined: must not crash (a value or a JsonParseError). Rule 1 pins it down
 *   further: accept exactly when `JSON.parse` accepts the decoded text, with the same value.
 * Each file runs under several chunkings, bytes and strings, down to one unit per chunk.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { createParser, JsonParseError } from "../src/json/index.ts";
import { jsonDiff } from "./support/json-equal.ts";
import { requires } from "./support/requires.ts";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const suiteDir = path.resolve(repoRoot, "../shared/testdata/jsontestsuite/test_parsing");
const files = existsSync(suiteDir)
  ? readdirSync(suiteDir)
      .filter((name) => name.endsWith(".json"))
      .sort()
  : [];

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

function parseChunks(chunks: Iterable<string | Uint8Array>): Outcome {
  try {
    const parser = createParser();
    for (const chunk of chunks) {
      parser.push(chunk);
      void parser.value; // snapshots must not crash either
    }
    return { ok: true, value: parser.end() };
  } catch (error) {
    return { ok: false, error };
  }
}

function* every<T extends string | Uint8Array>(input: T, size: number): Generator<T> {
  for (let i = 0; i < input.length; i += size) yield input.slice(i, i + size) as T;
}

/** Seeded (mulberry32) so a failure replays; chunk sizes 1–16, and the odd empty chunk. */
function* randomly<T extends string | Uint8Array>(input: T, seed: number): Generator<T> {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = 0; i < input.length; ) {
    const size = next() < 0.05 ? 0 : 1 + Math.floor(next() * 16);
    yield input.slice(i, i + size) as T;
    i += size;
  }
}

function seedOf(name: string): number {
  let hash = 2166136261;
  for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 16777619);
  return hash >>> 0;
}

function chunkingsOf(
  name: string,
  bytes: Uint8Array,
  text: string,
): [string, Iterable<string | Uint8Array>][] {
  const seed = seedOf(name);
  return [
    ["whole bytes", [bytes]],
    ["one byte at a time", every(bytes, 1)],
    [`random byte chunks (seed ${seed})`, randomly(bytes, seed)],
    ["whole decoded string", [text]],
    ["one UTF-16 code unit at a time", every(text, 1)],
    [`random string chunks (seed ${seed})`, randomly(text, seed)],
  ];
}

function expected(text: string): Outcome {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    return { ok: false, error };
  }
}

function describeOutcome(outcome: Outcome): string {
  return outcome.ok ? "accepted" : `rejected (${String(outcome.error)})`;
}

const suite = requires(
  `JSONTestSuite (test_parsing/*.json in ${suiteDir})`,
  files.length > 0,
  "it comes with ../shared/testdata beside the repository (a checkout of nst/JSONTestSuite)",
);

suite("JSONTestSuite test_parsing", () => {
  const load = (name: string) => {
    const bytes = new Uint8Array(readFileSync(path.join(suiteDir, name)));
    return { bytes, text: new TextDecoder().decode(bytes) };
  };

  describe("y_: accepted, equal to JSON.parse", () => {
    it.each(files.filter((name) => name.startsWith("y_")))("%s", (name) => {
      const { bytes, text } = load(name);
      const want = JSON.parse(text);
      for (const [how, chunks] of chunkingsOf(name, bytes, text)) {
        const got = parseChunks(chunks);
        expect(got.ok, `${how}: ${describeOutcome(got)}`).toBe(true);
        if (got.ok) expect(jsonDiff(got.value, want), how).toBeUndefined();
      }
    });
  });

  describe("n_: rejected with a JsonParseError", () => {
    it.each(files.filter((name) => name.startsWith("n_")))("%s", (name) => {
      const { bytes, text } = load(name);
      for (const [how, chunks] of chunkingsOf(name, bytes, text)) {
        const got = parseChunks(chunks);
        expect(got.ok, `${how}: accepted ${got.ok ? JSON.stringify(got.value) : ""}`).toBe(false);
        if (!got.ok) expect(got.error, how).toBeInstanceOf(JsonParseError);
      }
    });
  });

  describe("i_: no crash, and the same outcome as JSON.parse of the decoded text", () => {
    it.each(files.filter((name) => name.startsWith("i_")))("%s", (name) => {
      const { bytes, text } = load(name);
      const want = expected(text);
      for (const [how, chunks] of chunkingsOf(name, bytes, text)) {
        const got = parseChunks(chunks);
        if (!got.ok) expect(got.error, `${how}: crashed`).toBeInstanceOf(JsonParseError);
        expect(got.ok, `${how}: ${describeOutcome(got)}, JSON.parse ${describeOutcome(want)}`).toBe(want.ok);
        if (got.ok && want.ok) expect(jsonDiff(got.value, want.value), how).toBeUndefined();
      }
    });
  });

  it("found every kind of case", () => {
    for (const prefix of ["y_", "n_", "i_"]) {
      expect(
        files.some((name) => name.startsWith(prefix)),
        prefix,
      ).toBe(true);
    }
  });
});
