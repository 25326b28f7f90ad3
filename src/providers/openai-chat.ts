import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import { buildOpenAIChatRequest } from "./request.ts";
import type { FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const FINISH: Record<string, FinishReason> = {
  stop: "stop",
  length: "length",
  content_filter: "content_filter",
  // An answer given through one function call is the normal end of a structured answer.
  tool_calls: "stop",
  function_call: "stop",
};

interface ChatMapper extends SdkEventMapper {
  /** The `[DONE]` sentinel arrived. */
  done(): ProviderEvent[];
}

function createChatMapper(): ChatMapper {
  let finished = false;
  return {
    map(chunk) {
      const events: ProviderEvent[] = [];
      if (field(chunk, "error") !== undefined && field(chunk, "error") !== null) {
        return [streamErrorEvent(chunk)];
      }
      let finish: ProviderEvent | undefined;
      const choices = field(chunk, "choices");
      if (Array.isArray(choices)) {
        for (const choice of choices) {
          // Only the first choice is the answer (n > 1 asks for alternatives).
          if ((numberField(choice, "index") ?? 0) !== 0) continue;
          const delta = field(choice, "delta");
          const content = stringField(delta, "content");
          if (content) events.push({ type: "text", delta: content });
          const refusal = stringField(delta, "refusal");
          if (refusal) events.push({ type: "refusal", delta: refusal });
          const toolCalls = field(delta, "tool_calls");
          if (Array.isArray(toolCalls)) {
            for (const call of toolCalls) {
              // The answer is the first function call's arguments; parallel calls are not one JSON text.
              if ((numberField(call, "index") ?? 0) !== 0) continue;
              const args = stringField(field(call, "function"), "arguments");
              if (args) events.push({ type: "text", delta: args });
            }
          }
          const legacyArgs = stringField(field(delta, "function_call"), "arguments");
          if (legacyArgs) events.push({ type: "text", delta: legacyArgs });
          const reason = stringField(choice, "finish_reason");
          if (reason) finish = { type: "finish", reason: FINISH[reason] ?? "other", raw: reason };
        }
      }
      const usage = field(chunk, "usage");
      if (usage && typeof usage === "object") {
        const event = compactUsage({
          inputTokens: numberField(usage, "prompt_tokens"),
          outputTokens: numberField(usage, "completion_tokens"),
          totalTokens: numberField(usage, "total_tokens"),
        });
        if (event) events.push(event);
      }
      if (finish) {
        finished = true;
        events.push(finish);
      }
      return events;
    },
    done() {
      if (finished) return [];
      // A server that ends with [DONE] but never sent a finish_reason still said it is done.
      finished = true;
      return [{ type: "finish", reason: "stop", raw: "[DONE]" }];
    },
    end() {
      return [];
    },
  };
}

/**
 * Chat Completions streaming: `data:` lines of `chat.completion.chunk` objects ending with
 * `data: [DONE]`. Text is `choices[0].delta.content`, or the first tool call's
 * `function.arguments` when the model answers through a function; `delta.refusal` streams as
 * refusal; `finish_reason` is the end signal (`length` truncation, `content_filter` filtered,
 * `tool_calls` a normal stop); the `usage` chunk (`stream_options.include_usage`) follows the
 * finish; an `{ error }` chunk is a provider error.
 *
 * @example
 * ```ts
 * const decoder = openaiChatAdapter.createDecoder();
 * decoder.push('data: {"choices":[{"index":0,"delta":{"content":"{\\"a\\":1}"},"finish_reason":"stop"}]}\n\n');
 * // [{ type: "text", delta: '{"a":1}' }, { type: "finish", reason: "stop", raw: "stop" }]
 * ```
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 */
export const openaiChatAdapter: ProviderAdapter = {
  id: "openai-chat",
  contentTypes: ["text/event-stream"],
  framing: "sse",
  createDecoder() {
    const mapper = createChatMapper();
    return createJsonSseDecoder(mapper, (data) => (data.trim() === "[DONE]" ? mapper.done() : undefined));
  },
  createSdkMapper: createChatMapper,
  buildRequest: buildOpenAIChatRequest,
};
