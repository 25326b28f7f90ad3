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
  /** Provider tool-call index → our call ordinal, and the id seen there. */
  const slots = new Map<number, { call: number; id?: string }>();
  let calls = 0;
  let legacyCall: number | undefined;
  const toolEvents = (toolCalls: unknown[], events: ProviderEvent[]): void => {
    for (const call of toolCalls) {
      const at = numberField(call, "index") ?? 0;
      const id = stringField(call, "id");
      const fn = field(call, "function");
      const name = stringField(fn, "name");
      let slot = slots.get(at);
      // Some OpenAI-compatible servers number every call 0: a new id at a used index is a new call.
      const fresh = slot === undefined || (id !== undefined && slot.id !== undefined && id !== slot.id);
      if (fresh) {
        if (slot !== undefined) events.push({ type: "tool-call-end", index: slot.call });
        slot = { call: calls++, id };
        slots.set(at, slot);
      } else if (slot !== undefined && id !== undefined) slot.id ??= id;
      const args = stringField(fn, "arguments") ?? "";
      if (fresh) events.push({ type: "tool-call", index: slot!.call, id, name, delta: args });
      else if (args !== "" || name !== undefined)
        events.push({ type: "tool-call", index: slot!.call, ...(name ? { name } : {}), delta: args });
    }
  };
  const endCalls = (events: ProviderEvent[]): void => {
    for (const slot of slots.values()) events.push({ type: "tool-call-end", index: slot.call });
    slots.clear();
    if (legacyCall !== undefined) events.push({ type: "tool-call-end", index: legacyCall });
    legacyCall = undefined;
  };
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
          // Reasoning models behind OpenAI-compatible servers (DeepSeek, vLLM, OpenRouter, Ollama's /v1).
          const reasoning = stringField(delta, "reasoning_content") ?? stringField(delta, "reasoning");
          if (reasoning) events.push({ type: "reasoning", delta: reasoning });
          const content = stringField(delta, "content");
          if (content) events.push({ type: "text", delta: content });
          const refusal = stringField(delta, "refusal");
          if (refusal) events.push({ type: "refusal", delta: refusal });
          const toolCalls = field(delta, "tool_calls");
          if (Array.isArray(toolCalls)) toolEvents(toolCalls, events);
          const legacy = field(delta, "function_call");
          if (legacy !== undefined && legacy !== null) {
            const name = stringField(legacy, "name");
            const args = stringField(legacy, "arguments") ?? "";
            if (legacyCall === undefined) {
              legacyCall = calls++;
              events.push({ type: "tool-call", index: legacyCall, name, delta: args });
            } else if (args) events.push({ type: "tool-call", index: legacyCall, delta: args });
          }
          const reason = stringField(choice, "finish_reason");
          if (reason) {
            endCalls(events);
            finish = { type: "finish", reason: FINISH[reason] ?? "other", raw: reason };
          }
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
      const events: ProviderEvent[] = [];
      if (!finished) {
        // A server that ends with [DONE] but never sent a finish_reason still said it is done.
        finished = true;
        endCalls(events);
        events.push({ type: "finish", reason: "stop", raw: "[DONE]" });
      }
      events.push({ type: "end" });
      return events;
    },
    end() {
      return [];
    },
  };
}

/**
 * Chat Completions streaming: `data:` lines of `chat.completion.chunk` objects ending with
 * `data: [DONE]`. Text is `choices[0].delta.content`; each `delta.tool_calls[]` entry is a
 * tool-call event keyed by its `index` (a new `id` at a used index starts a new call, as some
 * compatible servers number every call 0); `reasoning_content` / `reasoning` (compatible
 * servers) is reasoning; `delta.refusal` streams as refusal; `finish_reason` ends the calls and
 * gives the reason (`length` truncation, `content_filter` filtered, `tool_calls` a normal stop);
 * the `usage` chunk (`stream_options.include_usage`) follows it; `[DONE]` is the end signal,
 * after which nothing is read; an `{ error }` chunk is a provider error.
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
