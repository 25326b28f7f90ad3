import { describe, expect, it } from "vitest";
import { isStructreamError } from "../errors/index.ts";
import {
  ANTHROPIC_VERSION,
  buildAnthropicRequest,
  buildGeminiRequest,
  buildOllamaRequest,
  buildOpenAIChatRequest,
  buildOpenAIResponsesRequest,
  getProvider,
  type RequestOptions,
} from "./index.ts";

const schema = {
  type: "object",
  properties: { city: { type: "string" }, population: { type: "integer", minimum: 0 } },
  required: ["city"],
};

const options: RequestOptions = {
  schema,
  request: {
    model: "test-model",
    messages: [
      { role: "system", content: "Answer in JSON." },
      { role: "user", content: "Where is the Louvre?" },
      { role: "assistant", content: "Let me check." },
    ],
    temperature: 0,
  },
  apiKey: "sk-test",
};

describe("buildOpenAIChatRequest", () => {
  it("asks for strict json_schema output and usage, with a Bearer key", () => {
    const built = buildOpenAIChatRequest(options);
    expect(built.url).toBe("https://api.openai.com/v1/chat/completions");
    expect(built.init.headers).toEqual({
      "content-type": "application/json",
      accept: "text/event-stream",
      authorization: "Bearer sk-test",
    });
    expect(JSON.parse(built.init.body)).toEqual(built.body);
    expect(built.body).toMatchInlineSnapshot(`
      {
        "messages": [
          {
            "content": "Answer in JSON.",
            "role": "system",
          },
          {
            "content": "Where is the Louvre?",
            "role": "user",
          },
          {
            "content": "Let me check.",
            "role": "assistant",
          },
        ],
        "model": "test-model",
        "response_format": {
          "json_schema": {
            "name": "response",
            "schema": {
              "additionalProperties": false,
              "properties": {
                "city": {
                  "type": "string",
                },
                "population": {
                  "minimum": 0,
                  "type": [
                    "integer",
                    "null",
                  ],
                },
              },
              "required": [
                "city",
                "population",
              ],
              "type": "object",
            },
            "strict": true,
          },
          "type": "json_schema",
        },
        "stream": true,
        "stream_options": {
          "include_usage": true,
        },
        "temperature": 0,
      }
    `);
    expect(built.restore?.({ city: "Paris", population: null })).toEqual({ city: "Paris" });
  });

  it("works with any OpenAI-compatible server through baseURL, without a key", () => {
    const built = buildOpenAIChatRequest({
      ...options,
      apiKey: undefined,
      baseURL: "http://localhost:8000/v1/",
    });
    expect(built.url).toBe("http://localhost:8000/v1/chat/completions");
    expect(built.init.headers.authorization).toBeUndefined();
  });

  it("lets native fields win, and stream_options: null drop the usage request", () => {
    const built = buildOpenAIChatRequest({
      ...options,
      request: { ...options.request, stream_options: null, response_format: { type: "json_object" } },
    });
    expect(built.body.stream_options).toBeUndefined();
    expect(built.body.response_format).toEqual({ type: "json_object" });
  });

  it("sends strict: false with the original schema when strict mode cannot express it", () => {
    const map = { type: "object", additionalProperties: { type: "number" } };
    const built = buildOpenAIChatRequest({ ...options, schema: map, schemaName: "scores by name!" });
    expect(built.body.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "scores_by_name_", schema: map, strict: false },
    });
    expect(built.restore).toBeUndefined();
    expect(built.schemaNotes?.[0]).toBe("Sent with strict: false.");
  });
});

describe("buildOpenAIResponsesRequest", () => {
  it("sends the messages as input and the schema as text.format", () => {
    const built = buildOpenAIResponsesRequest({
      ...options,
      request: { ...options.request, text: { verbosity: "low" } },
    });
    expect(built.url).toBe("https://api.openai.com/v1/responses");
    expect(built.body).toMatchInlineSnapshot(`
      {
        "input": [
          {
            "content": "Answer in JSON.",
            "role": "system",
          },
          {
            "content": "Where is the Louvre?",
            "role": "user",
          },
          {
            "content": "Let me check.",
            "role": "assistant",
          },
        ],
        "model": "test-model",
        "stream": true,
        "temperature": 0,
        "text": {
          "format": {
            "name": "response",
            "schema": {
              "additionalProperties": false,
              "properties": {
                "city": {
                  "type": "string",
                },
                "population": {
                  "minimum": 0,
                  "type": [
                    "integer",
                    "null",
                  ],
                },
              },
              "required": [
                "city",
                "population",
              ],
              "type": "object",
            },
            "strict": true,
            "type": "json_schema",
          },
          "verbosity": "low",
        },
      }
    `);
  });
});

