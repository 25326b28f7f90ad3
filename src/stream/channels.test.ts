import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { ProviderEvent } from "../providers/index.ts";
import { type AnswerChannel, ChannelRouter } from "./channels.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

type Step = { text: string } | Extract<ProviderEvent, { type: "tool-call" | "tool-call-end" }>;

function route(
  mode: AnswerChannel,
  steps: readonly Step[],
  options: { lenient?: boolean; declared?: string[] } = {},
) {
  const out = { answer: "", commentary: "", calls: [] as string[] };
  const router = new ChannelRouter(mode, new Set(options.declared ?? []), options.lenient === true, {
    answer: (d) => {
      out.answer += d;
    },
    commentary: (d) => {
      out.commentary += d;
    },
    reasoning: () => {},
    toolCall: (e) => {
      if (e.type === "tool-call") out.calls.push(`${e.index}:${e.delta}`);
    },
  });
  for (const step of steps) {
    if ("text" in step) router.text(step.text);
    else router.toolCall(step);
  }
  router.settle();
  return { ...out, toolCallsOnly: router.toolCallsOnly };
}

/** The steps with each text step cut at the given points. */
function split(steps: readonly Step[], cuts: readonly number[]): Step[] {
  const out: Step[] = [];
  let c = 0;
  for (const step of steps) {
    if (!("text" in step)) {
      out.push(step);
      continue;
    }
    let rest = step.text;
    while (rest.length > 1 && c < cuts.length) {
      const at = (cuts[c++]! % (rest.length - 1)) + 1;
      out.push({ text: rest.slice(0, at) });
      rest = rest.slice(at);
    }
    out.push({ text: rest });
  }
  return out;
}

const call = (index: number, name: string, delta: string): Step => ({
  type: "tool-call",
  index,
  name,
  delta,
});

const SCENARIOS: {
  name: string;
  mode: AnswerChannel;
  steps: Step[];
  lenient?: boolean;
  declared?: string[];
}[] = [
  { name: "auto, JSON text", mode: "auto", steps: [{ text: '  {"a": 1}' }] },
  {
    name: "auto, prose then a call",
    mode: "auto",
    steps: [
      { text: "I'll record it now." },
      call(0, "record", '{"a":1}'),
      { type: "tool-call-end", index: 0 },
    ],
  },
  {
    name: "auto, prose then a declared call",
    mode: "auto",
    declared: ["record"],
    steps: [{ text: "Looking it up." }, call(0, "record", '{"q":1}')],
  },
  {
    name: "auto lenient, prose then JSON",
    mode: "auto",
    lenient: true,
    steps: [{ text: 'Sure: {"a": [1]} ok' }],
  },
  {
    name: "tool mode",
    mode: { tool: "record" },
    steps: [{ text: "Preamble." }, call(0, "other", "{}"), call(1, "record", '{"b":2}')],
  },
  { name: "text mode", mode: "text", steps: [{ text: '{"c":3}' }, call(0, "x", "{}")] },
];

describe("the channel router", () => {
  it("routes each scenario as the answer option says", () => {
    const results = Object.fromEntries(SCENARIOS.map((s) => [s.name, route(s.mode, s.steps, s)]));
    expect(results).toEqual({
      "auto, JSON text": { answer: '  {"a": 1}', commentary: "", calls: [], toolCallsOnly: false },
      "auto, prose then a call": {
        answer: '{"a":1}',
        commentary: "I'll record it now.",
        calls: [],
        toolCallsOnly: false,
      },
      "auto, prose then a declared call": {
        answer: "",
        commentary: "Looking it up.",
        calls: ['0:{"q":1}'],
        toolCallsOnly: true,
      },
      "auto lenient, prose then JSON": {
        answer: '{"a": [1]}',
        commentary: "Sure: ",
        calls: [],
        toolCallsOnly: false,
      },
      "tool mode": { answer: '{"b":2}', commentary: "Preamble.", calls: ["0:{}"], toolCallsOnly: false },
      "text mode": { answer: '{"c":3}', commentary: "", calls: ["0:{}"], toolCallsOnly: false },
    });
  });

  it("gives the same channels for any split of the text (property)", () => {
    fc.assert(
      fc.property(fc.constantFrom(...SCENARIOS), fc.array(fc.nat(), { maxLength: 12 }), (scenario, cuts) => {
        expect(route(scenario.mode, split(scenario.steps, cuts), scenario)).toEqual(
          route(scenario.mode, scenario.steps, scenario),
        );
      }),
      { numRuns: RUNS },
    );
  });
});
