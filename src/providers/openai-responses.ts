import { isRetryableErrorType, streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import { buildOpenAIResponsesRequest } from "./request.ts";
import type { FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const INCOMPLETE: Record<string, FinishReason> = {
  max_output_tokens: "length",
  content_filter: "content_filter",
};

function usageOf(response: unknown): ProviderEvent[] {
  const usage = field(response, "usage");
  if (!usage || typeof usage !== "object") return [];
  const event = compactUsage({
    inputTokens: numberField(usage, "input_tokens"),
    outputTokens: numberField(usage, "output_tokens"),
    totalTokens: numberField(usage, "total_tokens"),
  });
  return event ? [event] : [];
}

interface ResponsesCall {
  call: number;
  streamed: boolean;
  ended: boolean;
}

/** Output item types the API runs itself: never the answer. */
const SERVER_ITEMS =
  /^(web_search|file_search|code_interpreter|image_generation|computer|mcp|local_shell)_call$|^mcp_/;

function createResponsesMapper(): SdkEventMapper {
  const calls = new Map<string, ResponsesCall>();
  let count = 0;
  /** Items are keyed by `item_id`, else by their output index. */
  const keyOf = (event: unknown, item?: unknown): string =>
    stringField(item, "id") ??
    stringField(event, "item_id") ??
    `#${numberField(event, "output_index") ?? ""}`;
  const callOf = (event: unknown): ResponsesCall | undefined =>
    calls.get(keyOf(event)) ?? calls.get(`#${numberField(event, "output_index") ?? ""}`);
  const finishCall = (call: ResponsesCall, args: string | undefined): ProviderEvent[] => {
    if (call.ended) return [];
    call.ended = true;
    const events: ProviderEvent[] = [];
    // A call whose arguments came only whole (no deltas) gets them here.
    if (!call.streamed && args !== undefined)
      events.push({ type: "tool-call", index: call.call, delta: args });
    events.push({ type: "tool-call-end", index: call.call });
    return events;
  };
  return {
    map(event) {
      const type = stringField(event, "type");
      switch (type) {
        case "response.output_text.delta": {
          const delta = stringField(event, "delta");
          return delta ? [{ type: "text", delta }] : [];
        }
        case "response.refusal.delta": {
          const delta = stringField(event, "delta");
          return delta ? [{ type: "refusal", delta }] : [];
        }
        case "response.reasoning_summary_text.delta":
        case "response.reasoning_text.delta": {
          const delta = stringField(event, "delta");
          return delta ? [{ type: "reasoning", delta }] : [];
        }
        case "response.output_item.added": {
          const item = field(event, "item");
          const itemType = stringField(item, "type");
          if (itemType === "function_call" || itemType === "custom_tool_call") {
            const call: ResponsesCall = { call: count++, streamed: false, ended: false };
            calls.set(keyOf(event, item), call);
            const output = numberField(event, "output_index");
            if (output !== undefined) calls.set(`#${output}`, call);
            const args = stringField(item, "arguments") ?? stringField(item, "input") ?? "";
            if (args !== "") call.streamed = true;
            return [
              {
                type: "tool-call",
                index: call.call,
                id: stringField(item, "call_id") ?? stringField(item, "id"),
                name: stringField(item, "name"),
                delta: args,
              },
            ];
          }
          if (itemType !== undefined && SERVER_ITEMS.test(itemType)) {
            return [
              { type: "server-tool", phase: "call", id: stringField(item, "id"), name: itemType, delta: "" },
            ];
          }
          return [];
        }
        case "response.function_call_arguments.delta":
        case "response.custom_tool_call_input.delta": {
          const delta = stringField(event, "delta");
          const call = callOf(event);
          if (!delta || call === undefined || call.ended) return [];
          call.streamed = true;
          return [{ type: "tool-call", index: call.call, delta }];
        }
        case "response.function_call_arguments.done":
        case "response.custom_tool_call_input.done": {
          const call = callOf(event);
          return call === undefined
            ? []
            : finishCall(call, stringField(event, "arguments") ?? stringField(event, "input"));
        }
        case "response.output_item.done": {
          const item = field(event, "item");
          const itemType = stringField(item, "type");
          if (itemType === "function_call" || itemType === "custom_tool_call") {
            const call = calls.get(keyOf(event, item)) ?? callOf(event);
            return call === undefined
              ? []
              : finishCall(call, stringField(item, "arguments") ?? stringField(item, "input"));
          }
          if (itemType !== undefined && SERVER_ITEMS.test(itemType)) {
            return [
              {
                type: "server-tool",
                phase: "result",
                id: stringField(item, "id"),
                name: itemType,
                delta: JSON.stringify(item),
              },
            ];
          }
          return [];
        }
        case "response.completed": {
          const response = field(event, "response");
          return [
            ...usageOf(response),
            { type: "finish", reason: "stop", raw: "completed" },
            { type: "end" },
          ];
        }
        case "response.incomplete": {
          const response = field(event, "response");
          const reason = stringField(field(response, "incomplete_details"), "reason");
          return [
            ...usageOf(response),
            {
              type: "finish",
              reason: (reason && INCOMPLETE[reason]) || "other",
              raw: reason ?? "incomplete",
            },
            { type: "end" },
          ];
        }
        case "response.failed": {
          const response = field(event, "response");
          const error = field(response, "error");
          const code = stringField(error, "code") ?? "response_failed";
          return [
            {
              type: "error",
              errorType: code,
              message: stringField(error, "message") ?? "The response failed.",
              retryable: isRetryableErrorType(code),
            },
            { type: "end" },
          ];
        }
        case "error":
          return [streamErrorEvent(event)];
        default:
          return [];
      }
    },
    end() {
      return [];
    },
  };
}

/**
 * Responses API streaming: typed events. Text is `response.output_text.delta`; a
 * `function_call` item (`response.output_item.added`) is a tool call whose arguments stream as
 * `response.function_call_arguments.delta` and end with `.done` (which fills a call that had no
 * deltas); reasoning is `response.reasoning_summary_text.delta` (and `reasoning_text`); built-in
 * tool items (`web_search_call`, ...) are server tools; refusals stream as
 * `response.refusal.delta`; the end signal is `response.completed` (stop),
 * `response.incomplete` (`max_output_tokens` is `length`, `content_filter` is
 * `content_filter`), or an error: `response.failed` or `error`.
 *
 * @example
 * ```ts
 * const decoder = openaiResponsesAdapter.createDecoder();
 * decoder.push('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"{"}\n\n');
 * // [{ type: "text", delta: "{" }]
 * ```
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 */
export const openaiResponsesAdapter: ProviderAdapter = {
  id: "openai-responses",
  contentTypes: ["text/event-stream"],
  framing: "sse",
  createDecoder: () => createJsonSseDecoder(createResponsesMapper()),
  createSdkMapper: createResponsesMapper,
  buildRequest: buildOpenAIResponsesRequest,
};
