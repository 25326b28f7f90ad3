import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import { buildAnthropicRequest } from "./request.ts";
import type { FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const STOP: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  // The forced tool's input is the answer, so its end is the normal end.
  tool_use: "stop",
  max_tokens: "length",
  model_context_window_exceeded: "length",
  refusal: "refusal",
};

function usageOf(usage: unknown): ProviderEvent[] {
  if (!usage || typeof usage !== "object") return [];
  const event = compactUsage({
    inputTokens: numberField(usage, "input_tokens"),
    outputTokens: numberField(usage, "output_tokens"),
    totalTokens: undefined,
  });
  return event ? [event] : [];
}

function createAnthropicMapper(): SdkEventMapper {
  let stopReason: string | undefined;
  return {
    map(event) {
      switch (stringField(event, "type")) {
        case "message_start":
          return usageOf(field(field(event, "message"), "usage"));
        case "content_block_start": {
          // A text block may open with text; a tool_use block opens with `input: {}` and streams
          // its JSON in input_json_delta. Thinking blocks are not the answer.
          const block = field(event, "content_block");
          const text = stringField(block, "type") === "text" ? stringField(block, "text") : undefined;
          return text ? [{ type: "text", delta: text }] : [];
        }
        case "content_block_delta": {
          const delta = field(event, "delta");
          const kind = stringField(delta, "type");
          const text =
            kind === "text_delta"
              ? stringField(delta, "text")
              : kind === "input_json_delta"
                ? stringField(delta, "partial_json")
                : undefined;
          return text ? [{ type: "text", delta: text }] : [];
        }
        case "message_delta": {
          stopReason = stringField(field(event, "delta"), "stop_reason") ?? stopReason;
          return usageOf(field(event, "usage"));
        }
        case "message_stop":
          // message_stop is the end signal; the reason came with message_delta.
          return [
            stopReason === undefined
              ? { type: "finish", reason: "stop", raw: "message_stop" }
              : { type: "finish", reason: STOP[stopReason] ?? "other", raw: stopReason },
          ];
        case "error":
          return [streamErrorEvent(event)];
        default:
          // ping, content_block_stop, and event types added later.
          return [];
      }
    },
    end() {
      return [];
    },
  };
}

/**
 * Anthropic Messages streaming: `message_start`, `content_block_start/delta/stop` (`text_delta`,
 * or `input_json_delta` for a forced tool's input), `message_delta` with the `stop_reason`
 * (`max_tokens` is `length`, `refusal` is `refusal`, `tool_use` a normal stop) and the output
 * usage, `message_stop` (the end signal), `ping`, and `event: error` such as `overloaded_error`
 * (retryable).
 *
 * @example
 * ```ts
 * const mapper = anthropicAdapter.createSdkMapper();
 * mapper.map({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "{" } });
 * // [{ type: "text", delta: "{" }]
 * ```
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
 */
export const anthropicAdapter: ProviderAdapter = {
  id: "anthropic",
  contentTypes: ["text/event-stream"],
  framing: "sse",
  createDecoder: () => createJsonSseDecoder(createAnthropicMapper()),
  createSdkMapper: createAnthropicMapper,
  buildRequest: buildAnthropicRequest,
};
