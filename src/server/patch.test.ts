/**
 * Invariants of the patch format, for any JSON documents (FC_RUNS raises the iteration count):
 * (1) applyPatch(prev, diff(prev, next)) equals next, for growing snapshots and for unrelated values;
 * (2) applyPatch never mutates its input and shares every subtree the patch does not reach;
 * (3) diff never looks inside a subtree shared by both snapshots;
 * (4) a growing string costs bytes linear in its length;
 * (5) hostile keys ("__proto__", "constructor") stay plain own properties.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createRandom, growSnapshots } from "../../test/relay-fixtures.ts";
import { jsonDiff } from "../../test/support/json-equal.ts";
import { applyPatch, decodePatch, diff, encodePatch, PatchError, type PatchOp } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 200);

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** JSON values, including the keys that attack prototypes and the characters JSON Pointer escapes. */
const json = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom(null, true, false, 0, -1.5, 1e21),
    fc.string({ unit: "grapheme", maxLength: 12 }),
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(
      fc.oneof(
        fc.string({ maxLength: 6 }),
        fc.constantFrom("__proto__", "constructor", "a/b", "m~n", "~1", ""),
      ),
      tie("value"),
      { maxKeys: 4 },
    ),
  ),
})).value;

/** Through JSON text, as a client receives it: "__proto__" keys become own properties. */
const roundTrip = (value: unknown): unknown =>
  value === undefined ? undefined : JSON.parse(JSON.stringify(value));

