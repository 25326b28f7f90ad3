import { isObject, resolveSchema, type SchemaObject, setKey, typesOf } from "./schema-walk.ts";

/**
 * A copy of `value` (valid against `schema`) that is still JSON but breaks the schema the way models
 * do: first an enum or const answered with a value off the list, else a required property left out,
 * else a property of the wrong type, else a root of the wrong type. `violated` is false when the
 * schema accepts every JSON value, or the value sits under `anyOf`/`oneOf` branches the walk does not
 * enter, so no break could be guaranteed.
 */
export function violateSchema(schema: unknown, value: unknown): { value: unknown; violated: boolean } {
  const copy = structuredClone(value);
  const root = schema;
  const broken =
    breakEnum(schema, copy, root) ?? breakRequired(schema, copy, root) ?? breakType(schema, copy, root, 0);
  return broken === undefined ? { value: copy, violated: false } : { value: broken.value, violated: true };
}

interface Broken {
  value: unknown;
}

function offList(options: unknown[], sample: unknown): unknown {
  const taken = new Set(options.map((o) => JSON.stringify(o)));
  const base =
    typeof sample === "string"
      ? `${sample}-unlisted`
      : typeof sample === "number"
        ? sample + 1000.5
        : "unlisted";
  let candidate: unknown = base;
  for (let i = 2; taken.has(JSON.stringify(candidate)); i++) candidate = `${String(base)}-${i}`;
  return candidate;
}

/** Replaces the first enum/const value found (depth first, in document order) with one off the list. */
function breakEnum(schema: unknown, value: unknown, root: unknown, depth = 0): Broken | undefined {
  if (depth > 64) return undefined;
  const s = resolveSchema(schema, root);
  if (s === false) return undefined;
  if (Array.isArray(s.enum) && s.enum.length > 0) return { value: offList(s.enum, value) };
  if ("const" in s) return { value: offList([s.const], value) };
  if (s.anyOf !== undefined || s.oneOf !== undefined) return undefined;
  if (isObject(value) && isObject(s.properties)) {
    for (const [key, child] of Object.entries(value)) {
      if (!Object.hasOwn(s.properties, key)) continue;
      const broken = breakEnum(s.properties[key], child, root, depth + 1);
      if (broken) {
        setKey(value, key, broken.value);
        return { value };
      }
    }
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const itemSchema = itemSchemaAt(s, i);
      if (itemSchema === undefined) continue;
      const broken = breakEnum(itemSchema, value[i], root, depth + 1);
      if (broken) {
        value[i] = broken.value;
        return { value };
      }
    }
  }
  return undefined;
}

function itemSchemaAt(s: SchemaObject, index: number): unknown {
  const prefix = Array.isArray(s.prefixItems) ? s.prefixItems : Array.isArray(s.items) ? s.items : undefined;
  if (prefix && index < prefix.length) return prefix[index];
  if (Array.isArray(s.prefixItems)) return s.items;
  if (Array.isArray(s.items)) return s.additionalItems;
  return s.items;
}

/** Drops a required property from the shallowest object that has one. */
function breakRequired(schema: unknown, value: unknown, root: unknown): Broken | undefined {
  let level: { schema: unknown; value: unknown; set: (v: unknown) => void }[] = [
    { schema, value, set: () => {} },
  ];
  for (let depth = 0; depth < 16 && level.length > 0; depth++) {
    const next: typeof level = [];
    for (const entry of level) {
      const s = resolveSchema(entry.schema, root);
      if (s === false || s.anyOf !== undefined || s.oneOf !== undefined) continue;
      if (isObject(entry.value)) {
        const object = entry.value;
        const required = Array.isArray(s.required) ? s.required.filter((k) => Object.hasOwn(object, k)) : [];
        if (required.length > 0) {
          delete object[required[0] as string];
          return { value };
        }
        if (isObject(s.properties)) {
          for (const [key, child] of Object.entries(object)) {
            if (Object.hasOwn(s.properties, key))
              next.push({ schema: s.properties[key], value: child, set: (v) => setKey(object, key, v) });
          }
        }
      } else if (Array.isArray(entry.value)) {
        const array = entry.value;
        array.forEach((item, i) => {
          const itemSchema = itemSchemaAt(s, i);
          if (itemSchema !== undefined)
            next.push({ schema: itemSchema, value: item, set: (v) => (array[i] = v) });
        });
      }
    }
    level = next;
  }
  return undefined;
}

const SAMPLES: Record<string, unknown> = {
  string: "unexpected text",
  number: 42.5,
  integer: 42,
  boolean: true,
  null: null,
  object: { unexpected: true },
  array: ["unexpected"],
};

/** A value whose JSON type the schema's `type` does not allow (integer-valued numbers count as "integer"). */
function wrongTypeFor(s: SchemaObject): unknown {
  const types = typesOf(s);
  if (!types) return undefined;
  for (const candidate of ["string", "number", "boolean", "array", "object", "null"]) {
    if (types.includes(candidate)) continue;
    if (candidate === "number" && types.includes("integer")) continue;
    return SAMPLES[candidate];
  }
  return undefined;
}

/** Gives the first typed property a value of another type, else the root. */
function breakType(schema: unknown, value: unknown, root: unknown, depth: number): Broken | undefined {
  const s = resolveSchema(schema, root);
  if (s === false || s.anyOf !== undefined || s.oneOf !== undefined || depth > 16) return undefined;
  if (isObject(value) && isObject(s.properties)) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(s.properties, key)) continue;
      const child = resolveSchema(s.properties[key], root);
      if (child === false || child.anyOf !== undefined || child.oneOf !== undefined) continue;
      const wrong = wrongTypeFor(child);
      if (wrong !== undefined) {
        setKey(value, key, structuredClone(wrong));
        return { value };
      }
    }
  }
  const wrong = wrongTypeFor(s);
  return wrong === undefined ? undefined : { value: structuredClone(wrong) };
}
