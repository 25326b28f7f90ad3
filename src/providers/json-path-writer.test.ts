import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createJsonPathWriter, type PartialScalar, parseJsonPath } from "./json-path-writer.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

type Json = PartialScalar | Json[] | { [key: string]: Json };

/** The (path, value) leaves of a value in document order, as Gemini's partialArgs name them. */
function leaves(value: Json, path: string, out: { path: string; value: PartialScalar }[]): void {
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) leaves(item, `${path}[${i}]`, out);
  } else if (value !== null && typeof value === "object")
    for (const [key, item] of Object.entries(value)) leaves(item, `${path}.${key}`, out);
  else out.push({ path, value });
}

const key = fc.stringMatching(/^[a-z][a-z0-9_]{0,6}$/);
const scalar = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null));
const value: fc.Arbitrary<Json> = fc.letrec<{ node: Json }>((tie) => ({
  node: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    scalar,
    fc.array(tie("node"), { minLength: 1, maxLength: 3 }),
    fc.dictionary(key, tie("node"), { minKeys: 1, maxKeys: 3 }),
  ),
})).node;
const root = fc.dictionary(key, value, { minKeys: 0, maxKeys: 4 });

describe("the JSON path writer (Gemini partialArgs)", () => {
  it("writes exactly the object its pieces describe, strings split anywhere (property)", () => {
    fc.assert(
      fc.property(root, fc.array(fc.nat(), { maxLength: 8 }), (object, cuts) => {
        const writer = createJsonPathWriter();
        let text = "";
        const pieces: { path: string; value: PartialScalar }[] = [];
        leaves(object, "$", pieces);
        for (const piece of pieces) {
          const path = parseJsonPath(piece.path)!;
          if (typeof piece.value === "string" && piece.value.length > 1 && cuts.length > 0) {
            const at = (cuts[0]! % (piece.value.length - 1)) + 1;
            text += writer.write(path, piece.value.slice(0, at), true);
            text += writer.write(path, piece.value.slice(at), false);
          } else text += writer.write(path, piece.value);
        }
        text += writer.end();
        expect(JSON.parse(text)).toEqual(object);
      }),
      { numRuns: RUNS },
    );
  });

  it("reads dotted, indexed and quoted paths", () => {
    expect(parseJsonPath("$.a.b[0]['c d'][\"e\"]")).toEqual(["a", "b", 0, "c d", "e"]);
    expect(parseJsonPath("$")).toEqual([]);
    expect(parseJsonPath("a.b")).toBeUndefined();
    expect(parseJsonPath("$[x]")).toBeUndefined();
  });

  it("writes {} for a call with no arguments", () => {
    expect(createJsonPathWriter().end()).toBe("{}");
  });
});
