import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import {
  createJsonPathWriter,
  type JsonPathWriter,
  type PartialScalar,
  parseJsonPath,
} from "./json-path-writer.ts";
import { buildGeminiRequest } from "./request.ts";
import type { FinishEvent, FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

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

function scalarOf(arg: unknown): PartialScalar | undefined {
  const text = stringField(arg, "stringValue");
  if (text !== undefined) return text;
  const number = numberField(arg, "numberValue");
  if (number !== undefined) return number;
  const bool = field(arg, "boolValue");
  if (typeof bool === "boolean") return bool;
  if (field(arg, "nullValue") !== undefined) return null;
  return undefined;
}

function createGeminiMapper(): SdkEventMapper {
  let calls = 0;
  /** The function call whose arguments are streaming (`willContinue`), with its writer. */
  let open: { call: number; writer: JsonPathWriter } | undefined;
  const closeOpen = (events: ProviderEvent[]): void => {
    if (open === undefined) return;
    const rest = open.writer.end();
    if (rest) events.push({ type: "tool-call", index: open.call, delta: rest });
    events.push({ type: "tool-call-end", index: open.call });
    open = undefined;
  };
  const functionCall = (call: unknown, events: ProviderEvent[]): void => {
    const name = stringField(call, "name");
    const partialArgs = field(call, "partialArgs");
    const willContinue = field(call, "willContinue") === true;
    if (open !== undefined && name !== undefined) closeOpen(events);
    if (open === undefined && !willContinue && !Array.isArray(partialArgs)) {
      // A function call arrives whole, its arguments as an object.
      const index = calls++;
      events.push({
        type: "tool-call",
        index,
        id: stringField(call, "id"),
        name,
        delta: JSON.stringify(field(call, "args") ?? {}),
      });
      events.push({ type: "tool-call-end", index });
      return;
    }
    if (open === undefined) {
      open = { call: calls++, writer: createJsonPathWriter() };
      events.push({ type: "tool-call", index: open.call, id: stringField(call, "id"), name, delta: "" });
    }
    if (Array.isArray(partialArgs)) {
      let text = "";
      for (const arg of partialArgs) {
        const path = parseJsonPath(stringField(arg, "jsonPath") ?? "");
        const value = scalarOf(arg);
        if (path === undefined || value === undefined) continue;
        text += open.writer.write(path, value, field(arg, "willContinue") === true);
      }
      if (text) events.push({ type: "tool-call", index: open.call, delta: text });
    }
    if (!willContinue) closeOpen(events);
  };
  return {
    map(chunk) {
      if (field(chunk, "error") !== undefined && field(chunk, "error") !== null)
        return [streamErrorEvent(chunk)];
      const events: ProviderEvent[] = [];
      let finish: FinishEvent | undefined;
      const candidates = field(chunk, "candidates");
      const candidate = Array.isArray(candidates)
        ? (candidates.find((c) => (numberField(c, "index") ?? 0) === 0) ?? candidates[0])
        : undefined;
      if (candidate !== undefined) {
        const parts = field(field(candidate, "content"), "parts");
        if (Array.isArray(parts)) {
          for (const part of parts) {
            const text = stringField(part, "text");
            if (field(part, "thought") === true) {
              if (text) events.push({ type: "reasoning", delta: text });
              continue;
            }
            if (text) events.push({ type: "text", delta: text });
            const call = field(part, "functionCall");
            if (call !== undefined && call !== null) functionCall(call, events);
            const code = field(part, "executableCode");
            if (code !== undefined && code !== null)
              events.push({
                type: "server-tool",
                phase: "call",
                name: "code_execution",
                delta: JSON.stringify(code),
              });
            const result = field(part, "codeExecutionResult");
            if (result !== undefined && result !== null)
              events.push({
                type: "server-tool",
                phase: "result",
                name: "code_execution",
                delta: JSON.stringify(result),
              });
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
      if (finish) {
        // A finish reason is Gemini's last word: an argument stream still open was cut there.
        if (finish.reason === "stop") closeOpen(events);
        events.push(finish, { type: "end" });
      }
      return events;
    },
    end() {
      return [];
    },
  };
}

/**
 * Gemini `streamGenerateContent?alt=sse`: each data line is a whole `GenerateContentResponse`.
 * Text is `candidates[0].content.parts[].text`; `thought: true` parts are reasoning;
 * `functionCall` parts are tool calls, whole (`args`) or streamed (`partialArgs` with
 * `willContinue`, written out as JSON text); `executableCode` / `codeExecutionResult` are server
 * tools; an error object written after the last event without `data:` is a provider error;
 * `finishReason` is the end signal (`MAX_TOKENS` is `length`; `SAFETY`, `RECITATION`, `BLOCKLIST`, `PROHIBITED_CONTENT`,
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
