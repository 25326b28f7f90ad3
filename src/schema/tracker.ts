import type { Hold, ParserEvent, PathSegment, ValueKind } from "../json/index.ts";
import { toPointer } from "../json/index.ts";
import type { CompiledSchema } from "./compile.ts";
import { createStreamPolicy, type StreamPolicyOptions } from "./policy.ts";
import {
  acceptsKind,
  childSchema,
  isArrayNode,
  isObjectNode,
  narrowByKind,
  narrowSchema,
  type SchemaNode,
} from "./shape.ts";
import type { FieldState, Progress, SchemaIssue } from "./types.ts";
import { describeNode } from "./validate.ts";

/**
 * Options of {@link createSchemaTracker}.
 *
 * @example
 * ```ts
 * const options: SchemaTrackerOptions = {
 *   validate: "early",
 *   atomic: ["/items/*\/id"],
 *   onFieldState: (path, pointer, state) => console.log(pointer, state),
 * };
 * ```
 */
export interface SchemaTrackerOptions extends StreamPolicyOptions {
  /**
   * `"early"` validates every value against its part of the schema as soon as it completes (and
   * checks keys and types as values start), and stops at the first value with issues;
   * `"final"` leaves all validation to the end.
   * @defaultValue "early"
   */
  validate?: "early" | "final" | undefined;
  /** A value completed and is visible (its holding ancestors released). Not called for the root. */
  onField?: ((path: PathSegment[], pointer: string, value: unknown) => void) | undefined;
  /** A value's visible state changed (`streaming`, then `complete`). Not called for the root. */
  onFieldState?: ((path: PathSegment[], pointer: string, state: FieldState) => void) | undefined;
  /** Early validation found issues; called once, after which events are ignored. */
  onIssues?: ((issues: SchemaIssue[]) => void) | undefined;
}

/**
 * Follows a stream of parser events against a schema. See {@link createSchemaTracker}.
 *
 * @example
 * ```ts
 * const tracker: SchemaTracker = createSchemaTracker(compileSchema(Article));
 * createParser({ onEvent: tracker.onParserEvent }).push('{"title":"Hi"');
 * tracker.stateOf("/title"); // "streaming"
 * ```
 */
export interface SchemaTracker {
  /**
   * Feed every parser event here (it is bound: pass it as the parser's `onEvent`). Returns the
   * {@link Hold} for `start` events: `true` for atomic values, keys for gated objects.
   */
  onParserEvent(event: ParserEvent): Hold | void;
  /** The visible state of a path (array of keys and indexes, or a JSON Pointer). */
  stateOf(path: readonly PathSegment[] | string): FieldState;
  /** Progress in expected fields; a new object only when it changed. */
  readonly progress: Progress;
  /** Issues found by early validation (empty while none). */
  readonly issues: SchemaIssue[];
  /** True once early validation found issues; later events are ignored. */
  readonly failed: boolean;
  /** Issues of a complete value at `path` (reuses the early result for the value just completed). */
  validateAt(path: readonly PathSegment[], value: unknown): SchemaIssue[];
  /** Marks the whole value complete and validated: progress becomes 100%, nothing pending. */
  markComplete(): void;
}

type Note =
  | { type: "state"; path: PathSegment[]; pointer: string; state: FieldState }
  | { type: "field"; path: PathSegment[]; pointer: string; value: unknown };

interface Frame {
  readonly path: PathSegment[];
  readonly pointer: string;
  node: SchemaNode;
  readonly kind: ValueKind;
  /** Held from snapshots and not yet released: its notes wait in `queue`. */
  blocking: boolean;
  /** Gate keys still to complete (objects). */
  gate: Set<string> | undefined;
  queue: Note[] | undefined;
  /** The member key that resolves this union of objects, while unresolved. */
  discriminator: string | undefined;
}

/** Deepest static expansion of required fields, and most expected fields counted. */
const MAX_EXPAND_DEPTH = 64;
const MAX_EXPECTED = 100_000;

