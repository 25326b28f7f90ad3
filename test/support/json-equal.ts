/**
 * Deep equality for JSON values, stricter than `expect().toEqual`: leaves compare with `Object.is`
 * (so `-0` differs from `0`), objects must have the same own keys in the same order, and arrays the
 * same length. Iterative, so a document nested 100,000 deep compares without overflowing the stack.
 */
export function jsonDiff(actual: unknown, expected: unknown): string | undefined {
  const stack: [unknown, unknown, string][] = [[actual, expected, "$"]];
  while (stack.length > 0) {
    const [a, b, path] = stack.pop()!;
    if (Object.is(a, b)) continue;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) {
      return `${path}: got ${show(a)}, expected ${show(b)}`;
    }
    if (Array.isArray(a) !== Array.isArray(b)) {
      return `${path}: got ${Array.isArray(a) ? "an array" : "an object"}, expected the other`;
    }
    if (Array.isArray(a) && Array.isArray(b)) {
      if (a.length !== b.length) return `${path}: got length ${a.length}, expected ${b.length}`;
      for (let i = a.length - 1; i >= 0; i--) stack.push([a[i], b[i], `${path}[${i}]`]);
      continue;
    }
    const aKeys = Object.keys(a);
    const bKeys = Object.keys(b);
    if (aKeys.length !== bKeys.length || aKeys.some((key, i) => key !== bKeys[i])) {
      return `${path}: got keys ${JSON.stringify(aKeys)}, expected ${JSON.stringify(bKeys)}`;
    }
    for (let i = aKeys.length - 1; i >= 0; i--) {
      const key = aKeys[i];
      stack.push([
        (a as Record<string, unknown>)[key],
        (b as Record<string, unknown>)[key],
        `${path}[${JSON.stringify(key)}]`,
      ]);
    }
  }
  return undefined;
}

/** True when {@link jsonDiff} finds no difference. */
export function jsonEqual(actual: unknown, expected: unknown): boolean {
  return jsonDiff(actual, expected) === undefined;
}

/** A deep copy that keeps `-0` and an own `__proto__` key (recursive: for test-sized values). */
export function cloneJson<T>(value: T): T {
  if (typeof value !== "object" || value === null) return value;
  if (Array.isArray(value)) return value.map(cloneJson) as T;
  const copy: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    Object.defineProperty(copy, key, {
      value: cloneJson(child),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return copy as T;
}

function show(value: unknown): string {
  if (Object.is(value, -0)) return "-0";
  if (typeof value === "string") return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (typeof value === "object" && value !== null) return Array.isArray(value) ? "an array" : "an object";
  return String(value);
}
