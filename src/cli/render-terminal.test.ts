import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { StreamError } from "../errors/index.ts";
import type { JsonSchemaObject } from "../schema/index.ts";
import type { StreamEvent, StreamStats } from "../stream/index.ts";
import { renderTerminal } from "./render-terminal.ts";
import { displayWidth } from "./text.ts";
import { applyEvent, createViewState, type ViewState } from "./view-state.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

const schema: JsonSchemaObject = {
  type: "object",
  properties: {
    title: { type: "string" },
    summary: { type: "string" },
    key_points: { type: "array", items: { type: "string" } },
    sentiment: { enum: ["positive", "neutral", "negative"] },
    word_count: { type: "integer" },
    sections: {
      type: "array",
      items: {
        type: "object",
        properties: { heading: { type: "string" }, importance: { enum: ["low", "high"] } },
      },
    },
  },
};

const stats: StreamStats = {
  startedAt: 0,
  timeToFirstByteMs: 312,
  timeToFirstFieldMs: 540,
  durationMs: 2410,
  chunks: 120,
  bytes: 24_000,
  deltas: 180,
  deltasPerSecond: 75.3,
  retries: 1,
  usage: { inputTokens: 120, outputTokens: 340 },
};

const progress = (completed: number, total: number) => ({
  completed,
  total,
  percent: Math.round((completed / total) * 100),
  pending: [],
});

function view(events: StreamEvent[], now = 1500): ViewState {
  let state = createViewState({
    command: "run",
    provider: "openai-chat",
    model: "gpt-x",
    origin: "simulator",
    schema,
    maxRetries: 2,
    now: 0,
  });
  for (const event of events) state = applyEvent(state, event, now);
  return state;
}

const plain = (state: ViewState, width = 80, height?: number) =>
  renderTerminal(state, { width, ...(height !== undefined ? { height } : {}), color: false });

const midStream: StreamEvent[] = [
  { type: "status", status: "connecting" },
  { type: "status", status: "streaming" },
  { type: "field-state", path: ["title"], pointer: "/title", state: "streaming" },
  { type: "field-state", path: ["title"], pointer: "/title", state: "complete" },
  { type: "field", path: ["title"], pointer: "/title", value: "Solid-state batteries" },
  { type: "field-state", path: ["summary"], pointer: "/summary", state: "streaming" },
  {
    type: "partial",
    value: { title: "Solid-state batteries", summary: "They store more energy and" },
    progress: progress(1, 6),
  },
];

const complete: StreamEvent[] = [
  ...midStream,
  {
    type: "partial",
    value: {
      title: "Solid-state batteries",
      summary: "They store more energy and burn less.",
      key_points: ["Denser", "Safer", "Costly for now"],
      sentiment: "positive",
      word_count: 840,
      sections: [
        { heading: "Chemistry", importance: "high" },
        { heading: "Cost", importance: "low" },
      ],
    },
    progress: progress(12, 12),
  },
  { type: "status", status: "validating" },
  { type: "status", status: "complete" },
  {
    type: "complete",
    value: {
      title: "Solid-state batteries",
      summary: "They store more energy and burn less.",
      key_points: ["Denser", "Safer", "Costly for now"],
      sentiment: "positive",
      word_count: 840,
      sections: [
        { heading: "Chemistry", importance: "high" },
        { heading: "Cost", importance: "low" },
      ],
    },
    stats,
  },
];

