import Anthropic from "@anthropic-ai/sdk";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateValue, type Simulator, splitDeltas, startSimulator } from "../src/simulator/index.ts";
import { structuredStream } from "../src/stream/index.ts";

const ajv = new Ajv2020({ strict: false, allErrors: true, ownProperties: true });
addFormats.default(ajv);

const RECIPE = {
  type: "object",
  properties: {
    title: { type: "string", minLength: 3, maxLength: 80 },
    summary: { type: "string" },
    servings: { type: "integer", minimum: 1, maximum: 12 },
    difficulty: { type: "string", enum: ["easy", "medium", "hard"] },
    publishedAt: { type: "string", format: "date-time" },
    ingredients: {
      type: "array",
      minItems: 2,
      maxItems: 6,
      items: {
        type: "object",
        properties: {
          name: { type: "string" },
          grams: { type: "number", exclusiveMinimum: 0, maximum: 1000 },
          optional: { type: ["boolean", "null"] },
        },
        required: ["name", "grams", "optional"],
        additionalProperties: false,
      },
    },
    steps: { type: "array", items: { type: "string" } },
  },
  required: ["title", "summary", "servings", "difficulty", "publishedAt", "ingredients", "steps"],
  additionalProperties: false,
} as const;
const PROMPT = "Write a recipe for lemon poppyseed bread with a crunchy glaze";
const validRecipe = ajv.compile(RECIPE);

function expectValid(value: unknown): void {
  expect(validRecipe(value), ajv.errorsText(validRecipe.errors)).toBe(true);
}

let sim: Simulator;
let openai: OpenAI;
let anthropic: Anthropic;

beforeAll(async () => {
  sim = await startSimulator({ pace: "fast", seed: 42, retryAfterMs: 20 });
  openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 0 });
  anthropic = new Anthropic({ baseURL: sim.url, apiKey: "sim", maxRetries: 0 });
});

afterAll(async () => {
  await sim.close();
});

const chatParams = (
  model = "gpt-4o-mini",
  prompt = PROMPT,
): OpenAI.ChatCompletionCreateParamsNonStreaming => ({
  model,
  messages: [
    { role: "system", content: "You are a baker." },
    { role: "user", content: prompt },
  ],
  response_format: {
    type: "json_schema",
    json_schema: { name: "recipe", schema: RECIPE as unknown as Record<string, unknown>, strict: true },
  },
});

/** POSTs JSON and returns the raw response. */
function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** The `data:` payloads of an SSE body (LF or CRLF line ends). */
function sseData(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== "")
    .map((block) =>
      block
        .split(/\r?\n/)
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
        .join("\n"),
    );
}

/** Reads a body to its end or its failure: the bytes that arrived and the error, if any. */
async function drain(response: Response): Promise<{ bytes: number; text: string; error?: unknown }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { bytes, text };
      bytes += value.length;
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { bytes, text, error };
  }
}

const geminiBody = (prompt = PROMPT, config: Record<string, unknown> = { responseJsonSchema: RECIPE }) => ({
  contents: [{ role: "user", parts: [{ text: prompt }] }],
  generationConfig: { responseMimeType: "application/json", ...config },
});
const ollamaBody = (model = "llama3.2", prompt = PROMPT) => ({
  model,
  messages: [{ role: "user", content: prompt }],
  format: RECIPE,
});

