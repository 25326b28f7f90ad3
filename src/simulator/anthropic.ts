import type { Answer } from "./answer.ts";
import { isObject } from "./schema-walk.ts";
import {
  ALPHANUMERIC,
  BadRequest,
  cutJson,
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
 * Anthropic Messages (`POST /v1/messages`): named SSE events `message_start`, `content_block_start`,
 * `ping`, `content_block_delta` (`text_delta`, or `input_json_delta` for a forced tool),
 * `content_block_stop`, `message_delta` (stop reason, usage), `message_stop`.
 *
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */

const ERROR_TYPES: Record<number, [string, string]> = {
  400: ["invalid_request_error", "Invalid request."],
  401: ["authentication_error", "invalid x-api-key"],
  403: ["permission_error", "Your API key does not have permission to use the specified resource."],
  404: ["not_found_error", "The requested resource could not be found."],
  413: ["request_too_large", "Request exceeds the maximum allowed number of bytes."],
  429: ["rate_limit_error", "Number of request tokens has exceeded your per-minute rate limit."],
  500: ["api_error", "Internal server error"],
  529: ["overloaded_error", "Overloaded"],
};

function anthropicError(status: number, message: string | undefined, requestId: string): WireError {
  const [type, fallback] = ERROR_TYPES[status] ?? (status >= 500 ? ERROR_TYPES[500]! : ERROR_TYPES[400]!);
  return { body: { type: "error", error: { type, message: message ?? fallback }, request_id: requestId } };
}

function forcedTool(body: Record<string, unknown>): { name: string; schema: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
  const choice = body.tool_choice;
  let name: string | undefined;
  if (isObject(choice) && choice.type === "tool" && typeof choice.name === "string") name = choice.name;
  else if (
    isObject(choice) &&
    choice.type === "any" &&
    tools.length === 1 &&
    typeof tools[0]!.name === "string"
  )
    name = tools[0]!.name;
  if (name === undefined) return undefined;
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new BadRequest(`tool_choice: tool '${name}' not found in tools`);
  return { name, schema: tool.input_schema ?? { type: "object", properties: {} } };
}

/** `output_config.format` (GA) or `output_format` (the structured-outputs beta). */
function outputSchema(body: Record<string, unknown>): unknown {
  const config = isObject(body.output_config) ? body.output_config : undefined;
  const format = isObject(config?.format)
    ? config.format
    : isObject(body.output_format)
      ? body.output_format
      : undefined;
  if (format?.type !== "json_schema") return undefined;
  if (!isObject(format.schema)) throw new BadRequest("output_format.schema: Field required");
  return format.schema;
}

function stopReason(answer: Answer): string {
  if (answer.kind === "refusal") return "refusal";
  if (answer.finish === "length") return "max_tokens";
  return answer.request.tool || answer.extras.toolCalls ? "tool_use" : "end_turn";
}

function ids(answer: Answer) {
  return {
    message: makeId(answer.random, "msg_01", 22, ALPHANUMERIC),
    tool: makeId(answer.random, "toolu_01", 22),
  };
}

function usage(answer: Answer, outputTokens: number) {
  return {
    input_tokens: answer.inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: outputTokens,
    service_tier: "standard",
  };
}

const REFUSAL_DETAILS = {
  type: "refusal",
  category: null,
  explanation: "The request was declined by the simulator's refusal fault.",
};

export const anthropic: WireFormat = {
  provider: "anthropic",
  requestIdHeader: "request-id",
  midStreamErrorStatus: 529,

  parse(body) {
    const user = lastWithRole(body.messages, "user");
    const tool = forcedTool(body);
    return {
      model: stringField(body, "model", "sim"),
      prompt: user ? textOf(user.content) : "",
      schema: tool ? tool.schema : outputSchema(body),
      tool: tool?.name,
      stream: body.stream === true,
      body,
    };
  },

  stream(answer) {
    const id = ids(answer);
    const tool = answer.kind === "json" ? answer.request.tool : undefined;
    const frames: Frame[] = [];
    const emit = (event: string, data: Record<string, unknown>, delta = false) =>
      frames.push({ text: sse({ type: event, ...data }, event), delta });

    emit("message_start", {
      message: {
        id: id.message,
        type: "message",
        role: "assistant",
        model: answer.request.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: usage(answer, 1),
      },
    });
    // A refusal from the streaming classifier ends the message before any content block.
    let contentStart = frames.length;
    // Extra blocks (thinking, a server tool, a preamble, client tool calls) come first.
    let index = 0;
    const extras = answer.extras;
    if (extras.thinking) {
      emit("content_block_start", {
        index,
        content_block: { type: "thinking", thinking: "", signature: "" },
      });
      for (const delta of extras.thinking)
        emit("content_block_delta", { index, delta: { type: "thinking_delta", thinking: delta } }, true);
      emit("content_block_delta", {
        index,
        delta: { type: "signature_delta", signature: makeId(answer.random, "EqQBCgIYAhIM", 40) },
      });
      emit("content_block_stop", { index: index++ });
    }
    if (extras.serverTool) {
      const toolId = makeId(answer.random, "srvtoolu_01", 22);
      emit("content_block_start", {
        index,
        content_block: { type: "server_tool_use", id: toolId, name: extras.serverTool.name, input: {} },
      });
      emit("content_block_delta", {
        index,
        delta: { type: "input_json_delta", partial_json: JSON.stringify({ query: extras.serverTool.query }) },
      });
      emit("content_block_stop", { index: index++ });
      emit("content_block_start", {
        index,
        content_block: {
          type: "web_search_tool_result",
          tool_use_id: toolId,
          content: [
            {
              type: "web_search_result",
              title: extras.serverTool.query,
              url: "https://example.org/",
              encrypted_content: makeId(answer.random, "Eq", 24),
              page_age: null,
            },
          ],
        },
      });
      emit("content_block_stop", { index: index++ });
    }
    if (extras.preamble) {
      emit("content_block_start", { index, content_block: { type: "text", text: "" } });
      for (const delta of extras.preamble)
        emit("content_block_delta", { index, delta: { type: "text_delta", text: delta } }, true);
      emit("content_block_stop", { index: index++ });
    }
    for (const call of extras.toolCalls ?? []) {
      emit("content_block_start", {
        index,
        content_block: {
          type: "tool_use",
          id: makeId(answer.random, "toolu_01", 22),
          name: call.name,
          input: {},
        },
      });
      for (const delta of call.deltas)
        emit(
          "content_block_delta",
          { index, delta: { type: "input_json_delta", partial_json: delta } },
          true,
        );
      emit("content_block_stop", { index: index++ });
    }
    const answerIndex = index;
    contentStart = frames.length;
    if (answer.kind === "json") {
      emit("content_block_start", {
        index: answerIndex,
        content_block: tool
          ? { type: "tool_use", id: id.tool, name: tool, input: {} }
          : { type: "text", text: "" },
      });
      emit("ping", {});
      if (tool)
        emit("content_block_delta", {
          index: answerIndex,
          delta: { type: "input_json_delta", partial_json: "" },
        });
      contentStart = frames.length;
      for (const delta of answer.deltas) {
        emit(
          "content_block_delta",
          {
            index: answerIndex,
            delta: tool
              ? { type: "input_json_delta", partial_json: delta }
              : { type: "text_delta", text: delta },
          },
          true,
        );
      }
    } else emit("ping", {});
    const contentEnd = frames.length;
    if (answer.kind === "json") emit("content_block_stop", { index: answerIndex });
    emit("message_delta", {
      delta: {
        stop_reason: stopReason(answer),
        stop_sequence: null,
        ...(answer.kind === "refusal" ? { stop_details: REFUSAL_DETAILS } : {}),
      },
      usage: { output_tokens: answer.kind === "refusal" ? 1 : answer.outputTokens },
    });
    emit("message_stop", {});
    return {
      contentType: "text/event-stream; charset=utf-8",
      frames,
      contentStart,
      contentEnd,
      errorFrame: () =>
        sse({ type: "error", error: { type: "overloaded_error", message: "Overloaded" } }, "error"),
      malformedFrame: () =>
        `event: content_block_delta\ndata: ${cutJson({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "" } })}\n\n`,
    };
  },

  complete(answer) {
    const id = ids(answer);
    const tool = answer.kind === "json" ? answer.request.tool : undefined;
    let input: unknown = {};
    if (tool) {
      try {
        input = JSON.parse(answer.text);
      } catch {
        input = {}; // a cut or broken tool input arrives as an empty object
      }
    }
    return {
      id: id.message,
      type: "message",
      role: "assistant",
      model: answer.request.model,
      content:
        answer.kind === "refusal"
          ? []
          : [
              tool
                ? { type: "tool_use", id: id.tool, name: tool, input }
                : { type: "text", text: answer.text },
            ],
      stop_reason: stopReason(answer),
      stop_sequence: null,
      ...(answer.kind === "refusal" ? { stop_details: REFUSAL_DETAILS } : {}),
      usage: usage(answer, answer.kind === "refusal" ? 1 : answer.outputTokens),
    };
  },

  error: anthropicError,
};
