import { withDescribedConstraints } from "./described-constraints.ts";
import { stringForPattern } from "./pattern.ts";
import { createProse, type Prose, promptWords } from "./prose.ts";
import { createRandom, hashString, type Random } from "./random.ts";
import {
  isObject,
  mergeSchemas,
  numberOf,
  PENDING_CHOICES,
  resolveSchema,
  type SchemaObject,
  setKey,
  typesOf,
} from "./schema-walk.ts";

/** Options of {@link generateValue}. */
export interface GenerateValueOptions {
  /**
   * Any number or string; the same seed, schema and prompt always give the same value.
   * @defaultValue `0`
   */
  seed?: number | string;
  /**
   * The user's prompt: its words become the words of the answer's strings.
   * @defaultValue `""`
   */
  prompt?: string;
}

/** Beyond this depth of nesting the generator only adds what the schema requires, so recursive schemas end. */
const SHALLOW_DEPTH = 5;
/** A last stop for schemas whose every instance is infinitely deep (their `required` recursion has no base case). */
const MAX_DEPTH = 40;

interface Context {
  root: unknown;
  random: Random;
  prose: Prose;
}

/** The 32-bit seed of one answer: the same (seed, schema, prompt) always draws the same numbers. */
export function answerSeed(schema: unknown, prompt: string, seed: number | string): number {
  return hashString(`${String(seed)}\u0000${JSON.stringify(schema) ?? ""}\u0000${prompt}`) >>> 0;
}

/**
 * A JSON value that conforms to `schema`, with readable strings made from the prompt's words.
 * Deterministic: the same schema, prompt and seed give the same value, and it is exactly the value
 * the simulator streams for that request (as `JSON.stringify(value)`). See the simulator's TSDoc
 * (`index.ts`) for the supported keywords and the best-effort cases.
 *
 * @example
 * ```ts
 * const schema = {
 *   type: "object",
 *   properties: { title: { type: "string" }, stars: { type: "integer", minimum: 1, maximum: 5 } },
 *   required: ["title", "stars"],
 * };
 * generateValue(schema, { seed: 3, prompt: "Review the harbor café" });
 * // { title: "Review Café", stars: 3 }, on every run
 * ```
 */
export function generateValue(schema: unknown, options: GenerateValueOptions = {}): unknown {
  const prompt = options.prompt ?? "";
  const random = createRandom(answerSeed(schema, prompt, options.seed ?? 0));
  const context: Context = {
    root: schema,
    random,
    prose: createProse(random.fork("prose"), promptWords(prompt)),
  };
  return generate(schema, context, 0, undefined);
}

function generate(schema: unknown, context: Context, depth: number, key: string | undefined): unknown {
  const found = resolveSchema(schema, context.root);
  if (found === false) return null;
  const resolved = withDescribedConstraints(found);
  const { random } = context;

  if ("const" in resolved) return structuredClone(resolved.const);
  if (Array.isArray(resolved.enum) && resolved.enum.length > 0)
    return structuredClone(random.pick(resolved.enum));

  const choiceKey = Array.isArray(resolved.anyOf)
    ? "anyOf"
    : Array.isArray(resolved.oneOf)
      ? "oneOf"
      : undefined;
  if (choiceKey) {
    const { [choiceKey]: options, ...rest } = resolved;
    const branches = (options as unknown[]).filter((branch) => branch !== false);
    if (branches.length > 0) {
      const branch =
        depth >= SHALLOW_DEPTH
          ? simplestBranch(branches, context.root)
          : branches[random.int(0, branches.length - 1)];
      const chosen = resolveSchema(branch, context.root);
      return generate(chosen === false ? rest : mergeSchemas(rest, chosen), context, depth, key);
    }
  }
  const pending = resolved[PENDING_CHOICES];
  if (Array.isArray(pending) && pending.length > 0) {
    const { [PENDING_CHOICES]: _, ...rest } = resolved;
    const [next, ...later] = pending;
    const merged = mergeSchemas(
      later.length > 0 ? { ...rest, [PENDING_CHOICES]: later } : rest,
      next as SchemaObject,
    );
    return generate(merged, context, depth, key);
  }

  const type = chooseType(resolved, context, depth);
  switch (type) {
    case "null":
      return null;
    case "boolean":
      return random.chance(0.5);
    case "integer":
      return generateNumber(resolved, random, true);
    case "number":
      return generateNumber(resolved, random, false);
    case "array":
      return depth >= MAX_DEPTH ? [] : generateArray(resolved, context, depth, key);
    case "object":
      return depth >= MAX_DEPTH ? {} : generateObject(resolved, context, depth);
    default:
      return generateString(resolved, context, key);
  }
}

