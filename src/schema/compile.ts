import type { StandardSchemaV1 } from "@standard-schema/spec";
import { StructreamError } from "../errors/index.ts";
import type { PathSegment } from "../json/index.ts";
import { canGenerateCode, createInterpretedEngine, unsupportedKeywords } from "./interpret.ts";
import {
  detectDraft,
  isStandardSchema,
  type JsonSchemaObject,
  type JsonSchemaTarget,
  type ToJsonSchemaOptions,
  toJsonSchema,
} from "./json-schema.ts";
import { createSchemaNode, nodeAt, type SchemaNode } from "./shape.ts";
import type { FinalResult, InferInput, InferOutput, SchemaInput, SchemaIssue } from "./types.ts";
import { type AjvEngine, createAjvEngine, validateFinal } from "./validate.ts";

/**
 * Options of {@link compileSchema}: how a Standard Schema becomes a JSON Schema.
 *
 * @example
 * ```ts
 * compileSchema(valibotSchema, { jsonSchema: toJsonSchema(valibotSchema) }); // @valibot/to-json-schema
 * ```
 */
export interface CompileSchemaOptions extends ToJsonSchemaOptions {}

/**
 * A schema made ready for streaming: its JSON Schema (what the model is asked for), its shape,
 * and validators for parts and for the whole. Made once per schema object and cached.
 *
 * @example
 * ```ts
 * const compiled: CompiledSchema<{ title: string }> = compileSchema(z.object({ title: z.string() }));
 * compiled.validateAt(["title"], 1); // [{ pointer: "/title", code: "invalid_type", ... }]
 * ```
 */
export interface CompiledSchema<Output = unknown, Input = Output> {
  /** `"standard"` for a Standard Schema validator, `"json-schema"` for a plain JSON Schema. */
  readonly kind: "standard" | "json-schema";
  /** The Standard Schema vendor (`"zod"`, `"valibot"`, `"arktype"`, ...), when there is one. */
  readonly vendor: string | undefined;
  /** The schema as given. */
  readonly input: SchemaInput;
  /** The Standard Schema validator, when the input is one. */
  readonly standard: StandardSchemaV1<Input, Output> | undefined;
  /** The JSON Schema sent to models and used for early validation (the input side of transforms). */
  readonly jsonSchema: JsonSchemaObject;
  /** Its dialect. */
  readonly draft: JsonSchemaTarget | "draft-2019-09";
  /** The root of the shape every layer reads. */
  readonly root: SchemaNode;
  /** The node at a path (unions narrowed by `value`, the value at the root, when given). */
  nodeAt(path: readonly PathSegment[], value?: unknown): SchemaNode;
  /** Every issue of a complete value at `path` against its part of the JSON Schema. */
  validateAt(path: readonly PathSegment[], value: unknown): SchemaIssue[];
  /** Every issue of a complete value against a node, reported under `path`. */
  validateNode(node: SchemaNode, value: unknown, path?: readonly PathSegment[]): SchemaIssue[];
  /** Final validation with the user's own validator; see {@link validateFinal}. */
  validateFinal(value: unknown): FinalResult<Output> | Promise<FinalResult<Output>>;
  /** Type-only: the output and input types. */
  readonly "~types"?: { readonly output: Output; readonly input: Input };
}

interface CacheEntry {
  target: JsonSchemaTarget | undefined;
  jsonSchema: ToJsonSchemaOptions["jsonSchema"];
  libraryOptions: Record<string, unknown> | undefined;
  compiled: CompiledSchema;
}

const cache = new WeakMap<object, CacheEntry[]>();
const engines = new WeakMap<CompiledSchema, AjvEngine>();

/**
 * The ajv engine behind a schema made by {@link compileSchema} (internal to `src/schema/`: the
 * tracker's shallow checks); `undefined` for any other object.
 */
export function engineOf(compiled: CompiledSchema): AjvEngine | undefined {
  return engines.get(compiled);
}

