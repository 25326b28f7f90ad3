/** A JSON Schema object (draft 2020-12 or 7), as plain data. */
export type JsonSchemaObject = Record<string, unknown>;

/** What a schema rewrite for a provider's structured-output mode produced. */
export interface SchemaRewrite {
  /** The schema to send. When `representable` is false, the original schema unchanged. */
  schema: JsonSchemaObject;
  /**
   * Whether the provider's constrained mode can express the schema without changing what it
   * accepts in a way the client cannot undo. False for a root that is not an object, an open
   * map (`additionalProperties` other than `false`, or an object without `properties`), a tuple,
   * an array without `items`, or a `true` schema.
   */
  representable: boolean;
  /** Whether optional properties became required nullable ones (see {@link restoreOptionalNulls}). */
  nullableOptionals: boolean;
  /** One sentence per change made, or per reason the schema is not representable. */
  notes: string[];
}

/**
 * Keywords OpenAI's strict mode rejects, as listed by the official `openai` SDK
 * (`lib/transform.ts`). Removing them only loosens the schema sent; the client still validates
 * the answer against the original.
 */
const OPENAI_UNSUPPORTED = [
  "$anchor",
  "$dynamicAnchor",
  "$dynamicRef",
  "$recursiveAnchor",
  "$recursiveRef",
  "contains",
  "contentEncoding",
  "contentMediaType",
  "contentSchema",
  "dependentRequired",
  "dependentSchemas",
  "dependencies",
  "else",
  "if",
  "maxContains",
  "maxProperties",
  "minContains",
  "minProperties",
  "not",
  "patternProperties",
  "propertyNames",
  "then",
  "unevaluatedItems",
  "unevaluatedProperties",
  "uniqueItems",
];

/** The string formats Anthropic's structured outputs accept (from `@anthropic-ai/sdk`). */
const ANTHROPIC_FORMATS = new Set([
  "date-time",
  "time",
  "date",
  "duration",
  "email",
  "hostname",
  "uri",
  "ipv4",
  "ipv6",
  "uuid",
]);

/** Keywords Anthropic's structured outputs keep; the rest move into `description` as text. */
const ANTHROPIC_KEPT = new Set([
  "$defs",
  "definitions",
  "$ref",
  "enum",
  "const",
  "type",
  "anyOf",
  "allOf",
  "description",
  "title",
  "properties",
  "additionalProperties",
  "required",
  "items",
]);

const ANNOTATIONS = new Set([
  "title",
  "description",
  "$comment",
  "examples",
  "default",
  "readOnly",
  "writeOnly",
]);

function isRecord(value: unknown): value is JsonSchemaObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function typesOf(schema: JsonSchemaObject): string[] {
  const type = schema.type;
  return typeof type === "string"
    ? [type]
    : Array.isArray(type)
      ? type.filter((t) => typeof t === "string")
      : [];
}

function isObjectSchema(schema: JsonSchemaObject): boolean {
  return typesOf(schema).includes("object") || isRecord(schema.properties);
}

/** Follows local `$ref`s (`#/$defs/x`, `#/definitions/x`, any JSON Pointer into the root). */
function resolveRef(schema: unknown, root: JsonSchemaObject): unknown {
  let node = schema;
  for (let hops = 0; hops < 32 && isRecord(node) && typeof node.$ref === "string"; hops++) {
    const ref = node.$ref;
    if (!ref.startsWith("#")) return node;
    let target: unknown = root;
    for (const raw of ref.slice(1).split("/").slice(1)) {
      const key = decodeURIComponent(raw).replace(/~1/g, "/").replace(/~0/g, "~");
      target = isRecord(target) ? target[key] : undefined;
    }
    if (target === undefined) return node;
    node = target;
  }
  return node;
}

/** Whether a schema accepts `null` on its face (type, enum, const, or a union branch). */
function acceptsNull(schema: unknown, root: JsonSchemaObject): boolean {
  const node = resolveRef(schema, root);
  if (node === true) return true;
  if (!isRecord(node)) return false;
  if (Object.keys(node).every((key) => ANNOTATIONS.has(key))) return true;
  if (typesOf(node).includes("null")) return true;
  if (Array.isArray(node.enum) && node.enum.includes(null)) return true;
  if ("const" in node && node.const === null) return true;
  for (const key of ["anyOf", "oneOf"]) {
    const branches = node[key];
    if (Array.isArray(branches) && branches.some((branch) => acceptsNull(branch, root))) return true;
  }
  return false;
}

