import type { PathSegment, ValueKind } from "../json/index.ts";
import type { JsonSchema, JsonSchemaObject, JsonSchemaTypeName } from "./json-schema.ts";

/**
 * A union of objects told apart by one member key whose schema is a `const` or `enum` in every
 * alternative (`{ type: "circle", ... } | { type: "rect", ... }`).
 *
 * @example
 * ```ts
 * const d = childSchema(root, "shape").discriminator;
 * d?.key; // "type"
 * d?.cases.get('"rect"'); // [the rect alternative]
 * ```
 */
export interface Discriminator {
  /** The member key, e.g. `"type"`. */
  readonly key: string;
  /** For each allowed value (as `JSON.stringify` of it), the alternatives that accept it. */
  readonly cases: ReadonlyMap<string, readonly SchemaNode[]>;
}

/**
 * structream's one description of a schema's shape, read by the streaming policy, progress,
 * early validation and the request builders. A node stands for the conjunction of the schema
 * locations in `refs` (after `$ref` and `allOf` are followed), or, when `members` is set, for the
 * union of those alternatives. Nodes are made lazily and cached, so recursive schemas are fine.
 *
 * @example
 * ```ts
 * const root = compileSchema(Article).root;
 * root.required; // ["title", "tags"]
 * childSchema(root, "tags").maxItems; // 5
 * ```
 */
export interface SchemaNode {
  /** Identity of the node within its tree. */
  readonly id: string;
  /**
   * JSON Pointers into the root JSON Schema (`""` is the root) of the subschemas the value must
   * all satisfy. Empty for `any`, `never` and a union made of children of alternatives.
   */
  readonly refs: readonly string[];
  /** The subschema objects this node merges (every `$ref` target and `allOf` member included). */
  readonly schemas: readonly JsonSchemaObject[];
  /** Allowed JSON types; `undefined` allows any. `integer` stands for whole numbers. */
  readonly types: ReadonlySet<JsonSchemaTypeName> | undefined;
  /** Allowed values (`enum`, `const`); `undefined` when not restricted. */
  readonly values: readonly unknown[] | undefined;
  /** Required member keys (the union of every merged schema's `required`). */
  readonly required: readonly string[];
  readonly minItems: number;
  /** `Infinity` when unbounded; a closed tuple bounds it by its length. */
  readonly maxItems: number;
  readonly format: string | undefined;
  readonly pattern: string | undefined;
  /** The `x-stream` annotation. */
  readonly stream: "atomic" | "progressive" | undefined;
  /** The `x-stream-gate` annotation (member keys). */
  readonly gate: readonly string[];
  /** No value is allowed here (a `false` schema, an unknown key under `additionalProperties: false`). */
  readonly never: boolean;
  /** The alternatives of a union (`anyOf`/`oneOf`, nested unions flattened), each with the base merged in. */
  readonly members: readonly SchemaNode[] | undefined;
  /** Set when `members` are objects told apart by one key. */
  readonly discriminator: Discriminator | undefined;
}

/** A node together with the tree it belongs to; every node handed out is one. */
class Node implements SchemaNode {
  readonly id: string;
  readonly refs: readonly string[];
  readonly schemas: readonly JsonSchemaObject[];
  readonly types: ReadonlySet<JsonSchemaTypeName> | undefined;
  readonly values: readonly unknown[] | undefined;
  readonly required: readonly string[];
  readonly minItems: number;
  readonly maxItems: number;
  readonly format: string | undefined;
  readonly pattern: string | undefined;
  readonly stream: "atomic" | "progressive" | undefined;
  readonly gate: readonly string[];
  readonly never: boolean;
  readonly children = new Map<PathSegment, Node>();
  /** From this index on every item has the same node, `restChild`; computed on first use. */
  restFrom = -1;
  restChild: Node | undefined = undefined;
  /** The tracker's per-kind start plans (see `planOf` in tracker.ts), by kind. */
  readonly plans: unknown[] = [];
  /** What a shallow check validates (see {@link shallowPlan}); `null` until computed. */
  shallow: readonly Facet[] | undefined | null = null;
  readonly byKind = new Map<ValueKind, Node>();
  readonly byTag = new Map<string, Node>();
  readonly byStringTag = new Map<string, Node>();
  /** Facet locations, parallel to `schemas`. */
  readonly locations: readonly string[];
  /** Locations of facets whose union was distributed into this node (it is one alternative). */
  readonly skip: readonly string[];
  private lazyMembers: readonly Node[] | undefined | null = null;
  private lazyDiscriminator: Discriminator | undefined | null = null;

