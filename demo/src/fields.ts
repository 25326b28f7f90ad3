import type { JsonSchema } from "./api.ts";

/** One field of the answer, as the page lays it out before any of it arrives. */
export interface FieldNode {
  key: string;
  label: string;
  kind: "object" | "array" | "string" | "number" | "integer" | "boolean" | "enum" | "any";
  description?: string;
  /** Members of an object, in the schema's order. */
  children?: FieldNode[];
  /** The shape of each item of an array. */
  items?: FieldNode;
  /** Allowed values of an enum. */
  options?: unknown[];
  format?: string;
  required: boolean;
}

/** "totalMinutes" → "Total minutes", "next_actions" → "Next actions". */
export function humanize(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[-_]+/g, " ")
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function kindOf(schema: JsonSchema): FieldNode["kind"] {
  if (Array.isArray(schema.enum)) return "enum";
  const types = Array.isArray(schema.type) ? schema.type.filter((t) => t !== "null") : [schema.type];
  const type = types[0];
  if (type === "object" || (type === undefined && schema.properties !== undefined)) return "object";
  if (type === "array" || (type === undefined && schema.items !== undefined)) return "array";
  if (type === "string" || type === "number" || type === "integer" || type === "boolean") return type;
  return "any";
}

/** The page's field tree for a JSON Schema (objects, arrays, leaves; anything else is shown as JSON). */
export function fieldTree(schema: JsonSchema, key = "", required = true, depth = 0): FieldNode {
  const kind = depth > 8 ? "any" : kindOf(schema);
  const node: FieldNode = {
    key,
    label: typeof schema.title === "string" && depth > 0 ? schema.title : humanize(key),
    kind,
    required,
  };
  if (typeof schema.description === "string") node.description = schema.description;
  if (typeof schema.format === "string") node.format = schema.format;
  if (kind === "enum") node.options = schema.enum;
  if (kind === "object") {
    const requiredKeys = new Set(schema.required ?? []);
    node.children = Object.entries(schema.properties ?? {}).map(([name, child]) =>
      fieldTree(child, name, requiredKeys.has(name), depth + 1),
    );
  }
  if (kind === "array") node.items = fieldTree(schema.items ?? {}, "", true, depth + 1);
  return node;
}

/** `pointer` extended by one key (RFC 6901 escaping). */
export function childPointer(pointer: string, key: string | number): string {
  return `${pointer}/${String(key).replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/**
 * The JSON Pointers of the fields the page counts, taken from the schema before anything arrives,
 * so the total never changes mid-stream: every required leaf, through required objects, in the
 * schema's order. An array counts as one field (how many items it gets is the model's choice).
 */
export function expectedPointers(node: FieldNode, pointer = ""): string[] {
  if (node.kind !== "object") return [pointer];
  return (node.children ?? [])
    .filter((child) => child.required)
    .flatMap((child) => expectedPointers(child, childPointer(pointer, child.key)));
}
