import type { Answer } from "./answer.ts";
import { isObject } from "./schema-walk.ts";
import { ALPHANUMERIC, cutJson, type Frame, lastWithRole, makeId, type WireFormat } from "./wire.ts";

/**
 * Gemini (`POST /v1beta/models/{model}:streamGenerateContent?alt=sse`): `data:` lines of
 * `GenerateContentResponse`, each delta in `candidates[0].content.parts[0].text`, `finishReason`
 * on the last, cumulative `usageMetadata` on every one, no end marker. Events end in CRLF CRLF, as
 * the real service sends them. Without `alt=sse` the same chunks arrive as a streamed JSON array;
 * `:generateContent` answers once.
 *
 * @see https://ai.google.dev/api/generate-content#method:-models.streamgeneratecontent
 */

const STATUSES: Record<number, [string, string]> = {
  400: ["INVALID_ARGUMENT", "Request contains an invalid argument."],
  401: ["UNAUTHENTICATED", "API key not valid. Please pass a valid API key."],
  403: ["PERMISSION_DENIED", "The caller does not have permission."],
  404: ["NOT_FOUND", "The requested model was not found."],
  429: ["RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."],
  500: [
    "INTERNAL",
    "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting",
  ],
  503: ["UNAVAILABLE", "The model is overloaded. Please try again later."],
  504: ["DEADLINE_EXCEEDED", "The request timed out. Please try again."],
};

function geminiErrorBody(status: number, message: string | undefined) {
  const [name, fallback] = STATUSES[status] ?? (status >= 500 ? STATUSES[500]! : STATUSES[400]!);
  const error: Record<string, unknown> = { code: status, message: message ?? fallback, status: name };
  if (status === 429)
    error.details = [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "1s" }];
  return { error };
}

/** Either spelling the REST API accepts (camelCase or proto snake_case). */
function field(object: Record<string, unknown>, camel: string, snake: string): unknown {
  return object[camel] ?? object[snake];
}

function finishReason(answer: Answer): string {
  if (answer.kind === "refusal") return "SAFETY";
  return answer.finish === "length" ? "MAX_TOKENS" : "STOP";
}

