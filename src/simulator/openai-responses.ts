import type { Answer } from "./answer.ts";
import { openaiError } from "./openai-chat.ts";
import { isObject } from "./schema-walk.ts";
import {
  BadRequest,
  cutJson,
  type Frame,
  HEX,
  lastWithRole,
  makeId,
  stringField,
  textOf,
  type WireFormat,
} from "./wire.ts";

/**
 * OpenAI Responses (`POST /v1/responses`): named SSE events (`event: response.output_text.delta`),
 * each carrying `type` and a `sequence_number` that counts from 0.
 *
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */

function forcedFunction(body: Record<string, unknown>): { name: string; parameters: unknown } | undefined {
  const tools = Array.isArray(body.tools) ? body.tools.filter(isObject) : [];
  const choice = body.tool_choice;
  let name: string | undefined;
  if (isObject(choice) && choice.type === "function" && typeof choice.name === "string") name = choice.name;
  else if (choice === "required" && tools.length === 1 && typeof tools[0]!.name === "string")
    name = tools[0]!.name;
  if (name === undefined) return undefined;
  const tool = tools.find((t) => t.type === "function" && t.name === name);
  if (!tool) throw new BadRequest(`Tool choice '${name}' not found in 'tools' parameter.`);
  return { name, parameters: tool.parameters ?? { type: "object", properties: {} } };
}

function promptOf(input: unknown): string {
  if (typeof input === "string") return input;
  const user = lastWithRole(input, "user");
  return user ? textOf(user.content) : "";
}

interface Ids {
  response: string;
  item: string;
  call: string;
}

function responseObject(answer: Answer, ids: Ids, status: string, output: unknown[], done: boolean) {
  const { body } = answer.request;
  const text = isObject(body.text) ? body.text : {};
  return {
    id: ids.response,
    object: "response",
    created_at: answer.created,
    status,
    background: false,
    error: null,
    incomplete_details: status === "incomplete" ? { reason: "max_output_tokens" } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: answer.request.model,
    output,
    parallel_tool_calls: true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: "default",
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: { format: text.format ?? { type: "text" }, verbosity: "medium" },
    tool_choice: body.tool_choice ?? "auto",
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: "disabled",
    usage: done
      ? {
          input_tokens: answer.inputTokens,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: answer.outputTokens,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: answer.inputTokens + answer.outputTokens,
        }
      : null,
    user: null,
    metadata: body.metadata ?? {},
  };
}

function idsOf(answer: Answer): Ids {
  return {
    response: makeId(answer.random, "resp_", 48, HEX),
    item: makeId(answer.random, answer.kind === "json" && answer.request.tool ? "fc_" : "msg_", 48, HEX),
    call: makeId(answer.random, "call_", 24),
  };
}

/** The output item when done (`status` completed or incomplete). */
function finalItem(answer: Answer, ids: Ids) {
  const itemStatus = answer.finish === "length" ? "incomplete" : "completed";
  if (answer.kind === "json" && answer.request.tool) {
    return {
      id: ids.item,
      type: "function_call",
      status: itemStatus,
      arguments: answer.text,
      call_id: ids.call,
      name: answer.request.tool,
    };
  }
  const part =
    answer.kind === "refusal"
      ? { type: "refusal", refusal: answer.text }
      : { type: "output_text", annotations: [], logprobs: [], text: answer.text };
  return { id: ids.item, type: "message", status: itemStatus, content: [part], role: "assistant" };
}

