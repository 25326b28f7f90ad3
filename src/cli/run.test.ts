import { describe, expect, it } from "vitest";
import { simulatorBaseUrl } from "../simulator/index.ts";
import { parseCommandArgs, type RunArgs, UsageError } from "./args.ts";
import { resolveTarget } from "./run.ts";

const args = (...extra: string[]) =>
  parseCommandArgs("run", ["-s", "s.json", "-p", "hi", ...extra]) as RunArgs;

describe("who answers a run", () => {
  it("is the simulator when there is neither a key nor a --base-url", () => {
    expect(resolveTarget(args(), {})).toEqual({
      kind: "simulator",
      provider: "openai-chat",
      reason: "no-key",
    });
    expect(resolveTarget(args("--provider", "anthropic"), { OPENAI_API_KEY: "sk" })).toEqual({
      kind: "simulator",
      provider: "anthropic",
      reason: "no-key",
    });
  });

  it("is the provider whose key is in the environment, OpenAI first", () => {
    expect(resolveTarget(args(), { ANTHROPIC_API_KEY: "a", GEMINI_API_KEY: "g" })).toEqual({
      kind: "provider",
      provider: "anthropic",
      apiKey: "a",
    });
    expect(resolveTarget(args(), { OPENAI_API_KEY: "o", ANTHROPIC_API_KEY: "a" })).toMatchObject({
      provider: "openai-chat",
      apiKey: "o",
    });
    expect(resolveTarget(args(), { GOOGLE_API_KEY: "g" })).toMatchObject({ provider: "gemini", apiKey: "g" });
    expect(resolveTarget(args(), { OPENAI_API_KEY: "o", OPENAI_BASE_URL: "http://proxy/v1" })).toMatchObject({
      baseURL: "http://proxy/v1",
    });
  });

  it("is the server at --base-url, with or without a key", () => {
    expect(resolveTarget(args("--base-url", "http://localhost:8000/v1"), {})).toEqual({
      kind: "provider",
      provider: "openai-chat",
      baseURL: "http://localhost:8000/v1",
    });
  });

  it("reads the key from the variable --api-key-env names", () => {
    expect(resolveTarget(args("--api-key-env", "MY_KEY", "--provider", "gemini"), { MY_KEY: "k" })).toEqual({
      kind: "provider",
      provider: "gemini",
      apiKey: "k",
    });
    expect(() => resolveTarget(args("--api-key-env", "MISSING"), {})).toThrow(
      /MISSING: that environment variable is not set/,
    );
  });

  it("is Ollama when asked for, which needs no key", () => {
    expect(resolveTarget(args("--provider", "ollama"), { OLLAMA_HOST: "127.0.0.1:11434" })).toEqual({
      kind: "provider",
      provider: "ollama",
      baseURL: "http://127.0.0.1:11434",
    });
  });

  it("is the simulator with --simulator, whatever the environment", () => {
    expect(resolveTarget(args("--simulator"), { OPENAI_API_KEY: "o" })).toMatchObject({
      kind: "simulator",
      reason: "flag",
    });
  });

  it("refuses simulator flags for a real provider", () => {
    expect(() => resolveTarget(args("--fault", "drop"), { OPENAI_API_KEY: "o" })).toThrow(UsageError);
    expect(() => resolveTarget(args("--pace", "fast"), { OPENAI_API_KEY: "o" })).toThrow(
      /only apply to the simulator/,
    );
  });

  it("points each provider's request builder at the simulator's matching endpoint", () => {
    expect(simulatorBaseUrl("http://h", "openai-chat")).toBe("http://h/v1");
    expect(simulatorBaseUrl("http://h", "anthropic")).toBe("http://h/v1");
    expect(simulatorBaseUrl("http://h", "gemini")).toBe("http://h/v1beta");
    expect(simulatorBaseUrl("http://h", "ollama")).toBe("http://h");
  });
});
