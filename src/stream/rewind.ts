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
 * tell which values each attempt has finished (a finished value contradicts any other).
 */
export function standing(
  shown: unknown,
  next: unknown,
  shownComplete: CompleteAt,
  nextComplete: CompleteAt,
): Standing {
  if (shown === undefined) return { kind: "ahead" };
  const missing: PathSegment[][] = [];
  uncovered(shown, next, [], shownComplete, nextComplete, missing);
  if (missing.length === 0) return { kind: "ahead" };
  const contradicted: PathSegment[][] = [];
  contradictions(shown, next, [], shownComplete, nextComplete, contradicted);
  if (contradicted.length === 0) return { kind: "behind" };
  // Once it takes over, the new snapshot replaces the old one: withdraw all it does not have yet,
  // not only what it contradicts (nothing may step back silently).
  return { kind: "diverged", retracted: missing.map((p) => toPointer(p)) };
}

function kindOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** Collects the topmost paths where `next` contradicts `shown` (neither can grow into the other). */
function contradictions(
  shown: unknown,
  next: unknown,
  path: PathSegment[],
  shownComplete: CompleteAt,
  nextComplete: CompleteAt,
  out: PathSegment[][],
): void {
  if (next === undefined || shown === undefined) return;
  const kind = kindOf(shown);
  if (kind !== kindOf(next)) {
    out.push(path);
    return;
  }
  if (kind === "string") {
    const a = shown as string;
    const b = next as string;
    if (a === b) return;
    if (b.startsWith(a) ? shownComplete(path) : a.startsWith(b) ? nextComplete(path) : true) out.push(path);
    return;
  }
  if (kind === "array") {
    const a = shown as unknown[];
    const b = next as unknown[];
    if (b.length > a.length && shownComplete(path)) {
      out.push(path);
      return;
    }
    const found: PathSegment[][] = [];
    const common = Math.min(a.length, b.length);
    for (let i = 0; i < common; i++)
      contradictions(a[i], b[i], [...path, i], shownComplete, nextComplete, found);
    if (a.length > b.length && nextComplete(path)) {
      for (let i = b.length; i < a.length; i++) found.push([...path, i]);
    }
    escalate(path, found, shownComplete, out);
    return;
  }
  if (kind === "object") {
    const a = shown as Record<string, unknown>;
    const b = next as Record<string, unknown>;
    if (shownComplete(path) && Object.keys(b).some((key) => !Object.hasOwn(a, key))) {
      out.push(path);
      return;
    }
    const nextDone = nextComplete(path);
    const found: PathSegment[][] = [];
    for (const key of Object.keys(a)) {
      if (Object.hasOwn(b, key))
        contradictions(a[key], b[key], [...path, key], shownComplete, nextComplete, found);
      else if (nextDone) found.push([...path, key]);
    }
    escalate(path, found, shownComplete, out);
    return;
  }
  if (shown !== next) out.push(path);
}

/**
 * Collects the topmost paths where `next` does not have what `shown` has: not a prefix of it, or
 * finished in `shown` but not (or otherwise) in `next`. Empty when `next` covers `shown`, so it can
 * take over without anything (a value or a field state) stepping back.
 */
function uncovered(
  shown: unknown,
  next: unknown,
  path: PathSegment[],
  shownComplete: CompleteAt,
  nextComplete: CompleteAt,
  out: PathSegment[][],
): void {
  if (shown === undefined) return;
  const kind = kindOf(shown);
  if (next === undefined || kind !== kindOf(next) || (shownComplete(path) && !nextComplete(path))) {
    out.push(path);
    return;
  }
  if (kind === "string") {
    const a = shown as string;
    const b = next as string;
    if (a !== b && (!b.startsWith(a) || shownComplete(path))) out.push(path);
    return;
  }
  if (kind === "array") {
    const a = shown as unknown[];
    const b = next as unknown[];
    if (shownComplete(path) && a.length !== b.length) {
      out.push(path);
      return;
    }
    const found: PathSegment[][] = [];
    for (let i = 0; i < a.length; i++)
      uncovered(a[i], b[i], [...path, i], shownComplete, nextComplete, found);
    escalate(path, found, shownComplete, out);
    return;
  }
  if (kind === "object") {
    const a = shown as Record<string, unknown>;
    const b = next as Record<string, unknown>;
    if (shownComplete(path) && Object.keys(b).some((key) => !Object.hasOwn(a, key))) {
      out.push(path);
      return;
    }
    const found: PathSegment[][] = [];
    for (const key of Object.keys(a)) {
      const child = Object.hasOwn(b, key) ? b[key] : undefined;
      uncovered(a[key], child, [...path, key], shownComplete, nextComplete, found);
    }
    escalate(path, found, shownComplete, out);
    return;
  }
  if (shown !== next) out.push(path);
}

/**
 * A finished container was reported whole (its `field` event carries its value): a change inside
 * it withdraws the container itself.
 */
function escalate(
  path: PathSegment[],
  found: PathSegment[][],
  shownComplete: CompleteAt,
  out: PathSegment[][],
): void {
  if (found.length === 0) return;
  if (shownComplete(path)) out.push(path);
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