function makeNullable(schema: unknown): unknown {
  if (!isRecord(schema)) return { anyOf: [schema, { type: "null" }] };
  const types = typesOf(schema);
  const simple = types.length > 0 && !("anyOf" in schema) && !("$ref" in schema) && !("const" in schema);
  if (simple) {
    const out: JsonSchemaObject = { ...schema, type: [...types, "null"] };
    if (Array.isArray(schema.enum)) out.enum = [...schema.enum, null];
    return out;
  }
  if (Array.isArray(schema.anyOf) && Object.keys(schema).every((k) => k === "anyOf" || ANNOTATIONS.has(k))) {
    return { ...schema, anyOf: [...schema.anyOf, { type: "null" }] };
  }
  return { anyOf: [schema, { type: "null" }] };
}

function child(pointer: string, ...keys: (string | number)[]): string {
  return keys.reduce<string>((p, k) => `${p}/${String(k).replace(/~/g, "~0").replace(/\//g, "~1")}`, pointer);
}

interface Context {
  notes: string[];
  failures: string[];
  nullable: boolean;
  root: JsonSchemaObject;
}

/** Merges `allOf: [objects]` into one object where that is exact; else leaves it. */
function mergeAllOf(schema: JsonSchemaObject, pointer: string, ctx: Context): JsonSchemaObject {
  const allOf = schema.allOf;
  if (!Array.isArray(allOf)) return schema;
  const branches = allOf.map((branch) => resolveRef(branch, ctx.root));
  const mergeable = branches.every(
    (branch) =>
      isRecord(branch) &&
      Object.keys(branch).every(
        (k) => ["type", "properties", "required", "additionalProperties"].includes(k) || ANNOTATIONS.has(k),
      ) &&
      (branch.type === undefined || branch.type === "object") &&
      branch.additionalProperties !== true &&
      !isRecord(branch.additionalProperties),
  );
  if (!mergeable) return schema;
  const { allOf: _, ...rest } = schema;
  const properties: JsonSchemaObject = { ...(isRecord(rest.properties) ? rest.properties : {}) };
  const required = new Set<string>(Array.isArray(rest.required) ? rest.required : []);
  for (const branch of branches as JsonSchemaObject[]) {
    if (isRecord(branch.properties)) Object.assign(properties, branch.properties);
    if (Array.isArray(branch.required)) for (const key of branch.required) required.add(key);
  }
  ctx.notes.push(`${pointer || "/"}: merged allOf into one object.`);
  return { ...rest, type: "object", properties, required: [...required] };
}

function strictNode(node: unknown, pointer: string, ctx: Context): unknown {
  if (node === true || (isRecord(node) && Object.keys(node).every((k) => ANNOTATIONS.has(k)))) {
    ctx.failures.push(`${pointer || "/"} accepts any value, which strict mode cannot express.`);
    return node;
  }
  if (!isRecord(node)) return node;
  let out: JsonSchemaObject = mergeAllOf({ ...node }, pointer, ctx);
  if ("allOf" in out) {
    delete out.allOf;
    ctx.notes.push(`${pointer || "/"}: removed allOf (checked on the client).`);
  }
  for (const keyword of OPENAI_UNSUPPORTED) {
    if (keyword in out) {
      delete out[keyword];
      ctx.notes.push(`${pointer || "/"}: removed ${keyword} (checked on the client).`);
    }
  }
  if (Array.isArray(out.oneOf)) {
    const { oneOf, ...rest } = out;
    out = { ...rest, anyOf: Array.isArray(rest.anyOf) ? [...rest.anyOf, ...oneOf] : oneOf };
    ctx.notes.push(`${pointer || "/"}: oneOf sent as anyOf.`);
  }
  if (out.default === null) delete out.default;

  if (isObjectSchema(out)) {
    const properties = isRecord(out.properties) ? out.properties : undefined;
    const extra = out.additionalProperties;
    if ((extra !== undefined && extra !== false) || properties === undefined) {
      ctx.failures.push(`${pointer || "/"} is an open object (a map), which strict mode cannot express.`);
    }
    out.additionalProperties = false;
    if (properties) {
      const required = new Set(Array.isArray(out.required) ? out.required : []);
      const next: JsonSchemaObject = {};
      for (const [key, sub] of Object.entries(properties)) {
        let rewritten = strictNode(sub, child(pointer, "properties", key), ctx);
        if (!required.has(key) && !acceptsNull(sub, ctx.root)) {
          rewritten = makeNullable(rewritten);
          ctx.nullable = true;
          ctx.notes.push(`${child(pointer, "properties", key)}: optional, sent as required and nullable.`);
        }
        next[key] = rewritten;
      }
      out.properties = next;
      out.required = Object.keys(properties);
    }
  }
  if (Array.isArray(out.items) || "prefixItems" in out || "additionalItems" in out) {
    ctx.failures.push(`${pointer || "/"} is a tuple, which strict mode cannot express.`);
  } else if (out.items !== undefined) {
    out.items = strictNode(out.items, child(pointer, "items"), ctx);
  } else if (typesOf(out).includes("array")) {
    ctx.failures.push(`${pointer || "/"} is an array without items, which strict mode cannot express.`);
  }
  if (Array.isArray(out.anyOf))
    out.anyOf = out.anyOf.map((b, i) => strictNode(b, child(pointer, "anyOf", i), ctx));
  for (const defs of ["$defs", "definitions"]) {
    const map = out[defs];
    if (isRecord(map)) {
      out[defs] = Object.fromEntries(
        Object.entries(map).map(([name, sub]) => [name, strictNode(sub, child(pointer, defs, name), ctx)]),
      );
    }
  }
  return out;
}

