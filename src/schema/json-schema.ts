import type { StandardJSONSchemaV1, StandardSchemaV1 } from "@standard-schema/spec";
import { StructreamError } from "../errors/index.ts";

/**
 * The primitive type names of JSON Schema's `type` keyword.
 *
 * @example
 * ```ts
 * const nullable: JsonSchemaTypeName[] = ["string", "null"];
 * ```
 */
export type JsonSchemaTypeName = "string" | "number" | "integer" | "boolean" | "null" | "array" | "object";

/**
 * A JSON Schema: an object, or `true` (anything) / `false` (nothing).
 *
 * @example
 * ```ts
 * const closed: JsonSchema = { type: "object", additionalProperties: false };
 * ```
 */
export type JsonSchema = JsonSchemaObject | boolean;

/**
 * A JSON Schema object (draft 2020-12 or draft-07). The keywords structream reads are typed;
 * any other keyword passes through untouched (to ajv and to the providers).
 *
 * @example
 * ```ts
 * const Event: JsonSchemaObject = {
 *   type: "object",
 *   properties: { at: { type: "string", format: "date-time" }, body: { type: "string" } },
 *   required: ["at", "body"],
 *   "x-stream-gate": ["at"],
 * };
 * ```
 */
export interface JsonSchemaObject {
  $schema?: string;
  $id?: string;
  $ref?: string;
  $defs?: Record<string, JsonSchema>;
  /** draft-07's name for `$defs`. */
  definitions?: Record<string, JsonSchema>;
  type?: JsonSchemaTypeName | readonly JsonSchemaTypeName[];
  enum?: readonly unknown[];
  const?: unknown;
  properties?: Record<string, JsonSchema>;
  patternProperties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema;
  required?: readonly string[];
  /** draft 2020-12 tuples. */
  prefixItems?: readonly JsonSchema[];
  /** A schema for every item, or (draft-07) an array of schemas for a tuple. */
  items?: JsonSchema | readonly JsonSchema[];
  /** draft-07: items after a tuple. */
  additionalItems?: JsonSchema;
  minItems?: number;
  maxItems?: number;
  format?: string;
  pattern?: string;
  anyOf?: readonly JsonSchema[];
  oneOf?: readonly JsonSchema[];
  allOf?: readonly JsonSchema[];
  /** OpenAPI 3.0's way of adding `null`. */
  nullable?: boolean;
  /** OpenAPI's discriminator of a union of objects. */
  discriminator?: { propertyName: string };
  description?: string;
  title?: string;
  /**
   * structream: `"atomic"` shows the value only once complete; `"progressive"` lets a string with
   * a `format` or `pattern` stream character by character anyway.
   */
  "x-stream"?: "atomic" | "progressive";
  /** structream: keep this object hidden until these member keys are complete. */
  "x-stream-gate"?: readonly string[];
  [keyword: string]: unknown;
}

/**
 * The JSON Schema dialects structream asks Standard Schema libraries for.
 *
 * @example
 * ```ts
 * compileSchema(schema, { target: "draft-07" });
 * ```
 */
export type JsonSchemaTarget = "draft-2020-12" | "draft-07";

/**
 * Options of {@link toJsonSchema}.
 *
 * @example
 * ```ts
 * import { toJsonSchema as valibotToJsonSchema } from "@valibot/to-json-schema";
 * const options: ToJsonSchemaOptions = { jsonSchema: (schema) => valibotToJsonSchema(schema as never) };
 * ```
 */
export interface ToJsonSchemaOptions {
  /**
   * Dialect asked of a Standard Schema library.
   * @defaultValue "draft-2020-12"
   */
  target?: JsonSchemaTarget;
  /**
   * The JSON Schema of a Standard Schema validator that cannot make one itself (valibot: pass
   * `toJsonSchema(schema)` from `@valibot/to-json-schema`), or a function making it. Takes
   * precedence over the library's own conversion.
   */
  jsonSchema?: JsonSchemaObject | ((schema: StandardSchemaV1) => JsonSchemaObject);
  /**
   * Vendor options handed to `~standard.jsonSchema.input()`.
   * @defaultValue `{ unrepresentable: "any" }` for zod, none otherwise
   */
  libraryOptions?: Record<string, unknown>;
}

