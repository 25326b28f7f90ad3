import { StructreamError } from "../errors/index.ts";
import { fromPointer, type PathSegment, toPointer, type ValueKind } from "../json/index.ts";
import type { JsonSchema, JsonSchemaObject } from "./json-schema.ts";
import type { SchemaNode } from "./shape.ts";
import type { SchemaIssue } from "./types.ts";
import type { AjvEngine, StartedCheck } from "./validate.ts";

/**
 * Validation without code generation, for runtimes that forbid `new Function` (Cloudflare Workers,
 * pages under a strict Content-Security-Policy), where ajv cannot compile a validator.
 *
 * It walks the JSON Schema itself. Every keyword it knows it checks exactly as JSON Schema says;
 * {@link INTERPRETED_KEYWORDS} lists them. A keyword outside that list (`format`, `unevaluated*`,
 * `$dynamicRef`, ...) is not checked here: for a Standard Schema the schema's own validator has
 * the last word when the answer completes, so early checks may only be looser, never wrong; for a
 * plain JSON Schema, {@link unsupportedKeywords} lets `compileSchema` refuse it at once instead.
 */

/** Keywords checked exactly; annotations (no assertion) are listed in {@link ANNOTATIONS}. */
export const INTERPRETED_KEYWORDS: ReadonlySet<string> = new Set([
  "type",
  "enum",
  "const",
  "nullable",
  "properties",
  "patternProperties",
  "additionalProperties",
  "required",
  "propertyNames",
  "minProperties",
  "maxProperties",
  "dependentRequired",
  "items",
  "prefixItems",
  "additionalItems",
  "minItems",
  "maxItems",
  "uniqueItems",
  "contains",
  "minLength",
  "maxLength",
  "pattern",
  "minimum",
  "maximum",
  "exclusiveMinimum",
  "exclusiveMaximum",
  "multipleOf",
  "allOf",
  "anyOf",
  "oneOf",
  "not",
  "if",
  "then",
  "else",
  "$ref",
]);

const ANNOTATIONS: ReadonlySet<string> = new Set([
  "$schema",
  "$id",
  "$anchor",
  "$comment",
  "$defs",
  "definitions",
  "title",
  "description",
  "default",
  "examples",
  "deprecated",
  "readOnly",
  "writeOnly",
  "discriminator",
  "contentEncoding",
  "contentMediaType",
  "$vocabulary",
]);

const SUBSCHEMA = [
  "additionalProperties",
  "additionalItems",
  "not",
  "if",
  "then",
  "else",
  "contains",
  "propertyNames",
];
const SUBSCHEMA_MAP = ["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"];
const SUBSCHEMA_LIST = ["allOf", "anyOf", "oneOf", "prefixItems"];

/**
 * Keywords of a JSON Schema that {@link createInterpretedEngine} does not check, with where they
 * are (JSON Pointers into the schema), in document order.
 */
export function unsupportedKeywords(schema: JsonSchema): string[] {
  const found: string[] = [];
  const visit = (s: unknown, at: string, depth: number): void => {
    if (depth > 256 || typeof s !== "object" || s === null || Array.isArray(s)) return;
    for (const [key, sub] of Object.entries(s as Record<string, unknown>)) {
      const here = `${at}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      if (SUBSCHEMA.includes(key)) visit(sub, here, depth + 1);
      else if (SUBSCHEMA_MAP.includes(key) && typeof sub === "object" && sub !== null)
        for (const [k, v] of Object.entries(sub))
          visit(v, `${here}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, depth + 1);
      else if ((SUBSCHEMA_LIST.includes(key) || key === "items") && Array.isArray(sub))
        for (let i = 0; i < sub.length; i++) visit(sub[i], `${here}/${i}`, depth + 1);
      else if (key === "items") visit(sub, here, depth + 1);
      // draft-04's boolean exclusiveMinimum/Maximum modify minimum/maximum: not interpreted.
      if (
        (!INTERPRETED_KEYWORDS.has(key) && !ANNOTATIONS.has(key) && !key.startsWith("x-")) ||
        ((key === "exclusiveMinimum" || key === "exclusiveMaximum") && typeof sub !== "number") ||
        (key === "$ref" && (typeof sub !== "string" || !sub.startsWith("#")))
      )
        found.push(here);
    }
  };
  visit(schema, "", 0);
  return found;
}

