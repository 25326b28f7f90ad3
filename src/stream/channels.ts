import { createLenientFilter, type LenientFilter, type ProviderEvent } from "../providers/index.ts";

/**
 * Which part of a response is the answer:
 * - `"auto"`: the text when it is JSON; when the text is prose (commentary) and the response
 *   carries a tool call not declared in `tools`, that call's arguments.
 * - `"text"`: the message text, always; tool calls are only tool calls.
 * - `{ tool: "name" }`: the arguments of the first call of that tool; all text is commentary.
 */
export type AnswerChannel = "auto" | "text" | { tool: string };

/** Where the router sends each piece of one attempt's response. */
export interface ChannelSink {
  answer(delta: string): void;
  commentary(delta: string): void;
  reasoning(delta: string): void;
  /** A client tool call that is not the answer. */
  toolCall(event: Extract<ProviderEvent, { type: "tool-call" | "tool-call-end" }>): void;
}

function firstSignificant(text: string): number {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return i;
  }
  return -1;
}

/**
 * Splits one attempt's decoded events into the answer, commentary, reasoning and tool calls
 * (see {@link AnswerChannel}). Text held while `"auto"` cannot yet tell prose from the answer is
 * released to the answer at {@link ChannelRouter.settle} when no tool call took its place.
 */
export class ChannelRouter {
  /** `"text"`, the call index that is the answer, or undefined while undecided. */
  private decided: "text" | number | undefined;
  /** Text seen while undecided (`"auto"` with prose first): the answer if no call claims it. */
  private held: string[] = [];
  private readonly lenient: LenientFilter | undefined;
  private readonly calls = new Map<number, string | undefined>();

  constructor(
    private readonly mode: AnswerChannel,
    private readonly declaredTools: ReadonlySet<string>,
    lenient: boolean,
    private readonly sink: ChannelSink,
  ) {
    this.lenient = lenient ? createLenientFilter() : undefined;
    if (mode === "text") this.decided = "text";
  }

  /** The answer is a tool call's arguments (so its end matters). */
  get answerCall(): number | undefined {
    return typeof this.decided === "number" ? this.decided : undefined;
  }

  private toAnswer(delta: string): void {
    const text = this.lenient ? this.lenient.push(delta) : delta;
    if (text !== "") this.answer(text);
  }

  text(delta: string): void {
    if (this.decided === "text") {
      this.toAnswer(delta);
      return;
    }
    if (typeof this.decided === "number" || typeof this.mode === "object") {
      this.sink.commentary(delta);
      return;
    }
    // "auto", undecided: JSON first means the text is the answer; prose first is commentary
    // unless no tool call comes (then it is the answer, for the parser or lenient to judge).
    // Held text is joined only when it is released: a long preamble must not cost O(n²).
    if (!this.proseSeen) {
      const at = firstSignificant(delta);
      if (at === -1) {
        this.held.push(delta);
        return;
      }
      const lead = this.held.join("");
      const c = delta.charCodeAt(at);
      if (c === 123 || c === 91) {
        this.release(lead + delta);
        return;
      }
      this.proseSeen = true;
      const json = this.lenient !== undefined ? delta.search(/[[{]/) : -1;
      if (json !== -1) {
        this.sink.commentary(lead + delta.slice(0, json));
        this.release(lead + delta);
        return;
      }
      this.held.push(delta);
      this.sink.commentary(lead + delta);
      return;
    }
    const json = this.lenient !== undefined ? delta.search(/[[{]/) : -1;
    if (json !== -1) {
      if (json > 0) this.sink.commentary(delta.slice(0, json));
      this.release(this.held.join("") + delta);
      return;
    }
    this.held.push(delta);
    this.sink.commentary(delta);
  }

  /** Whether prose (not JSON) came first while `"auto"` was undecided. */
  private proseSeen = false;

  /** The held text and what follows it are the answer. */
  private release(text: string): void {
    this.decided = "text";
    this.held = [];
    this.toAnswer(text);
  }

  toolCall(event: Extract<ProviderEvent, { type: "tool-call" | "tool-call-end" }>): void {
    if (event.type === "tool-call" && !this.calls.has(event.index)) {
      this.calls.set(event.index, event.name);
      if (this.claims(event.name)) {
        this.decided = event.index;
        this.held = [];
      }
    }
    if (this.decided === event.index) {
      if (event.type === "tool-call" && event.delta !== "") this.answer(event.delta);
      return;
    }
    this.sink.toolCall(event);
  }

  /** Whether a new call with this name becomes the answer. */
  private claims(name: string | undefined): boolean {
    if (this.decided !== undefined && this.decided !== "text") return false;
    if (typeof this.mode === "object") return this.decided === undefined && name === this.mode.tool;
    if (this.mode !== "auto" || this.decided === "text") return false;
    return name === undefined || !this.declaredTools.has(name);
  }

  /** No part of the response was the answer: only commentary beside tool calls. */
  get toolCallsOnly(): boolean {
    return !this.answered && this.calls.size > 0;
  }

  /** Whether anything but whitespace went to the answer. */
  private answered = false;

  private answer(text: string): void {
    if (!this.answered && firstSignificant(text) !== -1) this.answered = true;
    this.sink.answer(text);
  }

  /**
   * The provider's end: text still held (prose with no tool call) is the answer after all. Beside
   * tool calls it stays commentary, and the turn has no answer ({@link toolCallsOnly}).
   */
  settle(): void {
    if (this.decided !== undefined || this.mode !== "auto" || this.calls.size > 0) return;
    this.decided = "text";
    const held = this.held.join("");
    this.held = [];
    if (held !== "") this.toAnswer(held);
  }
}
