import type { CliOutput } from "./io.ts";
import { renderTerminal } from "./render-terminal.ts";
import type { ViewState } from "./view-state.ts";

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
  let lastLines = 0;
  let lastColumns = output.columns ?? 80;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let latest: ViewState | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let finished = false;

  const draw = (state: ViewState, final: boolean): void => {
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
