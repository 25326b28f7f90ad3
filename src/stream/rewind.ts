import { type PathSegment, toPointer } from "../json/index.ts";
import type { FieldState } from "./types.ts";

/** Whether the value at a path is complete, in one attempt's view. */
export type CompleteAt = (path: PathSegment[]) => boolean;

/**
 * How a retry's snapshot stands to what was shown (snapshots are partial JSON: a string may be cut,
 * containers may miss their tail; numbers, booleans and null appear only whole):
 * - `behind`: everything the new attempt has agrees with what was shown, which is further along:
 *   keep showing the old snapshot (nothing flickers);
 * - `ahead`: what was shown is a prefix of the new snapshot: the new attempt takes over, nothing is
 *   retracted;
 * - `diverged`: the new attempt contradicts what was shown: `retracted` (JSON Pointers, topmost
 *   only) lists what it contradicts or does not have yet; those are withdrawn, then the new
 *   attempt takes over.
 */
export type Standing = { kind: "behind" } | { kind: "ahead" } | { kind: "diverged"; retracted: string[] };

/**
 * Compares a retry's snapshot `next` with the snapshot `shown`; `shownComplete` and `nextComplete`
 * tell which values each attempt has finished (a finished value contradicts any other). They are
 * asked only along each snapshot's last spine: JSON arrives in document order, so a value with a
 * later sibling is finished, and so is everything inside a finished value. That keeps a whole
 * comparison linear in the snapshots' size.
 */
export function standing(
  shown: unknown,
  next: unknown,
  shownComplete: CompleteAt,
  nextComplete: CompleteAt,
): Standing {
  if (shown === undefined) return { kind: "ahead" };
  const ctx: Context = { shownComplete, nextComplete, out: [] };
  const sDone = shownComplete([]);
  const nDone = next !== undefined && nextComplete([]);
  differences(shown, next, [], sDone, nDone, ctx, true);
  if (ctx.out.length === 0) return { kind: "ahead" };
  const missing = ctx.out;
  ctx.out = [];
  differences(shown, next, [], sDone, nDone, ctx, false);
  if (ctx.out.length === 0) return { kind: "behind" };
  // Once it takes over, the new snapshot replaces the old one: withdraw all it does not have yet,
  // not only what it contradicts (nothing may step back silently).
  return { kind: "diverged", retracted: missing.map((p) => toPointer(p)) };
}

interface Context {
  shownComplete: CompleteAt;
  nextComplete: CompleteAt;
  out: PathSegment[][];
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Whether a child is finished: inside a finished parent, before a sibling, or as its attempt says. */
function childDone(parentDone: boolean, last: boolean, path: PathSegment[], at: CompleteAt): boolean {
  return parentDone || !last || at(path);
}

/**
 * Collects the topmost paths where `next` contradicts `shown` (neither can grow into the other),
 * or, with `uncovered`, where `next` does not have what `shown` has: not a prefix of it, or
 * finished in `shown` but not (or otherwise) in `next`; empty then when `next` covers `shown`, so
 * it can take over without anything (a value or a field state) stepping back.
 * `sDone` and `nDone`: whether `shown` and `next` are finished.
 */
function differences(
  shown: unknown,
  next: unknown,
  path: PathSegment[],
  sDone: boolean,
  nDone: boolean,
  ctx: Context,
  uncovered: boolean,
): void {
  if (shown === undefined) return;
  const out = ctx.out;
  if (next === undefined) {
    if (uncovered) out.push(path);
    return;
  }
  const kind = kindOf(shown);
  if (kind !== kindOf(next) || (uncovered && sDone && !nDone)) {
    out.push(path);
    return;
  }
  if (kind === "string") {
    const a = shown as string;
    const b = next as string;
    if (a === b) return;
    const grows = b.startsWith(a);
    if (uncovered ? !grows || sDone : grows ? sDone : a.startsWith(b) ? nDone : true) out.push(path);
    return;
  }
  if (kind === "array") {
    const a = shown as unknown[];
    const b = next as unknown[];
    if (sDone && (uncovered ? a.length !== b.length : b.length > a.length)) {
      out.push(path);
      return;
    }
    ctx.out = [];
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++) {
      const child = [...path, i];
      const sChild = childDone(sDone, i === a.length - 1, child, ctx.shownComplete);
      const nChild = childDone(nDone, i === b.length - 1, child, ctx.nextComplete);
      differences(a[i], b[i], child, sChild, nChild, ctx, uncovered);
    }
    // Items `next` does not have: not yet (uncovered), or never, once it is finished.
    if (uncovered || nDone) for (let i = common; i < a.length; i++) ctx.out.push([...path, i]);
    escalate(path, ctx.out, sDone, out);
    ctx.out = out;
    return;
  }
  if (kind === "object") {
    const a = shown as Record<string, unknown>;
    const b = next as Record<string, unknown>;
    const keysB = Object.keys(b);
    if (sDone && keysB.some((key) => !Object.hasOwn(a, key))) {
      out.push(path);
      return;
    }
    const keysA = Object.keys(a);
    const lastA = keysA[keysA.length - 1];
    const lastB = keysB[keysB.length - 1];
    ctx.out = [];
    for (const key of keysA) {
      const child = [...path, key];
      if (Object.hasOwn(b, key)) {
        const sChild = childDone(sDone, key === lastA, child, ctx.shownComplete);
        const nChild = childDone(nDone, key === lastB, child, ctx.nextComplete);
        differences(a[key], b[key], child, sChild, nChild, ctx, uncovered);
      } else if (uncovered || nDone) ctx.out.push(child);
    }
    escalate(path, ctx.out, sDone, out);
    ctx.out = out;
    return;
  }
  if (shown !== next) out.push(path);
}

