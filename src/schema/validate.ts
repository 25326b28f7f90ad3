import type { StandardSchemaV1 } from "@standard-schema/spec";
import { Ajv, type Options as AjvOptions, type ErrorObject, type ValidateFunction } from "ajv";
import { Ajv2019 } from "ajv/dist/2019.js";
import { Ajv2020 } from "ajv/dist/2020.js";
import formatsModule from "ajv-formats";
import { StructreamError } from "../errors/index.ts";
import { fromPointer, type PathSegment, toPointer, type ValueKind, valueAt } from "../json/index.ts";
import type { CompiledSchema } from "./compile.ts";
import type { JsonSchemaObject, JsonSchemaTarget } from "./json-schema.ts";
import {
  type Facet,
  kindIndex,
  nodeAt,
  type SchemaNode,
  shallowPlan,
  unionKeyword,
  validationPlan,
} from "./shape.ts";
import type { FinalResult, SchemaIssue } from "./types.ts";

const addFormats = (formatsModule as unknown as { default: typeof formatsModule.default }).default;

/** Validates values against nodes of one JSON Schema with ajv; one instance per compiled schema. */
export interface AjvEngine {
  /** Every issue of `value` (the value at `path`) against `node`; `[]` when it conforms. */
  issuesFor(node: SchemaNode, value: unknown, path?: readonly PathSegment[]): SchemaIssue[];
  /** True when `value` conforms to `node` (nothing is allocated when it does). */
  check(node: SchemaNode, value: unknown): boolean;
  /**
   * {@link AjvEngine.check} for a value the tracker followed with early validation: it started as
   * a `kind` that `node` accepts, every key or item in it was allowed as it started, and (an object
   * or array) every member or item conforms to its child node of `node` ({@link childSchema}).
   * Checks only what is left: nothing, `required` or `minItems`/`maxItems` inline, or `node`'s own
   * keywords with ajv (see {@link shallowPlan}); the whole value when a partial check would not
   * be exact. `true`: nothing is left; a check's `false` may be pessimistic: settle it with
   * {@link AjvEngine.issuesFor}. Made once per node and kind.
   */
  startedCheck(node: SchemaNode, kind: ValueKind): StartedCheck;
}

/** See {@link AjvEngine.startedCheck}. */
export type StartedCheck = true | ((value: unknown) => boolean);

const ROOT_KEY = "structream:schema";
/** Deepest nesting of unions re-validated against a single alternative for precise issues. */
const MAX_UNION_DEPTH = 32;

function makeAjv(
  draft: JsonSchemaTarget | "draft-2019-09",
  unicodeRegExp: boolean,
  validateSchema: boolean,
): Ajv {
  // strict: false because model-facing schemas carry annotations (x-stream, description, ...)
  // that ajv's strict mode would reject; allErrors so an error lists every issue at once.
  const options: AjvOptions = {
    strict: false,
    allErrors: true,
    logger: false,
    unicodeRegExp,
    validateSchema,
  };
  const ajv =
    draft === "draft-2020-12"
      ? new Ajv2020(options)
      : draft === "draft-2019-09"
        ? new Ajv2019(options)
        : new Ajv(options);
  addFormats(ajv);
  return ajv;
}

/** Fragment of a URI for a JSON Pointer location (RFC 6901 §6). */
function fragmentOf(location: string): string {
  return location
    .split("/")
    .map((s) => encodeURIComponent(s))
    .join("/");
}

/**
 * Makes the ajv engine for a JSON Schema: the root schema is compiled at once (so a broken schema
 * fails here, not mid-stream), every node's validator on first use and then cached.
 *
 * @throws StructreamError `invalid_schema` when ajv cannot compile the schema.
 */
