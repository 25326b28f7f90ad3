/**
 * Real responses are sequences of blocks. For every provider and every block combination
 * (text then a tool call, several tool calls, server tools, reasoning then the answer, a refusal
 * after text, a token limit inside a tool call, data after the end signal, an unframed error
 * tail), structuredStream reads the same outcome under every chunking: whole, one byte at a time,
 * 7-byte chunks and random splits. Fixtures are in test/fixtures/stream/blocks, written from the
 * providers' documentation and the official SDKs' sources (generate.py writes them).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StreamError } from "../src/errors/index.ts";
import type { ProviderId } from "../src/providers/index.ts";
import { type StructuredStreamOptions, structuredStream } from "../src/stream/index.ts";
import { chunkBytes, countingSource, fixtureBytes, splitBytes } from "./fixtures/stream/harness.ts";

const RUNS = Number(process.env.FC_RUNS ?? 8);

const SUMMARY = {
  type: "object",
  properties: { title: { type: "string" }, tags: { type: "array", items: { type: "string" } } },
  required: ["title", "tags"],
  additionalProperties: false,
} as const;
const WEATHER = {
  type: "object",
  properties: { city: { type: "string" } },
  required: ["city"],
  additionalProperties: false,
} as const;
const TIME = {
  type: "object",
  properties: { zone: { type: "string" } },
  required: ["zone"],
  additionalProperties: false,
} as const;
const TWO_TOOLS = { get_weather: WEATHER, get_time: TIME };
const ANSWER = { title: "Otters", tags: ["river", "play"] };
const TWO_CALLS = [
  { name: "get_weather", index: 0, value: { city: "Oslo" } },
  { name: "get_time", index: 1, value: { zone: "Europe/Oslo" } },
];

interface CallOutcome {
  name: string;
  index: number;
  id?: string;
  value?: unknown;
  code?: string;
}

interface Expected {
  value?: unknown;
  code?: string;
  reason?: string;
  refusal?: string;
  status?: number;
  calls?: CallOutcome[];
  reasoning?: string;
  commentary?: string;
}

interface Case {
  file: string;
  options?: Partial<StructuredStreamOptions>;
  schema?: boolean;
  expected: Expected;
}

const CASES: Case[] = [
  // Anthropic
  {
    file: "anthropic.text-then-tool.sse",
    expected: { value: ANSWER, commentary: "I'll record the summary now.", calls: [] },
  },
  {
    file: "anthropic.text-then-tool.sse",
    options: { answer: { tool: "record_summary" }, tools: { record_summary: SUMMARY } },
    expected: { value: ANSWER, commentary: "I'll record the summary now.", calls: [] },
  },
  {
    file: "anthropic.several-tools.sse",
    options: { tools: TWO_TOOLS },
    expected: {
      value: undefined,
      commentary: "Let me look both up.",
      calls: [
        { ...TWO_CALLS[0]!, id: "toolu_01" },
        { ...TWO_CALLS[1]!, id: "toolu_02" },
      ],
    },
  },
  { file: "anthropic.server-tool.sse", expected: { value: ANSWER, calls: [] } },
  {
    file: "anthropic.thinking-then-answer.sse",
    expected: { value: ANSWER, reasoning: "The user wants a title and two tags." },
  },
  {
    file: "anthropic.refusal-after-text.sse",
    expected: { code: "refusal", refusal: "This request could enable cyber harm." },
  },
  {
    file: "anthropic.refusal-after-text.sse",
    options: { answer: "text" },
    expected: { code: "refusal", refusal: "This request could enable cyber harm." },
  },
  {
    file: "anthropic.max-tokens-in-tool.sse",
    options: { tools: { record_summary: SUMMARY } },
    expected: {
      code: "truncated",
      reason: "max_tokens",
      commentary: "Recording now.",
      calls: [{ name: "record_summary", index: 0, id: "toolu_09", code: "truncated" }],
    },
  },
  { file: "anthropic.max-tokens-in-tool.sse", expected: { code: "truncated", reason: "max_tokens" } },
  {
    file: "anthropic.max-tokens-after-prose.sse",
    options: { answer: "text" },
    expected: { code: "truncated", reason: "max_tokens" },
  },
  { file: "anthropic.after-end.sse", expected: { value: ANSWER } },
  // OpenAI chat
  {
    file: "openai-chat.text-then-tool.sse",
    expected: { value: ANSWER, commentary: "I'll record the summary now.", calls: [] },
  },
  {
    file: "openai-chat.several-tools.sse",
    options: { tools: TWO_TOOLS },
    expected: {
      value: undefined,
      calls: [
        { ...TWO_CALLS[0]!, id: "call_a" },
        { ...TWO_CALLS[1]!, id: "call_b" },
      ],
    },
  },
  {
    file: "openai-chat.tools-same-index.sse",
    options: { tools: TWO_TOOLS },
    expected: {
      value: undefined,
      calls: [
        { ...TWO_CALLS[0]!, id: "call_a" },
        { ...TWO_CALLS[1]!, id: "call_b" },
      ],
    },
  },
  {
    file: "openai-chat.reasoning-then-answer.sse",
    expected: { value: ANSWER, reasoning: "Title first, then tags." },
  },
  {
    file: "openai-chat.refusal.sse",
    expected: { code: "refusal", refusal: "I'm sorry, I can't help with that." },
  },
  {
    file: "openai-chat.length-in-tool.sse",
    options: { tools: { record_summary: SUMMARY } },
    expected: {
      code: "truncated",
      reason: "length",
      calls: [{ name: "record_summary", index: 0, id: "call_1", code: "truncated" }],
    },
  },
  { file: "openai-chat.data-after-done.sse", schema: false, expected: { code: "invalid_json" } },
  { file: "openai-chat.junk-after-done.sse", expected: { value: ANSWER } },
  {
    file: "openai-chat.length-after-prose.sse",
    options: { answer: "text" },
    expected: { code: "truncated", reason: "length" },
  },
  // OpenAI Responses
  {
    file: "openai-responses.text-then-tool.sse",
    expected: { value: ANSWER, commentary: "I'll record the summary now.", calls: [] },
  },
  {
    file: "openai-responses.several-tools.sse",
    options: { tools: TWO_TOOLS },
    expected: {
      value: undefined,
      calls: [
        { ...TWO_CALLS[0]!, id: "call_a" },
        { ...TWO_CALLS[1]!, id: "call_b" },
      ],
    },
  },
  {
    file: "openai-responses.reasoning-then-answer.sse",
    expected: { value: ANSWER, reasoning: "Title first, then tags." },
  },
  { file: "openai-responses.server-tool.sse", expected: { value: ANSWER, calls: [] } },
  {
    file: "openai-responses.incomplete-in-tool.sse",
    options: { tools: { record_summary: SUMMARY } },
    expected: {
      code: "truncated",
      reason: "max_output_tokens",
      calls: [{ name: "record_summary", index: 0, id: "call_1", code: "truncated" }],
    },
  },
  // Gemini
  {
    file: "gemini.thought-then-answer.sse",
    expected: { value: ANSWER, reasoning: "**Planning** the title and tags." },
  },
  {
    file: "gemini.text-then-tool.sse",
    expected: { value: ANSWER, commentary: "I'll record the summary now.", calls: [] },
  },
  {
    file: "gemini.several-tools.sse",
    options: { tools: TWO_TOOLS },
    expected: { value: undefined, calls: TWO_CALLS },
  },
  { file: "gemini.partial-args.sse", expected: { value: ANSWER, calls: [] } },
  {
    file: "gemini.partial-args.sse",
    options: { tools: { record_summary: SUMMARY } },
    expected: { value: undefined, calls: [{ name: "record_summary", index: 0, value: ANSWER }] },
  },
  { file: "gemini.max-tokens.sse", expected: { code: "truncated", reason: "MAX_TOKENS" } },
  { file: "gemini.safety-after-text.sse", expected: { code: "refusal", reason: "SAFETY" } },
  { file: "gemini.error-tail-429.sse", expected: { code: "rate_limited", status: 429 } },
  { file: "gemini.error-tail-500.sse", expected: { code: "provider_error", status: 500 } },
  { file: "gemini.after-end.sse", expected: { value: ANSWER } },
  // Ollama
  {
    file: "ollama.thinking-then-answer.ndjson",
    expected: { value: ANSWER, reasoning: "Title first, then tags." },
  },
  {
    file: "ollama.several-tools.ndjson",
    options: { tools: TWO_TOOLS },
    expected: { value: undefined, calls: TWO_CALLS },
  },
  { file: "ollama.length.ndjson", expected: { code: "truncated", reason: "length" } },
  { file: "ollama.after-end.ndjson", expected: { value: ANSWER } },
];

function providerOf(file: string): ProviderId {
  return file.slice(0, file.indexOf(".")) as ProviderId;
}

interface Observed extends Expected {
  pulledAll: boolean;
}

async function observe(testCase: Case, chunks: Uint8Array[]): Promise<Observed> {
  const counting = countingSource(chunks);
  const s = structuredStream({
    source: counting.source,
    provider: providerOf(testCase.file),
    ...(testCase.schema === false ? {} : { schema: SUMMARY }),
    ...testCase.options,
  });
  const calls: Promise<CallOutcome>[] = [];
  const collecting = (async () => {
    for await (const call of s.toolCalls()) {
      calls.push(
        call.result.then(
          (value) => ({ name: call.name, index: call.index, ...(call.id ? { id: call.id } : {}), value }),
          (error: StreamError) => ({
            name: call.name,
            index: call.index,
            ...(call.id ? { id: call.id } : {}),
            code: error.code,
          }),
        ),
      );
    }
  })();
  let reasoning = "";
  let commentary = "";
  s.on("reasoning", (event) => {
    reasoning += event.delta;
  });
  s.on("commentary", (event) => {
    commentary += event.delta;
  });
  const observed: Observed = { pulledAll: false };
  try {
    observed.value = await s.result;
  } catch (thrown) {
    const error = thrown as StreamError;
    observed.code = error.code;
    if (error.reason !== undefined) observed.reason = error.reason;
    if (error.refusal !== undefined) observed.refusal = error.refusal;
    if (error.status !== undefined) observed.status = error.status;
  }
  await collecting;
  observed.calls = await Promise.all(calls);
  if (reasoning) observed.reasoning = reasoning;
  if (commentary) observed.commentary = commentary;
  observed.pulledAll = counting.pulled === chunks.length;
  const stats = s.stats;
  expect(stats.reasoning ?? "").toBe(reasoning);
  expect(stats.commentary ?? "").toBe(commentary);
  return observed;
}

function check(observed: Observed, expected: Expected): void {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(expected)) picked[key] = observed[key as keyof Observed];
  expect(picked).toEqual(expected);
  if (expected.code === undefined) expect(observed.code).toBeUndefined();
}

describe.each(
  CASES.map((c, i) => ({
    ...c,
    label: `${c.file}${c.options ? ` ${JSON.stringify(c.options.answer ?? Object.keys(c.options.tools ?? {}))}` : ""} #${i}`,
  })),
)("$label", (testCase) => {
  const bytes = fixtureBytes(`blocks/${testCase.file}`);

  it("reads the expected outcome whole", async () => {
    check(await observe(testCase, [bytes]), testCase.expected);
  });

  it("reads the same outcome one byte at a time and in 7-byte chunks", async () => {
    check(await observe(testCase, chunkBytes(bytes, 1)), testCase.expected);
    check(await observe(testCase, chunkBytes(bytes, 7)), testCase.expected);
  });

  it("reads the same outcome under any split (property)", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat({ max: bytes.length }), { maxLength: 40 }), async (cuts) => {
        check(await observe(testCase, splitBytes(bytes, cuts)), testCase.expected);
      }),
      { numRuns: RUNS },
    );
  });
});