export const openaiResponses: WireFormat = {
  provider: "openai-responses",
  requestIdHeader: "x-request-id",
  midStreamErrorStatus: 500,

  parse(body) {
    let schema: unknown;
    const format = isObject(body.text) ? body.text.format : undefined;
    if (isObject(format) && format.type === "json_schema") {
      if (!isObject(format.schema)) throw new BadRequest("Missing required parameter: 'text.format.schema'.");
      schema = format.schema;
    }
    const tool = forcedFunction(body);
    return {
      model: stringField(body, "model", "sim"),
      prompt: promptOf(body.input),
      schema: tool ? tool.parameters : schema,
      tool: tool?.name,
      stream: body.stream === true,
      body,
    };
  },

  stream(answer) {
    const ids = idsOf(answer);
    const frames: Frame[] = [];
    const emit = (type: string, fields: Record<string, unknown>, delta = false) => {
      frames.push({
        text: `event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: frames.length, ...fields })}\n\n`,
        delta,
      });
    };
    const isCall = answer.kind === "json" && answer.request.tool !== undefined;
    const isRefusal = answer.kind === "refusal";
    emit("response.created", { response: responseObject(answer, ids, "in_progress", [], false) });
    emit("response.in_progress", { response: responseObject(answer, ids, "in_progress", [], false) });
    // Extra output items (reasoning, a web search, a preamble message, function calls) come first.
    let output = 0;
    const extras = answer.extras;
    if (extras.thinking) {
      const id = makeId(answer.random, "rs_", 48, HEX);
      emit("response.output_item.added", {
        output_index: output,
        item: { id, type: "reasoning", summary: [] },
      });
      emit("response.reasoning_summary_part.added", {
        item_id: id,
        output_index: output,
        summary_index: 0,
        part: { type: "summary_text", text: "" },
      });
      for (const delta of extras.thinking)
        emit(
          "response.reasoning_summary_text.delta",
          { item_id: id, output_index: output, summary_index: 0, delta },
          true,
        );
      const text = extras.thinking.join("");
      emit("response.reasoning_summary_text.done", {
        item_id: id,
        output_index: output,
        summary_index: 0,
        text,
      });
      emit("response.output_item.done", {
        output_index: output++,
        item: { id, type: "reasoning", summary: [{ type: "summary_text", text }] },
      });
    }
    if (extras.serverTool) {
      const id = makeId(answer.random, "ws_", 48, HEX);
      emit("response.output_item.added", {
        output_index: output,
        item: { id, type: "web_search_call", status: "in_progress" },
      });
      emit("response.web_search_call.in_progress", { item_id: id, output_index: output });
      emit("response.web_search_call.searching", { item_id: id, output_index: output });
      emit("response.web_search_call.completed", { item_id: id, output_index: output });
      emit("response.output_item.done", {
        output_index: output++,
        item: {
          id,
          type: "web_search_call",
          status: "completed",
          action: { type: "search", query: extras.serverTool.query },
        },
      });
    }
    if (extras.preamble) {
      const id = makeId(answer.random, "msg_", 48, HEX);
      const at = { item_id: id, output_index: output };
      emit("response.output_item.added", {
        output_index: output,
        item: { id, type: "message", status: "in_progress", content: [], role: "assistant" },
      });
      emit("response.content_part.added", {
        ...at,
        content_index: 0,
        part: { type: "output_text", annotations: [], logprobs: [], text: "" },
      });
      for (const delta of extras.preamble)
        emit("response.output_text.delta", { ...at, content_index: 0, delta, logprobs: [] }, true);
      const text = extras.preamble.join("");
      emit("response.output_text.done", { ...at, content_index: 0, text, logprobs: [] });
      emit("response.output_item.done", {
        output_index: output++,
        item: {
          id,
          type: "message",
          status: "completed",
          role: "assistant",
          content: [{ type: "output_text", annotations: [], logprobs: [], text }],
        },
      });
    }
    for (const call of extras.toolCalls ?? []) {
      const item = {
        id: makeId(answer.random, "fc_", 48, HEX),
        type: "function_call",
        status: "in_progress",
        arguments: "",
        call_id: makeId(answer.random, "call_", 24),
        name: call.name,
      };
      emit("response.output_item.added", { output_index: output, item });
      for (const delta of call.deltas)
        emit(
          "response.function_call_arguments.delta",
          { item_id: item.id, output_index: output, delta },
          true,
        );
      emit("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: output,
        name: call.name,
        arguments: call.arguments,
      });
      emit("response.output_item.done", {
        output_index: output++,
        item: { ...item, status: "completed", arguments: call.arguments },
      });
    }
    const position = { item_id: ids.item, output_index: output };
    emit("response.output_item.added", {
      output_index: output,
      item: isCall
        ? {
            id: ids.item,
            type: "function_call",
            status: "in_progress",
            arguments: "",
            call_id: ids.call,
            name: answer.request.tool,
          }
        : { id: ids.item, type: "message", status: "in_progress", content: [], role: "assistant" },
    });
    if (!isCall) {
      emit("response.content_part.added", {
        ...position,
        content_index: 0,
        part: isRefusal
          ? { type: "refusal", refusal: "" }
          : { type: "output_text", annotations: [], logprobs: [], text: "" },
      });
    }
    const contentStart = frames.length;
    for (const delta of answer.deltas) {
      if (isCall) emit("response.function_call_arguments.delta", { ...position, delta }, true);
      else if (isRefusal) emit("response.refusal.delta", { ...position, content_index: 0, delta }, true);
      else emit("response.output_text.delta", { ...position, content_index: 0, delta, logprobs: [] }, true);
    }
    const contentEnd = frames.length;
    const item = finalItem(answer, ids);
    if (isCall) {
      emit("response.function_call_arguments.done", {
        ...position,
        name: answer.request.tool,
        arguments: answer.text,
      });
    } else {
      if (isRefusal) emit("response.refusal.done", { ...position, content_index: 0, refusal: answer.text });
      else
        emit("response.output_text.done", { ...position, content_index: 0, text: answer.text, logprobs: [] });
      emit("response.content_part.done", { ...position, content_index: 0, part: item.content![0] });
    }
    emit("response.output_item.done", { output_index: output, item });
    const incomplete = answer.finish === "length";
    emit(incomplete ? "response.incomplete" : "response.completed", {
      response: responseObject(answer, ids, incomplete ? "incomplete" : "completed", [item], true),
    });

    return {
      contentType: "text/event-stream; charset=utf-8",
      frames,
      contentStart,
      contentEnd,
      errorFrame: (index) =>
        `event: error\ndata: ${JSON.stringify({
          type: "error",
          sequence_number: index,
          code: "server_error",
          message: "The server had an error while processing your request. Sorry about that!",
          param: null,
        })}\n\n`,
      malformedFrame: (index) =>
        `event: response.output_text.delta\ndata: ${cutJson({
          type: "response.output_text.delta",
          sequence_number: index,
          ...position,
          content_index: 0,
          delta: "",
          logprobs: [],
        })}\n\n`,
    };
  },

  complete(answer) {
    const ids = idsOf(answer);
    const status = answer.finish === "length" ? "incomplete" : "completed";
    return responseObject(answer, ids, status, [finalItem(answer, ids)], true);
  },

  error: (status, message) => openaiError(status, message),
};
