import type { Answer } from "./answer.ts";
import { isObject } from "./schema-walk.ts";
import { cutJson, type Frame, lastWithRole, stringField, textOf, type WireFormat } from "./wire.ts";

/**
 * Ollama chat (`POST /api/chat`): newline-delimited JSON, one `{"message":{"content":…},"done":false}`
 * per delta, then `{"done":true,"done_reason":"stop",…counts}`. Streams unless `"stream": false`.
 * Ollama has no refusal signal: a refusal is a sentence of content and `done_reason: "stop"`.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 */

function stats(answer: Answer) {
  const evalDuration = answer.outputTokens * 14_000_000;
  const promptDuration = answer.inputTokens * 2_000_000;
  return {
    total_duration: evalDuration + promptDuration + 5_000_000,
    load_duration: 5_000_000,
    prompt_eval_count: answer.inputTokens,
    prompt_eval_duration: promptDuration,
    eval_count: answer.outputTokens,
    eval_duration: evalDuration,
  };
}

export const ollama: WireFormat = {
  provider: "ollama",
  midStreamErrorStatus: 500,

  parse(body) {
    const user = lastWithRole(body.messages, "user");
    return {
      model: stringField(body, "model", "sim"),
      prompt: user ? textOf(user.content) : "",
      // format: a JSON Schema object, or "json" (then any JSON: the default schema)
      schema: isObject(body.format) ? body.format : undefined,
      stream: body.stream !== false,
      body,
    };
  },

  stream(answer) {
    const created = () => new Date().toISOString();
    const line = (data: unknown) => `${JSON.stringify(data)}\n`;
    const model = answer.request.model;
    const frames: Frame[] = [];
    const message = (fields: Record<string, unknown>) =>
      line({
        model,
        created_at: created(),
        message: { role: "assistant", content: "", ...fields },
        done: false,
      });
    const extras = answer.extras;
    for (const thinking of extras.thinking ?? []) frames.push({ text: message({ thinking }), delta: true });
    if (extras.toolCalls) {
      frames.push({
        text: message({
          tool_calls: extras.toolCalls.map((call) => ({
            function: { name: call.name, arguments: JSON.parse(call.arguments) },
          })),
        }),
        delta: true,
      });
    }
    const contentStart = frames.length;
    for (const content of answer.deltas) frames.push({ text: message({ content }), delta: true });
    if (frames.length > 0) frames[0]!.delta = false;
    const contentEnd = frames.length;
    frames.push({
      text: line({
        model,
        created_at: created(),
        message: { role: "assistant", content: "" },
        done_reason: answer.finish === "length" ? "length" : "stop",
        done: true,
        ...stats(answer),
      }),
      delta: false,
    });
    return {
      contentType: "application/x-ndjson",
      frames,
      contentStart,
      contentEnd,
      errorFrame: () => line({ error: "an error was encountered while running the model: unexpected EOF" }),
      malformedFrame: () =>
        `${cutJson({ model, created_at: created(), message: { role: "assistant", content: "" }, done: false })}\n`,
    };
  },

  complete(answer) {
    return {
      model: answer.request.model,
      created_at: new Date().toISOString(),
      message: { role: "assistant", content: answer.text },
      done_reason: answer.finish === "length" ? "length" : "stop",
      done: true,
      ...stats(answer),
    };
  },

  error: (status, message) => ({
    body: {
      error:
        message ??
        (status === 429
          ? "rate limit exceeded, please try again later"
          : status >= 500
            ? "an error was encountered while running the model"
            : "invalid request"),
    },
  }),
};