describe("the simulator as seen by the official SDKs", () => {
  it("streams an OpenAI chat completion whose content parses and validates", async () => {
    const stream = await openai.chat.completions.create({
      ...chatParams(),
      stream: true,
      stream_options: { include_usage: true },
    });
    let content = "";
    const finishes: (string | null)[] = [];
    let usage: OpenAI.CompletionUsage | null | undefined;
    let first = true;
    for await (const chunk of stream) {
      expect(chunk.object).toBe("chat.completion.chunk");
      if (first) expect(chunk.choices[0]?.delta.role).toBe("assistant");
      first = false;
      const choice = chunk.choices[0];
      if (choice) {
        content += choice.delta.content ?? "";
        finishes.push(choice.finish_reason);
        if (choice.delta.content) expect(Array.from(choice.delta.content).length).toBeLessThanOrEqual(8);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect(finishes.at(-1)).toBe("stop");
    expect(finishes.slice(0, -1).every((f) => f === null)).toBe(true);
    expect(usage?.total_tokens).toBeGreaterThan(0);
    const value = JSON.parse(content);
    expectValid(value);
    expect(value).toEqual(generateValue(RECIPE, { seed: 42, prompt: PROMPT }));
  });

  it("streams a forced tool's arguments through the ChatCompletionStream helper", async () => {
    const runner = openai.chat.completions.stream({
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: PROMPT }],
      tools: [{ type: "function", function: { name: "save_recipe", parameters: RECIPE } }],
      tool_choice: { type: "function", function: { name: "save_recipe" } },
    });
    let deltas = 0;
    runner.on("tool_calls.function.arguments.delta", () => deltas++);
    const completion = await runner.finalChatCompletion();
    const call = completion.choices[0]!.message.tool_calls![0]!;
    expect(completion.choices[0]!.finish_reason).toBe("tool_calls");
    expect(call.type === "function" && call.function.name).toBe("save_recipe");
    expect(deltas).toBeGreaterThan(10);
    expectValid(JSON.parse(call.type === "function" ? call.function.arguments : ""));
  });

  it("answers a non-streaming chat completion", async () => {
    const completion = await openai.chat.completions.create(chatParams());
    expect(completion.choices[0]!.finish_reason).toBe("stop");
    expectValid(JSON.parse(completion.choices[0]!.message.content!));
  });

  it("streams Responses events in order with consecutive sequence numbers", async () => {
    const stream = await openai.responses.create({
      model: "gpt-4.1-mini",
      input: [{ role: "user", content: [{ type: "input_text", text: PROMPT }] }],
      text: { format: { type: "json_schema", name: "recipe", schema: RECIPE, strict: true } },
      stream: true,
    });
    const types: string[] = [];
    let text = "";
    let sequence = 0;
    for await (const event of stream) {
      expect(event.sequence_number).toBe(sequence++);
      types.push(event.type);
      if (event.type === "response.output_text.delta") text += event.delta;
      if (event.type === "response.output_text.done") expect(event.text).toBe(text);
    }
    expect(types.slice(0, 4)).toEqual([
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
    ]);
    expect(types.slice(-4)).toEqual([
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    expectValid(JSON.parse(text));
  });

  it("builds a final response with the ResponseStream helper", async () => {
    const stream = openai.responses.stream({
      model: "gpt-4.1-mini",
      input: PROMPT,
      text: { format: { type: "json_schema", name: "recipe", schema: RECIPE } },
    });
    const response = await stream.finalResponse();
    expect(response.status).toBe("completed");
    expect(response.usage?.output_tokens).toBeGreaterThan(0);
    expectValid(JSON.parse(response.output_text));
  });

  it("streams Anthropic text with output_config through MessageStream", async () => {
    const stream = anthropic.messages.stream({
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      messages: [{ role: "user", content: PROMPT }],
      output_config: { format: { type: "json_schema", schema: RECIPE } },
    });
    let deltas = 0;
    stream.on("text", () => deltas++);
    const message = await stream.finalMessage();
    expect(message.stop_reason).toBe("end_turn");
    expect(deltas).toBeGreaterThan(10);
    expect(message.usage.output_tokens).toBe(deltas);
    expectValid(JSON.parse(await stream.finalText()));
  });

  it("streams a forced Anthropic tool as input_json_delta events", async () => {
    const stream = await anthropic.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      messages: [{ role: "user", content: [{ type: "text", text: PROMPT }] }],
      tools: [{ name: "save_recipe", input_schema: RECIPE as unknown as Anthropic.Tool.InputSchema }],
      tool_choice: { type: "tool", name: "save_recipe" },
      stream: true,
    });
    const events: string[] = [];
    let json = "";
    let stopReason: string | null = null;
    for await (const event of stream) {
      events.push(event.type);
      if (event.type === "content_block_start") expect(event.content_block.type).toBe("tool_use");
      if (event.type === "content_block_delta" && event.delta.type === "input_json_delta")
        json += event.delta.partial_json;
      if (event.type === "message_delta") stopReason = event.delta.stop_reason;
    }
    expect(events[0]).toBe("message_start");
    expect(events.slice(-3)).toEqual(["content_block_stop", "message_delta", "message_stop"]);
    expect(stopReason).toBe("tool_use");
    expectValid(JSON.parse(json));
  });

  it("answers a non-streaming Anthropic tool call with a parsed input", async () => {
    const message = await anthropic.messages.create({
      model: "claude-sonnet-4-6",
      max_tokens: 2048,
      messages: [{ role: "user", content: PROMPT }],
      tools: [{ name: "save_recipe", input_schema: RECIPE as unknown as Anthropic.Tool.InputSchema }],
      tool_choice: { type: "tool", name: "save_recipe" },
    });
    const block = message.content[0]!;
    expect(block.type).toBe("tool_use");
    expectValid(block.type === "tool_use" ? block.input : undefined);
  });

  it("streams Gemini SSE chunks (CRLF events, finishReason on the last, cumulative usage)", async () => {
    const response = await post(
      "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
      geminiBody(),
      {
        "x-goog-api-key": "sim",
      },
    );
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const raw = await response.text();
    expect(raw).toContain("\r\n\r\n");
    const chunks = sseData(raw).map((data) => JSON.parse(data));
    const text = chunks.map((c) => c.candidates[0].content.parts[0].text).join("");
    expect(chunks.at(-1).candidates[0].finishReason).toBe("STOP");
    expect(chunks.slice(0, -1).every((c) => c.candidates[0].finishReason === undefined)).toBe(true);
    expect(chunks.map((c) => c.usageMetadata.candidatesTokenCount)).toEqual(chunks.map((_, i) => i + 1));
    expectValid(JSON.parse(text));
  });

  it("reads Gemini's OpenAPI responseSchema and the streamed JSON array without alt=sse", async () => {
    const response = await post(
      "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
      geminiBody(PROMPT, {
        responseSchema: {
          type: "OBJECT",
          properties: { dish: { type: "STRING" }, minutes: { type: "INTEGER", minimum: 5, maximum: 90 } },
          required: ["dish", "minutes"],
        },
      }),
    );
    const chunks = JSON.parse(await response.text()) as {
      candidates: { content: { parts: { text: string }[] } }[];
    }[];
    const value = JSON.parse(chunks.map((c) => c.candidates[0]!.content.parts[0]!.text).join(""));
    expect(typeof value.dish).toBe("string");
    expect(value.minutes).toBeGreaterThanOrEqual(5);
  });

  it("streams Ollama NDJSON lines ending with done_reason and counts", async () => {
    const response = await post("/api/chat", ollamaBody());
    expect(response.headers.get("content-type")).toBe("application/x-ndjson");
    const lines = (await response.text())
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line));
    const last = lines.at(-1);
    expect(last).toMatchObject({
      done: true,
      done_reason: "stop",
      message: { role: "assistant", content: "" },
    });
    expect(last.eval_count).toBe(lines.length - 1);
    expect(lines.slice(0, -1).every((line) => line.done === false)).toBe(true);
    expectValid(JSON.parse(lines.map((line) => line.message.content).join("")));
  });

  it("gives every provider the same answer and the same delta split for one schema, prompt and seed", async () => {
    const expected = JSON.stringify(generateValue(RECIPE, { seed: 42, prompt: PROMPT }));
    const expectedDeltas = splitDeltas(expected, { seed: 42 });
    const chat = await post("/v1/chat/completions", { ...chatParams(), stream: true });
    const chatDeltas = sseData(await chat.text())
      .filter((d) => d !== "[DONE]")
      .map((d) => JSON.parse(d).choices[0].delta.content)
      .filter((d): d is string => typeof d === "string" && d !== "");
    const ollamaLines = (await (await post("/api/chat", ollamaBody())).text()).split("\n").filter(Boolean);
    const ollamaDeltas = ollamaLines
      .map((l) => JSON.parse(l).message.content)
      .filter((d: string) => d !== "");
    expect(chatDeltas).toEqual(expectedDeltas);
    expect(ollamaDeltas).toEqual(expectedDeltas);
    const other = await post("/api/chat", ollamaBody(), { "x-sim-seed": "7" });
    const otherText = (await other.text())
      .split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l).message.content)
      .join("");
    expect(otherText).not.toBe(expected);
    expectValid(JSON.parse(otherText));
  });
});