/**
 * Prepares a schema for streaming: a Standard Schema v1 validator (zod 4, valibot, arktype) or a
 * JSON Schema object (draft 2020-12 or draft-07, told apart by `$schema`). Derives the JSON Schema
 * (see {@link toJsonSchema}), builds the shape, and compiles the JSON Schema with ajv at once, so
 * a broken schema throws here. The result is cached per schema object (and options).
 *
 * Where code generation is forbidden (Cloudflare Workers, a strict Content-Security-Policy, Node's
 * `--disallow-code-generation-from-strings`) ajv cannot run: values are then checked by walking
 * the JSON Schema ({@link createInterpretedEngine}), and a Standard Schema's own validator still
 * makes the final check. A plain JSON Schema using a keyword that walk does not check (`format`,
 * `unevaluatedProperties`, ...) is refused there with `invalid_schema`, rather than half-validated.
 *
 * @throws StructreamError `invalid_schema` when the schema cannot be used.
 * @example
 * ```ts
 * const Article = z.object({ title: z.string(), tags: z.array(z.string()) });
 * const compiled = compileSchema(Article);
 * compiled.jsonSchema; // { $schema: "https://json-schema.org/draft/2020-12/schema", type: "object", ... }
 * compiled.validateAt(["tags", 0], 7); // [{ pointer: "/tags/0", code: "invalid_type", expected: "string", received: "number", ... }]
 * ```
 */
export function compileSchema<S extends SchemaInput>(
  schema: S,
  options: CompileSchemaOptions = {},
): CompiledSchema<InferOutput<S>, InferInput<S>> {
  const key = schema as object;
  const entries = cache.get(key);
  const hit = entries?.find(
    (e) =>
      e.target === options.target &&
      e.jsonSchema === options.jsonSchema &&
      e.libraryOptions === options.libraryOptions,
  );
  if (hit !== undefined) return hit.compiled as CompiledSchema<InferOutput<S>, InferInput<S>>;

  const jsonSchema = toJsonSchema(schema, options);
  const standard = isStandardSchema(schema) ? schema : undefined;
  const draft = detectDraft(jsonSchema);
  const root = createSchemaNode(jsonSchema);
  const engine: AjvEngine = canGenerateCode()
    ? createAjvEngine(jsonSchema, draft)
    : createEngineWithoutCodegen(jsonSchema, standard);
  const compiled: CompiledSchema = {
    kind: standard === undefined ? "json-schema" : "standard",
    vendor: standard?.["~standard"].vendor,
    input: schema,
    standard,
    jsonSchema,
    draft,
    root,
    nodeAt: (path, value) => nodeAt(root, path, value),
    validateAt: (path, value) => engine.issuesFor(nodeAt(root, path), value, path),
    validateNode: (node, value, path = []) => engine.issuesFor(node, value, path),
    validateFinal: (value) => validateFinal(compiled, value),
  };
  engines.set(compiled, engine);
  const entry: CacheEntry = {
    target: options.target,
    jsonSchema: options.jsonSchema,
    libraryOptions: options.libraryOptions,
    compiled,
  };
  if (entries === undefined) cache.set(key, [entry]);
  else entries.push(entry);
  return compiled as CompiledSchema<InferOutput<S>, InferInput<S>>;
}

/** The engine where `new Function` is forbidden; see {@link compileSchema}. */
function createEngineWithoutCodegen(
  jsonSchema: JsonSchemaObject,
  standard: StandardSchemaV1 | undefined,
): AjvEngine {
  if (standard === undefined) {
    const unsupported = unsupportedKeywords(jsonSchema);
    if (unsupported.length > 0) {
      throw new StructreamError(
        "invalid_schema",
        `This runtime forbids code generation (new Function), so ajv cannot validate here, and the JSON Schema uses keywords that structream's own check does not cover: ${unsupported.slice(0, 5).join(", ")}${unsupported.length > 5 ? ", ..." : ""}. Pass a Standard Schema (zod, valibot, arktype), whose own validator runs here, or leave those keywords out.`,
      );
    }
  }
  return createInterpretedEngine(jsonSchema);
}
