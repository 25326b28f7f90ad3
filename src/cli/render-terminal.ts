import { toPointer } from "../json/index.ts";
import type { FieldState, StreamStats } from "../stream/index.ts";
import { displayWidth, fitLines, sanitize, truncateEnd, truncateStart } from "./text.ts";
import { fieldState, type ViewState } from "./view-state.ts";

/** How a piece of a line is drawn. */
export type Style = "plain" | "bold" | "dim" | "green" | "red" | "yellow" | "cyan";

/** A piece of a line with one style. */
export interface Segment {
  text: string;
  style?: Style;
}

/** Options of {@link renderTerminal}. */
export interface RenderOptions {
  /** Terminal columns. Every line returned is at most `width - 1` columns wide. */
  width: number;
  /**
   * Terminal rows: the view is kept below this many lines (so it can be redrawn in place), by
   * showing fewer lines per string and fewer array items, then by cutting fields.
   * @defaultValue Infinity
   */
  height?: number;
  /** ANSI colours. @defaultValue false */
  color?: boolean;
}

const SGR: Record<Style, string> = {
  plain: "",
  bold: "\x1b[1m",
  dim: "\x1b[2m",
  green: "\x1b[32m",
  red: "\x1b[31m",
  yellow: "\x1b[33m",
  cyan: "\x1b[36m",
};

const SPINNER = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
const STREAMING_MARKS = ["◐", "◓", "◑", "◒"];

/** How much of each value the view shows; higher levels fit more fields on fewer lines. */
interface Detail {
  /** Lines a top-level string may take. */
  stringLines: number;
  /** Array items (and object members) listed under a field; 0 lists none. */
  items: number;
  /** An object item's members each on their own line (else all on the item's line). */
  memberLines: boolean;
}

const DETAILS: Detail[] = [
  { stringLines: 3, items: 8, memberLines: true },
  { stringLines: 2, items: 6, memberLines: true },
  { stringLines: 1, items: 4, memberLines: false },
  { stringLines: 1, items: 2, memberLines: false },
  { stringLines: 1, items: 0, memberLines: false },
];

interface Frame {
  width: number;
  color: boolean;
  spin: number;
  /** The stream ended without completing: what was streaming stays half-done. */
  stopped: boolean;
}

function lineWidth(line: Segment[]): number {
  let w = 0;
  for (const s of line) w += displayWidth(s.text);
  return w;
}

/** Cuts a line of segments to `width` columns, ending in `…` when something was cut. */
function clip(line: Segment[], width: number): Segment[] {
  if (lineWidth(line) <= width) return line;
  const out: Segment[] = [];
  let used = 0;
  for (const segment of line) {
    const w = displayWidth(segment.text);
    if (used + w <= width - 1) {
      out.push(segment);
      used += w;
      continue;
    }
    // The cut always ends in "…" and still fits: a segment that fits exactly is cut one shorter.
    let text = truncateEnd(segment.text, width - used);
    if (!text.endsWith("…")) text = `${truncateEnd(segment.text, Math.max(0, width - used - 1))}…`;
    if (displayWidth(text) > width - used) text = "…";
    out.push({ text, style: segment.style });
    break;
  }
  return out;
}

function toText(line: Segment[], color: boolean): string {
  let text = "";
  for (const s of line) {
    const code = color ? SGR[s.style ?? "plain"] : "";
    text += code === "" ? s.text : `${code}${s.text}\x1b[0m`;
  }
  return text;
}

