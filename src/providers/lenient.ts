import type { ProviderEvent, SdkEventMapper, WireDecoder } from "./types.ts";

/** The most leading text kept for {@link LenientFilter.skipped}. */
const SKIPPED_KEPT = 1000;

/** A stateful filter over the answer's text deltas; see {@link createLenientFilter}. */
export interface LenientFilter {
  /** Filters the next text delta; returns the text to pass on (maybe empty). */
  push(delta: string): string;
  /** Ends the text; returns what was held back (nothing, since text after the value is skipped). */
  end(): string;
  /** Whether the first `{` or `[` has arrived. */
  readonly started: boolean;
  /** The text skipped before the first `{` or `[` (its first 1000 characters), for error messages. */
  readonly skipped: string;
}

/**
 * The opt-in lenient mode for models without a native structured mode, which may wrap their JSON
 * in a Markdown fence or a sentence. It does exactly two things, and nothing else:
 * 1. skips everything before the first `{` or `[` (a leading ```` ```json ```` fence, or prose);
 * 2. skips everything after the value that `{` or `[` opened has closed (a closing fence,
 *    "Hope that helps").
 *
 * It tracks only strings, escapes and bracket depth to see where the value closes, so it is
 * linear and any split of the text gives the same output; whether the JSON is valid is still for
 * the JSON parser to say.
 *
 * @example
 * ```ts
 * const filter = createLenientFilter();
 * filter.push("Sure! ```json\n{\"a\":"); // '{"a":'
 * filter.push("1}\n```\nHope that helps"); // "1}"
 * filter.end();                              // ""
 * ```
 */
export function createLenientFilter(): LenientFilter {
  let started = false;
  let done = false;
  let skipped = "";
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** Where the value closes in `text` (the index after it), or -1 while it is open. */
  const closeIn = (text: string): number => {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (inString) {
        if (escaped) escaped = false;
        else if (c === 92) escaped = true;
        else if (c === 34) inString = false;
        continue;
      }
      if (c === 34) inString = true;
      else if (c === 123 || c === 91) depth++;
      else if (c === 125 || c === 93) {
        depth--;
        if (depth === 0) return i + 1;
      }
    }
    return -1;
  };
  return {
    get started() {
      return started;
    },
    get skipped() {
      return skipped;
    },
    push(delta) {
      if (done) return "";
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
      const end = closeIn(text);
      if (end === -1) return text;
      done = true;
      return text.slice(0, end);
    },
    end() {
      return "";
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
 * {@link createLenientFilter} (see there for exactly what it strips). Every other event passes
 * unchanged.
 *
 * @example
 * ```ts
 * const decoder = withLenient(textAdapter.createDecoder());
 * decoder.push("Here it is:\n```json\n[1, 2]\n```\n"); // [{ type: "text", delta: "[1, 2]" }]
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
      get keepAliveOnly() {
        return (inner as WireDecoder).keepAliveOnly;
      },
    };
    return decoder as T;
  }
  const mapper: SdkEventMapper = {
    map: (event) => lenientEvents(filter, state, (inner as SdkEventMapper).map(event), false),
    end,
  };
  return mapper as T;
}