describe("buildAnthropicRequest", () => {
  it("asks for structured outputs, moves system messages to system, and sends the key and version", () => {
    const built = buildAnthropicRequest(options);
    expect(built.url).toBe("https://api.anthropic.com/v1/messages");
    expect(built.init.headers).toEqual({
      "content-type": "application/json",
      accept: "text/event-stream",
      "anthropic-version": ANTHROPIC_VERSION,
      "x-api-key": "sk-test",
    });
    expect(built.body).toMatchInlineSnapshot(`
      {
        "max_tokens": 4096,
        "messages": [
          {
            "content": "Where is the Louvre?",
            "role": "user",
          },
          {
            "content": "Let me check.",
            "role": "assistant",
          },
        ],
        "model": "test-model",
        "output_config": {
          "format": {
            "schema": {
              "additionalProperties": false,
              "properties": {
                "city": {
                  "type": "string",
                },
                "population": {
                  "description": "{minimum: 0}",
                  "type": "integer",
                },
              },
              "required": [
                "city",
              ],
              "type": "object",
            },
            "type": "json_schema",
          },
        },
        "stream": true,
        "system": "Answer in JSON.",
        "temperature": 0,
      }
    `);
  });

  it("forces one tool whose input is the answer in tool mode", () => {
    const built = buildAnthropicRequest({ ...options, anthropicMode: "tool" });
    expect(built.body.tools).toEqual([
      { name: "response", description: "Give the answer as this tool's input.", input_schema: schema },
    ]);
    expect(built.body.tool_choice).toEqual({ type: "tool", name: "response" });
    expect(built.body.output_config).toBeUndefined();
  });

  it("falls back to a forced tool when structured outputs cannot express the schema", () => {
    const map = { type: "object", additionalProperties: { type: "number" } };
    const built = buildAnthropicRequest({ ...options, schema: map });
    expect(built.body.tool_choice).toEqual({ type: "tool", name: "response" });
    expect(built.schemaNotes?.[0]).toMatch(/forced tool/);
  });

  it("keeps a given max_tokens and merges a given output_config", () => {
    const built = buildAnthropicRequest({
      ...options,
      request: { ...options.request, max_tokens: 100, output_config: { effort: "low" } },
    });
    expect(built.body.max_tokens).toBe(100);
    expect(built.body.output_config).toMatchObject({ effort: "low", format: { type: "json_schema" } });
  });

  it("throws a StructreamError for a schema whose root is not an object", () => {
    let caught: unknown;
    try {
      buildAnthropicRequest({ ...options, schema: { type: "array", items: { type: "string" } } });
    } catch (error) {
      caught = error;
    }
    expect(isStructreamError(caught) && caught.code).toBe("unsupported_schema");
  });
});

describe("buildGeminiRequest", () => {
  it("posts to streamGenerateContent?alt=sse with responseJsonSchema and the x-goog-api-key", () => {
    const built = buildGeminiRequest({
      ...options,
      request: { ...options.request, generationConfig: { temperature: 0 } },
    });
    expect(built.url).toBe(
      "https://generativelanguage.googleapis.com/v1beta/models/test-model:streamGenerateContent?alt=sse",
    );
    expect(built.init.headers["x-goog-api-key"]).toBe("sk-test");
    expect(built.body).toMatchInlineSnapshot(`
      {
        "contents": [
          {
            "parts": [
              {
                "text": "Where is the Louvre?",
              },
            ],
            "role": "user",
          },
          {
            "parts": [
              {
                "text": "Let me check.",
              },
            ],
            "role": "model",
          },
        ],
        "generationConfig": {
          "responseJsonSchema": {
            "properties": {
              "city": {
                "type": "string",
              },
              "population": {
                "minimum": 0,
                "type": "integer",
              },
            },
            "required": [
              "city",
            ],
            "type": "object",
          },
          "responseMimeType": "application/json",
          "temperature": 0,
        },
        "systemInstruction": {
          "parts": [
            {
              "text": "Answer in JSON.",
            },
          ],
        },
      }
    `);
  });

  it("accepts a model given as models/<name>", () => {
    const built = buildGeminiRequest({
      ...options,
      request: { ...options.request, model: "models/gemini-2.5-flash" },
    });
    expect(built.url).toContain("/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
  });
});

describe("buildOllamaRequest", () => {
  it("posts to /api/chat with the schema as format", () => {
    const built = buildOllamaRequest({ ...options, apiKey: undefined });
    expect(built.url).toBe("http://localhost:11434/api/chat");
    expect(built.init.headers).toEqual({
      "content-type": "application/json",
      accept: "application/x-ndjson",
    });
    expect(built.body).toMatchInlineSnapshot(`
      {
        "format": {
          "properties": {
            "city": {
              "type": "string",
            },
            "population": {
              "minimum": 0,
              "type": "integer",
            },
          },
          "required": [
            "city",
          ],
          "type": "object",
        },
        "messages": [
          {
            "content": "Answer in JSON.",
            "role": "system",
          },
          {
            "content": "Where is the Louvre?",
            "role": "user",
          },
          {
            "content": "Let me check.",
            "role": "assistant",
          },
        ],
        "model": "test-model",
        "options": {
          "temperature": 0,
        },
        "stream": true,
      }
    `);
  });
});

describe("request building", () => {
  it("is offered by every provider but text, and needs a model", () => {
    expect(getProvider("text").buildRequest).toBeUndefined();
    expect(() => buildOllamaRequest({ schema, request: { model: "" } })).toThrow(/model/);
  });

  it("passes the abort signal and extra headers on", () => {
    const controller = new AbortController();
    const built = buildOllamaRequest({ ...options, signal: controller.signal, headers: { "x-trace": "1" } });
    expect(built.init.signal).toBe(controller.signal);
    expect(built.init.headers["x-trace"]).toBe("1");
  });
});
