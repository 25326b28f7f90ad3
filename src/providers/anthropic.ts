import { streamErrorEvent } from "./errors.ts";
import { compactUsage, createJsonSseDecoder, field, numberField, stringField } from "./framing.ts";
import { buildAnthropicRequest } from "./request.ts";
import type { FinishEvent, FinishReason, ProviderAdapter, ProviderEvent, SdkEventMapper } from "./types.ts";

const STOP: Record<string, FinishReason> = {
  end_turn: "stop",
  stop_sequence: "stop",
  // A tool-use turn ends normally; whether a call is the answer is decided above the adapter.
  tool_use: "stop",
  // A long server-tool turn the caller continues: this response's text is not whole.
  pause_turn: "other",
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

/** What a content block is, by its `content_block.type`. */
type BlockKind = "text" | "tool" | "server-call" | "server-result" | "thinking" | "other";

function blockKind(type: string | undefined): BlockKind {
  if (type === "text") return "text";
  if (type === "tool_use") return "tool";
  // server_tool_use (web search, code execution, web fetch) and mcp_tool_use run at Anthropic.
  if (type === "server_tool_use" || type === "mcp_tool_use") return "server-call";
  if (type === "thinking" || type === "redacted_thinking") return "thinking";
  if (type !== undefined && (type.endsWith("_tool_result") || type === "container_upload"))
    return "server-result";
  return "other";
}

interface OpenBlock {
  kind: BlockKind;
  /** The tool call's ordinal among this response's client tool calls. */
  call: number;
  id?: string;
  name?: string;
  /** Whether any `input_json_delta` arrived (a tool without parameters sends none). */
  streamed: boolean;
  input: unknown;
}

function createAnthropicMapper(): SdkEventMapper {
  let stopReason: string | undefined;
  let stopDetail: string | undefined;
  const blocks = new Map<number, OpenBlock>();
  let calls = 0;
  return {
    map(event) {
      switch (stringField(event, "type")) {
        case "message_start":
          return usageOf(field(field(event, "message"), "usage"));
        case "content_block_start": {
          const index = numberField(event, "index") ?? blocks.size;
          const block = field(event, "content_block");
          const type = stringField(block, "type");
          const kind = blockKind(type);
          const open: OpenBlock = {
            kind,
            call: kind === "tool" ? calls++ : -1,
            id: stringField(block, "id"),
            name: stringField(block, "name"),
            streamed: false,
            input: field(block, "input"),
          };
          blocks.set(index, open);
          switch (kind) {
            case "text": {
              const text = stringField(block, "text");
              return text ? [{ type: "text", delta: text }] : [];
            }
            case "tool":
              return [{ type: "tool-call", index: open.call, id: open.id, name: open.name, delta: "" }];
            case "server-call":
              return [{ type: "server-tool", phase: "call", id: open.id, name: open.name, delta: "" }];
            case "server-result":
              return [
                {
                  type: "server-tool",
                  phase: "result",
                  id: stringField(block, "tool_use_id"),
                  name: type,
                  delta: JSON.stringify(field(block, "content") ?? null),
                },
              ];
            case "thinking": {
              if (type === "redacted_thinking") return [{ type: "reasoning", delta: "", redacted: true }];
              const thinking = stringField(block, "thinking");
              return thinking ? [{ type: "reasoning", delta: thinking }] : [];
            }
            default:
              return [];
          }
        }
        case "content_block_delta": {
          const block = blocks.get(numberField(event, "index") ?? -1);
          const delta = field(event, "delta");
          switch (stringField(delta, "type")) {
            case "text_delta": {
              const text = stringField(delta, "text");
              return text && (block === undefined || block.kind === "text")
                ? [{ type: "text", delta: text }]
                : [];
            }
            case "input_json_delta": {
              const json = stringField(delta, "partial_json");
              if (!json || block === undefined) return [];
              block.streamed = true;
              // Only a client tool's input is ever an answer; a server tool's is its query.
              if (block.kind === "tool") return [{ type: "tool-call", index: block.call, delta: json }];
              if (block.kind === "server-call")
                return [{ type: "server-tool", phase: "call", id: block.id, name: block.name, delta: json }];
              return [];
            }
            case "thinking_delta": {
              const thinking = stringField(delta, "thinking");
              return thinking ? [{ type: "reasoning", delta: thinking }] : [];
            }
            default:
              // signature_delta (the thinking block's integrity check), citations_delta, later types.
              return [];
          }
        }
        case "content_block_stop": {
          const index = numberField(event, "index") ?? -1;
          const block = blocks.get(index);
          blocks.delete(index);
          if (block?.kind !== "tool") return [];
          const events: ProviderEvent[] = [];
          // A tool without parameters streams no input_json_delta: its input is the start's `input`.
          if (!block.streamed)
            events.push({ type: "tool-call", index: block.call, delta: JSON.stringify(block.input ?? {}) });
          events.push({ type: "tool-call-end", index: block.call });
          return events;
        }
        case "message_delta": {
          const delta = field(event, "delta");
          stopReason = stringField(delta, "stop_reason") ?? stopReason;
          stopDetail = stringField(field(delta, "stop_details"), "explanation") ?? stopDetail;
          return usageOf(field(event, "usage"));
        }
        case "message_stop": {
          // message_stop is the end signal; the reason came with message_delta.
          const finish: FinishEvent =
            stopReason === undefined
              ? { type: "finish", reason: "stop", raw: "message_stop" }
              : { type: "finish", reason: STOP[stopReason] ?? "other", raw: stopReason };
          if (stopDetail !== undefined) finish.detail = stopDetail;
          return [finish, { type: "end" }];
        }
        case "error":
          return [streamErrorEvent(event)];
        default:
          // ping and event types added later.
          return [];
      }
    },
    end() {
      return [];
    },
  };
}

/**
 * Anthropic Messages streaming: `message_start`, `content_block_start/delta/stop` per block —
 * `text` (`text_delta`), `tool_use` (`input_json_delta`: a client tool call), `server_tool_use`
 * and `mcp_tool_use` (their input is a server-tool event, never text), `*_tool_result` blocks,
 * `thinking` (`thinking_delta` as reasoning; `signature_delta` skipped) and `redacted_thinking` —
 * then `message_delta` with the `stop_reason` (`max_tokens` is `length`, `refusal` is `refusal`
 * with `stop_details.explanation` as its detail, `tool_use` a normal stop) and the output usage,
 * `message_stop` (the end signal), `ping`, and `event: error` such as `overloaded_error`
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