export function createAjvEngine(
  jsonSchema: JsonSchemaObject,
  draft: JsonSchemaTarget | "draft-2019-09",
): AjvEngine {
  const base = typeof jsonSchema.$id === "string" ? jsonSchema.$id.replace(/#$/, "") : ROOT_KEY;
  // Older drafts (04, 06) are validated as draft-07 without checking them against a meta-schema
  // ajv does not ship.
  const declared = typeof jsonSchema.$schema === "string" ? jsonSchema.$schema : "";
  const checkSchema = !/draft-0[46]/.test(declared);
  const setUp = (unicode: boolean): Ajv => {
    const ajv = makeAjv(draft, unicode, checkSchema);
    ajv.addSchema(jsonSchema, ROOT_KEY);
    ajv.compile({ $ref: `${base}#` });
    return ajv;
  };
  let ajv: Ajv;
  let unicode = true;
  try {
    ajv = setUp(true);
  } catch (first) {
    try {
      // Patterns written for JavaScript (zod's regexes) may not be valid with the `u` flag.
      ajv = setUp(false);
      unicode = false;
    } catch {
      throw new StructreamError(
        "invalid_schema",
        `The JSON Schema cannot be compiled: ${(first as Error)?.message ?? String(first)}`,
        { cause: first },
      );
    }
  }

  // ajv's functions for 2019-09 and 2020-12 default their context argument to a new object (and a
  // new `dynamicAnchors` object) on every call; one shared context avoids that, unless the schema
  // uses `$dynamicAnchor` (ajv records anchors in it).
  const context = JSON.stringify(jsonSchema).includes('"$dynamicAnchor"')
    ? undefined
    : ({ instancePath: "", dynamicAnchors: {} } as unknown as Parameters<ValidateFunction>[1]);
  // By node rather than by id (one node per id in a tree): an identity lookup is cheaper than
  // hashing a long location string, and it runs per value.
  const validators = new WeakMap<SchemaNode, ValidateFunction>();
  const ref = (location: string) => ({ $ref: `${base}#${fragmentOf(location)}` });
  const wrapper = (node: SchemaNode): unknown => {
    if (node.never) return false;
    if (node.refs.length === 0)
      return node.members !== undefined ? { anyOf: node.members.map(wrapper) } : true;
    const plan = validationPlan(node);
    const parts =
      plan.facets === undefined
        ? plan.refs.map(ref)
        : plan.facets.map((f) =>
            f.skipUnion || f.schema.$ref !== undefined || f.schema.allOf !== undefined
              ? inlineFacet(f.schema, f.location, f.skipUnion, ref)
              : ref(f.location),
          );
    return parts.length === 1 ? parts[0] : { allOf: parts };
  };
  const validatorFor = (node: SchemaNode): ValidateFunction => {
    let validate = validators.get(node);
    if (validate === undefined) {
      validate = ajv.compile(wrapper(node) as object);
      validators.set(node, validate);
    }
    return validate;
  };

  // `null`: no exact shallow check, validate whole.
  const shallowValidators = new WeakMap<SchemaNode, ValidateFunction | null>();
  const shallowFor = (node: SchemaNode): ValidateFunction | null => {
    let validate = shallowValidators.get(node);
    if (validate === undefined) {
      const facets = shallowPlan(node);
      // Without the `u` flag ajv and childSchema() may read a key pattern differently.
      const exact =
        facets !== undefined && (unicode || facets.every((f) => f.schema.patternProperties === undefined));
      if (exact) {
        const parts = facets.map((f) => inlineFacet(f.schema, f.location, f.skipUnion, ref, true));
        validate = ajv.compile((parts.length === 1 ? parts[0] : { allOf: parts }) as object);
      } else validate = null;
      shallowValidators.set(node, validate);
    }
    return validate;
  };

  const issuesFor = (
    node: SchemaNode,
    value: unknown,
    path: readonly PathSegment[] = [],
    depth = 0,
  ): SchemaIssue[] => {
    const validate = validatorFor(node);
    if (validate(value, context)) return [];
    const errors = validate.errors ?? [];
    const unions = outermost(
      errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.instancePath),
    );
    const inUnion = (p: string) => unions.some((u) => p === u || p.startsWith(`${u}/`));
    const issues: SchemaIssue[] = [];
    for (const error of errors) {
      if (inUnion(error.instancePath) || error.keyword === "if") continue;
      issues.push(fromAjvError(error, value, path));
    }
    for (const union of unions) {
      const at = segmentsIn(value, union);
      const sub = valueAt(value, at);
      const where = [...path, ...at];
      const unionNode = nodeAt(node, at);
      const narrowed = nodeAt(node, at, value === undefined ? undefined : value);
      if (depth < MAX_UNION_DEPTH && narrowed.members === undefined && narrowed !== unionNode) {
        const precise = issuesFor(narrowed, sub, where, depth + 1);
        if (precise.length > 0) {
          issues.push(...precise);
          continue;
        }
      }
      issues.push(unionIssue(unionNode, sub, where, errors, union));
    }
    return dedupeIssues(issues);
  };
  const startedChecks = new WeakMap<SchemaNode, (StartedCheck | undefined)[]>();
  const makeStartedCheck = (node: SchemaNode, kind: ValueKind): StartedCheck => {
    const whole = (value: unknown) => validatorFor(node)(value, context);
    const facets = shallowPlan(node);
    // Without the `u` flag ajv and childSchema() may read a key pattern differently.
    if (facets === undefined || (!unicode && facets.some((f) => f.schema.patternProperties !== undefined))) {
      return whole;
    }
    const left = keywordsLeft(facets, kind);
    if (left.size === 0) return true;
    const inline = inlineCheck(facets, kind, left);
    if (inline !== undefined) return inline;
    const shallow = kind === "object" || kind === "array" ? shallowFor(node) : null;
    return shallow === null ? whole : (value) => shallow(value, context);
  };

  return {
    issuesFor: (node, value, path = []) => issuesFor(node, value, path),
    check: (node, value) => validatorFor(node)(value, context),
    startedCheck(node, kind) {
      let byKind = startedChecks.get(node);
      if (byKind === undefined) startedChecks.set(node, (byKind = []));
      const index = kindIndex(kind);
      let check = byKind[index];
      if (check === undefined) byKind[index] = check = makeStartedCheck(node, kind);
      return check;
    },
  };
}