  constructor(
    readonly tree: SchemaTree,
    fields: NodeInit,
    private readonly makeMembers: (() => Node[] | undefined) | undefined,
    readonly discriminatorKey: string | undefined,
  ) {
    this.id = fields.id;
    this.refs = fields.refs;
    this.schemas = fields.schemas;
    this.locations = fields.locations;
    this.skip = fields.skip;
    this.types = fields.types;
    this.values = fields.values;
    this.required = fields.required;
    this.minItems = fields.minItems;
    this.maxItems = fields.maxItems;
    this.format = fields.format;
    this.pattern = fields.pattern;
    this.stream = fields.stream;
    this.gate = fields.gate;
    this.never = fields.never;
  }

  get members(): readonly Node[] | undefined {
    if (this.lazyMembers === null) this.lazyMembers = this.makeMembers?.();
    return this.lazyMembers;
  }

  get discriminator(): Discriminator | undefined {
    if (this.lazyDiscriminator === null) this.lazyDiscriminator = findDiscriminator(this);
    return this.lazyDiscriminator;
  }
}

interface NodeInit {
  id: string;
  refs: readonly string[];
  schemas: readonly JsonSchemaObject[];
  locations: readonly string[];
  skip: readonly string[];
  types: ReadonlySet<JsonSchemaTypeName> | undefined;
  values: readonly unknown[] | undefined;
  required: readonly string[];
  minItems: number;
  maxItems: number;
  format: string | undefined;
  pattern: string | undefined;
  stream: "atomic" | "progressive" | undefined;
  gate: readonly string[];
  never: boolean;
}

/** Most alternatives a union is expanded into; beyond it the union is only validated, not modelled. */
const MAX_MEMBERS = 64;

