import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createNdjsonDecoder, field, numberField, stringField } from "./framing.ts";
import { buildOllamaRequest } from "./request.ts";
import type { FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const DONE: Record<string, FinishReason> = { stop: "stop", length: "length" };

function createOllamaMapper(): SdkEventMapper {
  let calls = 0;
  return {
    map(line) {
      if (field(line, "error") !== undefined && field(line, "error") !== null)
        return [streamErrorEvent(line)];
      const events: ProviderEvent[] = [];
      const message = field(line, "message");
      // /api/chat streams message.thinking and message.content; /api/generate thinking and response.
      const thinking = stringField(message, "thinking") ?? stringField(line, "thinking");
      if (thinking) events.push({ type: "reasoning", delta: thinking });
      const text = stringField(message, "content") ?? stringField(line, "response");
      if (text) events.push({ type: "text", delta: text });
      const toolCalls = field(message, "tool_calls");
      if (Array.isArray(toolCalls)) {
        for (const call of toolCalls) {
          // Ollama sends each tool call whole, its arguments as an object.
          const fn = field(call, "function");
          const args = field(fn, "arguments");
          const index = calls++;
          events.push({
            type: "tool-call",
            index,
            id: stringField(call, "id"),
            name: stringField(fn, "name"),
            delta: typeof args === "string" ? args : JSON.stringify(args ?? {}),
          });
          events.push({ type: "tool-call-end", index });
        }
      }
      if (field(line, "done") === true) {
        const usage = compactUsage({
          inputTokens: numberField(line, "prompt_eval_count"),
          outputTokens: numberField(line, "eval_count"),
          totalTokens: undefined,
        });
        if (usage) events.push(usage);
        const reason = stringField(line, "done_reason");
        // Servers before done_reason existed only said done: true.
        events.push({
          type: "finish",
          reason: reason === undefined ? "stop" : (DONE[reason] ?? "other"),
          raw: reason ?? "done",
        });
        events.push({ type: "end" });
      }
      return events;
    },
    end() {
      return [];
    },
  };
}

/**
 * Ollama `/api/chat` (and `/api/generate`): newline-delimited JSON. Text is `message.content`
 * (`response` for generate), `message.thinking` is reasoning, each `message.tool_calls[]` entry a
 * whole tool call; `done: true` is the end signal with `done_reason` (`length` is
 * truncation) and the token counts (`prompt_eval_count`, `eval_count`); `{ error }` is a
 * provider error.
 *
 * @example
 * ```ts
 * const decoder = ollamaAdapter.createDecoder();
 * decoder.push('{"message":{"role":"assistant","content":"{}"},"done":true,"done_reason":"stop"}\n');
 * // [{ type: "text", delta: "{}" }, { type: "finish", reason: "stop", raw: "stop" }]
 * ```
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */
export const ollamaAdapter: ProviderAdapter = {
  id: "ollama",
  contentTypes: ["application/x-ndjson"],
  framing: "ndjson",
  createDecoder: () => createNdjsonDecoder(createOllamaMapper()),
  createSdkMapper: createOllamaMapper,
  buildRequest: buildOllamaRequest,
};