/** Keywords that constrain nothing (annotations), or are merged into a node as facets of their own. */
const NOTHING_TO_CHECK = new Set([
  "$schema",
  "$id",
  "$anchor",
  "$dynamicAnchor",
  "$comment",
  "$defs",
  "definitions",
  "$ref",
  "allOf",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  // OpenAPI's; ajv checks it only with its `discriminator` option, which is off.
  "discriminator",
]);

/** Keywords that constrain values of one JSON type only (JSON Schema ignores them for the others). */
const APPLIES_TO = new Map<string, ValueKind>([
  ["minLength", "string"],
  ["maxLength", "string"],
  ["pattern", "string"],
  ["minimum", "number"],
  ["maximum", "number"],
  ["exclusiveMinimum", "number"],
  ["exclusiveMaximum", "number"],
  ["multipleOf", "number"],
  ["properties", "object"],
  ["patternProperties", "object"],
  ["additionalProperties", "object"],
  ["propertyNames", "object"],
  ["required", "object"],
  ["minProperties", "object"],
  ["maxProperties", "object"],
  ["dependentRequired", "object"],
  ["dependencies", "object"],
  ["dependentSchemas", "object"],
  ["items", "array"],
  ["prefixItems", "array"],
  ["additionalItems", "array"],
  ["minItems", "array"],
  ["maxItems", "array"],
  ["uniqueItems", "array"],
  ["contains", "array"],
  ["minContains", "array"],
  ["maxContains", "array"],
]);

/**
 * What the tracker checked before a value's end: keys and items the schema forbids fail as they
 * start, and every member and item is validated against its child node as it completes.
 */
const CHECKED_BEFORE = new Set([
  "properties",
  "patternProperties",
  "additionalProperties",
  "items",
  "prefixItems",
  "additionalItems",
]);

function typeAccepts(type: unknown, kind: ValueKind): boolean {
  const list = typeof type === "string" ? [type] : Array.isArray(type) ? type : undefined;
  if (list === undefined) return false;
  // `integer` alone is not settled by the kind: 1.5 started as a number too.
  return list.includes(kind);
}