function escapeKey(key: PathSegment): string {
  if (typeof key === "number") return String(key);
  return key.includes("~") || key.includes("/") ? key.replace(/~/g, "~0").replace(/\//g, "~1") : key;
}

function isUnconstrained(node: SchemaNode): boolean {
  return !node.never && node.refs.length === 0 && node.members === undefined;
}

/**
 * Follows the parser's events against a compiled schema: decides what each value holds back
 * (atomic values, gated objects), keeps every path's state, counts progress and validates each
 * value early, all synchronously and incrementally (no walk over the whole value per event).
 *
 * Guarantees:
 * 1. Notifications (`onFieldState`, `onField`) and `stateOf` follow what snapshots show: inside a
 *    held value they wait, in order, until it is released; every path goes `pending` →
 *    `streaming` → `complete`, and a value is `complete` before its parent.
 * 2. Expected fields are the schema's required properties, recursively through objects, from the
 *    root. An array is one field; its items are expected only when the schema bounds its length
 *    (`maxItems`, or a closed tuple): the first `minItems` from the start, each further item as it
 *    starts. A union adds its alternative's required fields once it resolves (by the value's
 *    type, or its discriminator). Optional properties never count.
 * 3. `completed` and `percent` never decrease; `total` only grows; `percent` stays ≤ 99 until
 *    {@link SchemaTracker.markComplete}, which makes it 100.
 * 4. With `validate: "early"`, an unknown key fails as the member starts, a wrong JSON type as the
 *    value starts, and every value is validated against its part of the schema (never a guessed
 *    union alternative) when it completes; open values are never validated.
 *
 * @example
 * ```ts
 * const compiled = compileSchema(Article);
 * const tracker = createSchemaTracker(compiled, { onField: (path, pointer, value) => console.log(pointer, value) });
 * const parser = createParser({ onEvent: tracker.onParserEvent });
 * parser.push('{"title":"Hi","tags":["a"');
 * tracker.stateOf("/tags"); // "streaming"
 * tracker.progress; // { completed: 1, total: 2, percent: 50, pending: ["/tags"] }
 * ```
 */
export function createSchemaTracker(
  compiled: CompiledSchema<unknown>,
  options: SchemaTrackerOptions = {},
): SchemaTracker {
  const policy = createStreamPolicy(options);
  const early = (options.validate ?? "early") === "early";
  const { onField, onFieldState, onIssues } = options;

  const stack: Frame[] = [];
  let blockingCount = 0;
  const states = new Map<string, FieldState>();
  let issues: SchemaIssue[] = [];
  let failed = false;
  let lastChecked: { pointer: string; value: unknown; issues: SchemaIssue[] } | undefined;

  // ---- progress -------------------------------------------------------------------------
  const expected = new Set<string>();
  const pending = new Set<string>();
  const expanded = new Set<string>();
  let completed = 0;
  let total = 0;
  let lastPercent = 0;
  let finished = false;
  let progress: Progress | undefined;

  const addExpected = (pointer: string): void => {
    if (expected.has(pointer) || expected.size >= MAX_EXPECTED) return;
    expected.add(pointer);
    total++;
    if (states.get(pointer) === "complete") completed++;
    else pending.add(pointer);
    progress = undefined;
  };

  const expand = (path: PathSegment[], pointer: string, node: SchemaNode, depth: number): void => {
    if (depth > MAX_EXPAND_DEPTH || expanded.has(pointer)) return;
    if (isObjectNode(node)) {
      expanded.add(pointer);
      for (const key of node.required) {
        const childPath = [...path, key];
        const childPointer = toPointer(childPath);
        addExpected(childPointer);
        expand(childPath, childPointer, childSchema(node, key), depth + 1);
      }
    } else if (isArrayNode(node)) {
      expanded.add(pointer);
      if (Number.isFinite(node.maxItems)) {
        const count = Math.min(node.minItems, node.maxItems);
        for (let i = 0; i < count; i++) {
          const childPath = [...path, i];
          const childPointer = toPointer(childPath);
          addExpected(childPointer);
          expand(childPath, childPointer, childSchema(node, i), depth + 1);
        }
      }
    }
  };
  expand([], "", compiled.root, 0);

  /** Expected fields below a value are known once its node is a plain object or array. */
  const expandIfExpected = (frame: Frame): void => {
    if (frame.pointer === "" || expected.has(frame.pointer)) {
      expand(frame.path, frame.pointer, frame.node, frame.path.length);
    }
  };

  // ---- notifications ----------------------------------------------------------------------
  const emitComplete = (path: PathSegment[], pointer: string): void => {
    states.set(pointer, "complete");
    if (pending.delete(pointer)) {
      completed++;
      progress = undefined;
    }
    if (path.length > 0) onFieldState?.(path, pointer, "complete");
  };

  const emit = (note: Note): void => {
    if (note.type === "field") {
      if (note.path.length > 0) onField?.(note.path, note.pointer, note.value);
    } else if (note.state === "complete") emitComplete(note.path, note.pointer);
    else {
      states.set(note.pointer, note.state);
      if (note.path.length > 0) onFieldState?.(note.path, note.pointer, note.state);
    }
  };

  /** The innermost held frame among the first `below` frames, if any. */
  const holderBelow = (below: number): Frame | undefined => {
    if (blockingCount === 0) return undefined;
    for (let d = below - 1; d >= 0; d--) if (stack[d].blocking) return stack[d];
    return undefined;
  };

  /** Emits a note, or queues it on the innermost held frame among the first `below` frames. */
  const deliver = (note: Note, below: number): void => {
    const holder = holderBelow(below);
    if (holder === undefined) emit(note);
    else (holder.queue ??= []).push(note);
  };

  /** A value completed: its state, then its value, emitted at once unless something holds it. */
  const completeValue = (path: PathSegment[], pointer: string, value: unknown, below: number): void => {
    const holder = holderBelow(below);
    if (holder === undefined) {
      emitComplete(path, pointer);
      if (path.length > 0) onField?.(path, pointer, value);
      return;
    }
    const queue = (holder.queue ??= []);
    queue.push({ type: "state", path, pointer, state: "complete" }, { type: "field", path, pointer, value });
  };

  const release = (frame: Frame, depth: number): void => {
    if (!frame.blocking) return;
    frame.blocking = false;
    blockingCount--;
    const queue = frame.queue;
    frame.queue = undefined;
    if (queue !== undefined) for (const note of queue) deliver(note, depth);
  };

  const fail = (found: SchemaIssue[]): void => {
    failed = true;
    issues = found;
    onIssues?.(found);
  };

  // ---- events ------------------------------------------------------------------------------
  const onStart = (path: PathSegment[], kind: ValueKind): Hold => {
    const parent = stack[stack.length - 1] as Frame | undefined;
    const key = path[path.length - 1];
    let node = parent === undefined ? compiled.root : childSchema(parent.node, key);
    if (early) {
      if (parent !== undefined && node.never) {
        if (parent.kind === "array") {
          const max = parent.node.maxItems;
          const expectedText = `at most ${max} items`;
          fail([
            {
              path: parent.path,
              pointer: parent.pointer,
              code: "too_big",
              message: `Expected ${expectedText}, received more`,
              expected: expectedText,
              received: `${(key as number) + 1} or more items`,
            },
          ]);
        } else {
          fail([
            {
              path,
              pointer: toPointer(path),
              code: "unknown_property",
              message: `Unknown property "${String(key)}"`,
              expected: "no such property",
              received: String(key),
            },
          ]);
        }
        return undefined;
      }
      if (!acceptsKind(node, kind)) {
        const expectedText = describeNode(node);
        fail([
          {
            path,
            pointer: toPointer(path),
            code: "invalid_type",
            message: `Expected ${expectedText}, received ${kind}`,
            expected: expectedText,
            received: kind,
          },
        ]);
        return undefined;
      }
    }
    node = narrowByKind(node, kind);
    const pointer = parent === undefined ? "" : `${parent.pointer}/${escapeKey(key)}`;
    const hold = policy.hold(node, path, kind);
    const gate = Array.isArray(hold) ? new Set<string>(hold) : undefined;
    const frame: Frame = {
      path,
      pointer,
      node,
      kind,
      blocking: hold === true || (gate !== undefined && gate.size > 0),
      gate,
      queue: undefined,
      discriminator: kind === "object" && node.members !== undefined ? node.discriminator?.key : undefined,
    };
    stack.push(frame);
    if (frame.blocking) blockingCount++;
    if (
      parent !== undefined &&
      parent.kind === "array" &&
      expanded.has(parent.pointer) &&
      Number.isFinite(parent.node.maxItems) &&
      (key as number) < parent.node.maxItems
    ) {
      addExpected(pointer);
    }
    if (kind === "object" || kind === "array") expandIfExpected(frame);
    if (blockingCount === 0) {
      states.set(pointer, "streaming");
      if (path.length > 0) onFieldState?.(path, pointer, "streaming");
    } else deliver({ type: "state", path, pointer, state: "streaming" }, stack.length);
    return hold === true ? true : gate !== undefined && gate.size > 0 ? [...gate] : undefined;
  };

  const onEnd = (path: PathSegment[], value: unknown): void => {
    const frame = stack.pop();
    if (frame === undefined) return;
    const depth = stack.length;
    release(frame, depth);
    if (early && !isUnconstrained(frame.node)) {
      const found = compiled.validateNode(frame.node, value, path);
      lastChecked = { pointer: frame.pointer, value, issues: found };
      if (found.length > 0) {
        fail(found);
        return;
      }
    }
    completeValue(path, frame.pointer, value, depth);
    const parent = stack[depth - 1] as Frame | undefined;
    if (parent === undefined || parent.kind !== "object") return;
    const key = path[path.length - 1] as string;
    if (parent.discriminator === key) {
      parent.discriminator = undefined;
      parent.node = narrowSchema(parent.node, { [key]: value });
      expandIfExpected(parent);
    }
    if (parent.gate?.delete(key) && parent.gate.size === 0) release(parent, depth - 1);
  };

  const onParserEvent = (event: ParserEvent): Hold | void => {
    if (failed || finished) return undefined;
    if (event.type === "start") return onStart(event.path, event.kind);
    onEnd(event.path, event.value);
  };

  return {
    onParserEvent,
    stateOf(path) {
      const pointer = typeof path === "string" ? path : toPointer(path);
      return states.get(pointer) ?? "pending";
    },
    get progress(): Progress {
      if (progress !== undefined) return progress;
      const raw = total === 0 ? 0 : Math.floor((completed * 100) / total);
      lastPercent = finished ? 100 : Math.min(99, Math.max(lastPercent, raw));
      progress = { completed, total, percent: lastPercent, pending: [...pending] };
      return progress;
    },
    get issues() {
      return issues;
    },
    get failed() {
      return failed;
    },
    validateAt(path, value) {
      const pointer = toPointer(path);
      if (lastChecked !== undefined && lastChecked.pointer === pointer && lastChecked.value === value) {
        return lastChecked.issues;
      }
      return compiled.validateAt(path, value);
    },
    markComplete() {
      finished = true;
      completed = total;
      pending.clear();
      progress = undefined;
    },
  };
}
