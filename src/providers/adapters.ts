import { anthropicAdapter } from "./anthropic.ts";
import { geminiAdapter } from "./gemini.ts";
import { withLenient } from "./lenient.ts";
import { ollamaAdapter } from "./ollama.ts";
import { openaiChatAdapter } from "./openai-chat.ts";
import { openaiResponsesAdapter } from "./openai-responses.ts";
import { textAdapter } from "./text.ts";
import type { ProviderAdapter, ProviderId, SdkEventMapper, WireDecoder } from "./types.ts";

const ADAPTERS: Readonly<Record<ProviderId, ProviderAdapter>> = {
  "openai-chat": openaiChatAdapter,
  "openai-responses": openaiResponsesAdapter,
  anthropic: anthropicAdapter,
  gemini: geminiAdapter,
  ollama: ollamaAdapter,
  text: textAdapter,
};

/**
 * True for a known {@link ProviderId}.
 *
 * @example
 * ```ts
 * isProviderId("anthropic"); // true
 * isProviderId("auto");      // false
 * ```
 */
export function isProviderId(value: unknown): value is ProviderId {
  return typeof value === "string" && Object.hasOwn(ADAPTERS, value);
}

/**
 * The adapter of a provider.
 *
 * @example
 * ```ts
 * const decoder = getProvider("anthropic").createDecoder();
 * ```
 */
export function getProvider(provider: ProviderId): ProviderAdapter {
  const adapter = isProviderId(provider) ? ADAPTERS[provider] : undefined;
  if (!adapter) throw new TypeError(`Unknown provider "${String(provider)}".`);
  return adapter;
}

/** Options of {@link createProviderDecoder} and {@link createSdkMapper}. */
export interface DecoderOptions {
  /**
   * Skip a leading Markdown fence or prose up to the first `{` or `[`, and a closing fence
   * (see `createLenientFilter`).
   * @defaultValue false
   */
  lenient?: boolean;
}

/**
 * A new wire decoder for one body of a provider's stream, lenient on request.
 *
 * @example
 * ```ts
 * const decoder = createProviderDecoder("ollama");
 * const text = new TextDecoder();
 * for await (const bytes of response.body!) handle(decoder.push(text.decode(bytes, { stream: true })));
 * handle([...decoder.push(text.decode()), ...decoder.end()]);
 * ```
 */
export function createProviderDecoder(provider: ProviderId, options: DecoderOptions = {}): WireDecoder {
  const decoder = getProvider(provider).createDecoder();
  return options.lenient ? withLenient(decoder) : decoder;
}

/**
 * A new mapper for one stream of an official SDK's event objects, lenient on request.
 *
 * @example
 * ```ts
 * const mapper = createSdkMapper("openai-chat");
 * for await (const chunk of await openai.chat.completions.create({ ...params, stream: true })) {
 *   handle(mapper.map(chunk));
 * }
 * handle(mapper.end());
 * ```
 */
export function createSdkMapper(provider: ProviderId, options: DecoderOptions = {}): SdkEventMapper {
  const mapper = getProvider(provider).createSdkMapper();
  return options.lenient ? withLenient(mapper) : mapper;
}