function mark(state: FieldState, frame: Frame): Segment {
  if (state === "complete") return { text: "✓", style: "green" };
  if (state === "streaming") {
    if (frame.stopped) return { text: "◐", style: "yellow" };
    return { text: STREAMING_MARKS[frame.spin % STREAMING_MARKS.length]!, style: "cyan" };
  }
  return { text: "·", style: "dim" };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A value on one line, `width` columns at most: strings quoted, containers summarised. */
function inline(value: unknown, width: number, streaming: boolean): string {
  let text: string;
  if (typeof value === "string") {
    const body = sanitize(value);
    if (streaming) return truncateStart(`"${body}`, width);
    text = `"${body}"`;
  } else if (Array.isArray(value)) {
    text = `[${value.map((v) => inline(v, width, false)).join(", ")}]`;
  } else if (isObject(value)) {
    const members = Object.entries(value).map(([k, v]) => `${sanitize(k)}: ${inline(v, width, false)}`);
    text = members.join(" · ");
  } else if (value === undefined) text = "";
  else text = JSON.stringify(value);
  return truncateEnd(text, width);
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The lines under a field: its array items or object members, each on one line. */
function childLines(
  view: ViewState,
  path: (string | number)[],
  value: unknown,
  detail: Detail,
  frame: Frame,
  indent: number,
  parentComplete: boolean,
): Segment[][] {
  if (detail.items === 0) return [];
  const entries: [string | number, unknown][] = Array.isArray(value)
    ? value.map((v, i) => [i, v])
    : isObject(value)
      ? Object.entries(value)
      : [];
  if (entries.length === 0) return [];
  const complete = parentComplete || view.status === "complete";
  const lines: Segment[][] = [];
  const pad = " ".repeat(indent);
  let shown = entries;
  let before = 0;
  let after = 0;
  if (entries.length > detail.items) {
    // While streaming the newest items matter; once complete, the first ones.
    if (complete) {
      shown = entries.slice(0, detail.items - 1);
      after = entries.length - shown.length;
    } else {
      shown = entries.slice(-(detail.items - 1));
      before = entries.length - shown.length;
    }
  }
  if (before > 0)
    lines.push([{ text: `${pad}  … ${plural(before, "earlier item", "earlier items")}`, style: "dim" }]);
  const lastKey = entries[entries.length - 1]![0];
  for (const [key, child] of shown) {
    const childPath = [...path, key];
    const state = complete ? "complete" : fieldState(view, toPointer(childPath), true, key === lastKey);
    const label = typeof key === "number" ? `${key + 1}.` : `${sanitize(key)}:`;
    const head = `${pad}${label} `;
    const room = frame.width - 1 - displayWidth(head) - 2;
    if (detail.memberLines && typeof key === "number" && isObject(child) && Object.keys(child).length > 0) {
      // An object item: its members under its number, one a line.
      const memberPad = " ".repeat(displayWidth(head) + 2);
      let firstMember = true;
      const members = Object.keys(child);
      for (const [member, memberValue] of Object.entries(child)) {
        const last = member === members[members.length - 1] && state !== "complete";
        const memberState = fieldState(view, toPointer([...childPath, member]), true, last);
        const name = `${sanitize(member)}: `;
        const memberRoom = frame.width - 1 - memberPad.length - displayWidth(name);
        const text = inline(memberValue, Math.max(memberRoom, 4), memberState === "streaming");
        const valueSegments: Segment[] = [
          { text: name, style: "bold" },
          { text, style: valueStyle(memberValue) },
        ];
        if (firstMember) {
          lines.push([
            { text: pad },
            mark(state, frame),
            { text: ` ${label} `, style: "dim" },
            ...valueSegments,
          ]);
          firstMember = false;
        } else lines.push([{ text: memberPad }, ...valueSegments]);
      }
      continue;
    }
    lines.push([
      { text: pad },
      mark(state, frame),
      { text: ` ${label} `, style: typeof key === "number" ? "dim" : "bold" },
      { text: inline(child, Math.max(room, 4), state === "streaming"), style: valueStyle(child) },
    ]);
  }
  if (after > 0)
    lines.push([{ text: `${pad}  … ${plural(after, "more item", "more items")}`, style: "dim" }]);
  return lines;
}

function valueStyle(value: unknown): Style {
  if (typeof value === "string") return "plain";
  if (typeof value === "number" || typeof value === "boolean" || value === null) return "yellow";
  return "plain";
}

/** The lines of one top-level field. */
function fieldLines(
  view: ViewState,
  key: string,
  type: string | undefined,
  keyWidth: number,
  detail: Detail,
  frame: Frame,
): Segment[][] {
  const value = isObject(view.value) ? view.value[key] : undefined;
  const present = isObject(view.value) && key in view.value;
  const keys = isObject(view.value) ? Object.keys(view.value) : [];
  const state = fieldState(view, toPointer([key]), present, key === keys[keys.length - 1]);
  const name = truncateEnd(sanitize(key), keyWidth);
  const prefix: Segment[] = [
    mark(state, frame),
    { text: " " },
    { text: name + " ".repeat(keyWidth - displayWidth(name)), style: "bold" },
    { text: "  " },
  ];
  const usable = frame.width - 1;
  let valueWidth = usable - lineWidth(prefix);
  // On a narrow terminal the value goes under its name.
  const below = valueWidth < 16;
  const continuation = below ? "    " : " ".repeat(lineWidth(prefix));
  if (below) valueWidth = usable - continuation.length;

  const lines: Segment[][] = [];
  let first: Segment[];
  const rest: Segment[][] = [];
  if (!present) {
    first = [{ text: type === undefined ? "pending" : `pending (${type})`, style: "dim" }];
  } else if (typeof value === "string") {
    const quoted = state === "complete" ? `"${sanitize(value)}"` : `"${sanitize(value)}`;
    const wrapped = fitLines(quoted, valueWidth, detail.stringLines, state === "complete" ? "head" : "tail");
    first = [{ text: wrapped[0] ?? "" }];
    for (const line of wrapped.slice(1)) rest.push([{ text: continuation }, { text: line }]);
  } else if (Array.isArray(value)) {
    first = [{ text: plural(value.length, "item", "items"), style: "dim" }];
    rest.push(...childLines(view, [key], value, detail, frame, 4, state === "complete"));
  } else if (isObject(value)) {
    const count = Object.keys(value).length;
    first = [{ text: plural(count, "member", "members"), style: "dim" }];
    rest.push(...childLines(view, [key], value, detail, frame, 4, state === "complete"));
  } else {
    first = [{ text: inline(value, valueWidth, false), style: valueStyle(value) }];
  }
  if (below) {
    lines.push([mark(state, frame), { text: " " }, { text: name, style: "bold" }]);
    lines.push([{ text: continuation }, ...first]);
  } else lines.push([...prefix, ...first]);
  lines.push(...rest);
  return lines;
}

function seconds(ms: number): string {
  return ms < 10_000 ? `${(ms / 1000).toFixed(1)}s` : `${Math.round(ms / 1000)}s`;
}

function statusSegments(view: ViewState, frame: Frame): Segment[] {
  const elapsed = view.stats?.durationMs ?? Math.max(0, view.now - view.startedAt);
  const time = { text: ` ${seconds(elapsed)}`, style: "dim" as Style };
  switch (view.status) {
    case "complete":
      return [{ text: "✓ complete", style: "green" }, time];
    case "aborted":
      return [{ text: "✗ interrupted", style: "red" }, time];
    case "error":
      return [{ text: `✗ ${view.error?.code.replace(/_/g, " ") ?? "error"}`, style: "red" }, time];
    default: {
      const label = view.status === "idle" ? "starting" : view.status;
      return [{ text: `${SPINNER[frame.spin % SPINNER.length]} ${label}`, style: "cyan" }, time];
    }
  }
}

function headerLine(view: ViewState, frame: Frame): Segment[] {
  const right = statusSegments(view, frame);
  const usable = frame.width - 1;
  const room = usable - lineWidth(right) - 2;
  const parts = [view.provider, view.model, view.origin].filter(
    (p): p is string => p !== undefined && p !== "",
  );
  let left: Segment[] = [{ text: `structream ${view.command}`, style: "bold" }];
  // Drop the least useful parts first when the terminal is narrow.
  for (let n = parts.length; n >= 0; n--) {
    const candidate: Segment[] = [
      left[0]!,
      ...(n > 0
        ? [{ text: ` · ${parts.slice(0, n).map(sanitize).join(" · ")}`, style: "dim" as Style }]
        : []),
    ];
    if (lineWidth(candidate) <= room || n === 0) {
      left = candidate;
      break;
    }
  }
  if (lineWidth(left) > room) return clip(right, usable);
  const gap = Math.max(2, usable - lineWidth(left) - lineWidth(right));
  return [...left, { text: " ".repeat(gap) }, ...right];
}

function progressLine(view: ViewState, frame: Frame): Segment[] {
  const { percent, completed, total } = view.progress;
  const label =
    total > 0
      ? `${String(percent).padStart(3)}%  ${completed}/${total} fields`
      : `${String(percent).padStart(3)}%`;
  const usable = frame.width - 1;
  const barWidth = Math.max(4, Math.min(40, usable - displayWidth(label) - 3));
  const filled = Math.round((Math.max(0, Math.min(100, percent)) / 100) * barWidth);
  const done = view.status === "complete";
  return clip(
    [
      { text: "[" },
      { text: "█".repeat(filled), style: done ? "green" : "cyan" },
      { text: "░".repeat(barWidth - filled), style: "dim" },
      { text: "] " },
      { text: label, style: done ? "green" : "plain" },
    ],
    usable,
  );
}

function retryLine(view: ViewState, retry: ViewState["retries"][number], frame: Frame): Segment[] {
  const of = view.maxRetries !== undefined ? `/${view.maxRetries}` : "";
  const text =
    retry.replaced !== undefined
      ? `↻ retry ${retry.attempt}${of}: the retry's answer replaced the earlier one (${retry.code.replace(/_/g, " ")})`
      : `↻ retry ${retry.attempt}${of} in ${seconds(retry.delayMs)}: ${retry.code.replace(/_/g, " ")} (${sanitize(retry.message)})`;
  return [{ text: truncateEnd(text, frame.width - 1), style: "yellow" }];
}

/**
 * The statistics of a finished stream as short phrases, e.g. `first byte 312 ms`.
 *
 * @example
 * ```ts
 * statsParts(stats, "complete"); // ["done in 2.4s", "first byte 312 ms", ...]
 * ```
 */
export function statsParts(stats: StreamStats, status: string): string[] {
  const parts = [`${status === "complete" ? "done in" : "stopped after"} ${seconds(stats.durationMs)}`];
  if (stats.timeToFirstByteMs !== undefined) parts.push(`first byte ${stats.timeToFirstByteMs} ms`);
  if (stats.timeToFirstFieldMs !== undefined) parts.push(`first field ${stats.timeToFirstFieldMs} ms`);
  parts.push(
    `${plural(stats.deltas, "delta", "deltas")}${stats.deltasPerSecond > 0 ? ` (${stats.deltasPerSecond}/s)` : ""}`,
  );
  const kb = stats.bytes / 1000;
  parts.push(kb >= 1 ? `${kb.toFixed(1)} kB` : `${stats.bytes} B`);
  parts.push(plural(stats.retries, "retry", "retries"));
  const usage = stats.usage;
  if (usage !== undefined) {
    const tokens = [
      usage.inputTokens !== undefined ? `${usage.inputTokens} in` : undefined,
      usage.outputTokens !== undefined ? `${usage.outputTokens} out` : undefined,
    ].filter((t) => t !== undefined);
    if (tokens.length > 0) parts.push(`tokens ${tokens.join(" / ")}`);
    else if (usage.totalTokens !== undefined) parts.push(`${usage.totalTokens} tokens`);
  }
  return parts;
}

function statsLines(view: ViewState, frame: Frame): Segment[][] {
  if (
    view.stats === undefined ||
    (view.status !== "complete" && view.status !== "error" && view.status !== "aborted")
  )
    return [];
  const usable = frame.width - 1;
  const lines: Segment[][] = [];
  let line = "";
  for (const part of statsParts(view.stats, view.status)) {
    const next = line === "" ? part : `${line} · ${part}`;
    if (displayWidth(next) <= usable || line === "") line = next;
    else {
      lines.push([{ text: truncateEnd(line, usable), style: "dim" }]);
      line = part;
    }
  }
  if (line !== "") lines.push([{ text: truncateEnd(line, usable), style: "dim" }]);
  return lines;
}

function allFields(view: ViewState): { key: string; type?: string }[] {
  const fields: { key: string; type?: string }[] = [...view.fields];
  if (isObject(view.value)) {
    const known = new Set(fields.map((f) => f.key));
    for (const key of Object.keys(view.value)) if (!known.has(key)) fields.push({ key });
  }
  return fields;
}

function bodyLines(view: ViewState, detail: Detail, frame: Frame): Segment[][] {
  const fields = allFields(view);
  const lines: Segment[][] = [];
  if (fields.length === 0) {
    // Not an object (or nothing yet, and no schema to list): the value on its own.
    if (view.value !== undefined) {
      const streaming = view.status !== "complete";
      const text =
        typeof view.value === "string" ? `"${sanitize(view.value)}` : inline(view.value, 10_000, false);
      for (const line of fitLines(text, frame.width - 3, detail.stringLines, streaming ? "tail" : "head"))
        lines.push([{ text: `  ${line}` }]);
      lines.push(...childLines(view, [], view.value, detail, frame, 2, view.status === "complete"));
    }
    return lines;
  }
  const keyWidth = Math.min(
    Math.max(...fields.map((f) => displayWidth(sanitize(f.key)))),
    Math.max(6, Math.floor((frame.width - 1) / 4)),
  );
  for (const field of fields) lines.push(...fieldLines(view, field.key, field.type, keyWidth, detail, frame));
  return lines;
}

/**
 * Draws the live view of a stream as lines of text (no trailing newlines), a pure function of the
 * state: a header (command, provider, model, where the answer comes from, status, elapsed time),
 * each top-level field with a mark (`✓` complete, a turning `◐` streaming, `·` pending) and its
 * value as it fills (long strings show their newest text while streaming; arrays their items),
 * a progress bar, the retries, and once finished the statistics. Every line fits in `width - 1`
 * columns, and with `height` the whole view fits in `height - 1` lines.
 *
 * @example
 * ```ts
 * const lines = renderTerminal(view, { width: process.stderr.columns, height: process.stderr.rows, color: true });
 * process.stderr.write(`${lines.join("\n")}\n`);
 * ```
 */
export function renderTerminal(view: ViewState, options: RenderOptions): string[] {
  const width = Math.max(20, Math.floor(options.width));
  const maxLines =
    options.height === undefined ? Number.POSITIVE_INFINITY : Math.max(3, Math.floor(options.height) - 1);
  const frame: Frame = {
    width,
    color: options.color === true,
    spin: Math.floor((view.now - view.startedAt) / 100),
    stopped: view.status === "error" || view.status === "aborted",
  };
  const usable = width - 1;

  const header = [headerLine(view, frame)];
  // The model's reasoning, while it streams before the answer: one dim line of its newest words.
  if (view.reasoning && view.status !== "complete" && !frame.stopped) {
    const label = "  thinking: ";
    header.push([
      { text: label, style: "dim" },
      { text: truncateStart(sanitize(view.reasoning), usable - displayWidth(label)), style: "dim" },
    ]);
  }
  const footer: Segment[][] = [progressLine(view, frame)];
  for (const retry of view.retries.slice(-3)) footer.push(retryLine(view, retry, frame));
  footer.push(...statsLines(view, frame));

  let body: Segment[][] = [];
  const room = maxLines - header.length - footer.length;
  for (const detail of DETAILS) {
    body = bodyLines(view, detail, frame);
    if (body.length <= room) break;
  }
  if (body.length > room) {
    const keep = Math.max(0, room - 1);
    const cut = body.length - keep;
    body = [
      ...body.slice(0, keep),
      [{ text: `  … ${plural(cut, "more line", "more lines")}`, style: "dim" }],
    ];
    if (room <= 0) body = [];
  }
  const lines = [...header, ...body, ...footer].slice(0, Number.isFinite(maxLines) ? maxLines : undefined);
  return lines.map((line) => toText(clip(line, usable), frame.color));
}
