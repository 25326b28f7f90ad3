import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import { buildGeminiRequest } from "./request.ts";
import type { FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const FINISH: Record<string, FinishReason> = {
  STOP: "stop",
  MAX_TOKENS: "length",
  SAFETY: "content_filter",
  RECITATION: "content_filter",
  BLOCKLIST: "content_filter",
  PROHIBITED_CONTENT: "content_filter",
  SPII: "content_filter",
  IMAGE_SAFETY: "content_filter",
  IMAGE_PROHIBITED_CONTENT: "content_filter",
  IMAGE_RECITATION: "content_filter",
};

function createGeminiMapper(): SdkEventMapper {
  return {
    map(chunk) {
      if (field(chunk, "error") !== undefined && field(chunk, "error") !== null)
        return [streamErrorEvent(chunk)];
      const events: ProviderEvent[] = [];
      let finish: ProviderEvent | undefined;
      const candidates = field(chunk, "candidates");
      const candidate = Array.isArray(candidates)
        ? (candidates.find((c) => (numberField(c, "index") ?? 0) === 0) ?? candidates[0])
        : undefined;
      if (candidate !== undefined) {
        const parts = field(field(candidate, "content"), "parts");
        if (Array.isArray(parts)) {
          for (const part of parts) {
            // Thought summaries are not the answer.
            if (field(part, "thought") === true) continue;
            const text = stringField(part, "text");
            if (text) events.push({ type: "text", delta: text });
            // A function call arrives whole, its arguments as an object.
            const args = field(field(part, "functionCall"), "args");
            if (args !== undefined) events.push({ type: "text", delta: JSON.stringify(args) });
          }
        }
        const reason = stringField(candidate, "finishReason");
        if (reason && reason !== "FINISH_REASON_UNSPECIFIED") {
          finish = { type: "finish", reason: FINISH[reason] ?? "other", raw: reason };
          const detail = stringField(candidate, "finishMessage");
          if (detail) finish.detail = detail;
        }
      }
      // A blocked prompt gets no candidates, only the reason: a refusal without a message.
      const blockReason = stringField(field(chunk, "promptFeedback"), "blockReason");
      if (blockReason && !finish) {
        finish = {
          type: "finish",
          reason: "content_filter",
          raw: blockReason,
          detail: "The prompt was blocked.",
        };
        const detail = stringField(field(chunk, "promptFeedback"), "blockReasonMessage");
        if (detail) finish.detail = detail;
      }
      const usage = field(chunk, "usageMetadata");
      if (usage && typeof usage === "object") {
        const event = compactUsage({
          inputTokens: numberField(usage, "promptTokenCount"),
          outputTokens: numberField(usage, "candidatesTokenCount"),
          totalTokens: numberField(usage, "totalTokenCount"),
        });
        if (event) events.push(event);
      }
      if (finish) events.push(finish);
      return events;
    },
    end() {
      return [];
    },
  };
}

/**
 * Gemini `streamGenerateContent?alt=sse`: each data line is a whole `GenerateContentResponse`.
 * Text is `candidates[0].content.parts[].text` (thoughts skipped); `finishReason` is the end
 * signal (`MAX_TOKENS` is `length`; `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`,
 * `SPII` are `content_filter`); a `promptFeedback.blockReason` without candidates is a blocked
 * prompt (`content_filter`); `usageMetadata` repeats the running totals; `{ error }` is a provider
 * error.
 *
 * @example
 * ```ts
 * const mapper = geminiAdapter.createSdkMapper();
 * mapper.map({ candidates: [{ content: { parts: [{ text: "{}" }] }, finishReason: "STOP" }] });
 * // [{ type: "text", delta: "{}" }, { type: "finish", reason: "stop", raw: "STOP" }]
 * ```
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */
export const geminiAdapter: ProviderAdapter = {
  id: "gemini",
  contentTypes: ["text/event-stream"],
  framing: "sse",
  createDecoder: () => createJsonSseDecoder(createGeminiMapper()),
  createSdkMapper: createGeminiMapper,
  buildRequest: buildGeminiRequest,
};
