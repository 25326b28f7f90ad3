import type { JsonSchemaObject } from "../schema/index.ts";
import type { FieldState, Progress, StreamEvent, StreamStats, StreamStatus } from "../stream/index.ts";
import { exitCodeFor, hintFor } from "./exit-codes.ts";

/** A top-level field the view lists from the start, from the schema. */
export interface FieldInfo {
  key: string;
  /** The schema's type, shown beside a pending field ("string", "array", "enum", ...). */
  type?: string;
}

/** A retry as the view lists it. */
export interface RetryInfo {
  attempt: number;
  delayMs: number;
  code: string;
  message: string;
  /** Set when this retry's answer contradicted what was shown: the JSON Pointers it withdrew. */
  replaced?: readonly string[];
}

/** What the view shows when the stream failed. */
export interface ViewError {
  code: string;
  message: string;
  hint: string;
  exitCode: number;
}

/** Status as shown: the stream's own, or `aborted` after Ctrl-C. */
export type ViewStatus = StreamStatus | "aborted";

/**
 * Everything the terminal view draws, and nothing else: {@link renderTerminal} is a pure function
 * of it. Built with {@link createViewState} and advanced with {@link applyEvent}.
 */
export interface ViewState {
  /** `run` or `parse`. */
  command: string;
  provider?: string;
  model?: string;
  /** Where the answer comes from: `simulator`, a host, a file name. */
  origin?: string;
  fields: readonly FieldInfo[];
  status: ViewStatus;
  value: unknown;
  /** Field states by JSON Pointer, from `field-state` events. */
  states: ReadonlyMap<string, FieldState>;
  progress: Progress;
  retries: readonly RetryInfo[];
  maxRetries?: number;
  stats?: StreamStats;
  error?: ViewError;
  /**
   * The end of the model's reasoning while it streams (its last line, at most 200 characters),
   * shown as one dim line; cleared when the answer starts.
   */
  reasoning?: string;
  /** `Date.now()` when the stream started, and now: the elapsed time and the spinner. */
  startedAt: number;
  now: number;
}

/** What a new view knows before the first event. */
export interface ViewInit {
  command: string;
  provider?: string;
  model?: string;
  origin?: string;
  /** The JSON Schema: its top-level properties are listed as pending fields from the start. */
  schema?: JsonSchemaObject;
  maxRetries?: number;
  now: number;
}

function typeLabel(schema: unknown): string | undefined {
  if (typeof schema !== "object" || schema === null) return undefined;
  const s = schema as Record<string, unknown>;
  if (Array.isArray(s.enum)) return "enum";
  if ("const" in s) return "const";
  if (typeof s.type === "string") return s.type;
  if (Array.isArray(s.type)) return s.type.filter((t) => t !== "null").join("|") || "null";
  if (Array.isArray(s.anyOf) || Array.isArray(s.oneOf)) return "union";
  if (typeof s.$ref === "string") return "object";
  return undefined;
}

/**
 * The top-level fields of a schema, in its order (`$ref` to a local `$defs` entry followed once).
 *
 * @example
 * ```ts
 * schemaFields({ type: "object", properties: { title: { type: "string" } } }); // [{ key: "title", type: "string" }]
 * ```
 */
export function schemaFields(schema: JsonSchemaObject | undefined): FieldInfo[] {
  let root = schema as Record<string, unknown> | undefined;
  if (root !== undefined && typeof root.$ref === "string" && root.properties === undefined) {
    const match = /^#\/(\$defs|definitions)\/([^/]+)$/.exec(root.$ref);
    const defs = match ? (root[match[1]!] as Record<string, unknown> | undefined) : undefined;
    root = match ? (defs?.[match[2]!] as Record<string, unknown> | undefined) : undefined;
  }
  const properties = root?.properties;
  if (typeof properties !== "object" || properties === null) return [];
  return Object.entries(properties as Record<string, unknown>).map(([key, sub]) => {
    const type = typeLabel(sub);
    return type === undefined ? { key } : { key, type };
  });
}