/** The keywords a value of `kind` that started and grew as the tracker checked must still meet. */
function keywordsLeft(facets: readonly Facet[], kind: ValueKind): Set<string> {
  const left = new Set<string>();
  for (const { schema, skipUnion } of facets) {
    const distributed = skipUnion ? unionKeyword(schema) : undefined;
    for (const keyword of Object.keys(schema)) {
      if (keyword === distributed || NOTHING_TO_CHECK.has(keyword) || keyword.startsWith("x-")) continue;
      if (keyword === "type" && typeAccepts(schema.type, kind)) continue;
      const applies = APPLIES_TO.get(keyword);
      if (applies !== undefined && (applies !== kind || CHECKED_BEFORE.has(keyword))) continue;
      left.add(keyword);
    }
  }
  return left;
}

/** An exact check of `required` (objects) or `minItems`/`maxItems` (arrays) when nothing else is left. */
function inlineCheck(
  facets: readonly Facet[],
  kind: ValueKind,
  left: ReadonlySet<string>,
): ((value: unknown) => boolean) | undefined {
  if (kind === "object" && left.size === 1 && left.has("required")) {
    const keys = new Set<string>();
    for (const { schema } of facets) {
      if (schema.required === undefined) continue;
      if (!Array.isArray(schema.required)) return undefined;
      for (const key of schema.required) keys.add(String(key));
    }
    const required = [...keys];
    return (value) => {
      for (const key of required) if (!Object.hasOwn(value as object, key)) return false;
      return true;
    };
  }
  if (kind === "array" && [...left].every((k) => k === "minItems" || k === "maxItems")) {
    let min = 0;
    let max = Number.POSITIVE_INFINITY;
    for (const { schema } of facets) {
      if (schema.minItems !== undefined) {
        if (typeof schema.minItems !== "number") return undefined;
        min = Math.max(min, schema.minItems);
      }
      if (schema.maxItems !== undefined) {
        if (typeof schema.maxItems !== "number") return undefined;
        max = Math.min(max, schema.maxItems);
      }
    }
    return (value) => (value as unknown[]).length >= min && (value as unknown[]).length <= max;
  }
  return undefined;
}

const SCHEMA_KEYWORDS = new Set([
  "additionalProperties",
  "additionalItems",
  "items",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
]);
const SCHEMA_MAP_KEYWORDS = new Set(["properties", "patternProperties", "dependentSchemas"]);
const SCHEMA_LIST_KEYWORDS = new Set(["prefixItems", "items", "anyOf", "oneOf"]);
// `$ref` and `allOf` targets are merged as facets of their own; `unevaluated*` cannot be judged
// once a schema is split into parts (it would not see its siblings' annotations).
const DROPPED_KEYWORDS = new Set([
  "$id",
  "$schema",
  "$defs",
  "definitions",
  "$anchor",
  "$dynamicAnchor",
  "$comment",
  "$ref",
  "allOf",
  "unevaluatedProperties",
  "unevaluatedItems",
]);

/** Keywords whose subschemas apply to members or items, each already validated in a shallow check. */
const CHILD_KEYWORDS = new Set([
  "properties",
  "patternProperties",
  "additionalProperties",
  "items",
  "prefixItems",
  "additionalItems",
]);

/** A member or item schema in a shallow check: `false` still forbids; anything else was checked. */
const checked = (schema: unknown): boolean => schema !== false;

/**
 * One merged subschema as a standalone schema: its own keywords, every subschema in it replaced by
 * a `$ref` to its location (so `$ref`s inside resolve against the document), without `$ref`,
 * `allOf` (validated as facets of their own) and, for an alternative, the distributed union.
 * `shallow`: member and item schemas become `true` (keys of `properties` and `patternProperties`
 * stay, so `additionalProperties` means the same); `contains`, `propertyNames`, `not`,
 * `if`/`then`/`else` and dependent schemas keep their whole subschema.
 */
