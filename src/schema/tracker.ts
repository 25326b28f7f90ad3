import type { Hold, ParserEvent, PathSegment, ValueKind } from "../json/index.ts";
import { fromPointer, toPointer } from "../json/index.ts";
import { type CompiledSchema, engineOf } from "./compile.ts";
import { createStreamPolicy, type StreamPolicyOptions, schemaHold } from "./policy.ts";
import {
  acceptsKind,
  childSchema,
  isArrayNode,
  isObjectNode,
  kindCache,
  kindIndex,
  narrowByKind,
  narrowByTag,
  type SchemaNode,
} from "./shape.ts";
import type { FieldState, Progress, SchemaIssue } from "./types.ts";
import { type AjvEngine, describeNode, type StartedCheck } from "./validate.ts";

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

/** A value's visible state changed, or it completed (state `complete`, then its value). */
interface Note {
  readonly frame: Frame;
  readonly path: PathSegment[];
  /** `undefined` for a completion: the `complete` state, then the value. */
  readonly state: "streaming" | undefined;
  readonly value: unknown;
}

/** An expected field (or the root): a node in a tree that mirrors the schema's required paths. */
class Expectation {
  children: Map<PathSegment, Expectation> | undefined = undefined;
  /** Counted in progress (false for the root, and past MAX_EXPECTED). */
  counted = false;
  /** Its required members (or first items) are expectations already. */
  expanded = false;
  constructor(
    readonly path: readonly PathSegment[],
    readonly pointer: string,
  ) {}
}

/** One open value. Reused once its `complete` note is out (see `recycle`). */
class Frame {
  parent: Frame | undefined;
  /** The path of its `start` event. */
  path: PathSegment[];
  /** The schema where the value sits, before narrowing by kind. */
  declared: SchemaNode;
  /** The schema the value is validated against (narrowed by kind, then by discriminator). */
  node: SchemaNode;
  kind: ValueKind;
  /** Held from snapshots and not yet released: its notes wait in `queue`. */
  blocking = false;
  /** Gate keys still to complete (objects; a few keys: an array beats a set). */
  gate: string[] | undefined = undefined;
  queue: Note[] | undefined = undefined;
  /** The member key that resolves this union of objects, while unresolved. */
  discriminator: string | undefined = undefined;
  /** `node` is a union (its members' children are merged loosely). */
  union = false;
  /** What its start worked out for its declared node and kind. */
  plan: StartPlan;
  /**
   * Every member or item so far conforms to its child node of `node` (not to a looser one), so
   * a shallow check of this value at its end is as good as a whole one.
   */
  exact = true;
  /**
   * Keys of members that started while `node` was a union (checked against the union of the
   * alternatives' members): usually just the discriminator, checked again once it resolved.
   */
  loose: PathSegment[] | undefined = undefined;
  /** JSON Pointer, made on first use. */
  pointer: string | undefined;
  /** Shown as streaming: where its completed children start in the tracker's `done` log. */
  doneFrom = 0;
  /** Its expectation, as of `expectationsVersion` (expectations appear as unions resolve). */
  expectation: Expectation | undefined = undefined;
  expectationsVersion = -1;

  constructor(
    parent: Frame | undefined,
    path: PathSegment[],
    declared: SchemaNode,
    plan: StartPlan,
    kind: ValueKind,
  ) {
    this.parent = parent;
    this.path = path;
    this.declared = declared;
    this.node = plan.node;
    this.kind = kind;
    this.plan = plan;
    this.union = plan.union;
    this.pointer = parent === undefined ? "" : undefined;
  }

  reset(
    parent: Frame | undefined,
    path: PathSegment[],
    declared: SchemaNode,
    plan: StartPlan,
    kind: ValueKind,
  ): void {
    this.parent = parent;
    this.path = path;
    this.declared = declared;
    this.node = plan.node;
    this.kind = kind;
    this.blocking = false;
    this.gate = undefined;
    this.queue = undefined;
    this.discriminator = undefined;
    this.union = plan.union;
    this.plan = plan;
    this.exact = true;
    this.loose = undefined;
    this.pointer = parent === undefined ? "" : undefined;
    this.doneFrom = 0;
    this.expectation = undefined;
    this.expectationsVersion = -1;
  }
}