/** A root that is only a `$ref` (as some converters emit) becomes its target, keeping the definitions. */
function inlineRootRef(schema: JsonSchemaObject): JsonSchemaObject {
  if (typeof schema.$ref !== "string") return schema;
  const target = resolveRef(schema, schema);
  if (!isRecord(target) || target === schema) return schema;
  const { $ref: _, ...rest } = schema;
  return { ...target, ...rest };
}

/**
 * Rewrites a JSON Schema for OpenAI's strict structured outputs (`strict: true`): every object
 * gets `additionalProperties: false` and lists all its properties as required, an optional
 * property becomes a nullable one (`["string", "null"]`, or `anyOf` with `{ type: "null" }`),
 * `oneOf` becomes `anyOf`, exact object `allOf`s are merged, and keywords strict mode rejects are
 * removed (the client validates the answer against the original schema, so removing only
 * loosens what the model is held to). The input is never mutated.
 *
 * When the schema cannot be expressed (see {@link SchemaRewrite.representable}), the original is
 * returned with the reasons in `notes`: send it with `strict: false` rather than change its
 * meaning.
 *
 * @example
 * ```ts
 * const { schema } = toStrictJsonSchema({
 *   type: "object", properties: { name: { type: "string" }, age: { type: "integer" } }, required: ["name"],
 * });
 * // { type: "object", properties: { name: { type: "string" }, age: { type: ["integer", "null"] } },
 * //   required: ["name", "age"], additionalProperties: false }
 * ```
 * @see https://platform.openai.com/docs/guides/structured-outputs#supported-schemas
 */
export function toStrictJsonSchema(schema: JsonSchemaObject): SchemaRewrite {
  const ctx: Context = { notes: [], failures: [], nullable: false, root: schema };
  const root = inlineRootRef(schema);
  const probe = mergeAllOf({ ...root }, "", { ...ctx, notes: [] });
  if (!isObjectSchema(probe) || "anyOf" in root || "oneOf" in root) {
    return {
      schema,
      representable: false,
      nullableOptionals: false,
      notes: [
        "The root must be an object; wrap the value in one (e.g. { items: [...] }) to use strict mode.",
      ],
    };
  }
  const rewritten = strictNode(root, "", ctx) as JsonSchemaObject;
  if (ctx.failures.length > 0) {
    return { schema, representable: false, nullableOptionals: false, notes: ctx.failures };
  }
  return { schema: rewritten, representable: true, nullableOptionals: ctx.nullable, notes: ctx.notes };
}

function describeExtra(out: JsonSchemaObject, extra: JsonSchemaObject): void {
  const keys = Object.keys(extra);
  if (keys.length === 0) return;
  const text = `{${keys.map((key) => `${key}: ${JSON.stringify(extra[key])}`).join(", ")}}`;
  out.description = typeof out.description === "string" ? `${out.description}\n\n${text}` : text;
}

function anthropicNode(node: unknown, pointer: string, ctx: Context): unknown {
  if (node === true || !isRecord(node)) {
    if (node === true) ctx.failures.push(`${pointer || "/"} accepts any value.`);
    return node;
  }
  const out: JsonSchemaObject = {};
  const extra: JsonSchemaObject = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === "oneOf") out.anyOf = value;
    else if (key === "$schema") continue;
    else if (ANTHROPIC_KEPT.has(key)) out[key] = value;
    else if (key === "format" && typeof value === "string" && ANTHROPIC_FORMATS.has(value)) out[key] = value;
    else if (key === "minItems" && (value === 0 || value === 1)) out[key] = value;
    else extra[key] = value;
  }
  if (Object.keys(extra).length > 0)
    ctx.notes.push(`${pointer || "/"}: ${Object.keys(extra).join(", ")} moved into the description.`);
  describeExtra(out, extra);
  if (isObjectSchema(out)) {
    const extraProps = out.additionalProperties;
    if ((extraProps !== undefined && extraProps !== false) || !isRecord(out.properties)) {
      ctx.failures.push(`${pointer || "/"} is an open object (a map).`);
    }
    out.additionalProperties = false;
    if (isRecord(out.properties)) {
      out.properties = Object.fromEntries(
        Object.entries(out.properties).map(([k, sub]) => [
          k,
          anthropicNode(sub, child(pointer, "properties", k), ctx),
        ]),
      );
    }
  }
  if (Array.isArray(out.items)) ctx.failures.push(`${pointer || "/"} is a tuple.`);
  else if (out.items !== undefined) out.items = anthropicNode(out.items, child(pointer, "items"), ctx);
  for (const key of ["anyOf", "allOf"]) {
    const branches = out[key];
    if (Array.isArray(branches))
      out[key] = branches.map((b, i) => anthropicNode(b, child(pointer, key, i), ctx));
  }
  for (const defs of ["$defs", "definitions"]) {
    const map = out[defs];
    if (isRecord(map)) {
      out[defs] = Object.fromEntries(
        Object.entries(map).map(([name, sub]) => [name, anthropicNode(sub, child(pointer, defs, name), ctx)]),
      );
    }
  }
  return out;
}

