import { toPointer } from "../json/index.ts";
import type { CliOutput } from "./io.ts";
import { renderTerminal, statsParts } from "./render-terminal.ts";
import { sanitize } from "./text.ts";
import { fieldState, type ViewState } from "./view-state.ts";

/**
 * Below this many columns (or {@link MIN_LIVE_ROWS} rows) the live view is not drawn: a frame
 * redrawn in place needs room for its lines, and on a terminal a few columns wide every line
 * wraps, so moving up by the frame's line count misses and each redraw leaves a trail of
 * scrollback. Instead the view prints plain lines, one per thing that happened (a status, a
 * field completed, a retry), and never moves the cursor.
 */
export const MIN_LIVE_COLUMNS = 30;
/** See {@link MIN_LIVE_COLUMNS}. */
export const MIN_LIVE_ROWS = 6;

/** Shows and hides the cursor (DECTCEM). */
export const SHOW_CURSOR = "\x1b[?25h";
export const HIDE_CURSOR = "\x1b[?25l";
// Synchronized output (DEC mode 2026): the terminal shows the frame whole, never half drawn.
// Terminals without it ignore the sequence.
const BEGIN_FRAME = "\x1b[?2026h";
const END_FRAME = "\x1b[?2026l";
const CLEAR_LINE_END = "\x1b[K";
const CLEAR_BELOW = "\x1b[0J";
const HOME_AND_CLEAR = "\x1b[H\x1b[0J";

/** Options of {@link createLiveView}. */
export interface LiveViewOptions {
  color: boolean;
  /** Least time between two frames. @defaultValue 33 (about 30 frames a second) */
  intervalMs?: number;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** A view redrawn in place on a terminal. */
export interface LiveView {
  /** Draws `state` now, or at the next frame time when the last frame was drawn less than `intervalMs` ago. */
  update(state: ViewState): void;
  /** Draws the final frame (not cut to the terminal's height) and gives the cursor back. */
  finish(state: ViewState): void;
}

/**
 * Redraws the view in place: the cursor goes back up to the first line of the last frame
 * (`ESC [ n F`), each line is rewritten and cleared to its end, and anything below is cleared, all
 * inside one synchronized update, so there is neither flicker nor a scrolling trail of frames.
 * Frames are throttled to about 30 a second; the cursor is hidden until {@link LiveView.finish}.
 * Every frame fits the terminal (see {@link renderTerminal}), which is what makes moving up by
 * the frame's line count land on its first line. After the terminal gets narrower, its own
 * re-wrapping of the old frame is unknowable, so the next frame starts from the top of the screen.
 *
 * @example
 * ```ts
 * const live = createLiveView(process.stderr, { color: true });
 * for await (const event of stream) live.update((view = applyEvent(view, event, Date.now())));
 * live.finish(view);
 * ```
 */
export function createLiveView(output: CliOutput, options: LiveViewOptions): LiveView {
  const interval = options.intervalMs ?? 33;
  const now = options.now ?? Date.now;
  const tooSmall = () => (output.columns ?? 80) < MIN_LIVE_COLUMNS || (output.rows ?? 24) < MIN_LIVE_ROWS;
  const plain = createPlainLines();
  let lastLines = 0;
  let lastColumns = output.columns ?? 80;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let latest: ViewState | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;

  const draw = (state: ViewState, final: boolean): void => {
    if (tooSmall()) {
      // Degraded: plain lines for what changed; the next frame (if the terminal widens) starts afresh.
      const text = plain(state, final);
      if (text !== "") output.write(text);
      lastLines = 0;
      lastDraw = now();
      return;
    }
    const columns = output.columns ?? 80;
    const lines = renderTerminal(state, {
      width: columns,
      height: final ? undefined : (output.rows ?? 24),
      color: options.color,
    });
    let text = BEGIN_FRAME;
    // Narrower than the last frame: the terminal has re-wrapped (or cut) its lines in its own way,
    // so the rows to go back up over are unknown. Start again from the top of the screen.
    if (columns < lastColumns) text += HOME_AND_CLEAR;
    else if (lastLines > 0) text += `\x1b[${lastLines}F`;
    text += lines.map((line) => line + CLEAR_LINE_END).join("\n");
    text += `\n${CLEAR_BELOW}${END_FRAME}`;
    output.write(text);
    lastLines = lines.length;
    lastColumns = columns;
    lastDraw = now();
  };

  const flush = (): void => {
    timer = undefined;
    if (latest !== undefined && !finished) draw(latest, false);
  };

  const onResize = (): void => {
    if (latest !== undefined && !finished) draw(latest, false);
  };

  output.write(HIDE_CURSOR);
  output.on?.("resize", onResize);

  return {
    update(state) {
      if (finished) return;
      latest = state;
      if (timer !== undefined) return;
      const wait = lastDraw + interval - now();
      if (wait <= 0) flush();
      else timer = setTimeout(flush, wait);
    },
    finish(state) {
      if (finished) return;
      finished = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      output.off?.("resize", onResize);
      draw(state, true);
      output.write(SHOW_CURSOR);
    },
  };
}

/**
 * The degraded view of a terminal too small for frames ({@link MIN_LIVE_COLUMNS}): given each
 * new state, returns the plain lines for what changed since the last one: the status, each
 * top-level field as it completes, each retry, and at the end the outcome and statistics. Lines
 * are short and never redrawn, so the scrollback grows by one line per event, whatever the width.
 */
export function createPlainLines(): (state: ViewState, final: boolean) => string {
  let status = "";
  let retries = 0;
  const done = new Set<string>();
  let ended = false;
  return (state, final) => {
    if (ended) return "";
    const lines: string[] = [];
    if (state.status !== status && state.status !== "idle") {
      status = state.status;
      if (status !== "complete" && status !== "error" && status !== "aborted") lines.push(status);
    }
    const value = state.value;
    const present =
      typeof value === "object" && value !== null && !Array.isArray(value) ? Object.keys(value) : [];
    for (const key of new Set([...state.fields.map((f) => f.key), ...present])) {
      if (done.has(key) || !present.includes(key)) continue;
      if (fieldState(state, toPointer([key]), true, key === present.at(-1)) !== "complete") continue;
      done.add(key);
      lines.push(`✓ ${sanitize(key)}`);
    }
    for (; retries < state.retries.length; retries++) {
      const retry = state.retries[retries]!;
      lines.push(`↻ retry ${retry.attempt}: ${retry.code.replace(/_/g, " ")}`);
    }
    if (final) {
      ended = true;
      if (state.status === "complete") lines.push("✓ complete");
      else if (state.status === "aborted") lines.push("✗ interrupted");
      else if (state.status === "error") lines.push(`✗ ${state.error?.code.replace(/_/g, " ") ?? "error"}`);
      if (state.stats !== undefined) lines.push(statsParts(state.stats, state.status).join(" · "));
    }
    return lines.map((line) => `${line}\n`).join("");
  };
}