/** Deepest static expansion of required fields, and most expected fields counted. */
const MAX_EXPAND_DEPTH = 64;
const MAX_EXPECTED = 100_000;

function escapeKey(key: PathSegment): string {
  if (typeof key === "number") return String(key);
  return key.includes("~") || key.includes("/") ? key.replace(/~/g, "~0").replace(/\//g, "~1") : key;
}

function pointerOf(frame: Frame): string {
  if (frame.pointer === undefined) {
    const path = frame.path;
    frame.pointer = `${pointerOf(frame.parent as Frame)}/${escapeKey(path[path.length - 1])}`;
  }
  return frame.pointer;
}

/** Two segments are the same in a JSON Pointer (`0` and `"0"` are). */
function sameSegment(a: PathSegment, b: PathSegment): boolean {
  return a === b || String(a) === String(b);
}

/** Two paths name the same JSON Pointer. */
function samePointer(a: readonly PathSegment[], b: readonly PathSegment[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!sameSegment(a[i], b[i])) return false;
  return true;
}

/** The array index a segment names, if any (a pointer's `"3"` names index 3, `"03"` none). */
function indexOf(segment: PathSegment): number | undefined {
  if (typeof segment === "number") return Number.isSafeInteger(segment) && segment >= 0 ? segment : undefined;
  if (!/^(?:0|[1-9]\d*)$/.test(segment)) return undefined;
  const index = Number(segment);
  return Number.isSafeInteger(index) ? index : undefined;
}

/** What a value of one kind that starts at a node needs, worked out once per node and kind. */
interface StartPlan {
  /** The node it is validated against: the declared one narrowed by kind. */
  readonly node: SchemaNode;
  /** The declared node accepts the kind. */
  readonly accepts: boolean;
  /** The schema's own hold (atomic, or gate keys), when the user gave no rules. */
  readonly hold: Hold;
  /** `node` is a union. */
  readonly union: boolean;
  /** The member key that tells an object's alternatives apart, if it is a union of objects. */
  readonly discriminator: string | undefined;
  /** `node` constrains nothing: the value is not validated. */
  readonly unconstrained: boolean;
  /** What early validation checks at the value's end (see AjvEngine.startedCheck), once known. */
  check: StartedCheck | undefined;
  /** The engine `check` is from. */
  checkEngine: AjvEngine | undefined;
}

/** The start plan for a kind at a node, cached on the node (one field read per start event). */
function planOf(declared: SchemaNode, kind: ValueKind): StartPlan {
  const plans = kindCache(declared) as (StartPlan | undefined)[];
  const index = kindIndex(kind);
  let plan = plans[index];
  if (plan === undefined) {
    const node = narrowByKind(declared, kind);
    const union = node.members !== undefined;
    plan = {
      node,
      accepts: acceptsKind(declared, kind),
      hold: schemaHold(node, kind),
      union,
      discriminator: kind === "object" && union ? node.discriminator?.key : undefined,
      unconstrained: isUnconstrained(node),
      check: undefined,
      checkEngine: undefined,
    };
    plans[index] = plan;
  }
  return plan;
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
 *    union alternative) when it completes; open values are never validated. The issues are those
 *    of validating the completed value whole, but each value is checked once: an object or array
 *    whose members all passed is checked against its own keywords only (see `shallowPlan` in
 *    `shape.ts` for the schemas validated whole instead: unions, `unevaluated*`, dynamic refs).
 *
 * The work per event does not grow with the value: no JSON Pointer is built unless a listener,
 * progress or an issue needs it, no record is kept per path (`stateOf` reads the values shown so
 * far), and a value's frame is reused once it is complete.
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
  // Without the user's rules a value's hold depends on its node and kind only (see planOf).
  const ruled = (options.atomic?.length ?? 0) > 0 || Object.keys(options.gate ?? {}).length > 0;
  const early = (options.validate ?? "early") === "early";
  const { onField, onFieldState, onIssues } = options;
  const engine = engineOf(compiled);

  /** Open values, innermost last. */
  const stack: Frame[] = [];
  let blockingCount = 0;
  let issues: SchemaIssue[] = [];
  let failed = false;
  // The value validated last, for validateAt (issues `undefined`: it conforms).
  let lastPath: PathSegment[] | undefined;
  let lastValue: unknown;
  let lastIssues: SchemaIssue[] | undefined;

  // A frame is referenced by the stack, by its children (for their pointers), by `shown` and by
  // queued notes; once its `complete` note is out, its children's notes are out too (notes follow
  // document order), so nothing refers to it any more and the next value can reuse it. Frames
  // are then allocated per depth, not per value: the tracker barely adds to the GC's work.
  const free: Frame[] = [];
  const recycle = (frame: Frame): void => {
    frame.parent = undefined;
    frame.queue = undefined;
    free.push(frame);
  };

  // ---- what is shown ------------------------------------------------------------------------
  // Notes come out in document order (a hold delays them, never reorders them), so what is shown
  // is: the values shown as streaming and not complete yet (`shown`, each the parent of the next),
  // and under each the children it completed, as key/value pairs in one shared log (`done`), cut
  // back when that value completes. A path below a completed value is complete when it exists in
  // that value. No record per path: a stream of n values keeps O(depth + width) entries.
  const shown: Frame[] = [];
  // Used up to `doneLength`: cutting it back by assigning `length` would let V8 shrink and regrow
  // its store over and over. Entries past the end hold values the parser's value holds anyway.
  const done: unknown[] = [];
  let doneLength = 0;
  let rootShown: { value: unknown } | undefined;
  // Objects with a key given twice, by value: every child each key had (a later one overwrote
  // the earlier ones in the value, but each was complete).
  let repeated: WeakMap<object, unknown[]> | undefined;

  /** The state of `path` from `from` on, below a completed value. */
  const stateIn = (value: unknown, path: readonly PathSegment[], from: number): FieldState => {
    for (let i = from; i < path.length; i++) {
      if (value === null || typeof value !== "object") return "pending";
      const segment = path[i];
      if (Array.isArray(value)) {
        const index = indexOf(segment);
        if (index === undefined || index >= value.length) return "pending";
        value = value[index];
        continue;
      }
      const log = repeated?.get(value);
      if (log !== undefined) return stateInLog(log, 0, log.length, path, i);
      const key = String(segment);
      if (!Object.hasOwn(value, key)) return "pending";
      value = (value as Record<string, unknown>)[key];
    }
    return "complete";
  };

  /** The state of `path[at]` and below among completed children logged in `log[from..to)`. */
  const stateInLog = (
    log: readonly unknown[],
    from: number,
    to: number,
    path: readonly PathSegment[],
    at: number,
  ): FieldState => {
    const segment = path[at];
    for (let i = from; i < to; i += 2) {
      if (sameSegment(log[i] as PathSegment, segment) && stateIn(log[i + 1], path, at + 1) === "complete") {
        return "complete";
      }
    }
    return "pending";
  };

  /** The state of `path` below `shown[depth]` (a path's state is that of its latest note). */
  const stateBelow = (path: readonly PathSegment[], depth: number): FieldState => {
    if (depth === path.length) return "streaming";
    const next = shown[depth + 1];
    if (next !== undefined && sameSegment(next.path[depth], path[depth])) {
      const state = stateBelow(path, depth + 1);
      // Else an earlier value under the same key (a key given twice) may have had it.
      if (state !== "pending") return state;
    }
    const to = next === undefined ? doneLength : next.doneFrom;
    return stateInLog(done, shown[depth].doneFrom, to, path, depth);
  };

  const stateAt = (path: readonly PathSegment[]): FieldState => {
    if (shown.length === 0) return rootShown === undefined ? "pending" : stateIn(rootShown.value, path, 0);
    return stateBelow(path, 0);
  };

  // ---- progress -------------------------------------------------------------------------
  const rootExpectation = new Expectation([], "");
  /** Bumped when an expectation is added, so frames look theirs up again. */
  let expectationsVersion = 0;
  /** Expected fields not complete yet, in the order they became expected. */
  const pending = new Set<Expectation>();
  let completed = 0;
  let total = 0;
  let lastPercent = 0;
  let finished = false;
  let progress: Progress | undefined;

  const childExpectation = (parent: Expectation, key: PathSegment): Expectation => {
    const segment = indexOf(key) ?? key;
    let children = parent.children;
    if (children === undefined) parent.children = children = new Map();
    let child = children.get(segment);
    if (child === undefined) {
      child = new Expectation([...parent.path, key], `${parent.pointer}/${escapeKey(key)}`);
      children.set(segment, child);
      expectationsVersion++;
    }
    return child;
  };

  const expectationOf = (frame: Frame): Expectation | undefined => {
    if (frame.expectationsVersion !== expectationsVersion) {
      const parent = frame.parent;
      if (parent === undefined) frame.expectation = rootExpectation;
      else {
        const children = expectationOf(parent)?.children;
        const key = frame.path[frame.path.length - 1];
        frame.expectation = children?.get(indexOf(key) ?? key);
      }
      frame.expectationsVersion = expectationsVersion;
    }
    return frame.expectation;
  };

  const addExpected = (expectation: Expectation): void => {
    if (expectation.counted || total >= MAX_EXPECTED) return;
    expectation.counted = true;
    total++;
    if (stateAt(expectation.path) === "complete") completed++;
    else pending.add(expectation);
    progress = undefined;
  };

  const expand = (expectation: Expectation, node: SchemaNode, depth: number): void => {
    if (depth > MAX_EXPAND_DEPTH || expectation.expanded) return;
    if (isObjectNode(node)) {
      expectation.expanded = true;
      for (const key of node.required) {
        const child = childExpectation(expectation, key);
        addExpected(child);
        expand(child, childSchema(node, key), depth + 1);
      }
    } else if (isArrayNode(node)) {
      expectation.expanded = true;
      if (Number.isFinite(node.maxItems)) {
        const count = Math.min(node.minItems, node.maxItems);
        for (let i = 0; i < count; i++) {
          const child = childExpectation(expectation, i);
          addExpected(child);
          expand(child, childSchema(node, i), depth + 1);
        }
      }
    }
  };
  expand(rootExpectation, compiled.root, 0);

  /** Expected fields below a value are known once its node is a plain object or array. */
  const expandIfExpected = (frame: Frame): void => {
    const expectation = expectationOf(frame);
    if (expectation !== undefined && (expectation === rootExpectation || expectation.counted)) {
      expand(expectation, frame.node, frame.path.length);
    }
  };

  // ---- notifications ----------------------------------------------------------------------
  const emitStreaming = (frame: Frame, path: PathSegment[]): void => {
    frame.doneFrom = doneLength;
    shown.push(frame);
    if (onFieldState !== undefined && path.length > 0) onFieldState(path, pointerOf(frame), "streaming");
  };

  const emitComplete = (frame: Frame, path: PathSegment[], value: unknown): void => {
    shown.pop();
    const children = (doneLength - frame.doneFrom) / 2;
    if (frame.kind === "object" && children > 1 && countKeys(value as object) < children) {
      (repeated ??= new WeakMap()).set(value as object, done.slice(frame.doneFrom, doneLength));
    }
    doneLength = frame.doneFrom;
    if (path.length === 0) rootShown = { value };
    else {
      done[doneLength++] = path[path.length - 1];
      done[doneLength++] = value;
    }
    const expectation = expectationOf(frame);
    if (expectation !== undefined && pending.delete(expectation)) {
      completed++;
      progress = undefined;
    }
    if (path.length > 0) {
      if (onFieldState !== undefined) onFieldState(path, pointerOf(frame), "complete");
      if (onField !== undefined) onField(path, pointerOf(frame), value);
    }
    recycle(frame);
  };

  const emit = (note: Note): void => {
    if (note.state === undefined) emitComplete(note.frame, note.path, note.value);
    else emitStreaming(note.frame, note.path);
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
    const parent = stack.length === 0 ? undefined : stack[stack.length - 1];
    const key = path[path.length - 1];
    const declared = parent === undefined ? compiled.root : childSchema(parent.node, key);
    const plan = planOf(declared, kind);
    if (early) {
      if (parent !== undefined && declared.never) {
        if (parent.kind === "array") {
          const max = parent.node.maxItems;
          const expectedText = `at most ${max} items`;
          fail([
            {
              path: parent.path,
              pointer: pointerOf(parent),
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
      if (!plan.accepts) {
        const expectedText = describeNode(declared);
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
    // A member of a union is validated against the union of the alternatives' children.
    if (parent?.union) (parent.loose ??= []).push(key);
    const node = plan.node;
    let frame = free.pop();
    if (frame === undefined) frame = new Frame(parent, path, declared, plan, kind);
    else frame.reset(parent, path, declared, plan, kind);
    const hold = ruled ? policy.hold(node, path, kind) : plan.hold;
    // Gate keys come without repeats; the parser copies the list it is given.
    const gated = Array.isArray(hold) && hold.length > 0;
    if (gated) frame.gate = hold.slice();
    frame.blocking = hold === true || gated;
    frame.discriminator = plan.discriminator;
    stack.push(frame);
    if (frame.blocking) blockingCount++;
    if (parent !== undefined && parent.kind === "array" && Number.isFinite(parent.node.maxItems)) {
      const expectation = expectationOf(parent);
      if (expectation?.expanded && (key as number) < parent.node.maxItems) {
        addExpected(childExpectation(expectation, key));
      }
    }
    if (kind === "object" || kind === "array") expandIfExpected(frame);
    if (blockingCount === 0) emitStreaming(frame, path);
    else deliver({ frame, path, state: "streaming", value: undefined }, stack.length);
    return hold === true || gated ? hold : undefined;
  };

  const onEnd = (path: PathSegment[], value: unknown): void => {
    const frame = stack.pop();
    if (frame === undefined) return;
    const depth = stack.length;
    release(frame, depth);
    const parent = depth === 0 ? undefined : stack[depth - 1];
    if (early) {
      const node = frame.node;
      const plan = frame.plan;
      if (node === plan.node ? !plan.unconstrained : !isUnconstrained(node)) {
        // What the start checks settled (kind, keys) and what members and items met as they
        // completed is not checked again, unless a member was checked against a looser node.
        const container = frame.kind === "object" || frame.kind === "array";
        let found: SchemaIssue[] | undefined;
        if (engine === undefined) found = compiled.validateNode(node, value, path);
        else {
          let ok: boolean;
          if (container && !(frame.exact && settled(frame, engine, value))) ok = engine.check(node, value);
          else {
            let check: StartedCheck;
            if (node === plan.node && plan.checkEngine === engine) check = plan.check as StartedCheck;
            else {
              check = engine.startedCheck(node, frame.kind);
              if (node === plan.node) {
                plan.check = check;
                plan.checkEngine = engine;
              }
            }
            ok = check === true || check(value);
          }
          if (!ok) found = engine.issuesFor(node, value, path);
        }
        lastPath = path;
        lastValue = value;
        lastIssues = found !== undefined && found.length > 0 ? found : undefined;
        if (lastIssues !== undefined) {
          fail(lastIssues);
          return;
        }
      }
      // A value narrowed to some but not all alternatives was validated against them as an
      // `anyOf`, which a `oneOf` may not accept: its parent is then validated whole.
      if (parent !== undefined && node !== frame.declared && node.members !== undefined) parent.exact = false;
    }
    const holder = holderBelow(depth);
    if (holder === undefined) emitComplete(frame, path, value);
    else (holder.queue ??= []).push({ frame, path, state: undefined, value });
    if (parent === undefined || parent.kind !== "object") return;
    const key = path[path.length - 1] as string;
    if (parent.discriminator === key) {
      parent.discriminator = undefined;
      parent.node = narrowByTag(parent.node, value);
      parent.union = parent.node.members !== undefined;
      expandIfExpected(parent);
    }
    const gate = parent.gate;
    if (gate !== undefined) {
      const at = gate.indexOf(key);
      if (at !== -1) {
        gate.splice(at, 1);
        if (gate.length === 0) release(parent, depth - 1);
      }
    }
  };

  /**
   * A value's members that started while it was a union conform to their child nodes of the
   * alternative it resolved to (it is not a union any more).
   */
  const settled = (frame: Frame, engine: AjvEngine, value: unknown): boolean => {
    const loose = frame.loose;
    if (loose === undefined) return true;
    if (frame.union) return false;
    for (const key of loose) {
      const child = childSchema(frame.node, key);
      const member = (value as Record<PathSegment, unknown>)[key];
      if (!isUnconstrained(child) && !engine.check(child, member)) return false;
    }
    return true;
  };

  const onParserEvent = (event: ParserEvent): Hold | void => {
    if (failed || finished) return undefined;
    // The parser's path is live: a frame keeps its own copy, made once per value.
    if (event.type === "start") return onStart(event.path.slice(), event.kind);
    if (event.type === "end") onEnd(stack[stack.length - 1]?.path ?? event.path.slice(), event.value);
  };

  return new Tracker({
    onParserEvent,
    stateOf(path) {
      if (typeof path !== "string") return stateAt(path);
      let segments: string[];
      try {
        segments = fromPointer(path);
      } catch {
        return "pending";
      }
      return stateAt(segments);
    },
    progress() {
      if (progress !== undefined) return progress;
      const raw = total === 0 ? 0 : Math.floor((completed * 100) / total);
      lastPercent = finished ? 100 : Math.min(99, Math.max(lastPercent, raw));
      progress = {
        completed,
        total,
        percent: lastPercent,
        pending: Array.from(pending, (expectation) => expectation.pointer),
      };
      return progress;
    },
    issues: () => issues,
    failed: () => failed,
    validateAt(path, value) {
      if (lastPath !== undefined && lastValue === value && samePointer(lastPath, path)) {
        return (lastIssues ??= []);
      }
      return compiled.validateAt(path, value);
    },
    markComplete() {
      finished = true;
      completed = total;
      pending.clear();
      progress = undefined;
    },
  });
}

/** What a tracker does, as plain functions (see {@link Tracker}). */
interface TrackerCore {
  onParserEvent(event: ParserEvent): Hold | void;
  stateOf(path: readonly PathSegment[] | string): FieldState;
  progress(): Progress;
  issues(): SchemaIssue[];
  failed(): boolean;
  validateAt(path: readonly PathSegment[], value: unknown): SchemaIssue[];
  markComplete(): void;
}

/**
 * The object {@link createSchemaTracker} returns. A class so that its getters sit on one shared
 * prototype. With getters in an object literal every tracker had accessors of its own, recorded
 * in V8's hidden classes, which outlive the tracker until a full GC: each young-generation GC then
 * kept finished trackers, and every value they had seen, alive and promoted them (measured: nine
 * times the GC time per 100 KB answer when trackers run one after another).
 */
class Tracker implements SchemaTracker {
  readonly onParserEvent: (event: ParserEvent) => Hold | void;

  constructor(private readonly core: TrackerCore) {
    this.onParserEvent = core.onParserEvent;
  }

  stateOf(path: readonly PathSegment[] | string): FieldState {
    return this.core.stateOf(path);
  }

  get progress(): Progress {
    return this.core.progress();
  }

  get issues(): SchemaIssue[] {
    return this.core.issues();
  }

  get failed(): boolean {
    return this.core.failed();
  }

  validateAt(path: readonly PathSegment[], value: unknown): SchemaIssue[] {
    return this.core.validateAt(path, value);
  }

  markComplete(): void {
    this.core.markComplete();
  }
}

/** How many own keys an object has, without listing them. */
function countKeys(value: object): number {
  let n = 0;
  for (const key in value) if (Object.hasOwn(value, key)) n++;
  return n;
}
