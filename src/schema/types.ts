import type { StandardSchemaV1, StandardTypedV1 } from "@standard-schema/spec";
import type { SchemaIssue } from "../errors/index.ts";
import type { JsonSchemaObject } from "./json-schema.ts";

export type { SchemaIssue };

/**
 * What {@link compileSchema} accepts: any Standard Schema v1 validator (zod 4, valibot, arktype,
 * detected by its `~standard` property) or a plain JSON Schema object (draft 2020-12 or draft-07).
 *
 * @example
 * ```ts
 * const a: SchemaInput = z.object({ title: z.string() });
 * const b: SchemaInput = { type: "object", properties: { title: { type: "string" } } };
 * ```
 */
export type SchemaInput = StandardSchemaV1 | JsonSchemaObject;

/**
 * A field's state: `pending` (not started), `streaming` (started, still open) or `complete`.
 * Every path goes through them in this order, never skipping one.
 *
 * @example
 * ```ts
 * const state: FieldState = tracker.stateOf(["items", 0, "title"]);
 * if (state === "streaming") showSpinner();
 * ```
 */
export type FieldState = "pending" | "streaming" | "complete";

/**
 * How far the answer is, counted in the schema's expected fields (see {@link createSchemaTracker}).
 *
 * @example
 * ```ts
 * const { percent, pending } = tracker.progress; // 40, ["/summary", "/tags"]
 * ```
 */
export interface Progress {
  /** Expected fields complete so far; never decreases. */
  completed: number;
  /** Expected fields known so far; grows when a union resolves or a bounded array reveals items. */
  total: number;
  /** Whole percent 0–100; never goes backwards, stays at most 99 until `markComplete()`. */
  percent: number;
  /** JSON Pointers of the expected fields not complete yet, in schema order. */
  pending: string[];
}

/**
 * The result of final validation: the validator's output, or every issue it found.
 *
 * @example
 * ```ts
 * const result = await compiled.validateFinal(value);
 * if (result.issues) console.error(result.issues); else use(result.value);
 * ```
 */
export type FinalResult<T = unknown> =
  | { value: T; issues?: undefined }
  | { value?: undefined; issues: SchemaIssue[] };

/**
 * Every property optional, recursively: the type of a partial snapshot. Array items are partial
 * too (the last one may still be streaming); tuple elements may be missing.
 *
 * @example
 * ```ts
 * type P = DeepPartial<{ title: string; tags: { name: string }[] }>;
 * // { title?: string; tags?: { name?: string }[] }
 * ```
 */
export type DeepPartial<T> = T extends readonly unknown[]
  ? number extends T["length"]
    ? T extends readonly (infer U)[]
      ? DeepPartial<U>[]
      : never
    : { [K in keyof T]?: DeepPartial<T[K]> }
  : T extends (...args: never[]) => unknown
    ? T
    : T extends object
      ? { [K in keyof T]?: DeepPartial<T[K]> }
      : T;

type Decrement = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredKeys<S> = S extends { readonly required: readonly (infer R)[] } ? R : never;

type FromProperties<S, D extends number> = S extends { readonly properties: infer P }
  ? Simplify<
      {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? K : never]: FromJsonSchema<P[K], Decrement[D]>;
      } & {
        -readonly [K in keyof P as K extends RequiredKeys<S> ? never : K]?: FromJsonSchema<
          P[K],
          Decrement[D]
        >;
      }
    >
  : Record<string, unknown>;

type FromTuple<T, D extends number> = { -readonly [K in keyof T]: FromJsonSchema<T[K], Decrement[D]> };

type FromItems<S, D extends number> = S extends { readonly prefixItems: infer P extends readonly unknown[] }
  ? FromTuple<P, D>
  : S extends { readonly items: infer I extends readonly unknown[] }
    ? FromTuple<I, D>
    : S extends { readonly items: infer I }
      ? FromJsonSchema<I, Decrement[D]>[]
      : unknown[];

type FromTypeName<S, T, D extends number> = T extends "string"
  ? string
  : T extends "number" | "integer"
    ? number
    : T extends "boolean"
      ? boolean
      : T extends "null"
        ? null
        : T extends "array"
          ? FromItems<S, D>
          : T extends "object"
            ? FromProperties<S, D>
            : unknown;

/**
 * The TypeScript type a JSON Schema written `as const` describes. Covers `type` (one or a list),
 * `properties`/`required`, `items`/`prefixItems`, `enum`, `const`, `anyOf`/`oneOf`; anything else
 * (`$ref`, `allOf`, conditionals) is `unknown`. Nesting deeper than 16 levels is `unknown`.
 *
 * @example
 * ```ts
 * const Person = { type: "object", properties: { name: { type: "string" } }, required: ["name"] } as const;
 * type P = FromJsonSchema<typeof Person>; // { name: string }
 * ```
 */
export type FromJsonSchema<S, D extends number = 16> = [D] extends [never]
  ? unknown
  : S extends true
    ? unknown
    : S extends false
      ? never
      : S extends { readonly const: infer C }
        ? C
        : S extends { readonly enum: readonly (infer E)[] }
          ? E
          : S extends { readonly anyOf: readonly (infer M)[] }
            ? FromJsonSchema<M, Decrement[D]>
            : S extends { readonly oneOf: readonly (infer M)[] }
              ? FromJsonSchema<M, Decrement[D]>
              : S extends { readonly type: readonly (infer T)[] }
                ? FromTypeName<S, T, D>
                : S extends { readonly type: infer T }
                  ? FromTypeName<S, T, D>
                  : S extends { readonly properties: object }
                    ? FromProperties<S, D>
                    : unknown;

/**
 * The type of the final value for a schema: a Standard Schema's output type (after zod
 * transforms and defaults), or {@link FromJsonSchema} for a JSON Schema object.
 *
 * @example
 * ```ts
 * const Article = z.object({ title: z.string(), words: z.string().transform((s) => s.length) });
 * type A = InferOutput<typeof Article>; // { title: string; words: number }
 * ```
 */
export type InferOutput<S> = S extends StandardTypedV1
  ? StandardTypedV1.InferOutput<S>
  : S extends object
    ? FromJsonSchema<S>
    : unknown;

/**
 * The type the model writes for a schema: a Standard Schema's input type (before transforms;
 * properties with defaults optional), or {@link FromJsonSchema} for a JSON Schema object.
 *
 * @example
 * ```ts
 * const Article = z.object({ title: z.string(), words: z.string().transform((s) => s.length) });
 * type A = InferInput<typeof Article>; // { title: string; words: string }
 * ```
 */
export type InferInput<S> = S extends StandardTypedV1
  ? StandardTypedV1.InferInput<S>
  : S extends object
    ? FromJsonSchema<S>
    : unknown;

/**
 * The type of a partial snapshot for a schema: a {@link DeepPartial} of what the model writes
 * ({@link InferInput}). Snapshots are raw JSON, before the validator's transforms run, so a
 * `z.string().transform(...)` field is still its string while streaming.
 *
 * @example
 * ```ts
 * const Article = z.object({ title: z.string(), tags: z.array(z.string()) });
 * type P = InferPartial<typeof Article>; // { title?: string; tags?: string[] }
 * ```
 */
export type InferPartial<S> = DeepPartial<InferInput<S>>;