function escapeSegment(segment: string): string {
  return segment.replace(/~/g, "~0").replace(/\//g, "~1");
}

function unescapeSegment(segment: string): string {
  return segment.replace(/~1/g, "/").replace(/~0/g, "~");
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function hasOwn(value: object, key: string): boolean {
  return Object.hasOwn(value, key);
}

function typesOfValue(value: unknown): JsonSchemaTypeName {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value as JsonSchemaTypeName;
}

/** `a ∩ b`, where `integer` is a subset of `number`. */
function intersectTypes(
  a: ReadonlySet<JsonSchemaTypeName> | undefined,
  b: ReadonlySet<JsonSchemaTypeName> | undefined,
): ReadonlySet<JsonSchemaTypeName> | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  const out = new Set<JsonSchemaTypeName>();
  for (const t of a) if (b.has(t) || (t === "integer" && b.has("number"))) out.add(t);
  for (const t of b) if (t === "integer" && a.has("number")) out.add(t);
  return out;
}

function facetTypes(schema: JsonSchemaObject): ReadonlySet<JsonSchemaTypeName> | undefined {
  let types: Set<JsonSchemaTypeName> | undefined;
  const declared = schema.type;
  if (typeof declared === "string") types = new Set([declared]);
  else if (Array.isArray(declared)) types = new Set(declared as JsonSchemaTypeName[]);
  else {
    const values = hasOwn(schema, "const")
      ? [schema.const]
      : Array.isArray(schema.enum)
        ? schema.enum
        : undefined;
    if (values !== undefined) {
      types = new Set();
      for (const v of values) {
        const t = typesOfValue(v);
        types.add(t === "integer" ? "number" : t);
      }
    }
  }
  if (types !== undefined && schema.nullable === true) types.add("null");
  return types;
}

const keyOf = (value: unknown): string => JSON.stringify(value) ?? "undefined";

/** Accepts a value of this kind as it starts (before it is complete). */
export function acceptsKind(node: SchemaNode, kind: ValueKind): boolean {
  if (node.never) return false;
  const members = node.members;
  if (members !== undefined) {
    // A loop, not `some` with an arrow: a closure over `kind` costs an allocation per call.
    for (const m of members) if (acceptsKind(m, kind)) return true;
    return false;
  }
  const types = node.types;
  if (types === undefined) return true;
  return kind === "number" ? types.has("number") || types.has("integer") : types.has(kind);
}

/** The model of one JSON Schema document: resolves locations and `$ref`s, makes and caches nodes. */
class SchemaTree {
  readonly nodes = new Map<string, Node>();
  private readonly located = new Map<string, JsonSchema | undefined>();
  private readonly ids = new Map<string, string>();
  readonly any: Node;
  readonly never: Node;
  /** Some subschema below the root has its own `$id`, so relative `$ref`s may resolve against it. */
  nestedIds = false;

  constructor(readonly root: JsonSchemaObject) {
    this.indexIds(root, "", 0);
    this.any = this.make({ ...EMPTY_INIT, id: "any" }, undefined);
    this.never = this.make({ ...EMPTY_INIT, id: "never", never: true, types: new Set() }, undefined);
  }

  /** Records `$id` and `$anchor` of subschemas so refs naming them resolve. */
  private indexIds(schema: unknown, location: string, depth: number): void {
    if (depth > 256 || typeof schema !== "object" || schema === null) return;
    if (Array.isArray(schema)) {
      for (let i = 0; i < schema.length; i++) this.indexIds(schema[i], `${location}/${i}`, depth + 1);
      return;
    }
    const s = schema as Record<string, unknown>;
    if (typeof s.$id === "string") {
      if (location !== "") this.nestedIds = true;
      const id = s.$id.replace(/#$/, "");
      if (!this.ids.has(id)) this.ids.set(id, location);
    }
    if (typeof s.$anchor === "string") this.ids.set(`#${s.$anchor}`, location);
    for (const key in s) {
      if (key === "enum" || key === "const" || key === "default" || key === "examples") continue;
      this.indexIds(s[key], `${location}/${escapeSegment(key)}`, depth + 1);
    }
  }

  at(location: string): JsonSchema | undefined {
    if (this.located.has(location)) return this.located.get(location);
    let current: unknown = this.root;
    if (location !== "") {
      for (const raw of location.slice(1).split("/")) {
        const segment = unescapeSegment(raw);
        if (typeof current !== "object" || current === null || !hasOwn(current, segment)) {
          current = undefined;
          break;
        }
        current = (current as Record<string, unknown>)[segment];
      }
    }
    const found = typeof current === "boolean" || isObject(current) ? (current as JsonSchema) : undefined;
    this.located.set(location, found);
    return found;
  }

  /** The location a `$ref` names, or `undefined` when it points outside this document. */
  resolveRef(ref: string): string | undefined {
    const hash = ref.indexOf("#");
    const base = hash === -1 ? ref : ref.slice(0, hash);
    const fragment = hash === -1 ? "" : ref.slice(hash + 1);
    let start = "";
    if (base !== "") {
      const found = this.ids.get(base);
      if (found === undefined) return undefined;
      start = found;
    }
    if (fragment === "" || fragment.startsWith("/")) {
      let pointer: string;
      try {
        pointer = decodeURIComponent(fragment);
      } catch {
        return undefined;
      }
      return start + pointer;
    }
    return this.ids.get(`#${fragment}`);
  }

  make(init: NodeInit, makeMembers: (() => Node[] | undefined) | undefined, discriminatorKey?: string): Node {
    const node = new Node(this, init, makeMembers, discriminatorKey);
    this.nodes.set(init.id, node);
    return node;
  }

  /** The node for the conjunction of these locations; `skip` lists unions already distributed. */
  conj(refs: readonly string[], skip: readonly string[] = []): Node {
    const sortedRefs = [...new Set(refs)].sort();
    const sortedSkip = [...new Set(skip)].sort();
    if (sortedRefs.length === 0) return this.any;
    const id = `${sortedRefs.join("\n")}${sortedSkip.length > 0 ? `\n!${sortedSkip.join("\n!")}` : ""}`;
    const cached = this.nodes.get(id);
    if (cached !== undefined) return cached;

    const locations: string[] = [];
    const schemas: JsonSchemaObject[] = [];
    let never = false;
    const seen = new Set<string>();
    const expand = (location: string): void => {
      if (seen.has(location)) return;
      seen.add(location);
      const schema = this.at(location);
      if (schema === false) never = true;
      if (!isObject(schema)) return;
      locations.push(location);
      schemas.push(schema);
      if (typeof schema.$ref === "string") {
        const target = this.resolveRef(schema.$ref);
        if (target !== undefined) expand(target);
      }
      if (Array.isArray(schema.allOf))
        for (let i = 0; i < schema.allOf.length; i++) expand(`${location}/allOf/${i}`);
    };
    for (const ref of sortedRefs) expand(ref);

    let types: ReadonlySet<JsonSchemaTypeName> | undefined;
    let values: unknown[] | undefined;
    const required = new Set<string>();
    const gate = new Set<string>();
    let minItems = 0;
    let maxItems = Number.POSITIVE_INFINITY;
    let format: string | undefined;
    let pattern: string | undefined;
    let stream: "atomic" | "progressive" | undefined;
    let union: { location: string; keyword: "anyOf" | "oneOf"; count: number } | undefined;
    let discriminatorKey: string | undefined;
    schemas.forEach((s, i) => {
      types = intersectTypes(types, facetTypes(s));
      const allowed = hasOwn(s, "const") ? [s.const] : Array.isArray(s.enum) ? s.enum : undefined;
      if (allowed !== undefined) {
        if (values === undefined) values = [...allowed];
        else {
          const keep = new Set(allowed.map(keyOf));
          values = values.filter((v) => keep.has(keyOf(v)));
        }
      }
      if (Array.isArray(s.required))
        for (const key of s.required) if (typeof key === "string") required.add(key);
      if (Array.isArray(s["x-stream-gate"])) for (const key of s["x-stream-gate"]) gate.add(String(key));
      if (typeof s.minItems === "number") minItems = Math.max(minItems, s.minItems);
      if (typeof s.maxItems === "number") maxItems = Math.min(maxItems, s.maxItems);
      const tuple = Array.isArray(s.items)
        ? s.items
        : Array.isArray(s.prefixItems)
          ? s.prefixItems
          : undefined;
      const closed = Array.isArray(s.items) ? s.additionalItems === false : s.items === false;
      if (closed) maxItems = Math.min(maxItems, tuple?.length ?? 0);
      if (format === undefined && typeof s.format === "string") format = s.format;
      if (pattern === undefined && typeof s.pattern === "string") pattern = s.pattern;
      if (s["x-stream"] === "atomic") stream = "atomic";
      else if (s["x-stream"] === "progressive" && stream === undefined) stream = "progressive";
      if (discriminatorKey === undefined && typeof s.discriminator?.propertyName === "string") {
        discriminatorKey = s.discriminator.propertyName;
      }
      if (union === undefined && !sortedSkip.includes(locations[i])) {
        for (const keyword of ["anyOf", "oneOf"] as const) {
          const list = s[keyword];
          if (union === undefined && Array.isArray(list) && list.length > 0) {
            union = { location: locations[i], keyword, count: list.length };
          }
        }
      }
    });
    if (types !== undefined && (types as ReadonlySet<JsonSchemaTypeName>).size === 0) never = true;
    if (values !== undefined && (values as unknown[]).length === 0) never = true;

    const init: NodeInit = {
      id,
      refs: sortedRefs,
      schemas,
      locations,
      skip: sortedSkip,
      types,
      values,
      required: [...required],
      minItems,
      maxItems,
      format,
      pattern,
      stream,
      gate: [...gate],
      never,
    };
    const found = union;
    const makeMembers =
      found === undefined || never
        ? undefined
        : (): Node[] | undefined => {
            const members: Node[] = [];
            for (let i = 0; i < found.count; i++) {
              const member = this.conj(
                [...sortedRefs, `${found.location}/${found.keyword}/${i}`],
                [...sortedSkip, found.location],
              );
              if (member.never) continue;
              const nested = member.members;
              if (nested !== undefined) members.push(...(nested as Node[]));
              else members.push(member);
              if (members.length > MAX_MEMBERS) return undefined;
            }
            return dedupe(members);
          };
    return this.make(init, makeMembers, discriminatorKey);
  }

  /** The union of these nodes (for children of alternatives, or narrowed unions). */
  disj(candidates: readonly Node[]): Node {
    const flat: Node[] = [];
    for (const c of candidates) {
      if (c.never) continue;
      const nested = c.members;
      if (nested !== undefined && nested.length > 0) flat.push(...(nested as Node[]));
      else flat.push(c);
    }
    const members = dedupe(flat);
    if (members.length === 0) return this.never;
    if (members.length === 1) return members[0];
    if (members.some((m) => m === this.any)) return this.any;
    const id = `|${members.map((m) => m.id).join("\n|")}`;
    const cached = this.nodes.get(id);
    if (cached !== undefined) return cached;
    let types: Set<JsonSchemaTypeName> | undefined = new Set();
    let values: unknown[] | undefined = [];
    let required: string[] | undefined;
    let minItems = Number.POSITIVE_INFINITY;
    let maxItems = 0;
    for (const m of members) {
      if (types !== undefined) {
        if (m.types === undefined) types = undefined;
        else for (const t of m.types) types.add(t);
      }
      if (values !== undefined) {
        if (m.values === undefined) values = undefined;
        else values.push(...m.values);
      }
      required = required === undefined ? [...m.required] : required.filter((k) => m.required.includes(k));
      minItems = Math.min(minItems, m.minItems);
      maxItems = Math.max(maxItems, m.maxItems);
    }
    const init: NodeInit = {
      ...EMPTY_INIT,
      id,
      types,
      values,
      required: required ?? [],
      minItems,
      maxItems,
    };
    return this.make(init, () => members);
  }
}

const EMPTY_INIT: NodeInit = {
  id: "",
  refs: [],
  schemas: [],
  locations: [],
  skip: [],
  types: undefined,
  values: undefined,
  required: [],
  minItems: 0,
  maxItems: Number.POSITIVE_INFINITY,
  format: undefined,
  pattern: undefined,
  stream: undefined,
  gate: [],
  never: false,
};

function dedupe(nodes: Node[]): Node[] {
  const seen = new Set<string>();
  return nodes.filter((n) => {
    if (seen.has(n.id)) return false;
    seen.add(n.id);
    return true;
  });
}

function findDiscriminator(node: Node): Discriminator | undefined {
  const members = node.members;
  if (members === undefined) return undefined;
  const objects = members.filter((m) => acceptsKind(m, "object"));
  if (objects.length < 2) return undefined;
  const candidates = node.discriminatorKey !== undefined ? [node.discriminatorKey] : objects[0].required;
  let fallback: Discriminator | undefined;
  for (const key of candidates) {
    const cases = new Map<string, Node[]>();
    let valid = true;
    let disjoint = true;
    for (const member of objects) {
      const child = childSchema(member, key) as Node;
      if (!member.required.includes(key) || child.values === undefined) {
        valid = false;
        break;
      }
      for (const value of child.values) {
        const k = keyOf(value);
        const list = cases.get(k);
        if (list === undefined) cases.set(k, [member]);
        else if (!list.includes(member)) {
          list.push(member);
          disjoint = false;
        }
      }
    }
    if (!valid) continue;
    if (disjoint) return { key, cases };
    fallback ??= { key, cases };
  }
  return fallback;
}

/**
 * Builds the shape of a JSON Schema and returns its root node. Local `$ref`s (`#/$defs/x`,
 * `#/definitions/x`, `$id`s and `$anchor`s inside the document) are followed; `allOf` is merged;
 * `anyOf`/`oneOf` become `members`. Children are made on demand.
 *
 * @example
 * ```ts
 * const root = createSchemaNode({ type: "object", properties: { tags: { type: "array", items: { type: "string" } } } });
 * childSchema(childSchema(root, "tags"), 0).types; // Set { "string" }
 * ```
 */
export function createSchemaNode(jsonSchema: JsonSchemaObject): SchemaNode {
  return new SchemaTree(jsonSchema).conj([""]);
}

function treeOf(node: SchemaNode): SchemaTree {
  if (!(node instanceof Node)) throw new TypeError("Not a SchemaNode made by createSchemaNode().");
  return node.tree;
}

/**
 * The node for a member (string key) or an item (number index) of a value of this node. For a
 * union it is the union of the alternatives' children (narrow first with {@link narrowSchema} to
 * resolve a discriminated union); an unconstrained child is `any`, a forbidden one has `never`.
 *
 * @example
 * ```ts
 * const root = createSchemaNode({ type: "object", properties: { a: { type: "string" } }, additionalProperties: false });
 * childSchema(root, "a").types; // Set { "string" }
 * childSchema(root, "b").never; // true
 * ```
 */
export function childSchema(node: SchemaNode, key: PathSegment): SchemaNode {
  const n = node as Node;
  const tree = treeOf(node);
  if (typeof key === "number") {
    // Items past every tuple prefix share one node: one field, not a cache entry per index.
    if (n.restFrom < 0) n.restFrom = restIndex(n);
    if (key >= n.restFrom) return (n.restChild ??= cachedChild(n, tree, n.restFrom));
  }
  return cachedChild(n, tree, key);
}

function cachedChild(n: Node, tree: SchemaTree, key: PathSegment): Node {
  const cached = n.children.get(key);
  if (cached !== undefined) return cached;
  const child = makeChild(n, tree, key);
  n.children.set(key, child);
  return child;
}

// Apart from childSchema(), whose cache hit runs per parser event: a function that makes closures
// allocates their context on every call, even when it returns before making them.
function makeChild(n: Node, tree: SchemaTree, key: PathSegment): Node {
  let child: Node;
  if (n.never) child = tree.never;
  else if (n.members !== undefined && n.members.length > 0) {
    // Only alternatives that can have this child count (a `null` alternative has no members).
    const container: ValueKind = typeof key === "string" ? "object" : "array";
    child = tree.disj(
      n.members.filter((m) => acceptsKind(m, container)).map((m) => childSchema(m, key) as Node),
    );
  } else {
    const refs: string[] = [];
    let forbidden = false;
    n.schemas.forEach((s, i) => {
      const at = n.locations[i];
      if (typeof key === "string") {
        let matched = false;
        if (isObject(s.properties) && hasOwn(s.properties, key)) {
          refs.push(`${at}/properties/${escapeSegment(key)}`);
          matched = true;
        }
        if (isObject(s.patternProperties)) {
          for (const pattern of Object.keys(s.patternProperties)) {
            if (testPattern(pattern, key)) {
              refs.push(`${at}/patternProperties/${escapeSegment(pattern)}`);
              matched = true;
            }
          }
        }
        if (!matched) {
          if (s.additionalProperties === false) forbidden = true;
          else if (isObject(s.additionalProperties)) refs.push(`${at}/additionalProperties`);
        }
      } else if (Array.isArray(s.items)) {
        if (key < s.items.length) refs.push(`${at}/items/${key}`);
        else if (s.additionalItems === false) forbidden = true;
        else if (isObject(s.additionalItems)) refs.push(`${at}/additionalItems`);
      } else {
        if (Array.isArray(s.prefixItems) && key < s.prefixItems.length) refs.push(`${at}/prefixItems/${key}`);
        else if (s.items === false) forbidden = true;
        else if (isObject(s.items)) refs.push(`${at}/items`);
      }
    });
    child = forbidden ? tree.never : tree.conj(refs);
  }
  return child;
}

/** The first index from which every item of a value of this node has the same schema. */
function restIndex(node: Node): number {
  let from = 0;
  const members = node.members;
  if (members !== undefined) {
    for (const m of members as Node[]) from = Math.max(from, restIndex(m));
    return from;
  }
  for (const s of node.schemas) {
    if (Array.isArray(s.items)) from = Math.max(from, s.items.length);
    if (Array.isArray(s.prefixItems)) from = Math.max(from, s.prefixItems.length);
  }
  return from;
}

const patterns = new Map<string, RegExp | null>();
function testPattern(pattern: string, key: string): boolean {
  let re = patterns.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(pattern, "u");
    } catch {
      try {
        re = new RegExp(pattern);
      } catch {
        re = null;
      }
    }
    patterns.set(pattern, re);
  }
  return re?.test(key) ?? false;
}

