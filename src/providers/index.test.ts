import { describe, expect, it } from "vitest";
import * as providers from "./index.ts";

describe("the providers door", () => {
  it("exports exactly this runtime surface", () => {
    expect(Object.keys(providers).sort()).toMatchInlineSnapshot(`
      [
        "ANTHROPIC_VERSION",
        "DEFAULT_ANTHROPIC_MAX_TOKENS",
        "DEFAULT_BASE_URLS",
        "DETECT_MAX_TEXT",
        "MAX_EVENT_LENGTH",
        "PROVIDER_IDS",
        "anthropicAdapter",
        "buildAnthropicRequest",
        "buildGeminiRequest",
        "buildOllamaRequest",
        "buildOpenAIChatRequest",
        "buildOpenAIResponsesRequest",
        "createLenientFilter",
        "createProviderDecoder",
        "createSdkMapper",
        "detectProvider",
        "detectSdkProvider",
        "errorFromSdk",
        "geminiAdapter",
        "getProvider",
        "httpErrorEvent",
        "isProviderId",
        "isRetryableErrorType",
        "isRetryableStatus",
        "ollamaAdapter",
        "openaiChatAdapter",
        "openaiResponsesAdapter",
        "parseRetryAfter",
        "providerEnv",
        "readErrorResponse",
        "restoreOptionalNulls",
        "textAdapter",
        "toAnthropicSchema",
        "toStrictJsonSchema",
        "withLenient",
      ]
    `);
  });

  it("has one adapter per provider id, each naming itself", () => {
    for (const id of providers.PROVIDER_IDS) expect(providers.getProvider(id).id).toBe(id);
    expect(() => providers.getProvider("nope" as providers.ProviderId)).toThrow(/Unknown provider/);
  });
});