function typeOf(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value === "number" ? (Number.isInteger(value) ? "integer" : "number") : typeof value;
}

function render(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** JSON equality (key order ignored), as `enum`, `const` and `uniqueItems` compare. */
function equal(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bs = b as unknown[];
    return a.length === bs.length && a.every((x, i) => equal(x, bs[i]));
  }
  const ak = Object.keys(a);
  const bo = b as Record<string, unknown>;
  return (
    ak.length === Object.keys(bo).length &&
    ak.every((k) => Object.hasOwn(bo, k) && equal((a as Record<string, unknown>)[k], bo[k]))
  );
}

function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * An engine with the interface of the ajv one (the tracker and `validateAt` use either), made
 * without generating code. Issues carry the same codes as ajv's (`invalid_type`, `invalid_enum`,
 * `missing_property`, `unknown_property`, `too_small`, `too_big`, `pattern_mismatch`, ...).
 *
 * @throws StructreamError `invalid_schema` when a pattern is not a valid regular expression.
 */
export function createInterpretedEngine(root: JsonSchemaObject): AjvEngine {
  const patterns = new Map<string, RegExp>();
  const regex = (source: string): RegExp => {
    let re = patterns.get(source);
    if (re === undefined) {
      try {
        re = new RegExp(source, "u");
      } catch {
        try {
          // Patterns written for JavaScript (zod's) may not be valid with the `u` flag.
          re = new RegExp(source);
        } catch (cause) {
          throw new StructreamError(
            "invalid_schema",
            `The pattern /${source}/ is not a valid regular expression.`,
            {
              cause,
            },
          );
        }
      }
      patterns.set(source, re);
    }
    return re;
  };
  const resolve = (ref: string): JsonSchema | undefined => {
    if (!ref.startsWith("#")) return undefined;
    let at: unknown = root;
    for (const segment of fromPointer(decodeURIComponent(ref.slice(1)))) {
      if (typeof at !== "object" || at === null || !Object.hasOwn(at, segment)) return undefined;
      at = (at as Record<PathSegment, unknown>)[segment];
    }
    return at as JsonSchema;
  };

  /** Issues of `value` against `schema`; stops at the first when `first` (a yes/no check). */
  const validate = (
    schema: JsonSchema | undefined,
    value: unknown,
    path: PathSegment[],
    out: SchemaIssue[],
    first: boolean,
    depth: number,
  ): void => {
    if (schema === undefined || schema === true) return;
    const push = (at: PathSegment[], code: string, message: string, expected?: string, received?: string) => {
      const issue: SchemaIssue = { path: at, pointer: toPointer(at), code, message };
      if (expected !== undefined) issue.expected = expected;
      if (received !== undefined) issue.received = received;
      out.push(issue);
    };
    if (schema === false) {
      push(path, "invalid_value", "No value is allowed here");
      return;
    }
    if (depth > 512) return;
    const s = schema;
    const done = () => first && out.length > 0;
    const sub = (child: JsonSchema | undefined, v: unknown, at: PathSegment[]) =>
      validate(child, v, at, out, first, depth + 1);
    const passes = (child: JsonSchema | undefined, v: unknown) => {
      const probe: SchemaIssue[] = [];
      validate(child, v, path, probe, true, depth + 1);
      return probe.length === 0;
    };

    if (typeof s.$ref === "string") {
      sub(resolve(s.$ref), value, path);
      if (done()) return;
    }
    const kind = typeOf(value);
    if (s.type !== undefined) {
      const types = (Array.isArray(s.type) ? s.type : [s.type]) as string[];
      const ok =
        types.includes(kind) ||
        (kind === "integer" && types.includes("number")) ||
        (value === null && s.nullable === true);
      if (!ok) {
        const expected = types.join(" | ");
        push(path, "invalid_type", `Expected ${expected}, received ${kind}`, expected, kind);
        return;
      }
    }
    if (
      Array.isArray(s.enum) &&
      !s.enum.some((e) => equal(e, value)) &&
      !(value === null && s.nullable === true)
    ) {
      const expected = s.enum.map(render).join(" | ");
      push(path, "invalid_enum", `Expected ${expected}, received ${render(value)}`, expected, render(value));
      if (done()) return;
    }
    if ("const" in s && !equal(s.const, value)) {
      push(
        path,
        "invalid_enum",
        `Expected ${render(s.const)}, received ${render(value)}`,
        render(s.const),
        render(value),
      );
      if (done()) return;
    }

    if (typeof value === "string") {
      const n = s.minLength !== undefined || s.maxLength !== undefined ? codePoints(value) : 0;
      if (typeof s.minLength === "number" && n < s.minLength)
        push(path, "too_small", `Expected at least ${s.minLength} characters, received ${n}`);
      if (typeof s.maxLength === "number" && n > s.maxLength)
        push(path, "too_big", `Expected at most ${s.maxLength} characters, received ${n}`);
      if (typeof s.pattern === "string" && !regex(s.pattern).test(value)) {
        const expected = `/${s.pattern}/`;
        push(
          path,
          "pattern_mismatch",
          `Expected a string matching ${expected}, received ${render(value)}`,
          expected,
        );
      }
    } else if (typeof value === "number") {
      const bound = (limit: unknown, ok: boolean, code: string, words: string) => {
        if (typeof limit === "number" && !ok)
          push(path, code, `Expected ${words} ${limit}, received ${value}`);
      };
      bound(s.minimum, value >= (s.minimum as number), "too_small", "at least");
      bound(s.maximum, value <= (s.maximum as number), "too_big", "at most");
      bound(s.exclusiveMinimum, value > (s.exclusiveMinimum as number), "too_small", "more than");
      bound(s.exclusiveMaximum, value < (s.exclusiveMaximum as number), "too_big", "less than");
      if (typeof s.multipleOf === "number") {
        // As ajv decides it (so both engines agree): the quotient must read back as an integer.
        const q = value / s.multipleOf;
        if (s.multipleOf === 0 || q !== Number.parseInt(String(q), 10))
          push(path, "not_multiple_of", `Expected a multiple of ${s.multipleOf}, received ${value}`);
      }
    } else if (Array.isArray(value)) {
      if (typeof s.minItems === "number" && value.length < s.minItems)
        push(path, "too_small", `Expected at least ${s.minItems} items, received ${value.length}`);
      if (typeof s.maxItems === "number" && value.length > s.maxItems)
        push(path, "too_big", `Expected at most ${s.maxItems} items, received ${value.length}`);
      const tuple = Array.isArray(s.prefixItems)
        ? s.prefixItems
        : Array.isArray(s.items)
          ? s.items
          : undefined;
      const rest = Array.isArray(s.items)
        ? s.additionalItems
        : Array.isArray(s.prefixItems)
          ? s.items
          : s.items;
      for (let i = 0; i < value.length && !done(); i++) {
        const child = tuple !== undefined && i < tuple.length ? tuple[i] : (rest as JsonSchema | undefined);
        if (child === false) push(path, "too_big", `Expected at most ${i} items, received ${value.length}`);
        else sub(child, value[i], [...path, i]);
      }
      if (s.uniqueItems === true) {
        for (let i = 1; i < value.length; i++)
          if (value.slice(0, i).some((x) => equal(x, value[i]))) {
            push([...path, i], "not_unique", `Expected unique items, item ${i} repeats an earlier one`);
            break;
          }
      }
      if (s.contains !== undefined && !value.some((x) => passes(s.contains as JsonSchema, x)))
        push(path, "invalid_value", "Expected an item matching `contains`");
    } else if (value !== null && typeof value === "object") {
      const object = value as Record<string, unknown>;
      const keys = Object.keys(object);
      for (const key of Array.isArray(s.required) ? s.required : [])
        if (!Object.hasOwn(object, key))
          push([...path, key], "missing_property", `Missing required property "${key}"`, "a value");
      if (s.dependentRequired !== undefined && typeof s.dependentRequired === "object") {
        for (const [key, needs] of Object.entries(s.dependentRequired as Record<string, string[]>))
          if (Object.hasOwn(object, key))
            for (const need of needs)
              if (!Object.hasOwn(object, need))
                push([...path, need], "missing_property", `Missing required property "${need}"`, "a value");
      }
      if (typeof s.minProperties === "number" && keys.length < s.minProperties)
        push(path, "too_small", `Expected at least ${s.minProperties} properties, received ${keys.length}`);
      if (typeof s.maxProperties === "number" && keys.length > s.maxProperties)
        push(path, "too_big", `Expected at most ${s.maxProperties} properties, received ${keys.length}`);
      const properties = s.properties ?? {};
      const patterned = Object.entries(s.patternProperties ?? {});
      for (const key of keys) {
        if (done()) return;
        if (s.propertyNames !== undefined && !passes(s.propertyNames as JsonSchema, key))
          push([...path, key], "invalid_key", `Property name "${key}" is not allowed`, undefined, key);
        let matched = false;
        if (Object.hasOwn(properties, key)) {
          matched = true;
          sub(properties[key], object[key], [...path, key]);
        }
        for (const [pattern, child] of patterned) {
          if (!regex(pattern).test(key)) continue;
          matched = true;
          sub(child, object[key], [...path, key]);
        }
        if (!matched && s.additionalProperties !== undefined) {
          if (s.additionalProperties === false)
            push([...path, key], "unknown_property", `Unknown property "${key}"`, "no such property", key);
          else sub(s.additionalProperties, object[key], [...path, key]);
        }
      }
    }
    if (done()) return;

    for (const child of Array.isArray(s.allOf) ? s.allOf : []) {
      sub(child, value, path);
      if (done()) return;
    }
    if (Array.isArray(s.anyOf) && !s.anyOf.some((c) => passes(c, value))) {
      push(
        path,
        "invalid_union",
        `Expected a value matching one of ${s.anyOf.length} alternatives`,
        undefined,
        kind,
      );
    }
    if (Array.isArray(s.oneOf) && s.oneOf.filter((c) => passes(c, value)).length !== 1) {
      push(
        path,
        "invalid_union",
        `Expected a value matching exactly one of ${s.oneOf.length} alternatives`,
        undefined,
        kind,
      );
    }
    if (s.not !== undefined && passes(s.not as JsonSchema, value))
      push(path, "invalid_value", "Expected a value not matching `not`");
    if (s.if !== undefined) {
      const branch = passes(s.if as JsonSchema, value) ? s.then : s.else;
      if (branch !== undefined) sub(branch as JsonSchema, value, path);
    }
  };

  const schemasOf = (node: SchemaNode): JsonSchema[] | undefined =>
    node.never ? [false] : node.schemas.length > 0 ? [...node.schemas] : undefined;
  const issuesFor = (node: SchemaNode, value: unknown, path: readonly PathSegment[] = [], first = false) => {
    const out: SchemaIssue[] = [];
    const schemas = schemasOf(node);
    if (schemas !== undefined) {
      for (const schema of schemas) {
        validate(schema, value, [...path], out, first, 0);
        if (first && out.length > 0) break;
      }
    } else if (
      node.members !== undefined &&
      !node.members.some((m) => issuesFor(m, value, path, true).length === 0)
    ) {
      out.push({
        path: [...path],
        pointer: toPointer(path),
        code: "invalid_union",
        message: `Expected a value matching one of ${node.members.length} alternatives`,
      });
    }
    return out;
  };
  return {
    issuesFor: (node, value, path = []) => issuesFor(node, value, path),
    check: (node, value) => issuesFor(node, value, [], true).length === 0,
    startedCheck:
      (node: SchemaNode, _kind: ValueKind): StartedCheck =>
      (value) =>
        issuesFor(node, value, [], true).length === 0,
  };
}

/**
 * True when this realm may compile code from strings (`new Function`), which ajv needs. False on
 * Cloudflare Workers, in pages whose Content-Security-Policy lacks `'unsafe-eval'`, and in Node
 * started with `--disallow-code-generation-from-strings`. Asked once.
 */
export function canGenerateCode(): boolean {
  if (codegen === undefined) {
    try {
      codegen = new Function("return true")() === true;
    } catch {
      codegen = false;
    }
  }
  return codegen;
}
let codegen: boolean | undefined;
