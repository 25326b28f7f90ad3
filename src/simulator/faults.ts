import { StructreamError } from "../errors/index.ts";

/** What goes wrong in a simulated response. */
export type FaultKind =
  | "none"
  | "refusal"
  | "truncate"
  | "drop"
  | "stall"
  | "http"
  | "malformed"
  | "invalid-json"
  | "schema-violation"
  | "error-event";

/** A parsed fault (see the grammar in the simulator's TSDoc). */
export interface Fault {
  kind: FaultKind;
  /** HTTP status of an `http` fault (`429`, `500`, any 400–599). */
  status?: number;
  /**
   * Where a mid-stream fault strikes: bytes of the response body for `drop`, `stall`, `malformed`
   * and `error-event`; characters of the answer's text for `truncate`. Undefined: the middle.
   */
  at?: number;
  /** Only the first `times` requests with the same attempt key see the fault; undefined: every request. */
  times?: number;
  /** The fault as written, normalized (lowercase, aliases resolved). */
  spec: string;
}

const ALIASES: Record<string, string> = {
  truncation: "truncate",
  truncated: "truncate",
  error: "error-event",
  "mid-stream-error": "error-event",
  violation: "schema-violation",
  "invalid-schema": "schema-violation",
  timeout: "stall",
  "rate-limit": "429",
};

const GRAMMAR =
  /^(?<name>none|refusal|truncate|drop|stall|malformed|invalid-json|schema-violation|error-event|[45]\d\d)(?:-at-(?<at>\d+))?(?:-(?<times>once|twice|times-(?<count>\d+)))?$/;

const POSITIONED = new Set<FaultKind>(["truncate", "drop", "stall", "malformed", "error-event"]);

/**
 * Parses a fault as written in `x-sim-fault`, after `sim-` in a model name, in
 * `SimulatorOptions.fault` or on the command line.
 *
 * @throws StructreamError with code `invalid_fault` when the text is outside the grammar.
 * @example
 * ```ts
 * parseFault("drop-at-200-once"); // { kind: "drop", at: 200, times: 1, spec: "drop-at-200-once" }
 * ```
 */
export function parseFault(text: string): Fault {
  let spec = text.trim().toLowerCase();
  if (spec.startsWith("sim-")) spec = spec.slice(4);
  for (const [alias, name] of Object.entries(ALIASES)) {
    if (GRAMMAR.test(spec)) break;
    if (spec === alias || spec.startsWith(`${alias}-`)) {
      spec = name + spec.slice(alias.length);
      break;
    }
  }
  const match = GRAMMAR.exec(spec);
  const groups = match?.groups;
  if (!groups) {
    throw new StructreamError(
      "invalid_fault",
      `Unknown simulator fault "${text}". Write one of none, refusal, truncate, drop, stall, malformed, ` +
        "invalid-json, schema-violation, error-event or an HTTP status (429, 500, ...), optionally followed by " +
        '"-at-<bytes>" and by "-once", "-twice" or "-times-<n>" (e.g. "drop-at-200-once").',
    );
  }
  const name = groups.name!;
  const kind: FaultKind = /^\d+$/.test(name) ? "http" : (name as FaultKind);
  if (groups.at !== undefined && !POSITIONED.has(kind)) {
    throw new StructreamError(
      "invalid_fault",
      `The simulator fault "${text}" takes no position: only truncate, drop, stall, malformed and error-event accept "-at-<n>".`,
    );
  }
  const fault: Fault = { kind, spec };
  if (kind === "http") fault.status = Number(name);
  if (groups.at !== undefined) fault.at = Number(groups.at);
  if (groups.times === "once") fault.times = 1;
  else if (groups.times === "twice") fault.times = 2;
  else if (groups.count !== undefined) fault.times = Number(groups.count);
  return fault;
}

/** Counts attempts per key so that `-once` / `-times-<n>` faults stop firing and retries succeed. */
export class AttemptCounter {
  readonly #counts = new Map<string, number>();

  /** True when this attempt (under `key`) should still see `fault`; records the attempt. */
  fires(fault: Fault, key: string): boolean {
    if (fault.times === undefined) return true;
    const id = `${fault.spec}\u0000${key}`;
    const seen = this.#counts.get(id) ?? 0;
    this.#counts.set(id, seen + 1);
    return seen < fault.times;
  }

  /** Records one more request under `key` (whatever its fault) and returns its number, from 1. */
  next(key: string): number {
    const id = `\u0000attempt\u0000${key}`;
    const n = (this.#counts.get(id) ?? 0) + 1;
    this.#counts.set(id, n);
    return n;
  }

  clear(): void {
    this.#counts.clear();
  }
}
