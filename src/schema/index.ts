/**
 * The schema layer: turns a Standard Schema validator or a JSON Schema into one description of
 * the shape ({@link SchemaNode}), decides what streams progressively and what appears only
 * complete, counts progress, and validates early (per completed value) and finally (with the
 * user's own validator). Synchronous and pure; `src/stream/` drives it with parser events.
 */
export { type CompiledSchema, type CompileSchemaOptions, compileSchema } from "./compile.ts";
export {
  isStandardSchema,
  type JsonSchema,
  type JsonSchemaObject,
  type JsonSchemaTarget,
  type JsonSchemaTypeName,
  type ToJsonSchemaOptions,
  toJsonSchema,
} from "./json-schema.ts";
export {
  createStreamPolicy,
  isAtomicNode,
  type StreamPolicy,
  type StreamPolicyOptions,
  schemaGateKeys,
} from "./policy.ts";
export {
  childSchema,
  createSchemaNode,
  type Discriminator,
  narrowByKind,
  narrowSchema,
  type SchemaNode,
} from "./shape.ts";
export { createSchemaTracker, type SchemaTracker, type SchemaTrackerOptions } from "./tracker.ts";
export type {
  DeepPartial,
  FieldState,
  FinalResult,
  FromJsonSchema,
  InferInput,
  InferOutput,
  InferPartial,
  Progress,
  SchemaInput,
  SchemaIssue,
} from "./types.ts";
export { standardIssues, validateFinal } from "./validate.ts";