function chooseType(schema: SchemaObject, context: Context, depth: number): string {
  const types = typesOf(schema) ?? inferTypes(schema);
  if (types.length === 1) return types[0]!;
  const nonNull = types.filter((t) => t !== "null");
  if (nonNull.length === 0) return "null";
  if (types.includes("null") && (depth >= SHALLOW_DEPTH || context.random.chance(0.2))) return "null";
  return context.random.pick(nonNull);
}

function inferTypes(schema: SchemaObject): string[] {
  const has = (...keys: string[]) => keys.some((k) => k in schema);
  if (
    has(
      "properties",
      "required",
      "additionalProperties",
      "patternProperties",
      "minProperties",
      "propertyNames",
    )
  )
    return ["object"];
  if (has("items", "prefixItems", "minItems", "maxItems", "contains", "uniqueItems")) return ["array"];
  if (schema.format === "int32" || schema.format === "int64") return ["integer"];
  if (schema.format === "float" || schema.format === "double") return ["number"];
  if (has("minLength", "maxLength", "pattern", "format")) return ["string"];
  if (has("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf")) return ["number"];
  return ["string"];
}

/** At depth, the branch least likely to recurse: null, then scalars, then containers. */
function simplestBranch(branches: unknown[], root: unknown): unknown {
  let best = branches[0];
  let bestWeight = Number.POSITIVE_INFINITY;
  for (const branch of branches) {
    const resolved = resolveSchema(branch, root);
    if (resolved === false) continue;
    const types = typesOf(resolved) ?? inferTypes(resolved);
    const weight = types.includes("null")
      ? 0
      : types.some((t) => t !== "object" && t !== "array")
        ? 1
        : types.includes("array") && (numberOf(resolved.minItems) ?? 0) === 0
          ? 2
          : 3 + (Array.isArray(resolved.required) ? resolved.required.length : 0);
    if (weight < bestWeight) [best, bestWeight] = [branch, weight];
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// numbers

/** ajv's own `multipleOf` test (without `multipleOfPrecision`), so a value passes there exactly. */
function isMultiple(value: number, divisor: number): boolean {
  const quotient = value / divisor;
  return quotient === Number.parseInt(String(quotient), 10);
}

function generateNumber(schema: SchemaObject, random: Random, integer: boolean): number {
  let low = numberOf(schema.minimum);
  let high = numberOf(schema.maximum);
  let lowExclusive = false;
  let highExclusive = false;
  // Draft 4 spells exclusivity as a boolean beside minimum/maximum; later drafts as a number.
  if (schema.exclusiveMinimum === true) lowExclusive = low !== undefined;
  const exclusiveMinimum = numberOf(schema.exclusiveMinimum);
  if (exclusiveMinimum !== undefined && (low === undefined || exclusiveMinimum >= low)) {
    low = exclusiveMinimum;
    lowExclusive = true;
  }
  if (schema.exclusiveMaximum === true) highExclusive = high !== undefined;
  const exclusiveMaximum = numberOf(schema.exclusiveMaximum);
  if (exclusiveMaximum !== undefined && (high === undefined || exclusiveMaximum <= high)) {
    high = exclusiveMaximum;
    highExclusive = true;
  }
  if (schema.format === "int32") {
    low = Math.max(low ?? -(2 ** 31), -(2 ** 31));
    high = Math.min(high ?? 2 ** 31 - 1, 2 ** 31 - 1);
  }
  if (low === undefined && high === undefined) [low, high] = [0, 100];
  else if (low === undefined) low = high! - 100;
  else if (high === undefined) high = low + 100;
  const lo = low!;
  const hi = high!;
  const inRange = (v: number) => (lowExclusive ? v > lo : v >= lo) && (highExclusive ? v < hi : v <= hi);

  const divisor = numberOf(schema.multipleOf);
  if (divisor !== undefined && divisor > 0) {
    const firstK = Math.ceil(lo / divisor);
    const lastK = Math.floor(hi / divisor);
    const multiple = (k: number) => Number((k * divisor).toPrecision(15));
    const fits = (v: number) => inRange(v) && (!integer || Number.isInteger(v)) && isMultiple(v, divisor);
    if (lastK >= firstK) {
      for (let attempt = 0; attempt < 24; attempt++) {
        const v = multiple(random.int(firstK, Math.min(lastK, firstK + 1_000_000)));
        if (fits(v)) return v;
      }
      for (let k = firstK; k <= Math.min(lastK, firstK + 200); k++) if (fits(multiple(k))) return multiple(k);
    }
    return multiple(firstK);
  }

  if (integer) {
    const first = Math.max(lowExclusive ? Math.floor(lo) + 1 : Math.ceil(lo), Number.MIN_SAFE_INTEGER);
    const last = Math.min(highExclusive ? Math.ceil(hi) - 1 : Math.floor(hi), Number.MAX_SAFE_INTEGER);
    return last < first ? first : random.int(first, last);
  }
  if (hi <= lo) return lo;
  for (let attempt = 0; attempt < 8; attempt++) {
    const v = Math.round((lo + random.next() * (hi - lo)) * 100) / 100;
    if (inRange(v)) return v === 0 ? 0 : v;
  }
  return lo + (hi - lo) / 2;
}

// ---------------------------------------------------------------------------------------------
// strings

const COLORS = ["teal", "crimson", "amber", "slate", "olive", "indigo", "coral", "ivory"];

function words(key: string | undefined): string {
  // "createdAt", "created_at" and "created-at" all read as "created_at"
  return (key ?? "").replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();
}

function styledString(key: string | undefined, context: Context): string {
  const { prose, random } = context;
  const name = words(key);
  const capitalize = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  if (/e_?mail/.test(name)) return formatValue("email", context)!;
  if (/(^|_)(url|uri|link|website|href|homepage)s?$/.test(name)) return formatValue("uri", context)!;
  if (/(^|_)(date|day|birthday)$|_on$/.test(name)) return formatValue("date", context)!;
  if (/(_at|timestamp)$/.test(name)) return formatValue("date-time", context)!;
  if (/(^|_)(uuid|guid)$/.test(name)) return formatValue("uuid", context)!;
  if (/(^|_)(id|slug|key|code|sku|handle|username)$/.test(name))
    return `${prose.asciiWord()}-${prose.asciiWord()}-${random.int(1, 99)}`;
  if (/(colou?r)$/.test(name)) return random.pick(COLORS);
  if (/(^|_)(tag|keyword|category|categorie|topic|genre|skill|label|kind|mood|language)s?$/.test(name))
    return prose.word();
  if (/(^|_)(name|author|city|country|location|place|brand|company|owner)s?$/.test(name))
    return prose.title().split(" ").slice(0, 2).join(" ");
  if (/(title|heading|headline|subject|caption)s?$/.test(name)) return prose.title();
  if (/(summary|description|overview|abstract|bio|analysis|explanation|story|body|content|text)$/.test(name))
    return prose.sentences(3);
  if (
    /(reason|reasoning|details|message|notes?|answer|comment|excerpt|instructions?|steps?|feedback|review)s?$/.test(
      name,
    )
  )
    return prose.sentences(2);
  return capitalize(prose.phrase(random.int(2, 5)));
}

function fitLength(text: string, min: number, max: number, prose: Prose): string {
  const chars = [...text];
  while (chars.length < min) chars.push(...(chars.length > 0 ? [" "] : []), ...prose.word());
  if (chars.length > max) {
    chars.length = Math.max(0, max);
    while (chars.length > 0 && chars[chars.length - 1] === " ") chars.pop();
  }
  while (chars.length < min) chars.push(".");
  return chars.join("");
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

function hex(random: Random, count: number): string {
  let out = "";
  for (let i = 0; i < count; i++) out += random.int(0, 15).toString(16);
  return out;
}

/** A value for a format ajv-formats knows, or undefined for an unknown format (then any string will do). */
function formatValue(format: string, context: Context): string | undefined {
  const { random, prose } = context;
  const date = () => `${random.int(2019, 2026)}-${pad(random.int(1, 12))}-${pad(random.int(1, 28))}`;
  const time = () => `${pad(random.int(0, 23))}:${pad(random.int(0, 11) * 5)}:00`;
  const host = () => `${prose.asciiWord()}.example.com`;
  switch (format) {
    case "date-time":
      return `${date()}T${time()}Z`;
    case "date":
      return date();
    case "time":
      return `${time()}Z`;
    case "email":
    case "idn-email":
      return `${prose.asciiWord()}.${prose.asciiWord()}@example.com`;
    case "hostname":
    case "idn-hostname":
      return host();
    case "uri":
    case "url":
    case "iri":
    case "uri-reference":
    case "iri-reference":
      return `https://${host()}/${prose.asciiWord()}/${prose.asciiWord()}`;
    case "uri-template":
      return `https://${host()}/${prose.asciiWord()}/{id}`;
    case "ipv4":
      return `192.168.${random.int(0, 255)}.${random.int(1, 254)}`;
    case "ipv6":
      return `2001:db8::${hex(random, 4)}`;
    case "uuid":
      return `${hex(random, 8)}-${hex(random, 4)}-4${hex(random, 3)}-${random.pick(["8", "9", "a", "b"])}${hex(random, 3)}-${hex(random, 12)}`;
    case "duration":
      return `P${random.int(1, 30)}DT${random.int(1, 23)}H`;
    case "json-pointer":
      return `/${prose.asciiWord()}/${random.int(0, 9)}`;
    case "relative-json-pointer":
      return `${random.int(0, 3)}/${prose.asciiWord()}`;
    case "regex":
      return `^${prose.asciiWord()}-[0-9]+$`;
    case "byte":
      return btoa(`${prose.asciiWord()} ${prose.asciiWord()}`);
    default:
      return undefined;
  }
}

/** Tried in order when a pattern is outside the supported subset: values that common patterns accept. */
function patternFallbacks(context: Context, key: string | undefined): string[] {
  return [
    styledString(key, context),
    context.prose.asciiWord(),
    "a",
    "A1",
    "abc123",
    String(context.random.int(100, 999)),
    formatValue("uuid", context)!,
    formatValue("date", context)!,
    formatValue("date-time", context)!,
    formatValue("email", context)!,
    formatValue("uri", context)!,
    "",
  ];
}

function generateString(schema: SchemaObject, context: Context, key: string | undefined): string {
  const min = numberOf(schema.minLength) ?? 0;
  const max = numberOf(schema.maxLength) ?? Number.POSITIVE_INFINITY;
  if (typeof schema.format === "string") {
    const formatted = formatValue(schema.format, context);
    if (formatted !== undefined) return formatted; // formats win over length bounds (documented)
  }
  if (typeof schema.pattern === "string") {
    const matched = stringForPattern(schema.pattern, context.random, min, max);
    if (matched !== undefined) return matched;
    let regex: RegExp | undefined;
    try {
      regex = new RegExp(schema.pattern, "u");
    } catch {
      regex = undefined;
    }
    if (regex) {
      for (const candidate of patternFallbacks(context, key)) {
        const fitted = fitLength(candidate, min, max, context.prose);
        if (regex.test(fitted)) return fitted;
      }
    }
  }
  return fitLength(styledString(key, context), min, max, context.prose);
}

// ---------------------------------------------------------------------------------------------
// arrays and objects

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

function generateArray(
  schema: SchemaObject,
  context: Context,
  depth: number,
  key: string | undefined,
): unknown[] {
  const { random } = context;
  // 2020-12 spells tuples prefixItems + items; drafts 4 to 2019-09 spell them items[] + additionalItems.
  const prefix = Array.isArray(schema.prefixItems)
    ? schema.prefixItems
    : Array.isArray(schema.items)
      ? (schema.items as unknown[])
      : [];
  const rest = Array.isArray(schema.prefixItems)
    ? schema.items
    : Array.isArray(schema.items)
      ? schema.additionalItems
      : schema.items;
  const min = numberOf(schema.minItems) ?? 0;
  let max = numberOf(schema.maxItems) ?? Number.POSITIVE_INFINITY;
  if (rest === false) max = Math.min(max, prefix.length);
  if (max < min) max = min;
  const count =
    depth >= SHALLOW_DEPTH
      ? min
      : random.int(clamp(prefix.length || 2, min, max), clamp(Math.max(5, prefix.length), min, max));

  const contains = schema.contains;
  const minContains = contains === undefined ? 0 : Math.min(numberOf(schema.minContains) ?? 1, count || 1);
  const itemSchema = (index: number): unknown => {
    const base = index < prefix.length ? prefix[index] : (rest ?? {});
    if (index < minContains && isObject(contains))
      return isObject(base) ? { allOf: [base, contains] } : contains;
    return base;
  };

  const items: unknown[] = [];
  const unique = schema.uniqueItems === true;
  const seen = new Set<string>();
  let attempts = 0;
  while (items.length < Math.max(count, minContains) && attempts < count * 8 + 16) {
    attempts++;
    const item = generate(itemSchema(items.length), context, depth + 1, key);
    if (unique) {
      const id = JSON.stringify(item);
      if (seen.has(id)) continue;
      seen.add(id);
    }
    items.push(item);
  }
  return items;
}

function extraKey(
  schema: SchemaObject,
  context: Context,
  taken: Record<string, unknown>,
): string | undefined {
  const names = isObject(schema.propertyNames) ? schema.propertyNames : undefined;
  for (let attempt = 0; attempt < 12; attempt++) {
    let candidate: string | undefined;
    if (names && Array.isArray(names.enum)) candidate = String(context.random.pick(names.enum));
    else if (names && typeof names.pattern === "string")
      candidate = stringForPattern(names.pattern, context.random);
    else candidate = attempt < 6 ? context.prose.word() : `${context.prose.asciiWord()}_${attempt}`;
    if (candidate !== undefined && !Object.hasOwn(taken, candidate)) return candidate;
  }
  return undefined;
}

function generateObject(schema: SchemaObject, context: Context, depth: number): Record<string, unknown> {
  const { random } = context;
  const properties = isObject(schema.properties) ? schema.properties : {};
  const required = new Set(
    Array.isArray(schema.required) ? schema.required.filter((k): k is string => typeof k === "string") : [],
  );
  const ordering = Array.isArray(schema.propertyOrdering)
    ? schema.propertyOrdering.filter((k): k is string => typeof k === "string")
    : [];
  const keys = [...new Set([...ordering, ...Object.keys(properties), ...required])];
  const additional = schema.additionalProperties;
  const patternEntries = isObject(schema.patternProperties) ? Object.entries(schema.patternProperties) : [];
  const schemaFor = (name: string): unknown => {
    if (Object.hasOwn(properties, name)) return properties[name];
    for (const [pattern, sub] of patternEntries) {
      try {
        if (new RegExp(pattern, "u").test(name)) return sub;
      } catch {
        // an invalid pattern never matches
      }
    }
    return isObject(additional) ? additional : {};
  };

  // Dependencies pull more keys in: draft 2019-09 dependentRequired, or draft 7 dependencies (array form).
  const dependents = (name: string): string[] => {
    const map = isObject(schema.dependentRequired)
      ? schema.dependentRequired
      : isObject(schema.dependencies)
        ? schema.dependencies
        : {};
    const list = map[name];
    return Array.isArray(list) ? list.filter((k): k is string => typeof k === "string") : [];
  };

  const minProperties = numberOf(schema.minProperties) ?? 0;
  const maxProperties = numberOf(schema.maxProperties) ?? Number.POSITIVE_INFINITY;
  const chosen = new Set<string>();
  const include = (name: string) => {
    if (chosen.has(name)) return;
    chosen.add(name);
    for (const dependent of dependents(name)) include(dependent);
  };
  for (const name of keys) if (required.has(name)) include(name);
  const optional = keys.filter((name) => !required.has(name) && properties[name] !== false);
  for (const name of optional) {
    if (chosen.size >= maxProperties) break;
    if (depth < SHALLOW_DEPTH && random.chance(0.7)) include(name);
  }
  for (const name of optional) {
    if (chosen.size >= minProperties) break;
    include(name);
  }

  const out: Record<string, unknown> = {};
  for (const name of keys) {
    if (chosen.has(name)) setKey(out, name, generate(schemaFor(name), context, depth + 1, name));
  }
  for (const name of chosen) {
    if (!Object.hasOwn(out, name)) setKey(out, name, generate(schemaFor(name), context, depth + 1, name));
  }

  // Free-form maps (no declared properties) and minProperties beyond the declared ones get extra keys.
  const mayAddKeys = additional !== false || patternEntries.length > 0;
  const isMap = keys.length === 0 && (isObject(additional) || patternEntries.length > 0);
  let wanted = minProperties;
  if (isMap && depth < SHALLOW_DEPTH) wanted = Math.max(wanted, random.int(1, 3));
  wanted = Math.min(wanted, maxProperties);
  for (
    let attempt = 0;
    mayAddKeys && Object.keys(out).length < wanted && attempt < wanted * 8 + 8;
    attempt++
  ) {
    let name: string | undefined;
    let sub: unknown;
    if (additional === false && patternEntries.length > 0) {
      const [pattern, patternSchema] = random.pick(patternEntries);
      name = stringForPattern(pattern, random);
      sub = patternSchema;
    } else {
      name = extraKey(schema, context, out);
      sub = name === undefined ? undefined : schemaFor(name);
    }
    if (name === undefined || Object.hasOwn(out, name)) continue;
    setKey(out, name, generate(sub, context, depth + 1, name));
  }
  return out;
}