describe("faults, in each provider's wire format", () => {
  it("answers 429 with retry-after, retry-after-ms and the provider's error body", async () => {
    const response = await post("/v1/chat/completions", chatParams("sim-429"));
    expect(response.status).toBe(429);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(response.headers.get("retry-after-ms")).toBe("20");
    expect(await response.json()).toMatchObject({ error: { type: "requests", code: "rate_limit_exceeded" } });
    const claude = await post("/v1/messages", { model: "sim-429", max_tokens: 10, messages: [] });
    expect(await claude.json()).toMatchObject({ type: "error", error: { type: "rate_limit_error" } });
    const gemini = await post("/v1beta/models/sim-429:streamGenerateContent?alt=sse", geminiBody());
    expect(await gemini.json()).toMatchObject({ error: { code: 429, status: "RESOURCE_EXHAUSTED" } });
    const ollama = await post("/api/chat", ollamaBody("sim-429"));
    expect(ollama.status).toBe(429);
    expect(typeof (await ollama.json()).error).toBe("string");
    await expect(
      openai.chat.completions.create({ ...chatParams("sim-429"), stream: true }),
    ).rejects.toBeInstanceOf(OpenAI.RateLimitError);
  });

  it("lets the SDK's own retry succeed after a 429-once", async () => {
    const retrying = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim", maxRetries: 1 });
    const before = sim.requests;
    const completion = await retrying.chat.completions.create(chatParams("sim-429-once", "retry me please"));
    expectValid(JSON.parse(completion.choices[0]!.message.content!));
    expect(sim.requests - before).toBe(2);
  });

  it("raises the SDKs' server errors on 500", async () => {
    await expect(
      openai.chat.completions.create(
        { ...chatParams(), stream: true },
        { headers: { "x-sim-fault": "500" } },
      ),
    ).rejects.toBeInstanceOf(OpenAI.InternalServerError);
    await expect(
      anthropic.messages.create({
        model: "sim-500",
        max_tokens: 10,
        messages: [{ role: "user", content: "hi" }],
      }),
    ).rejects.toMatchObject({ status: 500, type: "api_error" });
  });

  it("counts transient faults per attempt key", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await post("/api/chat", ollamaBody(), {
        "x-sim-fault": "500-twice",
        "x-sim-attempt-key": "job-1",
      });
      statuses.push(response.status);
      await response.text();
    }
    expect(statuses).toEqual([500, 500, 200]);
  });

  it("refuses in each provider's own way", async () => {
    const chat = await openai.chat.completions.create({ ...chatParams("sim-refusal"), stream: true });
    let refusal = "";
    let content = "";
    let finish: string | null = null;
    for await (const chunk of chat) {
      refusal += chunk.choices[0]?.delta.refusal ?? "";
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(refusal).toMatch(/sorry/i);
    expect(content).toBe("");
    expect(finish).toBe("stop");

    const responses = openai.responses.stream({ model: "sim-refusal", input: PROMPT });
    let refusalDeltas = "";
    responses.on("response.refusal.delta", (event) => (refusalDeltas += event.delta));
    const response = await responses.finalResponse();
    const part = response.output[0]!.type === "message" ? response.output[0]!.content[0] : undefined;
    expect(part).toMatchObject({ type: "refusal", refusal: refusalDeltas });

    const message = await anthropic.messages
      .stream({ model: "sim-refusal", max_tokens: 100, messages: [{ role: "user", content: PROMPT }] })
      .finalMessage();
    expect(message.stop_reason).toBe("refusal");
    expect(message.content).toEqual([]);

    const gemini = sseData(
      await (await post("/v1beta/models/sim-refusal:streamGenerateContent?alt=sse", geminiBody())).text(),
    );
    expect(JSON.parse(gemini.at(-1)!).candidates[0]).toMatchObject({ finishReason: "SAFETY" });

    const ollama = (await (await post("/api/chat", ollamaBody("sim-refusal"))).text())
      .split("\n")
      .filter(Boolean);
    expect(ollama.map((l) => JSON.parse(l).message.content).join("")).toMatch(/sorry/i);
  });

  it("truncates with each provider's length signal and a cut JSON text", async () => {
    const chat = await openai.chat.completions.create({ ...chatParams("sim-truncate"), stream: true });
    let content = "";
    let finish: string | null = null;
    for await (const chunk of chat) {
      content += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("length");
    expect(() => JSON.parse(content)).toThrow();
    expect(JSON.stringify(generateValue(RECIPE, { seed: 42, prompt: PROMPT })).startsWith(content)).toBe(
      true,
    );

    const responses = await openai.responses.create({
      model: "sim-truncate",
      input: PROMPT,
      text: { format: { type: "json_schema", name: "recipe", schema: RECIPE } },
      stream: true,
    });
    const types: string[] = [];
    for await (const event of responses) types.push(event.type);
    expect(types.at(-1)).toBe("response.incomplete");

    const message = await anthropic.messages
      .stream({ model: "sim-truncate", max_tokens: 100, messages: [{ role: "user", content: PROMPT }] })
      .finalMessage();
    expect(message.stop_reason).toBe("max_tokens");

    const gemini = sseData(
      await (await post("/v1beta/models/sim-truncate:streamGenerateContent?alt=sse", geminiBody())).text(),
    );
    expect(JSON.parse(gemini.at(-1)!).candidates[0].finishReason).toBe("MAX_TOKENS");

    const ollama = (await (await post("/api/chat", ollamaBody("sim-truncate"))).text())
      .split("\n")
      .filter(Boolean);
    expect(JSON.parse(ollama.at(-1)!).done_reason).toBe("length");
  });

  it("drops the connection after exactly N body bytes", async () => {
    for (const [path, body] of [
      ["/v1/chat/completions", { ...chatParams("sim-drop-at-200"), stream: true }],
      [
        "/v1/messages",
        {
          model: "sim-drop-at-200",
          max_tokens: 100,
          stream: true,
          messages: [{ role: "user", content: PROMPT }],
        },
      ],
      ["/v1beta/models/sim-drop-at-200:streamGenerateContent?alt=sse", geminiBody()],
      ["/api/chat", ollamaBody("sim-drop-at-200")],
    ] as const) {
      const response = await post(path, body);
      expect(response.status).toBe(200);
      const result = await drain(response);
      expect(result.error, path).toBeDefined();
      expect(result.bytes, path).toBe(200);
    }
    const stream = await openai.chat.completions.create({ ...chatParams("sim-drop"), stream: true });
    await expect(async () => {
      for await (const _ of stream) {
        // reading until the connection breaks
      }
    }).rejects.toThrow();
  });

  it("stalls with the connection open, and close() ends it", async () => {
    const stalling = await startSimulator({ pace: "fast" });
    const response = await fetch(`${stalling.url}/v1/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-sim-fault": "stall-at-100" },
      body: JSON.stringify({ ...chatParams(), stream: true }),
    });
    const reader = response.body!.getReader();
    let bytes = 0;
    while (bytes < 100) bytes += (await reader.read()).value!.length;
    expect(bytes).toBe(100);
    const next = reader.read().then(
      () => "data",
      () => "closed",
    );
    const waited = await Promise.race([
      next,
      new Promise((resolve) => setTimeout(() => resolve("stalled"), 300)),
    ]);
    expect(waited).toBe("stalled");
    // close() resolving at all is the check (the stream would stall forever); no clock asserted.
    await stalling.close();
    expect(await next).toBe("closed");
  });

  it("sends a malformed event that the SDKs cannot parse", async () => {
    const raw = sseData(
      await (await post("/v1/chat/completions", { ...chatParams("sim-malformed"), stream: true })).text(),
    );
    const bad = raw.filter((data) => {
      try {
        JSON.parse(data);
        return false;
      } catch {
        return data !== "[DONE]";
      }
    });
    expect(bad).toHaveLength(1);
    expect(raw.at(-1)).toBe("[DONE]");
    const stream = await openai.chat.completions.create({ ...chatParams("sim-malformed"), stream: true });
    await expect(async () => {
      for await (const _ of stream) {
        // the malformed event throws here
      }
    }).rejects.toThrow(SyntaxError);
  });

  it("streams invalid JSON and schema-violating JSON as content", async () => {
    const invalid = await openai.chat.completions.create(chatParams("sim-invalid-json"));
    expect(() => JSON.parse(invalid.choices[0]!.message.content!)).toThrow(SyntaxError);
    const violating = await openai.chat.completions.create({ ...chatParams("sim-schema-violation") });
    const value = JSON.parse(violating.choices[0]!.message.content!);
    expect(validRecipe(value)).toBe(false);
    expect(validRecipe.errors?.[0]?.keyword).toBe("enum");
  });

  it("sends the provider's mid-stream error event, which the SDKs raise", async () => {
    const chat = await openai.chat.completions.create({ ...chatParams("sim-error-event"), stream: true });
    await expect(async () => {
      for await (const _ of chat) {
        // the error event throws here
      }
    }).rejects.toBeInstanceOf(OpenAI.APIError);

    const claude = anthropic.messages.stream({
      model: "sim-error-event",
      max_tokens: 100,
      messages: [{ role: "user", content: PROMPT }],
    });
    await expect(claude.finalMessage()).rejects.toMatchObject({ type: "overloaded_error" });

    const responses = await openai.responses.create({
      model: "sim-error-event",
      input: PROMPT,
      stream: true,
    });
    const types: string[] = [];
    for await (const event of responses) types.push(event.type);
    expect(types.at(-1)).toBe("error");
    expect(types).not.toContain("response.completed");

    const gemini = sseData(
      await (await post("/v1beta/models/sim-error-event:streamGenerateContent?alt=sse", geminiBody())).text(),
    );
    expect(JSON.parse(gemini.at(-1)!)).toMatchObject({ error: { code: 503, status: "UNAVAILABLE" } });
    const ollama = (await (await post("/api/chat", ollamaBody("sim-error-event"))).text())
      .split("\n")
      .filter(Boolean);
    expect(typeof JSON.parse(ollama.at(-1)!).error).toBe("string");
  });

  it("rejects an unknown fault with 400 rather than ignoring it", async () => {
    const response = await post("/v1/chat/completions", chatParams("sim-dorp-at-200"));
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/Unknown simulator fault/);
    expect((await post("/v1/chat/completions", chatParams(), { "x-sim-fault": "nope" })).status).toBe(400);
  });
});

describe("retries that agree or diverge", () => {
  /** The answer of one non-streaming Ollama request (its content is the JSON text). */
  async function answer(headers: Record<string, string>, simulator = sim): Promise<unknown> {
    const response = await fetch(`${simulator.url}/api/chat`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ ...ollamaBody(), stream: false }),
    });
    const body = (await response.json()) as { message: { content: string } };
    return JSON.parse(body.message.content);
  }

  it("answers every attempt alike by default, so a retry agrees with the first", async () => {
    const key = { "x-sim-attempt-key": "agree-1" };
    const first = await answer(key);
    expect(await answer(key)).toEqual(first);
    expect(await answer(key)).toEqual(first);
  });

  it("answers each attempt under one key differently with divergeOnRetry, each still valid", async () => {
    const diverging = await startSimulator({ pace: "fast", seed: 42, divergeOnRetry: true });
    const seen: { attempt?: number; seed?: number | string }[] = [];
    try {
      const key = { "x-sim-attempt-key": "diverge-1" };
      const answers = [
        await answer(key, diverging),
        await answer(key, diverging),
        await answer(key, diverging),
      ];
      for (const value of answers) expectValid(value);
      expect(answers[1]).not.toEqual(answers[0]);
      expect(answers[2]).not.toEqual(answers[1]);
      // Another key starts again at attempt 1: the same answer as the first attempt above.
      expect(await answer({ "x-sim-attempt-key": "diverge-2" }, diverging)).toEqual(answers[0]);
      // Deterministic: a fresh simulator gives the same sequence.
      const again = await startSimulator({
        pace: "fast",
        seed: 42,
        divergeOnRetry: true,
        onRequest: (event) => seen.push({ attempt: event.attempt, seed: event.seed }),
      });
      expect([await answer(key, again), await answer(key, again)]).toEqual(answers.slice(0, 2));
      await again.close();
    } finally {
      await diverging.close();
    }
    expect(seen.map((e) => e.attempt)).toEqual([1, 2]);
    expect(seen[0]!.seed).toBe(42);
    expect(seen[1]!.seed).not.toBe(42);
  });

  it("diverges per request with x-sim-diverge, and a retry after drop-once contradicts what was shown", async () => {
    const headers = { "x-sim-attempt-key": "diverge-3", "x-sim-diverge": "1" };
    const first = await answer(headers);
    expect(await answer(headers)).not.toEqual(first);

    const schema = RECIPE as unknown as Record<string, unknown>;
    const stream = structuredStream({
      schema,
      request: { model: "sim-drop-once", messages: [{ role: "user", content: "Lemon bread, diverging" }] },
      provider: "ollama",
      baseURL: sim.url,
      headers: { "x-sim-diverge": "1" },
      retry: { maxRetries: 1, baseDelayMs: 1 },
    });
    // The title the first attempt showed last before it broke off (the title is the first field).
    let shownTitle: string | undefined;
    let retried = false;
    for await (const event of stream) {
      if (event.type === "retry") retried = true;
      if (event.type === "partial" && !retried) {
        const title = (event.value as { title?: unknown } | undefined)?.title;
        if (typeof title === "string") shownTitle = title;
      }
    }
    const value = (await stream.result) as { title: string };
    expectValid(value);
    expect(retried).toBe(true);
    expect(shownTitle).toBeTruthy();
    expect(value.title.startsWith(shownTitle!)).toBe(false);
  });
});

describe("pace", () => {
  it("waits for the first byte and spaces deltas in realtime", async () => {
    const timed = await startSimulator({ pace: "realtime", deltasPerSecond: 400, firstByteDelayMs: 100 });
    try {
      const started = performance.now();
      const response = await fetch(`${timed.url}/api/chat`, {
        method: "POST",
        body: JSON.stringify(ollamaBody()),
      });
      const reader = response.body!.getReader();
      await reader.read();
      const firstByte = performance.now() - started;
      let lines = 0;
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        lines += decoder.decode(value).split("\n").length - 1;
      }
      const total = performance.now() - started;
      expect(firstByte).toBeGreaterThanOrEqual(60);
      // ~2.5 ms a delta on average; the floor allows for timer coalescing.
      expect(total - firstByte).toBeGreaterThanOrEqual(lines * 1.2);
      // Order, not a clock: started together, the fast answer ends before the paced one (which
      // sleeps at least its first-byte delay and a timer per delta, however loaded the machine).
      const finished: string[] = [];
      const answer = (pace: string | undefined) =>
        fetch(`${timed.url}/api/chat`, {
          method: "POST",
          headers: pace === undefined ? {} : { "x-sim-pace": pace },
          body: JSON.stringify(ollamaBody()),
        })
          .then((r) => r.text())
          .then(() => finished.push(pace ?? "realtime"));
      await Promise.all([answer(undefined), answer("fast")]);
      expect(finished).toEqual(["fast", "realtime"]);
    } finally {
      await timed.close();
    }
  });
});
