import type { ProviderAdapter, ProviderEvent, SdkEventMapper, WireDecoder } from "./types.ts";

const END: ProviderEvent = { type: "finish", reason: "stop", raw: "end_of_stream" };

function createTextDecoder(): WireDecoder {
  return {
    push: (text) => (text === "" ? [] : [{ type: "text", delta: text }]),
    // Raw text has no end signal of its own: the end of the body is the end. Whether the JSON in
    // it is whole is for the JSON parser to say.
    end: () => [{ ...END }, { type: "end" }],
  };
}

function createTextMapper(): SdkEventMapper {
  return {
    map: (chunk) => (typeof chunk === "string" && chunk !== "" ? [{ type: "text", delta: chunk }] : []),
    end: () => [{ ...END }, { type: "end" }],
  };
}

/**
 * Raw JSON text: every piece of the body is a text delta, and the end of the body is the finish
 * (`raw: "end_of_stream"`). For models without a native structured mode, wrap the decoder with
 * `withLenient` to skip a Markdown fence or a sentence around the JSON.
 *
 * @example
 * ```ts
 * const decoder = textAdapter.createDecoder();
 * decoder.push('{"a":'); // [{ type: "text", delta: '{"a":' }]
 * decoder.end(); // [{ type: "finish", reason: "stop", raw: "end_of_stream" }]
 * ```
 */
export const textAdapter: ProviderAdapter = {
  id: "text",
  contentTypes: ["text/plain", "application/json"],
  framing: "text",
  createDecoder: createTextDecoder,
  createSdkMapper: createTextMapper,
};