function inlineFacet(
  schema: JsonSchemaObject,
  location: string,
  skipUnion: boolean,
  ref: (location: string) => { $ref: string },
  shallow = false,
): Record<string, unknown> {
  const dropped = skipUnion ? unionKeyword(schema) : undefined;
  const out: Record<string, unknown> = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (DROPPED_KEYWORDS.has(keyword) || keyword === dropped) continue;
    if (shallow && CHILD_KEYWORDS.has(keyword)) {
      if (Array.isArray(value)) out[keyword] = value.map(checked);
      else if ((keyword === "properties" || keyword === "patternProperties") && isPlainObject(value)) {
        out[keyword] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, checked(v)]));
      } else out[keyword] = checked(value);
      continue;
    }
    const at = `${location}/${keyword.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    if (SCHEMA_LIST_KEYWORDS.has(keyword) && Array.isArray(value)) {
      out[keyword] = value.map((_, i) => ref(`${at}/${i}`));
    } else if (SCHEMA_MAP_KEYWORDS.has(keyword) && typeof value === "object" && value !== null) {
      out[keyword] = Object.fromEntries(
        Object.keys(value).map((k) => [k, ref(`${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`)]),
      );
    } else if (SCHEMA_KEYWORDS.has(keyword) && typeof value === "object" && value !== null) {
      out[keyword] = ref(at);
    } else if (keyword === "dependencies" && typeof value === "object" && value !== null) {
      out[keyword] = Object.fromEntries(
        Object.entries(value).map(([k, v]) => [
          k,
          Array.isArray(v) ? v : ref(`${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`),
        ]),
      );
    } else out[keyword] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Keeps the paths that no other path in the list contains. */
function outermost(paths: string[]): string[] {
  const unique = [...new Set(paths)];
  return unique.filter((p) => !unique.some((k) => k !== p && p.startsWith(`${k}/`)));
}

function dedupeIssues(issues: SchemaIssue[]): SchemaIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.pointer}\n${i.code}\n${i.expected ?? ""}\n${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The path segments of a pointer into `value`, with array indexes as numbers. */
function segmentsIn(value: unknown, pointer: string): PathSegment[] {
  const out: PathSegment[] = [];
  let at = value;
  for (const raw of fromPointer(pointer)) {
    const segment: PathSegment = Array.isArray(at) && /^(0|[1-9]\d*)$/.test(raw) ? Number(raw) : raw;
    out.push(segment);
    at = at !== null && typeof at === "object" ? (at as Record<PathSegment, unknown>)[segment] : undefined;
  }
  return out;
}

/** The JSON type of a value, as schemas name it. */
export function jsonTypeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

/** A short JSON rendering of a value for messages. */
export function renderValue(value: unknown): string {
  const text = value === undefined ? "undefined" : (JSON.stringify(value) ?? String(value));
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function issue(
  path: PathSegment[],
  code: string,
  message: string,
  expected?: string,
  received?: string,
): SchemaIssue {
  const out: SchemaIssue = { path, pointer: toPointer(path), code, message };
  if (expected !== undefined) out.expected = expected;
  if (received !== undefined) out.received = received;
  return out;
}

const SMALL: Record<string, string> = {
  minimum: ">=",
  exclusiveMinimum: ">",
  minLength: "at least",
  minItems: "at least",
  minProperties: "at least",
  minContains: "at least",
};
const BIG: Record<string, string> = {
  maximum: "<=",
  exclusiveMaximum: "<",
  maxLength: "at most",
  maxItems: "at most",
  maxProperties: "at most",
  maxContains: "at most",
};
const UNITS: Record<string, string> = {
  minLength: "characters",
  maxLength: "characters",
  minItems: "items",
  maxItems: "items",
  minProperties: "properties",
  maxProperties: "properties",
  minContains: "matching items",
  maxContains: "matching items",
};

function sizeOf(value: unknown, keyword: string): string {
  if (keyword.endsWith("Length") && typeof value === "string") return `${[...value].length} characters`;
  if (keyword.endsWith("Items") && Array.isArray(value)) return `${value.length} items`;
  if (keyword.endsWith("Properties") && value !== null && typeof value === "object") {
    return `${Object.keys(value).length} properties`;
  }
  return renderValue(value);
}

/** Turns one ajv error into an issue at `base` + its instance path. */
function fromAjvError(error: ErrorObject, root: unknown, base: readonly PathSegment[]): SchemaIssue {
  const at = segmentsIn(root, error.instancePath);
  const path = [...base, ...at];
  const value = valueAt(root, at);
  const params = error.params as Record<string, unknown>;
  const keyword = error.keyword;
  switch (keyword) {
    case "type": {
      const expected = String(params.type).split(",").join(" | ");
      const received = jsonTypeOf(value);
      return issue(path, "invalid_type", `Expected ${expected}, received ${received}`, expected, received);
    }
    case "enum":
    case "const": {
      const allowed = keyword === "enum" ? (params.allowedValues as unknown[]) : [params.allowedValue];
      const expected = allowed.map(renderValue).join(" | ");
      const received = renderValue(value);
      return issue(path, "invalid_enum", `Expected ${expected}, received ${received}`, expected, received);
    }
    case "required":
    case "dependentRequired":
    case "dependencies": {
      const key = String(params.missingProperty);
      return issue([...path, key], "missing_property", `Missing required property "${key}"`, "a value");
    }
    case "additionalProperties":
    case "unevaluatedProperties": {
      const key = String(params.additionalProperty ?? params.unevaluatedProperty);
      return issue([...path, key], "unknown_property", `Unknown property "${key}"`, "no such property", key);
    }
    case "propertyNames": {
      const key = String(params.propertyName);
      return issue([...path, key], "invalid_key", `Property name "${key}" is not allowed`, undefined, key);
    }
    case "items":
    case "additionalItems":
    case "unevaluatedItems": {
      const expected = `at most ${String(params.limit)} items`;
      const received = Array.isArray(value) ? `${value.length} items` : undefined;
      return issue(
        path,
        "too_big",
        `Expected ${expected}${received ? `, received ${received}` : ""}`,
        expected,
        received,
      );
    }
    case "format": {
      const expected = String(params.format);
      const received = renderValue(value);
      return issue(
        path,
        "invalid_format",
        `Expected a ${expected} string, received ${received}`,
        expected,
        received,
      );
    }
    case "pattern": {
      const expected = `/${String(params.pattern)}/`;
      const received = renderValue(value);
      return issue(
        path,
        "pattern_mismatch",
        `Expected a string matching ${expected}, received ${received}`,
        expected,
        received,
      );
    }
    case "multipleOf": {
      const expected = `a multiple of ${String(params.multipleOf)}`;
      return issue(
        path,
        "not_multiple_of",
        `Expected ${expected}, received ${renderValue(value)}`,
        expected,
        renderValue(value),
      );
    }
    case "uniqueItems":
      return issue(
        path,
        "not_unique",
        `Items ${String(params.j)} and ${String(params.i)} are equal`,
        "unique items",
        renderValue(value),
      );
  }
  if (keyword in SMALL || keyword in BIG) {
    const small = keyword in SMALL;
    const unit = UNITS[keyword];
    const expected = `${small ? SMALL[keyword] : BIG[keyword]} ${String(params.limit ?? params.comparison)}${unit ? ` ${unit}` : ""}`;
    const received = sizeOf(value, keyword);
    return issue(
      path,
      small ? "too_small" : "too_big",
      `Expected ${expected}, received ${received}`,
      expected,
      received,
    );
  }
  const message = error.message ?? `fails "${keyword}"`;
  return issue(
    path,
    "invalid_value",
    `${message.charAt(0).toUpperCase()}${message.slice(1)}`,
    undefined,
    renderValue(value),
  );
}

/** The one issue for a value that matches no alternative of a union (or more than one of a oneOf). */
function unionIssue(
  node: SchemaNode,
  value: unknown,
  path: PathSegment[],
  errors: ErrorObject[],
  pointer: string,
): SchemaIssue {
  const discriminator = node.discriminator;
  if (discriminator !== undefined && value !== null && typeof value === "object" && !Array.isArray(value)) {
    const allowed = [...discriminator.cases.keys()].join(" | ");
    const key = discriminator.key;
    if (!Object.hasOwn(value, key)) {
      return issue([...path, key], "missing_property", `Missing required property "${key}"`, allowed);
    }
    const tag = (value as Record<string, unknown>)[key];
    if (!discriminator.cases.has(JSON.stringify(tag))) {
      const received = renderValue(tag);
      return issue(
        [...path, key],
        "invalid_enum",
        `Expected ${allowed}, received ${received}`,
        allowed,
        received,
      );
    }
  }
  const members = node.members ?? [];
  if (members.length > 0 && members.every((m) => m.values !== undefined)) {
    const expected = members.map(describeNode).join(" | ");
    const received = renderValue(value);
    return issue(path, "invalid_enum", `Expected ${expected}, received ${received}`, expected, received);
  }
  const expected = members.length > 0 ? members.map(describeNode).join(" | ") : undefined;
  const many = errors.find(
    (e) => e.instancePath === pointer && e.keyword === "oneOf" && Array.isArray(e.params.passingSchemas),
  );
  const message = many
    ? "Matches more than one alternative of the union"
    : `Matches none of the ${members.length > 0 ? `${members.length} ` : ""}alternatives of the union`;
  return issue(path, "invalid_union", message, expected, jsonTypeOf(value));
}

/** A few words for what a node allows, for `expected`. */
export function describeNode(node: SchemaNode): string {
  if (node.never) return "nothing";
  if (node.values !== undefined) return node.values.map(renderValue).join(" | ");
  if (node.members !== undefined) return node.members.map(describeNode).join(" | ");
  if (node.types === undefined) return "any value";
  return [...node.types].join(" | ");
}

// ---- Standard Schema ------------------------------------------------------------------------

function snakeCase(code: string): string {
  return code
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[\s-]+/g, "_")
    .toLowerCase();
}

function pathOf(issue: StandardSchemaV1.Issue): PathSegment[] {
  return (issue.path ?? []).map((segment) => {
    const key = typeof segment === "object" && segment !== null ? segment.key : segment;
    return typeof key === "number" ? key : typeof key === "symbol" ? String(key) : String(key);
  });
}

/** valibot schema types that restrict values rather than types. */
const VALIBOT_VALUE_TYPES = new Set(["picklist", "enum", "literal", "variant"]);

const VALIBOT_CODES: Record<string, string> = {
  min_length: "too_small",
  min_value: "too_small",
  min_size: "too_small",
  min_entries: "too_small",
  max_length: "too_big",
  max_value: "too_big",
  max_size: "too_big",
  max_entries: "too_big",
  regex: "pattern_mismatch",
  email: "invalid_format",
  url: "invalid_format",
  uuid: "invalid_format",
  iso_date: "invalid_format",
  iso_date_time: "invalid_format",
  iso_timestamp: "invalid_format",
  iso_time: "invalid_format",
  integer: "invalid_type",
};

/**
 * Maps a Standard Schema validator's issues to structream's: a `path` of keys and indexes, a
 * JSON Pointer, and a snake_case `code` (zod's codes map onto the ones early validation uses:
 * `invalid_value` → `invalid_enum`, `unrecognized_keys` → one `unknown_property` per key, an
 * `invalid_type` where nothing was given → `missing_property`, a regex `invalid_format` →
 * `pattern_mismatch`; valibot's and arktype's are mapped likewise, others are snake-cased).
 *
 * @example
 * ```ts
 * const result = await Person["~standard"].validate({ age: "x" });
 * standardIssues(result.issues ?? [], { age: "x" });
 * // [{ path: ["name"], pointer: "/name", code: "missing_property", ... }, { path: ["age"], code: "invalid_type", ... }]
 * ```
 */
export function standardIssues(issues: readonly StandardSchemaV1.Issue[], input: unknown): SchemaIssue[] {
  const out: SchemaIssue[] = [];
  for (const raw of issues) {
    const extra = raw as StandardSchemaV1.Issue & Record<string, unknown>;
    const path = pathOf(raw);
    const value = valueAt(input, path);
    const parentIsObject = (() => {
      const parent = valueAt(input, path.slice(0, -1));
      return parent !== null && typeof parent === "object" && !Array.isArray(parent);
    })();
    const missing = path.length > 0 && parentIsObject && value === undefined;
    let code: string;
    let expected: string | undefined;
    let received: string | undefined = value === undefined ? undefined : renderValue(value);
    const vendorCode = typeof extra.code === "string" ? extra.code : undefined;
    if (vendorCode === "unrecognized_keys" && Array.isArray(extra.keys)) {
      for (const key of extra.keys) {
        const at = [...path, String(key)];
        out.push(
          issue(at, "unknown_property", `Unknown property "${String(key)}"`, "no such property", String(key)),
        );
      }
      continue;
    }
    if (vendorCode !== undefined) {
      switch (vendorCode) {
        case "invalid_type":
          code = missing ? "missing_property" : "invalid_type";
          expected = typeof extra.expected === "string" ? extra.expected : undefined;
          received = missing ? undefined : jsonTypeOf(value);
          break;
        case "invalid_value":
          code = "invalid_enum";
          expected = Array.isArray(extra.values) ? extra.values.map(renderValue).join(" | ") : undefined;
          break;
        case "invalid_format":
          code = extra.format === "regex" ? "pattern_mismatch" : "invalid_format";
          expected =
            extra.format === "regex"
              ? (extra.pattern as string | undefined)
              : (extra.format as string | undefined);
          break;
        case "too_small":
        case "too_big": {
          code = vendorCode;
          const limit = vendorCode === "too_small" ? extra.minimum : extra.maximum;
          if (limit !== undefined) {
            const op =
              vendorCode === "too_small"
                ? extra.inclusive === false
                  ? ">"
                  : ">="
                : extra.inclusive === false
                  ? "<"
                  : "<=";
            expected = `${op} ${String(limit)}`;
          }
          break;
        }
        case "required":
          code = "missing_property";
          received = undefined;
          break;
        case "min":
        case "max":
        case "min_length":
        case "max_length":
        case "after":
        case "before":
          code = vendorCode.startsWith("min") || vendorCode === "after" ? "too_small" : "too_big";
          expected = typeof extra.expected === "string" ? extra.expected : undefined;
          break;
        case "unit":
          code = "invalid_enum";
          expected = typeof extra.expected === "string" ? extra.expected : undefined;
          break;
        case "domain":
          code = missing ? "missing_property" : "invalid_type";
          expected = typeof extra.expected === "string" ? extra.expected : undefined;
          received = missing ? undefined : jsonTypeOf(value);
          break;
        default:
          code = snakeCase(vendorCode);
      }
    } else if (extra.kind === "schema") {
      expected = typeof extra.expected === "string" ? extra.expected : undefined;
      const type = typeof extra.type === "string" ? extra.type : "";
      if (missing && expected !== "never") {
        code = "missing_property";
        received = undefined;
      } else if (expected === "never") {
        // valibot's strict_object / strict_tuple: a key or item that should not be there.
        code = "unknown_property";
        expected = "no such property";
        received = String(path[path.length - 1]);
      } else if (VALIBOT_VALUE_TYPES.has(type)) {
        code = "invalid_enum";
      } else {
        code = "invalid_type";
        received = jsonTypeOf(value);
      }
    } else if (typeof extra.type === "string") {
      code = VALIBOT_CODES[extra.type] ?? snakeCase(extra.type);
      expected = typeof extra.expected === "string" ? extra.expected : undefined;
    } else {
      code = "invalid_value";
    }
    const result = issue(path, code, raw.message, expected, received);
    out.push(result);
  }
  return out;
}

/**
 * Validates a complete value with the schema's own validator: the Standard Schema's
 * `~standard.validate` (its output, with zod transforms, defaults and coercions, is the value), or
 * ajv for a JSON Schema (the value is returned as given: no defaults are filled in, so nothing is
 * mutated). Synchronous unless the validator is asynchronous.
 *
 * @example
 * ```ts
 * const compiled = compileSchema(z.object({ n: z.string().transform(Number) }));
 * await validateFinal(compiled, { n: "42" }); // { value: { n: 42 } }
 * await validateFinal(compiled, { n: 42 }); // { issues: [{ pointer: "/n", code: "invalid_type", ... }] }
 * ```
 */
export function validateFinal<T>(
  compiled: CompiledSchema<T, unknown>,
  value: unknown,
): FinalResult<T> | Promise<FinalResult<T>> {
  const standard = compiled.standard;
  if (standard === undefined) {
    const issues = compiled.validateAt([], value);
    return issues.length > 0 ? { issues } : { value: value as T };
  }
  const settle = (result: StandardSchemaV1.Result<unknown>): FinalResult<T> =>
    result.issues !== undefined && result.issues.length > 0
      ? { issues: standardIssues(result.issues, value) }
      : { value: (result as StandardSchemaV1.SuccessResult<T>).value };
  const result = standard["~standard"].validate(value);
  return result instanceof Promise ? result.then(settle) : settle(result);
}
