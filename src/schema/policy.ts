import { StructreamError } from "../errors/index.ts";
import { fromPointer, type Hold, type PathSegment, type ValueKind } from "../json/index.ts";
import { acceptsKind, narrowByKind, type SchemaNode } from "./shape.ts";

/**
 * Streaming choices the user makes beside the schema (for schemas they cannot annotate).
 *
 * @example
 * ```ts
 * const options: StreamPolicyOptions = { atomic: ["/items/*\/id"], gate: { "/items/*": ["kind"] } };
 * ```
 */
export interface StreamPolicyOptions {
  /**
   * JSON Pointers of values that appear only once complete; `*` stands for any one segment
   * (an array index, or a key), e.g. `"/items/*\/id"`.
   */
  atomic?: readonly string[] | undefined;
  /**
   * Objects (by JSON Pointer, `*` for any one segment) kept hidden until the listed member keys are
   * complete, e.g. `{ "/items/*": ["type"] }`.
   */
  gate?: Readonly<Record<string, readonly string[]>> | undefined;
}

/**
 * Decides, as a value starts, whether it streams progressively, appears only complete, or waits for keys.
 *
 * @example
 * ```ts
 * const policy: StreamPolicy = createStreamPolicy();
 * policy.hold(compiled.nodeAt(["when"]), ["when"], "string"); // true for a date-time
 * ```
 */
export interface StreamPolicy {
  /** True when the value appears only once complete. */
  isAtomic(node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): boolean;
  /** Member keys an object waits for before it is shown (empty: none). */
  gateKeys(node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): readonly string[];
  /** The parser {@link Hold} for a value that starts: `true` (atomic), keys (gated) or `undefined`. */
  hold(node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): Hold;
}

type Pattern = readonly string[];

function parsePattern(pointer: string): Pattern {
  try {
    return fromPointer(pointer);
  } catch (cause) {
    throw new StructreamError("invalid_option", `Not a JSON Pointer: ${JSON.stringify(pointer)}.`, { cause });
  }
}

/** Rules grouped by path length, so a start event only looks at the rules that can match it. */
function groupByLength<R extends { pattern: Pattern }>(rules: R[]): Map<number, R[]> {
  const byLength = new Map<number, R[]>();
  for (const rule of rules) {
    const list = byLength.get(rule.pattern.length);
    if (list === undefined) byLength.set(rule.pattern.length, [rule]);
    else list.push(rule);
  }
  return byLength;
}

function matches(pattern: Pattern, path: readonly PathSegment[]): boolean {
  for (let i = 0; i < pattern.length; i++) {
    if (pattern[i] !== "*" && pattern[i] !== String(path[i])) return false;
  }
  return true;
}

/**
 * True when the schema alone says a value of this kind appears only once complete: an
 * `x-stream: "atomic"` annotation; an `enum` or `const`; a string with a `format` or a `pattern`
 * (unless annotated `x-stream: "progressive"`). For a union, every alternative that accepts the
 * kind must be atomic.
 *
 * @example
 * ```ts
 * isAtomicNode(createSchemaNode({ type: "string", format: "date-time" }), "string"); // true
 * isAtomicNode(createSchemaNode({ type: "string" }), "string"); // false
 * ```
 */
export function isAtomicNode(node: SchemaNode, kind: ValueKind): boolean {
  if (node.never) return false;
  if (node.stream === "atomic") return true;
  if (node.stream === "progressive") return false;
  const members = node.members;
  if (members !== undefined) {
    const candidates = members.filter((m) => acceptsKind(m, kind));
    return candidates.length > 0 && candidates.every((m) => isAtomicNode(m, kind));
  }
  if (node.values !== undefined) return true;
  return kind === "string" && (node.format !== undefined || node.pattern !== undefined);
}

/**
 * Member keys the schema alone says an object waits for: its `x-stream-gate` annotation, and the
 * discriminator of a union of objects (so an item whose kind is still unknown is never shown).
 *
 * @example
 * ```ts
 * const shape = createSchemaNode({ oneOf: [
 *   { type: "object", properties: { type: { const: "circle" }, r: { type: "number" } }, required: ["type", "r"] },
 *   { type: "object", properties: { type: { const: "rect" }, w: { type: "number" } }, required: ["type", "w"] },
 * ] });
 * schemaGateKeys(shape); // ["type"]
 * ```
 */
