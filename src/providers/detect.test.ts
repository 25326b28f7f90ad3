import { describe, expect, it } from "vitest";
import { fixture, fixtureNames } from "../../test/fixtures/providers/harness.ts";
import { detectProvider, detectSdkProvider, type ProviderId } from "./index.ts";

const SSE: ProviderId[] = ["openai-chat", "openai-responses", "anthropic", "gemini"];

describe("detectProvider", () => {
  for (const provider of SSE) {
    for (const name of fixtureNames(provider)) {
      it(`tells ${provider} from its first event in ${name}, with or without a content type`, () => {
        const text = fixture(provider, name);
        const final = true;
        expect(detectProvider({ contentType: "text/event-stream; charset=utf-8", text, final })).toEqual({
          provider,
        });
        expect(detectProvider({ contentType: undefined, text, final })).toEqual({ provider });
      });
    }
  }

  it("tells Ollama from application/x-ndjson, and from its first line without a content type", () => {
    const text = fixture("ollama", "basic.ndjson");
    expect(detectProvider({ contentType: "application/x-ndjson", text: "" })).toEqual({ provider: "ollama" });
    expect(detectProvider({ contentType: null, text })).toEqual({ provider: "ollama" });
    expect(detectProvider({ contentType: "application/json", text })).toEqual({ provider: "ollama" });
  });

  it("waits for more text while the first event or line is incomplete", () => {
    expect(detectProvider({ contentType: "text/event-stream", text: 'data: {"choi' })).toMatchObject({
      provider: undefined,
      needMore: true,
    });
    expect(detectProvider({ contentType: undefined, text: '{"model":"llama3.2","created' })).toMatchObject({
      needMore: true,
    });
    expect(detectProvider({ contentType: undefined, text: "   " })).toMatchObject({ needMore: true });
  });

  it("reads raw JSON and text/plain as text", () => {
    expect(detectProvider({ contentType: "application/json", text: '{"a": 1}' })).toEqual({
      provider: "text",
    });
    expect(detectProvider({ contentType: undefined, text: "[1, 2" })).toEqual({ provider: "text" });
    expect(detectProvider({ contentType: "text/plain", text: "Sure, ```json" })).toEqual({
      provider: "text",
    });
  });

  it("says clearly when it cannot tell, and why", () => {
    const cases: [string | undefined, string, RegExp][] = [
      ["text/html", "<html><body>Bad gateway", /neither server-sent events, NDJSON nor JSON/],
      ["application/json", '{"id":"chatcmpl-1","object":"chat.completion","choices":[]}\n', /stream: true/],
      ["application/json", '[{\n  "candidates": []', /alt=sse/],
      ["text/event-stream", 'data: {"hello": "world"}\n\n', /matches no known provider/],
      ["text/event-stream", "data: hello\n\n", /not JSON/],
      [
        "application/json",
        '{"error":{"message":"Invalid key","type":"invalid_request_error"}}\n',
        /Invalid key/,
      ],
    ];
    for (const [contentType, text, reason] of cases) {
      const result = detectProvider({ contentType, text });
      expect(result).toMatchObject({ provider: undefined, needMore: false });
      expect(result.provider === undefined && result.reason).toMatch(reason);
    }
  });

  it("gives up at the end of the body with a reason", () => {
    expect(detectProvider({ contentType: "text/event-stream", text: ": ping\n", final: true })).toMatchObject(
      {
        needMore: false,
        reason: expect.stringContaining("no server-sent event"),
      },
    );
    expect(detectProvider({ contentType: undefined, text: "", final: true })).toMatchObject({
      reason: "The body is empty.",
    });
  });
});

describe("detectSdkProvider", () => {
  it("names the provider of each official SDK's event objects", () => {
    expect(detectSdkProvider({ id: "c", object: "chat.completion.chunk", choices: [] })).toBe("openai-chat");
    expect(detectSdkProvider({ type: "response.created", response: {} })).toBe("openai-responses");
    expect(detectSdkProvider({ type: "message_start", message: {} })).toBe("anthropic");
    expect(detectSdkProvider({ candidates: [] })).toBe("gemini");
    expect(detectSdkProvider({ model: "m", message: { content: "" }, done: false })).toBe("ollama");
    expect(detectSdkProvider("{")).toBe("text");
    expect(detectSdkProvider({ unrelated: true })).toBeUndefined();
    expect(detectSdkProvider(42)).toBeUndefined();
  });
});

describe("detectProvider on a body's first few characters", () => {
  it("waits while the text could still start an SSE field or an Ollama line", () => {
    for (const text of ["d", "dat", "ev", "i", "r", "{", '{"', '{"mod', '{ "model"']) {
      expect(detectProvider({ contentType: undefined, text })).toMatchObject({ needMore: true });
    }
    expect(detectProvider({ contentType: undefined, text: '{"a' })).toEqual({ provider: "text" });
  });

  it("gives the same answer for every prefix of each fixture once decided (no early wrong guess)", () => {
    const bodies: [ProviderId, string][] = [
      ["openai-chat", fixture("openai-chat", "basic.sse")],
      ["anthropic", fixture("anthropic", "basic.sse")],
      ["gemini", fixture("gemini", "basic.sse")],
      ["ollama", fixture("ollama", "basic.ndjson")],
    ];
    for (const [provider, text] of bodies) {
      for (let end = 1; end <= text.length; end++) {
        const result = detectProvider({ contentType: undefined, text: text.slice(0, end) });
        if (result.provider !== undefined) expect(result.provider).toBe(provider);
        else expect(result.needMore).toBe(true);
      }
    }
  });
});
