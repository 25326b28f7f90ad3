/**
 * A local stand-in for the model providers: an HTTP server that answers the OpenAI Chat Completions
 * and Responses, Anthropic Messages, Gemini and Ollama endpoints in each provider's own wire format,
 * with a JSON value that conforms to the request's schema, streamed in token-sized deltas at a
 * model's pace, and with the failures real services have, on demand.
 *
 * ## Endpoints (point each SDK's base URL at the simulator)
 *
 * | Provider | Path | SDK base URL |
 * | --- | --- | --- |
 * | OpenAI Chat | `POST /v1/chat/completions` | `new OpenAI({ baseURL: sim.url + "/v1" })` |
 * | OpenAI Responses | `POST /v1/responses` | same |
 * | Anthropic | `POST /v1/messages` | `new Anthropic({ baseURL: sim.url })` |
 * | Gemini | `POST /v1beta/models/{model}:streamGenerateContent?alt=sse` (and `:generateContent`) | `sim.url` |
 * | Ollama | `POST /api/chat` | `sim.url` |
 *
 * Any API key, or none, is accepted. `GET /health` answers `{"status":"ok"}`. `/chat/completions`
 * and `/responses` also answer without the `/v1` prefix. Not simulated: Ollama's `/api/generate`,
 * Gemini function calling, embeddings and model listings.
 *
 * ## Where the schema comes from
 * - OpenAI Chat: `response_format.json_schema.schema`, or the forced tool's `function.parameters`
 *   (`tool_choice: { type: "function", function: { name } }`, or `"required"` with one tool); the
 *   answer then streams as `delta.tool_calls[0].function.arguments`, finish reason `tool_calls`.
 * - Responses: `text.format` (`{ type: "json_schema", name, schema, strict }`), or a forced function
 *   tool (streamed as `response.function_call_arguments.delta`).
 * - Anthropic: `output_config.format` or `output_format` (`{ type: "json_schema", schema }`), or the
 *   forced tool's `input_schema` (`tool_choice: { type: "tool", name }`, or `"any"` with one tool),
 *   streamed as `input_json_delta`.
 * - Gemini: `generationConfig.responseJsonSchema`, or `responseSchema` (the OpenAPI subset:
 *   `"OBJECT"`-style types, `nullable`, `propertyOrdering`, int64 bounds as strings).
 * - Ollama: `format` (a JSON Schema object).
 * - None of these (or `json_object`, Ollama's `"json"`): a default `{ title, summary, points[] }` object.
 *
 * The prompt is the last user message's text; its words become the words of the answer's strings.
 * The same schema, prompt and seed always give the same answer text and the same delta split
 * (`generateValue` and `splitDeltas` reproduce them).
 *
 * ## Values
 * Supported: `type` (also lists and `nullable`), `enum`, `const`, `properties` / `required`
 * (optional properties are included about 70% of the time, by seed), `additionalProperties`,
 * `patternProperties`, `propertyNames`, `min/maxProperties`, `dependentRequired`, `items` /
 * `prefixItems` / `additionalItems`, `min/maxItems` (2 to 5 items when unbounded), `uniqueItems`,
 * `contains`, `minLength` / `maxLength` (in code points), `pattern`, `format` (date-time, date, time,
 * email, hostname, uri, uri-reference, uri-template, ipv4, ipv6, uuid, duration, json-pointer,
 * regex, byte), `minimum` / `maximum` / `exclusiveMinimum` / `exclusiveMaximum` (draft 4 booleans
 * too) / `multipleOf` (checked the way ajv checks it), `integer`, `anyOf` / `oneOf` (one branch, by
 * seed), `allOf` (merged), local `$ref` (`#`, `#/$defs/…`, `#/definitions/…`, `#anchor`) with
 * recursion ended by depth (past depth 5 only required members and `minItems` items are added,
 * and nullable or `anyOf` choices take their simplest branch).
 * Best effort, documented limits: patterns outside the supported subset (lookarounds,
 * back-references, `\b`) fall back to common strings that the pattern accepts, or to prose that
 * may not match; a pattern together with length bounds may miss the bounds; a `format` wins over
 * `minLength`/`maxLength`; `allOf` members are merged keyword by keyword, so one member's
 * `additionalProperties` is not checked against another member's `properties`; `not`,
 * `if`/`then`/`else` and remote `$ref`s are ignored; a `oneOf` whose branches overlap may match
 * more than one (discriminated unions, with a `const` per branch, are exact).
 *
 * ## Pace
 * `pace: "realtime"` (default): a first-byte delay of about `firstByteDelayMs` (300 ms ±30%), then
 * about `deltasPerSecond` deltas a second (70, each gap ±50%). `pace: "fast"` (or the request
 * header `x-sim-pace: fast`) sends everything at once. Deltas are 1 to 8 characters.
 *
 * ## Faults
 * Chosen per request by the header `x-sim-fault: <fault>`, else by a model named `sim-<fault>`, else
 * by `SimulatorOptions.fault` (the CLI's `--fault`). The grammar:
 *
 * ```text
 * fault    = kind [ "-at-" N ] [ "-once" | "-twice" | "-times-" K ]
 * kind     = "none" | "refusal" | "truncate" | "drop" | "stall" | "malformed" | "invalid-json"
 *          | "schema-violation" | "error-event" | HTTP status 400..599
 * ```
 *
 * | Fault | OpenAI Chat | Responses | Anthropic | Gemini | Ollama |
 * | --- | --- | --- | --- | --- | --- |
 * | `refusal` | `delta.refusal`, finish `stop` | `response.refusal.delta` / `.done` | no content block, `stop_reason: "refusal"` with `stop_details` | `finishReason: "SAFETY"`, no content | a refusal sentence as content (Ollama has no refusal signal) |
 * | `truncate[-at-N]` | JSON cut after N characters (default 60%), finish `length` | `response.incomplete` (`max_output_tokens`) | `stop_reason: "max_tokens"` | `finishReason: "MAX_TOKENS"` | `done_reason: "length"` |
 * | `drop[-at-N]` | the socket is destroyed after N body bytes (default: mid-way through the middle content event); never after the last byte | ← | ← | ← | ← |
 * | `stall[-at-N]` | writing stops after N body bytes (default: after the middle content event), the connection stays open | ← | ← | ← | ← |
 * | `429`, `500`, any 4xx/5xx | the provider's error body; 429 adds `retry-after: 1` and `retry-after-ms: 1000` (`retryAfterMs`) | ← | ← | ← | ← |
 * | `malformed[-at-N]` | one extra event whose data is cut JSON, at the first event boundary at or after N bytes (default: the middle), then the stream goes on | ← | ← | ← | ← |
 * | `invalid-json` | the answer text is not JSON: a trailing comma before the last bracket | ← | ← | ← | ← |
 * | `schema-violation` | valid JSON that breaks the schema: an enum value off the list, else a missing required property, else a wrong type | ← | ← | ← | ← |
 * | `error-event[-at-N]` | `data: {"error":{…server_error}}`, no `[DONE]` | `event: error` | `event: error` `overloaded_error` | `data: {"error":{"code":503,…}}` | `{"error":"…"}` line |
 *
 * Without streaming, `malformed` sends half the JSON body, `error-event` answers with the
 * provider's overload status (500 / 529 / 503), and `stall` (without `-at-`) never sends headers.
 *
 * `-once`, `-twice` and `-times-K` make a fault transient, so a client's retry succeeds: only the
 * first K requests with the same attempt key see it. The key is the header `x-sim-attempt-key`
 * when given, else (provider, model, prompt); counts live as long as the simulator instance.
 * `none` turns a global fault off for one request. Other headers: `x-sim-seed` (the seed of this
 * answer), `x-sim-pace` (`fast` or `realtime`), `x-sim-diverge` (`1`/`0`, see below).
 *
 * ## Blocks beside the answer
 * Real responses carry more than the answer. `blocks` (or the header `x-sim-blocks: thinking,tools`)
 * adds, before the answer and in each provider's own shape: `thinking` (Anthropic `thinking` with
 * its `signature_delta`, Responses reasoning summaries, Gemini thought parts, Ollama `thinking`,
 * chat `reasoning_content` as compatible servers send it), `tools` (two client tool calls,
 * `lookup` and `get_time`), `server-tool` (Anthropic `server_tool_use` web search and its result,
 * Responses `web_search_call`, Gemini code execution) and `preamble` (a sentence before the
 * answer's call, when the request forces a tool).
 *
 * ## Retries that disagree
 * By default every attempt under one attempt key gets the same answer, so a retry agrees with what
 * the first attempt showed. With `divergeOnRetry: true` (the CLI's `--diverge`, or the header
 * `x-sim-diverge: 1`) attempt `n ≥ 2` is seeded with the seed and `n`, so its answer differs from
 * the first field on; with a transient fault (`sim-drop-once`) the first attempt breaks off
 * mid-answer and the retry contradicts what it showed. `onRequest` reports each request's
 * `attempt` and `seed`.
 *
 * A model name that starts with `sim-` and is not a fault, or an `x-sim-fault` outside the grammar,
 * is answered with 400 and the provider's error body, so a typo cannot pass for a fault.
 *
 * @example
 * ```ts
 * import OpenAI from "openai";
 * import { startSimulator } from "structream/simulator";
 *
 * const sim = await startSimulator({ pace: "fast" });
 * const openai = new OpenAI({ baseURL: `${sim.url}/v1`, apiKey: "sim" });
 * const stream = await openai.chat.completions.create({
 *   model: "sim-drop-at-200-once",
 *   messages: [{ role: "user", content: "A recipe for lemon bread" }],
 *   response_format: { type: "json_schema", json_schema: { name: "recipe", schema: { type: "object" } } },
 *   stream: true,
 * });
 * for await (const chunk of stream) process.stdout.write(chunk.choices[0]?.delta.content ?? "");
 * await sim.close();
 * ```
 *
 * @packageDocumentation
 */

export { SIM_BLOCKS, type SimBlock, type SimulatedProvider } from "./answer.ts";
export { simulatorBaseUrl } from "./base-url.ts";
export { type SplitDeltasOptions, splitDeltas } from "./deltas.ts";
export { type Fault, type FaultKind, parseFault } from "./faults.ts";
export { type GenerateValueOptions, generateValue } from "./generate-value.ts";
export type { Pace } from "./pace.ts";
export {
  type Simulator,
  type SimulatorOptions,
  type SimulatorRequestEvent,
  startSimulator,
} from "./server.ts";