/**
 * True for a Standard Schema v1 validator (zod 4, valibot, arktype, ...): an object or function
 * with a `~standard` property of version 1.
 *
 * @example
 * ```ts
 * isStandardSchema(z.string()); // true
 * isStandardSchema({ type: "string" }); // false
 * ```
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== "object" && typeof value !== "function") || value === null) return false;
  const props = (value as Record<string, unknown>)["~standard"];
  return typeof props === "object" && props !== null && (props as { version?: unknown }).version === 1;
}

function hasJsonSchemaConverter(value: StandardSchemaV1): value is StandardSchemaV1 & StandardJSONSchemaV1 {
  const converter = (value["~standard"] as { jsonSchema?: { input?: unknown } }).jsonSchema;
  return typeof converter === "object" && converter !== null && typeof converter.input === "function";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The JSON Schema for a schema input: the object itself for a JSON Schema; for a Standard Schema,
 * in order of preference, `options.jsonSchema`, the Standard JSON Schema converter
 * (`~standard.jsonSchema.input`, which zod ≥ 4.2 and arktype provide; for zod this is exactly
 * `z.toJSONSchema(schema, { io: "input", unrepresentable: "any" })`), then a `toJsonSchema()`
 * method. structream never imports a schema library itself.
 *
 * The *input* side is what the model is asked for: it writes what the validator accepts, and the
 * validator's transforms and defaults make the output.
 *
 * @throws StructreamError `invalid_schema` when no JSON Schema can be had.
 * @example
 * ```ts
 * toJsonSchema(z.object({ n: z.number().default(1) }));
 * // { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", properties: { n: { default: 1, type: "number" } } }
 * toJsonSchema(v.object({ a: v.string() }), { jsonSchema: toValibotJsonSchema(schema) });
 * ```
 */
export function toJsonSchema(input: unknown, options: ToJsonSchemaOptions = {}): JsonSchemaObject {
  if (!isStandardSchema(input)) {
    if (isPlainObject(input)) return input as JsonSchemaObject;
    throw new StructreamError(
      "invalid_schema",
      "A schema must be a Standard Schema validator (zod 4, valibot, arktype) or a JSON Schema object.",
    );
  }
  const vendor = input["~standard"].vendor;
  const target = options.target ?? "draft-2020-12";
  const given = options.jsonSchema;
  let produced: unknown;
  try {
    if (given !== undefined) produced = typeof given === "function" ? given(input) : given;
    else if (hasJsonSchemaConverter(input)) {
      const libraryOptions =
        options.libraryOptions ?? (vendor === "zod" ? { unrepresentable: "any" } : undefined);
      produced = input["~standard"].jsonSchema.input({ target, libraryOptions });
    } else if (typeof (input as { toJsonSchema?: unknown }).toJsonSchema === "function") {
      produced = (input as unknown as { toJsonSchema(): unknown }).toJsonSchema();
    }
  } catch (cause) {
    throw new StructreamError(
      "invalid_schema",
      `The ${vendor} schema cannot be turned into a JSON Schema: ${(cause as Error)?.message ?? String(cause)}. Pass options.jsonSchema.`,
      { cause },
    );
  }
  if (produced === undefined) {
    const hint =
      vendor === "valibot"
        ? ' (for valibot: `jsonSchema: toJsonSchema(schema)` from "@valibot/to-json-schema")'
        : vendor === "zod"
          ? ' (zod before 4.2: `jsonSchema: z.toJSONSchema(schema, { io: "input" })`)'
          : "";
    throw new StructreamError(
      "invalid_schema",
      `The ${vendor} schema cannot make a JSON Schema by itself: pass options.jsonSchema${hint}.`,
    );
  }
  if (!isPlainObject(produced)) {
    throw new StructreamError("invalid_schema", `The JSON Schema for the ${vendor} schema is not an object.`);
  }
  return produced as JsonSchemaObject;
}

/** Reads the dialect of a JSON Schema from `$schema`, or from draft-07-only keywords when absent. */
export function detectDraft(schema: JsonSchemaObject): JsonSchemaTarget | "draft-2019-09" {
  const declared = schema.$schema;
  if (typeof declared === "string") {
    if (declared.includes("2020-12")) return "draft-2020-12";
    if (declared.includes("2019-09")) return "draft-2019-09";
    if (/draft-0[4-7]/.test(declared)) return "draft-07";
  }
  return usesDraft07Keywords(schema, 0) ? "draft-07" : "draft-2020-12";
}

function usesDraft07Keywords(schema: unknown, depth: number): boolean {
  if (depth > 64 || typeof schema !== "object" || schema === null) return false;
  if (Array.isArray(schema)) return schema.some((s) => usesDraft07Keywords(s, depth + 1));
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.items) || "additionalItems" in s || "definitions" in s || "dependencies" in s)
    return true;
  for (const key in s) {
    if (key === "enum" || key === "const" || key === "default" || key === "examples") continue;
    if (usesDraft07Keywords(s[key], depth + 1)) return true;
  }
  return false;
}