const SAFETY_RATINGS = [
  { category: "HARM_CATEGORY_HATE_SPEECH", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_DANGEROUS_CONTENT", probability: "HIGH", blocked: true },
  { category: "HARM_CATEGORY_HARASSMENT", probability: "NEGLIGIBLE" },
  { category: "HARM_CATEGORY_SEXUALLY_EXPLICIT", probability: "NEGLIGIBLE" },
];

export const gemini: WireFormat = {
  provider: "gemini",
  midStreamErrorStatus: 503,

  parse(body, url) {
    const match = /\/models\/([^/:]+):(streamGenerateContent|generateContent)$/.exec(url.pathname);
    const model = decodeURIComponent(match?.[1] ?? "sim");
    const user = lastWithRole(body.contents, "user", true);
    const parts = user && Array.isArray(user.parts) ? user.parts : [];
    const prompt = parts
      .map((part) => (isObject(part) && typeof part.text === "string" ? part.text : ""))
      .filter((text) => text !== "")
      .join("\n");
    const config = field(body, "generationConfig", "generation_config");
    let schema: unknown;
    if (isObject(config)) {
      schema =
        field(config, "responseJsonSchema", "response_json_schema") ??
        config._responseJsonSchema ??
        field(config, "responseSchema", "response_schema");
    }
    return {
      model,
      prompt,
      schema: isObject(schema) ? schema : undefined,
      stream: match?.[2] === "streamGenerateContent",
      sse: url.searchParams.get("alt") === "sse",
      body,
    };
  },

  stream(answer) {
    const responseId = makeId(answer.random, "", 22, ALPHANUMERIC);
    const { request } = answer;
    const chunk = (text: string | undefined, produced: number, last: boolean) => {
      const candidate: Record<string, unknown> = {};
      if (text !== undefined) candidate.content = { parts: [{ text }], role: "model" };
      if (last) candidate.finishReason = finishReason(answer);
      if (last && answer.kind === "refusal") candidate.safetyRatings = SAFETY_RATINGS;
      candidate.index = 0;
      return {
        candidates: [candidate],
        usageMetadata: {
          promptTokenCount: answer.inputTokens,
          ...(produced > 0 ? { candidatesTokenCount: produced } : {}),
          totalTokenCount: answer.inputTokens + produced,
          promptTokensDetails: [{ modality: "TEXT", tokenCount: answer.inputTokens }],
        },
        modelVersion: request.model,
        responseId,
      };
    };
    const payloads: unknown[] = [];
    // Extra parts (thoughts, code execution, function calls) come before the answer's text.
    const extraChunk = (parts: unknown[]) => {
      const data = chunk("", 0, false) as { candidates: { content?: unknown }[] };
      data.candidates[0]!.content = { parts, role: "model" };
      return data;
    };
    const extras = answer.extras;
    for (const delta of extras.thinking ?? []) payloads.push(extraChunk([{ text: delta, thought: true }]));
    if (extras.serverTool) {
      payloads.push(
        extraChunk([
          {
            executableCode: {
              language: "PYTHON",
              code: `print(${JSON.stringify(`searching for ${extras.serverTool.query}`)})`,
            },
          },
        ]),
        extraChunk([
          {
            codeExecutionResult: {
              outcome: "OUTCOME_OK",
              output: `searching for ${extras.serverTool.query}\n`,
            },
          },
        ]),
      );
    }
    if (extras.toolCalls)
      payloads.push(
        extraChunk(
          extras.toolCalls.map((call) => ({
            functionCall: { name: call.name, args: JSON.parse(call.arguments) },
          })),
        ),
      );
    const contentStart = payloads.length;
    if (answer.kind === "refusal") payloads.push(chunk(undefined, 0, true));
    else if (answer.deltas.length === 0) payloads.push(chunk("", 0, true));
    else
      for (const [i, delta] of answer.deltas.entries())
        payloads.push(chunk(delta, i + 1, i === answer.deltas.length - 1));

    const errorPayload = geminiErrorBody(503, undefined);
    const malformed = chunk("", 0, false);
    if (request.sse !== false) {
      const event = (data: string) => `data: ${data}\r\n\r\n`;
      return {
        contentType: "text/event-stream",
        frames: payloads.map((data, i) => ({ text: event(JSON.stringify(data)), delta: i > 0 })),
        contentStart,
        // The finish reason rides on the last content chunk: faults strike before it.
        contentEnd: Math.max(0, payloads.length - 1),
        errorFrame: () => event(JSON.stringify(errorPayload)),
        malformedFrame: () => event(cutJson(malformed)),
      };
    }
    const frames: Frame[] = payloads.map((data, i) => ({
      text: `${i === 0 ? "[" : ",\r\n"}${JSON.stringify(data)}\n`,
      delta: i > 0,
    }));
    frames.push({ text: "]", delta: false });
    return {
      contentType: "application/json; charset=UTF-8",
      frames,
      contentStart,
      contentEnd: Math.max(0, payloads.length - 1),
      errorFrame: (index) => `${index === 0 ? "[" : ",\r\n"}${JSON.stringify(errorPayload)}\n]`,
      malformedFrame: (index) => `${index === 0 ? "[" : ",\r\n"}${cutJson(malformed)}\n`,
    };
  },

  complete(answer) {
    const candidate: Record<string, unknown> = {};
    if (answer.kind === "json") candidate.content = { parts: [{ text: answer.text }], role: "model" };
    candidate.finishReason = finishReason(answer);
    if (answer.kind === "refusal") candidate.safetyRatings = SAFETY_RATINGS;
    candidate.index = 0;
    return {
      candidates: [candidate],
      usageMetadata: {
        promptTokenCount: answer.inputTokens,
        candidatesTokenCount: answer.outputTokens,
        totalTokenCount: answer.inputTokens + answer.outputTokens,
      },
      modelVersion: answer.request.model,
      responseId: makeId(answer.random, "", 22, ALPHANUMERIC),
    };
  },

  error: (status, message) => ({
    body: geminiErrorBody(status, message),
    contentType: "application/json; charset=UTF-8",
  }),
};