/**
 * Rewrites a JSON Schema for Anthropic's structured outputs (`output_config.format`), as the
 * official SDK does: objects closed with `additionalProperties: false`, `oneOf` as `anyOf`, and
 * constraints the constrained decoder does not support (numeric bounds, string lengths,
 * patterns, `minItems` above 1, unknown formats) moved into the `description` as text, where the
 * model still reads them. Optional properties stay optional. Not representable (an open map, a
 * tuple, a non-object root): send a forced tool instead, which takes any schema.
 *
 * @example
 * ```ts
 * toAnthropicSchema({ type: "object", properties: { n: { type: "integer", minimum: 1 } } }).schema;
 * // { type: "object", properties: { n: { type: "integer", description: "{minimum: 1}" } },
 * //   additionalProperties: false }
 * ```
 * @see https://docs.claude.com/en/docs/build-with-claude/structured-outputs
 */
export function toAnthropicSchema(schema: JsonSchemaObject): SchemaRewrite {
  const ctx: Context = { notes: [], failures: [], nullable: false, root: schema };
  const root = inlineRootRef(schema);
  if (!isObjectSchema(root)) {
    return { schema, representable: false, nullableOptionals: false, notes: ["The root must be an object."] };
  }
  const rewritten = anthropicNode(root, "", ctx) as JsonSchemaObject;
  if (ctx.failures.length > 0)
    return { schema, representable: false, nullableOptionals: false, notes: ctx.failures };
  return { schema: rewritten, representable: true, nullableOptionals: false, notes: ctx.notes };
}

function restore(value: unknown, schema: unknown, root: JsonSchemaObject, depth: number): unknown {
  const node = resolveRef(schema, root);
  if (!isRecord(node) || value === null || typeof value !== "object" || depth > 10_000) return value;
  if (Array.isArray(value)) {
    if (!isRecord(node.items) && typeof node.items !== "boolean") return value;
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const next = restore(item, node.items, root, depth + 1);
      if (next !== item) (out ??= value.slice())[i] = next;
    });
    return out ?? value;
  }
  let properties = isRecord(node.properties) ? node.properties : undefined;
  let required = Array.isArray(node.required) ? node.required : [];
  // A union of exactly one object shape (a nullable object) still has one place to look.
  if (!properties) {
    const branches = (Array.isArray(node.anyOf) ? node.anyOf : Array.isArray(node.oneOf) ? node.oneOf : [])
      .map((b) => resolveRef(b, root))
      .filter((b): b is JsonSchemaObject => isRecord(b) && isRecord(b.properties));
    if (branches.length !== 1) return value;
    properties = branches[0].properties as JsonSchemaObject;
    required = Array.isArray(branches[0].required) ? branches[0].required : [];
  }
  const record = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(record)) {
    if (!Object.hasOwn(properties, key)) continue;
    const sub = properties[key];
    const item = record[key];
    if (item === null && !required.includes(key) && !acceptsNull(sub, root)) {
      out ??= { ...record };
      delete out[key];
      continue;
    }
    const next = restore(item, sub, root, depth + 1);
    if (next !== item) (out ??= { ...record })[key] = next;
  }
  return out ?? value;
}

/**
 * Undoes the one change of {@link toStrictJsonSchema} that shows in answers: a `null` for a
 * property that the original schema makes optional and not nullable is dropped, so the value
 * validates against the original. Returns the same object when nothing changed, and new objects
 * (never mutated ones) along changed paths. Follows `properties`, `items`, local `$ref`s and a
 * union with a single object branch.
 *
 * @example
 * ```ts
 * const schema = { type: "object", properties: { age: { type: "integer" } } };
 * restoreOptionalNulls({ age: null }, schema); // {}
 * ```
 */
export function restoreOptionalNulls(value: unknown, originalSchema: JsonSchemaObject): unknown {
  return restore(value, originalSchema, originalSchema, 0);
}