const NO_PROGRESS: Progress = { completed: 0, total: 0, percent: 0, pending: [] };

/** A view before the first event. */
export function createViewState(init: ViewInit): ViewState {
  const state: ViewState = {
    command: init.command,
    fields: schemaFields(init.schema),
    status: "idle",
    value: undefined,
    states: new Map(),
    progress: NO_PROGRESS,
    retries: [],
    startedAt: init.now,
    now: init.now,
  };
  if (init.provider !== undefined) state.provider = init.provider;
  if (init.model !== undefined) state.model = init.model;
  if (init.origin !== undefined) state.origin = init.origin;
  if (init.maxRetries !== undefined) state.maxRetries = init.maxRetries;
  return state;
}

/** The one-line description of a stream error the view and the NDJSON output share. */
export function describeError(error: { code: string; message: string }): ViewError {
  return {
    code: error.code,
    message: error.message,
    hint: hintFor(error.code),
    exitCode: exitCodeFor(error.code),
  };
}

/**
 * The view after one stream event. Pure: returns a new state, leaves the old one as it was.
 *
 * @example
 * ```ts
 * let view = createViewState({ command: "run", now: Date.now() });
 * for await (const event of stream) view = applyEvent(view, event, Date.now());
 * ```
 */
export function applyEvent(state: ViewState, event: StreamEvent, now: number): ViewState {
  switch (event.type) {
    case "status":
      // "aborted" is final: the error status that follows it says nothing more.
      return state.status === "aborted" ? { ...state, now } : { ...state, status: event.status, now };
    case "partial":
      return { ...state, value: event.value, progress: event.progress, reasoning: undefined, now };
    case "reasoning": {
      const text = `${state.reasoning ?? ""}${event.delta}`;
      const line = text.slice(text.lastIndexOf("\n") + 1).slice(-200);
      return { ...state, reasoning: line, now };
    }
    case "commentary":
      return { ...state, now };
    case "field-state": {
      const states = new Map(state.states);
      states.set(event.pointer, event.state);
      return { ...state, states, now };
    }
    case "field":
      return { ...state, now };
    case "rewind": {
      // The retry's answer replaced what was shown at these paths: their states start over.
      const states = new Map(state.states);
      for (const pointer of states.keys()) {
        if (event.retracted.some((r) => pointer === r || r === "" || pointer.startsWith(`${r}/`))) {
          states.delete(pointer);
        }
      }
      const retries = [...state.retries];
      const last = retries[retries.length - 1];
      if (last !== undefined) retries[retries.length - 1] = { ...last, replaced: event.retracted };
      return { ...state, states, retries, now };
    }
    case "retry":
      return {
        ...state,
        retries: [
          ...state.retries,
          {
            attempt: event.attempt,
            delayMs: event.delayMs,
            code: event.error.code,
            message: event.error.message,
          },
        ],
        now,
      };
    case "complete":
      return {
        ...state,
        status: "complete",
        value: event.value,
        progress: { ...state.progress, completed: state.progress.total, percent: 100, pending: [] },
        stats: event.stats,
        now,
      };
    case "error": {
      const aborted = event.error.code === "aborted";
      return {
        ...state,
        status: aborted ? "aborted" : "error",
        value: event.error.partial ?? state.value,
        error: describeError(event.error),
        now,
      };
    }
  }
}

/** The same view at a later time (the elapsed time and the spinner move on). */
export function tick(state: ViewState, now: number): ViewState {
  return { ...state, now };
}

/** The view with the final statistics (also after an error, read from the stream). */
export function withStats(state: ViewState, stats: StreamStats): ViewState {
  return { ...state, stats };
}

/**
 * The state of the field at `pointer`: as reported by `field-state` events, else guessed from the
 * value (JSON arrives in order, so a value followed by a sibling is complete), else pending.
 */
export function fieldState(state: ViewState, pointer: string, present: boolean, last = true): FieldState {
  if (state.status === "complete") return "complete";
  return state.states.get(pointer) ?? (present ? (last ? "streaming" : "complete") : "pending");
}