export function schemaGateKeys(node: SchemaNode): readonly string[] {
  if (node.never) return [];
  const keys = new Set(node.gate);
  const members = node.members;
  if (members !== undefined) {
    const objects = members.filter((m) => acceptsKind(m, "object"));
    if (objects.length > 1 && node.discriminator !== undefined) keys.add(node.discriminator.key);
    for (const m of objects) for (const key of m.gate) keys.add(key);
  }
  return [...keys];
}

/**
 * Makes the streaming policy: the schema's own annotations and shape (see {@link isAtomicNode},
 * {@link schemaGateKeys}) plus the user's `atomic` and `gate` pointers. Atomic wins over gated.
 *
 * @example
 * ```ts
 * const policy = createStreamPolicy({ atomic: ["/items/*\/id"], gate: { "/items/*": ["kind"] } });
 * policy.hold(idNode, ["items", 3, "id"], "string"); // true
 * policy.hold(itemNode, ["items", 3], "object"); // ["kind"]
 * ```
 */
export function createStreamPolicy(options: StreamPolicyOptions = {}): StreamPolicy {
  const atomic = groupByLength((options.atomic ?? []).map((pointer) => ({ pattern: parsePattern(pointer) })));
  const gates = groupByLength(
    Object.entries(options.gate ?? {}).map(([pointer, keys]) => ({ pattern: parsePattern(pointer), keys })),
  );
  const ruled = atomic.size > 0 || gates.size > 0;

  // Loops rather than `some`/`filter` with arrows: these run per start event, and a closure over
  // `path` would cost an allocation per call.
  const isAtomic = (node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): boolean => {
    const listed = atomic.get(path.length);
    if (listed !== undefined) for (const rule of listed) if (matches(rule.pattern, path)) return true;
    return decide(node, kind).atomic;
  };

  const gateKeys = (node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): readonly string[] => {
    if (kind !== "object") return [];
    const own = decide(node, kind).keys;
    const rules = gates.get(path.length);
    let keys: Set<string> | undefined;
    if (rules !== undefined) {
      for (const rule of rules) {
        if (!matches(rule.pattern, path)) continue;
        keys ??= new Set(own);
        for (const key of rule.keys) keys.add(key);
      }
    }
    return keys === undefined ? own : [...keys];
  };

  return {
    isAtomic,
    gateKeys,
    hold(node, path, kind) {
      // Without the user's rules a start event is one cache lookup.
      if (!ruled) return decide(node, kind).hold;
      if (isAtomic(node, path, kind)) return true;
      const keys = gateKeys(node, path, kind);
      return keys.length > 0 ? keys : undefined;
    },
  };
}

/** What the schema alone decides for a value of one kind at a node. */
interface Decision {
  atomic: boolean;
  keys: readonly string[];
  hold: Hold;
}

const KINDS: readonly ValueKind[] = ["object", "array", "string", "number", "boolean", "null"];

// Shared by every policy (a decision depends on the node and kind only), so making a tracker does
// not make a cache of its own.
const decisions = new WeakMap<SchemaNode, (Decision | undefined)[]>();

/**
 * The {@link Hold} the schema alone asks for a value of this kind at a node (atomic, or gate keys):
 * {@link StreamPolicy.hold} without the user's `atomic` and `gate` rules.
 */
export function schemaHold(node: SchemaNode, kind: ValueKind): Hold {
  return decide(node, kind).hold;
}

function decide(node: SchemaNode, kind: ValueKind): Decision {
  let byKind = decisions.get(node);
  if (byKind === undefined) decisions.set(node, (byKind = []));
  const index = KINDS.indexOf(kind);
  let decision = byKind[index];
  if (decision === undefined) {
    const narrowed = narrowByKind(node, kind);
    const isAtomic = isAtomicNode(narrowed, kind);
    const keys = kind === "object" ? schemaGateKeys(narrowed) : [];
    decision = { atomic: isAtomic, keys, hold: isAtomic ? true : keys.length > 0 ? keys : undefined };
    byKind[index] = decision;
  }
  return decision;
}
