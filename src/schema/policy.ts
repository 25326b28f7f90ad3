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

  // What the schema alone decides, per node and kind: a start event is then one map lookup.
  const decided = new WeakMap<SchemaNode, Map<ValueKind, { atomic: boolean; keys: readonly string[] }>>();
  const fromSchema = (node: SchemaNode, kind: ValueKind) => {
    let byKind = decided.get(node);
    if (byKind === undefined) decided.set(node, (byKind = new Map()));
    let decision = byKind.get(kind);
    if (decision === undefined) {
      const narrowed = narrowByKind(node, kind);
      decision = {
        atomic: isAtomicNode(narrowed, kind),
        keys: kind === "object" ? schemaGateKeys(narrowed) : [],
      };
      byKind.set(kind, decision);
    }
    return decision;
  };

  const isAtomic = (node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): boolean => {
    const listed = atomic.get(path.length);
    if (listed?.some((rule) => matches(rule.pattern, path))) return true;
    return fromSchema(node, kind).atomic;
  };

  const gateKeys = (node: SchemaNode, path: readonly PathSegment[], kind: ValueKind): readonly string[] => {
    if (kind !== "object") return [];
    const own = fromSchema(node, kind).keys;
    const rules = gates.get(path.length)?.filter((rule) => matches(rule.pattern, path));
    if (rules === undefined || rules.length === 0) return own;
    const keys = new Set(own);
    for (const rule of rules) for (const key of rule.keys) keys.add(key);
    return [...keys];
  };

  return {
    isAtomic,
    gateKeys,
    hold(node, path, kind) {
      if (isAtomic(node, path, kind)) return true;
      const keys = gateKeys(node, path, kind);
      return keys.length > 0 ? keys : undefined;
    },
  };
}
