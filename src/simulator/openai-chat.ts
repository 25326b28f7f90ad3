import type { Answer } from "./answer.ts";
import { isObject } from "./schema-walk.ts";
import {
  BadRequest,
  type Frame,
  lastWithRole,
  makeId,
  sse,
  stringField,
  textOf,
  type WireError,
  type WireFormat,
} from "./wire.ts";

/**
 * OpenAI Chat Completions (`POST /v1/chat/completions`): `data:` lines of `chat.completion.chunk`,
 * then `data: [DONE]`.
 *
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 */

const ERROR_TYPES: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: "invalid_request_error", code: null, message: "Invalid request." },
  401: {
    type: "invalid_request_error",
    code: "invalid_api_key",
    message:
      "Incorrect API key provided. You can find your API key at https://platform.openai.com/account/api-keys.",
  },
  403: {
    type: "invalid_request_error",
    code: "unsupported_country_region_territory",
    message: "Access denied.",
  },
  404: { type: "invalid_request_error", code: "model_not_found", message: "The model does not exist." },
  429: {
    type: "requests",
    code: "rate_limit_exceeded",
    message: "Rate limit reached for requests. Please try again in 1s.",
  },
  500: {
    type: "server_error",
    code: null,
    message: "The server had an error while processing your request. Sorry about that!",
  },
  503: {
    type: "server_error",
    code: null,
    message: "The engine is currently overloaded, please try again later.",
  },
};

/** The error body every OpenAI endpoint uses. */
export function openaiError(status: number, message: string | undefined): WireError {
  const known = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
  return {
    body: { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } },
  };
}

/** The forced tool of a request (`tool_choice` naming a function, or "required" with one tool). */
function forcedTool(body: Record<string, unknown>): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
  const choice = body.tool_choice;
  let name: string | undefined;
  if (isObject(choice) && choice.type === "function" && isObject(choice.function)) {
    name = typeof choice.function.name === "string" ? choice.function.name : undefined;
  } else if (choice === "required" && tools.length === 1) {
    const only = tools[0]!;
    name = isObject(only.function) && typeof only.function.name === "string" ? only.function.name : undefined;
  }
  if (name === undefined) return undefined;
  const tool = tools.find((t) => isObject(t.function) && t.function.name === name);
  if (!tool || !isObject(tool.function))
    throw new BadRequest(`Invalid value for 'tool_choice': no function named '${name}' in 'tools'.`);
  return { name, parameters: tool.function.parameters ?? { type: "object", properties: {} } };
}

export const openaiChat: WireFormat = {
  provider: "openai-chat",
  requestIdHeader: "x-request-id",
  midStreamErrorStatus: 500,

  parse(body) {
    const user = lastWithRole(body.messages, "user");
    let schema: unknown;
    const format = body.response_format;
    if (isObject(format) && format.type === "json_schema") {
      const spec = format.json_schema;
      if (!isObject(spec) || !isObject(spec.schema))
        throw new BadRequest("Missing required parameter: 'response_format.json_schema.schema'.");
      schema = spec.schema;
    }
    const tool = forcedTool(body);
    const options = body.stream_options;
    return {
      model: stringField(body, "model", "sim"),
      prompt: user ? textOf(user.content) : "",
      schema: tool ? tool.parameters : schema,
      tool: tool?.name,
      stream: body.stream === true,
      includeUsage: isObject(options) && options.include_usage === true,
      body,
    };
  },

  stream(answer) {
    const { request, random } = answer;
    const id = makeId(random, "chatcmpl-", 29);
    const callId = makeId(random, "call_", 24);
    const base = {
      id,
      object: "chat.completion.chunk",
      created: answer.created,
      model: request.model,
      service_tier: "default",
      system_fingerprint: "fp_sim0000001",
    };
    const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
      ...base,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
      ...(request.includeUsage ? { usage: null } : {}),
    });
    const tool = answer.kind === "json" ? request.tool : undefined;
    const extras = answer.extras;
    const calls = extras.toolCalls ?? [];
    // The answer's tool call comes after the extra calls, so it takes the next index.
    const answerIndex = calls.length;
    const frames: Frame[] = [];
    const push = (delta: Record<string, unknown>, isDelta = false) =>
      frames.push({ text: sse(chunk(delta)), delta: isDelta });
    if (answer.kind === "refusal") push({ role: "assistant", content: null, refusal: "" });
    else push({ role: "assistant", content: tool ? null : "", refusal: null });
    // OpenAI-compatible servers (vLLM, DeepSeek) stream reasoning as reasoning_content.
    for (const delta of extras.thinking ?? []) push({ reasoning_content: delta }, true);
    for (const delta of extras.preamble ?? []) push({ content: delta }, true);
    calls.forEach((call, index) => {
      push({
        tool_calls: [
          {
            index,
            id: makeId(random, "call_", 24),
            type: "function",
            function: { name: call.name, arguments: "" },
          },
        ],
      });
      for (const delta of call.deltas)
        push({ tool_calls: [{ index, function: { arguments: delta } }] }, true);
    });
    if (tool) {
      push({
        tool_calls: [
          { index: answerIndex, id: callId, type: "function", function: { name: tool, arguments: "" } },
        ],
      });
    }
    const contentStart = frames.length;
    const deltaOf = (text: string) =>
      answer.kind === "refusal"
        ? { refusal: text }
        : tool
          ? { tool_calls: [{ index: answerIndex, function: { arguments: text } }] }
          : { content: text };
    const finish = answer.finish === "length" ? "length" : tool || calls.length > 0 ? "tool_calls" : "stop";

    for (const delta of answer.deltas) push(deltaOf(delta), true);
    const contentEnd = frames.length;
    frames.push({ text: sse(chunk({}, finish)), delta: false });
    if (request.includeUsage) {
      frames.push({
        text: sse({ ...base, choices: [], usage: usage(answer) }),
        delta: false,
      });
    }
    frames.push({ text: "data: [DONE]\n\n", delta: false });
    return {
      contentType: "text/event-stream; charset=utf-8",
      frames,
      contentStart,
      contentEnd,
      errorFrame: () => sse(openaiError(500, undefined).body),
      malformedFrame: () => `data: ${JSON.stringify(chunk({ content: "" })).slice(0, 60)}\n\n`,
    };
  },

  complete(answer) {
    const { request, random } = answer;
    const tool = answer.kind === "json" ? request.tool : undefined;
    const message: Record<string, unknown> = {
      role: "assistant",
      content: answer.kind === "json" && !tool ? answer.text : null,
      refusal: answer.kind === "refusal" ? answer.text : null,
      annotations: [],
    };
    if (tool) {
      message.tool_calls = [
        {
          id: makeId(random, "call_", 24),
          type: "function",
          function: { name: tool, arguments: answer.text },
        },
      ];
    }
    return {
      id: makeId(random, "chatcmpl-", 29),
      object: "chat.completion",
      created: answer.created,
      model: request.model,
      choices: [
        {
          index: 0,
          message,
          logprobs: null,
          finish_reason: answer.finish === "length" ? "length" : tool ? "tool_calls" : "stop",
        },
      ],
      usage: usage(answer),
      service_tier: "default",
      system_fingerprint: "fp_sim0000001",
    };
  },

  error: (status, message) => openaiError(status, message),
};

function usage(answer: Answer) {
  return {
    prompt_tokens: answer.inputTokens,
    completion_tokens: answer.outputTokens,
    total_tokens: answer.inputTokens + answer.outputTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}
