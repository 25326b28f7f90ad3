import type { SimulatedProvider } from "./answer.ts";

/**
 * Where a simulator at `url` serves a provider's API, as the base URL that provider's request
 * builder (and its official SDK) appends paths to: `/v1` for OpenAI and Anthropic, `/v1beta` for
 * Gemini, the root for Ollama.
 *
 * @example
 * ```ts
 * const sim = await startSimulator();
 * structuredStream({ request, provider: "gemini", baseURL: simulatorBaseUrl(sim.url, "gemini") });
 * ```
 */
export function simulatorBaseUrl(url: string, provider: SimulatedProvider): string {
  switch (provider) {
    case "openai-chat":
    case "openai-responses":
    case "anthropic":
      return `${url}/v1`;
    case "gemini":
      return `${url}/v1beta`;
    case "ollama":
      return url;
  }
}