/**
 * Narrows a union to the alternatives a value (complete or partial) can still be: by its JSON
 * type, then, for an object whose discriminator member is known, by that member's value. Returns
 * the node itself when nothing narrows it, and never an empty union (validation then reports the
 * mismatch against the whole union).
 *
 * @example
 * ```ts
 * const shape = childSchema(root, "shape"); // oneOf circle | rect, discriminated by "type"
 * narrowSchema(shape, { type: "rect" }).required; // ["type", "w", "h"]
 * ```
 */
export function narrowSchema(node: SchemaNode, value: unknown): SchemaNode {
  const members = node.members;
  if (members === undefined || members.length === 0) return node;
  const type = typesOfValue(value);
  const kind: ValueKind = type === "integer" ? "number" : (type as ValueKind);
  const discriminator = kind === "object" ? node.discriminator : undefined;
  if (discriminator !== undefined && isObject(value) && hasOwn(value, discriminator.key)) {
    return narrowByTag(node, value[discriminator.key]);
  }
  return narrowByKind(node, kind);
}

/**
 * {@link narrowSchema} for an object of a discriminated union whose discriminator member has the
 * value `tag`, without the object (the tracker narrows as the member completes).
 *
 * @example
 * ```ts
 * narrowByTag(shape, "rect").required; // ["type", "w", "h"]
 * ```
 */
