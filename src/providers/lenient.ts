import type { ProviderEvent, SdkEventMapper, WireDecoder } from "./types.ts";

/** The most leading text kept for {@link LenientFilter.skipped}. */
const SKIPPED_KEPT = 1000;

/** A stateful filter over the answer's text deltas; see {@link createLenientFilter}. */
export interface LenientFilter {
  /** Filters the next text delta; returns the text to pass on (maybe empty). */
  push(delta: string): string;
  /** Ends the text; returns what was held back, minus a closing fence. */
  end(): string;
  /** Whether the first `{` or `[` has arrived. */
  readonly started: boolean;
  /** The text skipped before the first `{` or `[` (its first 1000 characters), for error messages. */
  readonly skipped: string;
}

function isWhitespace(code: number): boolean {
  return code === 32 || code === 9 || code === 10 || code === 13;
}

/** Where a trailing run of backticks followed only by whitespace starts, or -1. */
function trailingFenceStart(text: string): number {
  let i = text.length;
  while (i > 0 && isWhitespace(text.charCodeAt(i - 1))) i--;
  let j = i;
  while (j > 0 && text.charCodeAt(j - 1) === 96) j--;
  return j < i ? j : -1;
}

/**
 * The opt-in lenient mode for models without a native structured mode, which may wrap their JSON
 * in a Markdown fence or a sentence. It does exactly two things, and nothing else:
 * 1. skips everything before the first `{` or `[` (a leading ```` ```json ```` fence, or prose);
 * 2. drops a closing fence (three or more backticks, then only whitespace) at the very end.
 *
 * Backticks at the end of a delta are held back until the next delta shows whether more text
 * follows them, so any split of the text gives the same output. Prose after the JSON is kept
 * (the JSON parser reports it).
 *
 * @example
 * ```ts
 * const filter = createLenientFilter();
 * filter.push("Sure! ```json\n{\"a\":"); // '{"a":'
 * filter.push("1}\n```");                 // "1}\n"
 * filter.end();                           // ""
 * ```
 */
export function createLenientFilter(): LenientFilter {
  let started = false;
  let skipped = "";
  let held = "";
  return {
    get started() {
      return started;
    },
    get skipped() {
      return skipped;
    },
    push(delta) {
      let text = delta;
      if (!started) {
        const brace = text.indexOf("{");
        const bracket = text.indexOf("[");
        const at = brace === -1 ? bracket : bracket === -1 ? brace : Math.min(brace, bracket);
        if (at === -1) {
          if (skipped.length < SKIPPED_KEPT) skipped = (skipped + text).slice(0, SKIPPED_KEPT);
          return "";
        }
        if (skipped.length < SKIPPED_KEPT) skipped = (skipped + text.slice(0, at)).slice(0, SKIPPED_KEPT);
        started = true;
        text = text.slice(at);
      }
      text = held + text;
      const fence = trailingFenceStart(text);
      if (fence === -1) {
        held = "";
        return text;
      }
      held = text.slice(fence);
      return text.slice(0, fence);
    },
    end() {
      const rest = held;
      held = "";
      return /^`{3,}\s*$/.test(rest) ? "" : rest;
    },
  };
}

function lenientEvents(
  filter: LenientFilter,
  state: { flushed: boolean },
  events: ProviderEvent[],
  ending: boolean,
) {
  const out: ProviderEvent[] = [];
  const flush = () => {
    if (state.flushed) return;
    state.flushed = true;
    const rest = filter.end();
    if (rest) out.push({ type: "text", delta: rest });
  };
  for (const event of events) {
    if (event.type === "text" && !state.flushed) {
      const text = filter.push(event.delta);
      if (text) out.push({ type: "text", delta: text });
    } else {
      // The held-back tail belongs before the end signal.
      if (event.type === "finish") flush();
      out.push(event);
    }
  }
  if (ending) flush();
  return out;
}

/**
 * Wraps a decoder or an SDK mapper so that its text events go through a
 * {@link createLenientFilter} (see there for exactly what it strips). Refusals, usage, errors and
 * the finish pass unchanged; the held-back tail is released before the finish.
 *
 * @example
 * ```ts
 * const decoder = withLenient(textAdapter.createDecoder());
 * decoder.push("Here it is:\n```json\n[1, 2]\n```\n"); // [{ type: "text", delta: "[1, 2]\n" }]
 * ```
 */
export function withLenient<T extends WireDecoder | SdkEventMapper>(inner: T): T {
  const filter = createLenientFilter();
  const state = { flushed: false };
  const end = (): ProviderEvent[] => lenientEvents(filter, state, inner.end(), true);
  if ("push" in inner) {
    const decoder: WireDecoder = {
      push: (text) => lenientEvents(filter, state, inner.push(text), false),
      end,
    };
    return decoder as T;
  }
  const mapper: SdkEventMapper = {
    map: (event) => lenientEvents(filter, state, (inner as SdkEventMapper).map(event), false),
    end,
  };
  return mapper as T;
}
