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

function createResponsesMapper(): SdkEventMapper {
  // The answer is the first function call's arguments when the model answers through one.
  let functionItem: string | undefined;
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
        case "response.function_call_arguments.delta": {
          const delta = stringField(event, "delta");
          const item = stringField(event, "item_id") ?? String(numberField(event, "output_index") ?? "");
          functionItem ??= item;
          return delta && item === functionItem ? [{ type: "text", delta }] : [];
        }
        case "response.completed": {
          const response = field(event, "response");
          return [...usageOf(response), { type: "finish", reason: "stop", raw: "completed" }];
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
 * Responses API streaming: typed events. Text is `response.output_text.delta` (or the first
 * function call's `response.function_call_arguments.delta`), refusals stream as
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