export function narrowByTag(node: SchemaNode, tag: unknown): SchemaNode {
  const n = node as Node;
  const discriminator = n.discriminator;
  const members = n.members;
  if (discriminator === undefined || members === undefined || members.length === 0) {
    return narrowByKind(n, "object");
  }
  // String tags (the usual case) are cached as they are, others by their JSON text.
  const cache = typeof tag === "string" ? n.byStringTag : n.byTag;
  const cacheKey = typeof tag === "string" ? tag : keyOf(tag);
  let narrowed = cache.get(cacheKey);
  if (narrowed === undefined) {
    narrowed = narrowCases(n, members as readonly Node[], discriminator.cases.get(keyOf(tag)));
    cache.set(cacheKey, narrowed);
  }
  return narrowed;
}

function narrowCases(n: Node, members: readonly Node[], cases: readonly SchemaNode[] | undefined): Node {
  const candidates = cases === undefined ? [] : members.filter((m) => cases.includes(m));
  return candidates.length === 0 || candidates.length === members.length
    ? (narrowByKind(n, "object") as Node)
    : treeOf(n).disj(candidates);
}

/**
 * Narrows a union to the alternatives that accept a value of this JSON kind, as it starts.
 *
 * @example
 * ```ts
 * const maybe = createSchemaNode({ anyOf: [{ type: "string", format: "email" }, { type: "null" }] });
 * narrowByKind(maybe, "string").format; // "email"
 * ```
 */