describe("the terminal view", () => {
  it("lists every schema field from the start, as pending, with its type", () => {
    const lines = plain(view([{ type: "status", status: "connecting" }]));
    expect(lines[0]).toMatch(
      /^structream run · openai-chat · gpt-x · simulator +[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] connecting 1\.5s$/,
    );
    expect(lines).toContain("· title       pending (string)");
    expect(lines).toContain("· sentiment   pending (enum)");
    expect(lines).toContain("· sections    pending (array)");
    expect(lines.at(-1)).toMatch(/^\[░+\] {3}0%$/);
  });

  it("marks completed fields, shows the one streaming with its text so far, and the progress", () => {
    const lines = plain(view(midStream));
    expect(lines).toContain('✓ title       "Solid-state batteries"');
    expect(lines.find((l) => l.includes("summary"))).toMatch(
      /^[◐◓◑◒] summary {5}"They store more energy and$/,
    );
    expect(lines).toContain("· key_points  pending (array)");
    expect(lines.at(-1)).toMatch(/^\[█+░+\] {2}17% {2}1\/6 fields$/);
  });

  it("ends with every field complete, the bar at 100% and the statistics", () => {
    const lines = plain(view(complete));
    expect(lines[0]).toMatch(/✓ complete 2\.4s$/);
    expect(lines).toContain("✓ key_points  3 items");
    expect(lines).toContain('    ✓ 3. "Costly for now"');
    expect(lines).toContain('    ✓ 1. heading: "Chemistry"');
    expect(lines).toContain('         importance: "high"');
    expect(lines).toContain("✓ word_count  840");
    expect(lines.find((l) => l.startsWith("["))).toMatch(/^\[█+\] 100% {2}12\/12 fields$/);
    const footer = lines.slice(lines.findIndex((l) => l.startsWith("["))).join(" ");
    expect(footer).toContain("done in 2.4s");
    expect(footer).toContain("first byte 312 ms");
    expect(footer).toContain("first field 540 ms");
    expect(footer).toContain("180 deltas (75.3/s)");
    expect(footer).toContain("1 retry");
    expect(footer).toContain("tokens 120 in / 340 out");
  });

  it("shows retries as they happen", () => {
    const error = new StreamError("connection_lost", "The connection broke mid-stream (terminated).");
    const lines = plain(view([...midStream, { type: "retry", attempt: 1, delayMs: 800, error }]), 120);
    expect(lines).toContain(
      "↻ retry 1/2 in 0.8s: connection lost (The connection broke mid-stream (terminated).)",
    );
  });

  it("keeps the newest text of a long string while it streams, and its start once complete", () => {
    const long = `${"word ".repeat(200)}THE END`;
    const streaming = plain(
      view([
        { type: "field-state", path: ["summary"], pointer: "/summary", state: "streaming" },
        { type: "partial", value: { summary: long }, progress: progress(0, 6) },
      ]),
      60,
    );
    const summary = streaming.filter((l) => l.startsWith(" ".repeat(14)) || l.includes("summary"));
    expect(summary).toHaveLength(3);
    expect(summary[0]).toContain("…");
    expect(summary[2]).toMatch(/THE END$/);
    const done = plain(
      view([
        { type: "field-state", path: ["summary"], pointer: "/summary", state: "complete" },
        { type: "partial", value: { summary: long }, progress: progress(1, 6) },
      ]),
      60,
    );
    const finished = done.filter((l) => l.startsWith(" ".repeat(14)) || l.includes("summary"));
    expect(finished[0]).toMatch(/summary +"word word/);
    expect(finished.at(-1)).toMatch(/…$/);
  });

  it("prints model text as text: no escape sequence reaches the terminal", () => {
    const lines = renderTerminal(
      view([
        { type: "partial", value: { title: "x\u001b[2J\u001b]0;owned\u0007\ny" }, progress: progress(0, 6) },
      ]),
      { width: 80, color: false },
    );
    expect(lines.join("\n")).not.toContain("\u001b");
    expect(lines.join("\n")).toContain("x\ufffd[2J\ufffd]0;owned\ufffd↵y");
  });

  it("uses colours only when asked", () => {
    expect(renderTerminal(view(complete), { width: 80, color: true }).join("")).toContain("\x1b[32m✓\x1b[0m");
    expect(renderTerminal(view(complete), { width: 80, color: false }).join("")).not.toContain("\x1b");
  });

  it("shows a stopped stream's status and the error code", () => {
    const error = new StreamError("truncated", "The answer was cut off.", { partial: { title: "Solid" } });
    const lines = plain(view([...midStream, { type: "status", status: "error" }, { type: "error", error }]));
    expect(lines[0]).toMatch(/✗ truncated 1\.5s$/);
    // What was streaming stays half-done, and stops turning.
    expect(lines.find((l) => l.includes("summary"))).toMatch(/^◐ summary/);
    const aborted = new StreamError("aborted", "Interrupted (Ctrl-C).");
    expect(plain(view([...midStream, { type: "error", error: aborted }]))[0]).toMatch(/✗ interrupted/);
  });

  it("copes with a narrow terminal: values go under their names, nothing is wider than the screen", () => {
    const lines = plain(view(complete), 24);
    for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(23);
    expect(lines).toContain("✓ title");
    expect(lines.some((l) => l.startsWith('    "Solid-state'))).toBe(true);
  });

  it("fits a short terminal by showing less of each field, then cutting", () => {
    const many = {
      sections: Array.from({ length: 10 }, (_, i) => ({ heading: `h${i}`, importance: "low" })),
      key_points: Array.from({ length: 30 }, (_, i) => `point ${i}`),
    };
    const state = view([{ type: "partial", value: many, progress: progress(3, 50) }]);
    for (const height of [8, 12, 20, 40]) {
      const lines = plain(state, 80, height);
      expect(lines.length).toBeLessThanOrEqual(height - 1);
      expect(lines[0]).toMatch(/^structream run/);
      expect(lines.at(-1)).toMatch(/^\[/);
    }
    const tall = plain(state, 80, 40);
    expect(tall).toContain('    ✓ 29. "point 28"');
    expect(tall.some((l) => /^ {4}[◐◓◑◒] 30\. "point 29$/.test(l))).toBe(true);
    expect(tall.some((l) => /… \d+ earlier items/.test(l))).toBe(true);
  });

  it("shows a value with no schema: the keys as they arrive", () => {
    let state = createViewState({ command: "parse", origin: "capture.sse", now: 0 });
    state = applyEvent(state, { type: "partial", value: { a: 1, b: [true] }, progress: progress(0, 1) }, 10);
    const lines = plain(state);
    expect(lines).toContain("✓ a  1");
    expect(lines).toContain("◐ b  1 item");
  });

  it("never draws a line wider than the terminal or more lines than it has (any value, any size)", () => {
    const json = fc.jsonValue({ maxDepth: 3 });
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 30 }), json, { maxKeys: 8 }),
        fc.integer({ min: 20, max: 160 }),
        fc.integer({ min: 4, max: 50 }),
        fc.boolean(),
        (value, width, height, done) => {
          const events: StreamEvent[] = [{ type: "partial", value, progress: progress(1, 3) }];
          if (done) events.push({ type: "complete", value, stats });
          const lines = renderTerminal(view(events), { width, height, color: false });
          expect(lines.length).toBeLessThanOrEqual(height - 1);
          for (const line of lines) expect(displayWidth(line)).toBeLessThanOrEqual(width - 1);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("the model's reasoning in the live view", () => {
  it("shows one dim line of the newest reasoning while it streams, gone once the answer starts", () => {
    let view = createViewState({ command: "run", schema, now: 0 });
    view = applyEvent(view, { type: "status", status: "streaming" }, 10);
    view = applyEvent(view, { type: "reasoning", delta: "First the title.\nThen " }, 20);
    view = applyEvent(view, { type: "reasoning", delta: "the key points, briefly." }, 30);
    const lines = renderTerminal(view, { width: 60 });
    const thinking = lines.filter((line) => line.includes("thinking:"));
    expect(thinking).toEqual(["  thinking: Then the key points, briefly."]);
    const withAnswer = applyEvent(
      view,
      {
        type: "partial",
        value: { title: "A" },
        progress: { completed: 0, total: 6, percent: 0, pending: [] },
      },
      40,
    );
    expect(renderTerminal(withAnswer, { width: 60 }).some((line) => line.includes("thinking:"))).toBe(false);
  });

  it("keeps the line within the width, showing the newest words", () => {
    let view = createViewState({ command: "run", schema, now: 0 });
    view = applyEvent(view, { type: "reasoning", delta: `${"word ".repeat(50)}newest` }, 20);
    const line = renderTerminal(view, { width: 30 }).find((l) => l.includes("thinking:"))!;
    expect(displayWidth(line)).toBeLessThanOrEqual(29);
    expect(line.endsWith("newest")).toBe(true);
  });
});