describe("diff and applyPatch", () => {
  it("rebuild every snapshot of a growing document from the previous one", () => {
    fc.assert(
      fc.property(
        json,
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.integer({ min: 1, max: 10 }),
        (target, seed, chunk) => {
          const steps = growSnapshots(roundTrip(target), createRandom(seed), chunk);
          let prev: unknown;
          let client: unknown;
          for (const step of steps) {
            // The ops travel as JSON, as they do over SSE.
            const ops = decodePatch(roundTrip(encodePatch(diff(prev, step.value))));
            const next = applyPatch(prev, ops);
            expect(jsonDiff(next, step.value)).toBeUndefined();
            client = applyPatch(client, ops);
            expect(jsonDiff(client, step.value)).toBeUndefined();
            prev = step.value;
          }
          expect(jsonDiff(client, roundTrip(target))).toBeUndefined();
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("turn any value into any other without mutating the input", () => {
    fc.assert(
      fc.property(json, json, (a, b) => {
        const prev = deepFreeze(roundTrip(a));
        const next = roundTrip(b);
        const before = JSON.stringify(prev);
        const result = applyPatch(prev, diff(prev, next));
        expect(jsonDiff(result, next)).toBeUndefined();
        expect(JSON.stringify(prev)).toBe(before);
      }),
      { numRuns: RUNS },
    );
  });

  it("share every subtree the patch does not reach", () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 1, max: 1_000_000 }), (target, seed) => {
        const steps = growSnapshots(roundTrip(target), createRandom(seed), 4);
        let prev: unknown;
        let client: unknown;
        for (const step of steps) {
          const next = applyPatch(client, diff(prev, step.value));
          if (typeof next === "object" && next !== null && typeof client === "object" && client !== null) {
            for (const key of Object.keys(next)) {
              const changed =
                (prev as Record<string, unknown>)[key] !== (step.value as Record<string, unknown>)[key];
              if (!changed && Object.hasOwn(client, key)) {
                expect((next as Record<string, unknown>)[key]).toBe((client as Record<string, unknown>)[key]);
              }
            }
          }
          client = next;
          prev = step.value;
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("never looks inside a subtree that both snapshots share", () => {
    const trap = new Proxy(
      { big: "x".repeat(10) },
      {
        ownKeys() {
          throw new Error("diff walked into a shared subtree");
        },
        get() {
          throw new Error("diff read a shared subtree");
        },
      },
    );
    const prev = { shared: trap, list: [trap, "a"], text: "Hel" };
    const next = { shared: trap, list: [trap, "ab"], text: "Hello" };
    expect(diff(prev, next)).toEqual([
      { op: "append", path: "/list/1", value: "b" },
      { op: "append", path: "/text", value: "lo" },
    ]);
  });

  it("copies only the containers on a changed path", () => {
    const doc = { a: { deep: { x: 1 } }, b: [{ y: 2 }, { z: "q" }], c: "text" };
    const next = applyPatch(doc, [{ op: "append", path: "/b/1/z", value: "rs" }]) as typeof doc;
    expect(next).toEqual({ a: { deep: { x: 1 } }, b: [{ y: 2 }, { z: "qrs" }], c: "text" });
    expect(next.a).toBe(doc.a);
    expect(next.b[0]).toBe(doc.b[0]);
    expect(next.b).not.toBe(doc.b);
    expect(doc.b[1].z).toBe("q");
  });

  it("copies a container once even when several operations touch it", () => {
    const doc = { list: [] as number[] };
    const ops: PatchOp[] = Array.from({ length: 1000 }, (_, i) => ({
      op: "add",
      path: `/list/${i}`,
      value: i,
    }));
    const next = applyPatch(doc, ops) as typeof doc;
    expect(next.list).toHaveLength(1000);
    expect(doc.list).toHaveLength(0);
  });

  it("sends a growing string as suffixes, so its bytes grow linearly", () => {
    const bytesFor = (length: number) => {
      let prev = { answer: "" };
      let patchBytes = 0;
      let snapshotBytes = 0;
      for (let n = 4; n <= length; n += 4) {
        const next = { answer: "abcd".repeat(n / 4) };
        patchBytes += JSON.stringify(encodePatch(diff(prev, next))).length;
        snapshotBytes += JSON.stringify(next).length;
        prev = next;
      }
      return { patchBytes, snapshotBytes };
    };
    const small = bytesFor(4_000);
    const large = bytesFor(8_000);
    const ratio = large.patchBytes / small.patchBytes;
    expect(ratio).toBeGreaterThan(1.95);
    expect(ratio).toBeLessThan(2.05);
    // Re-sent snapshots grow with the square of the length.
    expect(large.snapshotBytes / small.snapshotBytes).toBeGreaterThan(3.9);
    expect(large.patchBytes).toBeLessThan(large.snapshotBytes / 100);
  });

  it("escapes keys as JSON Pointer requires (RFC 6901)", () => {
    const ops = diff({}, { "a/b": 1, "m~n": 2, "": 3 });
    expect(ops.map((op) => op.path)).toEqual(["/a~1b", "/m~0n", "/"]);
    expect(applyPatch({}, ops)).toEqual({ "a/b": 1, "m~n": 2, "": 3 });
  });

  it("adds a __proto__ member as an own property and never changes a prototype", () => {
    const next = applyPatch({}, [{ op: "add", path: "/__proto__", value: { polluted: true } }]) as Record<
      string,
      unknown
    >;
    expect(Object.hasOwn(next, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(next)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const inner = applyPatch(JSON.parse('{"__proto__":{"a":"x"}}'), [
      { op: "append", path: "/__proto__/a", value: "y" },
    ]) as Record<string, Record<string, unknown>>;
    expect(Object.getOwnPropertyDescriptor(inner, "__proto__")?.value).toEqual({ a: "xy" });
    expect(({} as Record<string, unknown>).a).toBeUndefined();
  });

  it("refuses paths through members that are not own properties", () => {
    expect(() => applyPatch({}, [{ op: "add", path: "/__proto__/polluted", value: 1 }])).toThrow(PatchError);
    expect(() => applyPatch({}, [{ op: "add", path: "/constructor/prototype/polluted", value: 1 }])).toThrow(
      PatchError,
    );
    expect(() => applyPatch([], [{ op: "add", path: "/length/x", value: 1 }])).toThrow(PatchError);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it("reports operations that do not fit the document as patch_conflict", () => {
    const conflict = (doc: unknown, op: PatchOp) => {
      try {
        applyPatch(doc, [op]);
      } catch (error) {
        return (error as PatchError).code;
      }
      return "applied";
    };
    expect(conflict({ a: 1 }, { op: "append", path: "/a", value: "x" })).toBe("patch_conflict");
    expect(conflict([1], { op: "add", path: "/5", value: 1 })).toBe("patch_conflict");
    expect(conflict([1], { op: "replace", path: "/1", value: 1 })).toBe("patch_conflict");
    expect(conflict({}, { op: "remove", path: "/a" })).toBe("patch_conflict");
    expect(conflict("s", { op: "add", path: "/a", value: 1 })).toBe("patch_conflict");
    expect(conflict([1], { op: "add", path: "/01", value: 1 })).toBe("patch_conflict");
  });

  it("keeps members in the order of the new snapshot", () => {
    const prev = { a: 1, b: 2, c: 3 };
    const reordered = { b: 2, a: 1, c: 3 };
    expect(diff(prev, reordered)).toEqual([{ op: "replace", path: "", value: reordered }]);
    expect(Object.keys(applyPatch(prev, diff(prev, { a: 1, c: 4, d: 5 })) as object)).toEqual([
      "a",
      "c",
      "d",
    ]);
    // Integer-like keys are ordered by JavaScript itself: adding one is still a plain add.
    expect(diff({ b: 1 }, { b: 1, 7: "x" })).toEqual([{ op: "add", path: "/7", value: "x" }]);
  });

  it("diffs roots, removals and type changes", () => {
    expect(diff(undefined, { a: 1 })).toEqual([{ op: "replace", path: "", value: { a: 1 } }]);
    expect(diff({ a: 1 }, undefined)).toEqual([{ op: "remove", path: "" }]);
    expect(diff({ a: 1, b: 2 }, { a: 1 })).toEqual([{ op: "remove", path: "/b" }]);
    expect(diff([1, 2, 3], [1])).toEqual([
      { op: "remove", path: "/2" },
      { op: "remove", path: "/1" },
    ]);
    expect(diff({ a: "abc" }, { a: "xbc" })).toEqual([{ op: "replace", path: "/a", value: "xbc" }]);
    expect(diff({ a: [] }, { a: {} })).toEqual([{ op: "replace", path: "/a", value: {} }]);
    expect(diff(1, 1)).toEqual([]);
  });
});

describe("the wire form", () => {
  it("is compact and round-trips", () => {
    const ops: PatchOp[] = [
      { op: "add", path: "/a", value: { x: 1 } },
      { op: "append", path: "/t", value: "lo" },
      { op: "replace", path: "/n", value: 3 },
      { op: "remove", path: "/old" },
    ];
    const wire = encodePatch(ops);
    expect(JSON.stringify(wire)).toBe('[["+","/a",{"x":1}],[">","/t","lo"],["=","/n",3],["-","/old"]]');
    expect(decodePatch(JSON.parse(JSON.stringify(wire)))).toEqual(ops);
  });

  it("rejects anything that is not a list of operations with invalid_patch", () => {
    for (const bad of [
      {},
      [1],
      [["?", "/a", 1]],
      [[">", "/a", 1]],
      [["-", "/a", 1]],
      [["+", 3, 1]],
      [["+", "/a"]],
    ]) {
      expect(() => decodePatch(bad), JSON.stringify(bad)).toThrow(
        expect.objectContaining({ code: "invalid_patch" }) as Error,
      );
    }
  });
});