export function narrowByKind(node: SchemaNode, kind: ValueKind): SchemaNode {
  const members = node.members;
  if (members === undefined || members.length === 0) return node;
  const n = node as Node;
  let narrowed = n.byKind.get(kind);
  if (narrowed === undefined) {
    narrowed = narrowMembers(n, members as readonly Node[], kind);
    n.byKind.set(kind, narrowed);
  }
  return narrowed;
}

/** The alternatives of a union that accept a kind (see narrowByKind: no closure in the hot path). */
function narrowMembers(n: Node, members: readonly Node[], kind: ValueKind): Node {
  const candidates = members.filter((m) => acceptsKind(m, kind));
  return candidates.length === 0 || candidates.length === members.length ? n : treeOf(n).disj(candidates);
}

/**
 * The node at a path from this node, narrowing unions by the values met on the way when a
 * `value` (the one at `node`) is given.
 *
 * @example
 * ```ts
 * nodeAt(root, ["items", 0, "id"]).format; // "uuid"
 * ```
 */
export function nodeAt(node: SchemaNode, path: readonly PathSegment[], value?: unknown): SchemaNode {
  let current = node;
  let at = value;
  for (const segment of path) {
    if (at !== undefined) current = narrowSchema(current, at);
    current = childSchema(current, segment);
    at = at !== null && typeof at === "object" ? (at as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return at !== undefined ? narrowSchema(current, at) : current;
}

/**
 * What a validator must check for a node: the conjunction of `refs` (the common case), or, for an
 * alternative of a union, each merged subschema on its own with the distributed union left out
 * (`skipUnion`), so the alternative is validated alone and its issues are precise.
 */
export function validationPlan(node: SchemaNode): {
  refs: readonly string[];
  facets: readonly Facet[] | undefined;
} {
  const n = node as Node;
  if (n.skip === undefined || n.skip.length === 0) return { refs: n.refs, facets: undefined };
  return {
    refs: n.refs,
    facets: n.schemas.map((schema, i) => ({
      location: n.locations[i],
      schema,
      skipUnion: n.skip.includes(n.locations[i]),
    })),
  };
}

/** One merged subschema of a node: where it is, what it says, and whether its union was distributed. */
export interface Facet {
  readonly location: string;
  readonly schema: JsonSchemaObject;
  /** This subschema's union (see {@link unionKeyword}) is distributed into the node: leave it out. */
  readonly skipUnion: boolean;
}

/** Keywords whose meaning depends on more than the value's own level and its children's nodes. */
const NOT_SHALLOW = ["$dynamicRef", "$recursiveRef", "unevaluatedProperties", "unevaluatedItems"];

/**
 * What a shallow check of a complete object or array must validate, when a shallow check is
 * exact: each merged subschema (every `$ref` target and `allOf` member is one), with its own
 * keywords only, the member and item schemas standing for values already validated against
 * their child nodes ({@link childSchema}). `undefined` when a shallow check could pass a value the
 * whole check fails, so the value must be validated whole:
 * - a union (`anyOf`/`oneOf` not distributed into this node): the tracker validates its members
 *   against the union of the alternatives' children, which is looser than any one alternative;
 * - `unevaluatedProperties`/`unevaluatedItems`: they depend on what sibling subschemas evaluated;
 * - `$dynamicRef`/`$recursiveRef`, a `$ref` this model cannot resolve, or any `$ref` when a
 *   subschema below the root has its own `$id` (ajv may resolve it against that `$id`);
 * - `any` and `never` nodes (nothing to gain).
 * Cached on the node.
 */
export function shallowPlan(node: SchemaNode): readonly Facet[] | undefined {
  const n = node as Node;
  if (n.shallow === null) n.shallow = computeShallowPlan(n);
  return n.shallow;
}

function computeShallowPlan(n: Node): readonly Facet[] | undefined {
  if (n.never || n.refs.length === 0 || n.members !== undefined) return undefined;
  const facets: Facet[] = [];
  for (let i = 0; i < n.schemas.length; i++) {
    const schema = n.schemas[i];
    const location = n.locations[i];
    const skipUnion = n.skip.includes(location);
    for (const keyword of NOT_SHALLOW) if (hasOwn(schema, keyword)) return undefined;
    if (
      typeof schema.$ref === "string" &&
      (n.tree.nestedIds || n.tree.resolveRef(schema.$ref) === undefined)
    ) {
      return undefined;
    }
    // A union this node did not distribute (past MAX_MEMBERS, or a second keyword beside the
    // distributed one) is not reflected in the children's nodes.
    const distributed = skipUnion ? unionKeyword(schema) : undefined;
    for (const keyword of ["anyOf", "oneOf"] as const) {
      const list = schema[keyword];
      if (keyword !== distributed && Array.isArray(list) && list.length > 0) return undefined;
    }
    facets.push({ location, schema, skipUnion });
  }
  return facets;
}

/** The union keyword a schema's alternatives come from (the first non-empty of `anyOf`, `oneOf`). */
export function unionKeyword(schema: JsonSchemaObject): "anyOf" | "oneOf" | undefined {
  if (Array.isArray(schema.anyOf) && schema.anyOf.length > 0) return "anyOf";
  if (Array.isArray(schema.oneOf) && schema.oneOf.length > 0) return "oneOf";
  return undefined;
}

/** A small index for a kind, for per-kind caches (a switch: cheaper than a keyed lookup). */
export function kindIndex(kind: ValueKind): number {
  switch (kind) {
    case "object":
      return 0;
    case "array":
      return 1;
    case "string":
      return 2;
    case "number":
      return 3;
    case "boolean":
      return 4;
    default:
      return 5;
  }
}

/**
 * Per-kind values cached on a node for other modules of this folder (the tracker's start plans):
 * a field read instead of a map lookup per parser event.
 */
export function kindCache(node: SchemaNode): unknown[] {
  return (node as Node).plans;
}

/** True for a node that only allows objects (and is not a union): its required keys are certain. */
export function isObjectNode(node: SchemaNode): boolean {
  return !node.never && node.members === undefined && node.types?.size === 1 && node.types.has("object");
}

/** True for a node that only allows arrays (and is not a union). */
export function isArrayNode(node: SchemaNode): boolean {
  return !node.never && node.members === undefined && node.types?.size === 1 && node.types.has("array");
}