/**
 * A finished container was reported whole (its `field` event carries its value): a change inside
 * it withdraws the container itself.
 */
function escalate(path: PathSegment[], found: PathSegment[][], done: boolean, out: PathSegment[][]): void {
  if (found.length === 0) return;
  if (done) out.push(path);
  else for (const p of found) out.push(p);
}

/** Whether `pointer` is `ancestor` or inside it. */
export function isWithin(pointer: string, ancestor: string): boolean {
  return pointer === ancestor || ancestor === "" || pointer.startsWith(`${ancestor}/`);
}

/** Keeps only the topmost pointers (one inside another is implied by it). */
export function topmost(pointers: readonly string[]): string[] {
  const sorted = [...new Set(pointers)].sort((a, b) => a.length - b.length);
  const out: string[] = [];
  for (const p of sorted) if (!out.some((q) => isWithin(p, q))) out.push(p);
  return out;
}

/** The rank of a field state, for "never steps back" comparisons. */
export const STATE_RANK: Record<FieldState, number> = { pending: 0, streaming: 1, complete: 2 };

/**
 * A JSON text without its insignificant whitespace (outside strings), as one flat string: two
 * answers that agree token for token agree on it, however each was spaced.
 */
export function withoutWhitespace(text: string): string {
  const parts: string[] = [];
  let start = 0;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (c === 0x5c) escaped = true;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
      if (i > start) parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (text.length > start) parts.push(text.slice(start));
  return parts.join("");
}

/**
 * The field states of a snapshot, read from the snapshot itself: a value present with a later
 * sibling (or inside a finished value) is finished, since JSON arrives in document order; only the
 * last spine asks `completeAt`. Linear in the path's depth, however wide the containers are.
 */
export function stateReader(snapshot: unknown, completeAt: CompleteAt): (path: PathSegment[]) => FieldState {
  const lastKeys = new WeakMap<object, string>();
  const lastOf = (container: object): string => {
    let key = lastKeys.get(container);
    if (key === undefined) {
      key = Array.isArray(container) ? String(container.length - 1) : (Object.keys(container).at(-1) ?? "");
      lastKeys.set(container, key);
    }
    return key;
  };
  return (path) => {
    let node = snapshot;
    let done = false;
    if (node === undefined) return "pending";
    for (const segment of path) {
      if (node === null || typeof node !== "object" || !Object.hasOwn(node, segment)) return "pending";
      if (!done && lastOf(node) !== String(segment)) done = true;
      node = (node as Record<PathSegment, unknown>)[segment];
    }
    if (done) return "complete";
    return completeAt(path) ? "complete" : "streaming";
  };
}
