/**
 * Reading JSON Schemas as they arrive from requests: local `$ref` resolution, `allOf` merging,
 * type lists (including Gemini's OpenAPI flavour: `"OBJECT"`, `nullable`, int64 bounds as strings).
 */

export type SchemaObject = Record<string, unknown>;

export function isObject(value: unknown): value is SchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A finite number from a number or a numeric string (Gemini sends int64 fields such as `minItems` as strings). */
export function numberOf(value: unknown): number | undefined {
  if (typeof value === "number") return Number.isFinite(value) ? value : undefined;
  if (typeof value === "string" && value.trim() !== "") {
    const parsed = Number(value);
    return Number.isFinite(parsed) ? parsed : undefined;
  }
  return undefined;
}

const TYPE_NAMES = new Set(["string", "number", "integer", "boolean", "object", "array", "null"]);

/** The schema's `type` as a lowercase list (`nullable: true` adds "null"); undefined when unconstrained. */
export function typesOf(schema: SchemaObject): string[] | undefined {
  const raw = schema.type;
  let list: string[] | undefined;
  if (typeof raw === "string") list = [raw.toLowerCase()];
  else if (Array.isArray(raw))
    list = raw.filter((t): t is string => typeof t === "string").map((t) => t.toLowerCase());
  list = list?.filter((t) => TYPE_NAMES.has(t));
  if (list && list.length === 0) list = undefined;
  if (list && schema.nullable === true && !list.includes("null")) list = [...list, "null"];
  return list;
}

/** Assigns without ever touching a prototype, whatever the key (`__proto__` is a valid property name). */
export function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function decodeSegment(segment: string): string {
  let decoded = segment;
  try {
    decoded = decodeURIComponent(segment);
  } catch {
    // keep the raw segment: a malformed escape is just a literal name
  }
  return decoded.replace(/~1/g, "/").replace(/~0/g, "~");
}

function findAnchor(node: unknown, name: string, depth = 0): unknown {
  if (depth > 64 || typeof node !== "object" || node === null) return undefined;
  if (isObject(node) && (node.$anchor === name || node.$id === `#${name}` || node.id === `#${name}`))
    return node;
  for (const child of Object.values(node)) {
    const found = findAnchor(child, name, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The schema a local `$ref` points to (`#`, `#/json/pointer`, `#anchor`), or undefined. */
export function resolvePointer(root: unknown, ref: string): unknown {
  let local = ref;
  if (
    !local.startsWith("#") &&
    isObject(root) &&
    typeof root.$id === "string" &&
    local.startsWith(root.$id)
  ) {
    local = local.slice(root.$id.length);
    if (local === "") local = "#";
  }
  if (local === "#" || local === "") return root;
  if (!local.startsWith("#")) return undefined;
  if (!local.startsWith("#/")) return findAnchor(root, local.slice(1));
  let node: unknown = root;
  for (const segment of local.slice(2).split("/")) {
    if (typeof node !== "object" || node === null) return undefined;
    node = (node as Record<string, unknown>)[decodeSegment(segment)];
  }
  return node;
}

/** Where `mergeSchemas` queues a second `anyOf`/`oneOf` when both sides have one. */
export const PENDING_CHOICES = "x-structream-pending-choices";

const MAX_KEYWORDS = ["maximum", "maxLength", "maxItems", "maxProperties", "exclusiveMaximum", "maxContains"];
const MIN_KEYWORDS = ["minimum", "minLength", "minItems", "minProperties", "exclusiveMinimum", "minContains"];

/** Both schemas at once, as far as generating a value goes (the `allOf` of two). */
export function mergeSchemas(a: SchemaObject, b: SchemaObject): SchemaObject {
  const out: SchemaObject = { ...a };
  for (const [key, value] of Object.entries(b)) {
    const existing = out[key];
    if (existing === undefined) {
      setKey(out, key, value);
      continue;
    }
    if (key === "type") {
      const left = typesOf({ type: existing }) ?? [];
      const right = typesOf({ type: value }) ?? [];
      let both = left.filter((t) => right.includes(t));
      if (both.length === 0 && left.includes("number") && right.includes("integer")) both = ["integer"];
      if (both.length === 0 && left.includes("integer") && right.includes("number")) both = ["integer"];
      out.type = both.length > 0 ? both : value;
    } else if (key === "properties" && isObject(existing) && isObject(value)) {
      const merged: SchemaObject = { ...existing };
      for (const [name, schema] of Object.entries(value)) {
        setKey(merged, name, name in merged ? { allOf: [merged[name], schema] } : schema);
      }
      out.properties = merged;
    } else if (key === "required" && Array.isArray(existing) && Array.isArray(value)) {
      out.required = [...new Set([...existing, ...value])];
    } else if (key === "enum" && Array.isArray(existing) && Array.isArray(value)) {
      const right = value.map((v) => JSON.stringify(v));
      const both = existing.filter((v) => right.includes(JSON.stringify(v)));
      out.enum = both.length > 0 ? both : value;
    } else if (
      MIN_KEYWORDS.includes(key) &&
      numberOf(existing) !== undefined &&
      numberOf(value) !== undefined
    ) {
      out[key] = Math.max(numberOf(existing)!, numberOf(value)!);
    } else if (
      MAX_KEYWORDS.includes(key) &&
      numberOf(existing) !== undefined &&
      numberOf(value) !== undefined
    ) {
      out[key] = Math.min(numberOf(existing)!, numberOf(value)!);
    } else if ((key === "items" || key === "additionalProperties") && isObject(existing) && isObject(value)) {
      out[key] = { allOf: [existing, value] };
    } else if (key === "additionalProperties" && (existing === false || value === false)) {
      out[key] = false;
    } else if (key === PENDING_CHOICES && Array.isArray(existing) && Array.isArray(value)) {
      out[key] = [...existing, ...value];
    } else if ((key === "anyOf" || key === "oneOf") && Array.isArray(existing)) {
      // Two independent choices: keep the first here and queue the second for after it is made.
      const pending = Array.isArray(out[PENDING_CHOICES]) ? (out[PENDING_CHOICES] as unknown[]) : [];
      out[PENDING_CHOICES] = [...pending, { [key]: value }];
    } else {
      setKey(out, key, value);
    }
  }
  return out;
}

/**
 * The schema with its top-level `$ref` and `allOf` expanded (siblings of `$ref` apply too, as in
 * draft 2019-09 and later). `true` becomes `{}`; `false` stays `false`.
 */
export function resolveSchema(schema: unknown, root: unknown): SchemaObject | false {
  if (schema === false) return false;
  if (!isObject(schema)) return {};
  let current: SchemaObject = schema;
  for (let step = 0; step < 32; step++) {
    if (typeof current.$ref === "string") {
      const { $ref, ...rest } = current;
      const target = resolvePointer(root, $ref);
      if (target === false) return false;
      current = mergeSchemas(isObject(target) ? target : {}, rest);
      continue;
    }
    if (Array.isArray(current.allOf)) {
      const { allOf, ...rest } = current;
      let merged: SchemaObject = rest;
      for (const part of allOf) {
        const resolved = resolveSchema(part, root);
        if (resolved === false) return false;
        merged = mergeSchemas(merged, resolved);
      }
      current = merged;
      continue;
    }
    return current;
  }
  return current;
}
