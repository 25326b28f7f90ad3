import { describe, expect, it } from "vitest";
import { decode, fixture } from "../../test/fixtures/providers/harness.ts";

const ollama = (name: string) => decode("ollama", [fixture("ollama", name)]);

describe("the ollama adapter", () => {
  it("streams message.content and finishes on done: true with its counts", () => {
    expect(ollama("basic.ndjson")).toEqual([
      { type: "text", delta: '{"age"' },
      { type: "text", delta: ': 22, "name": "Ōllama"' },
      { type: "text", delta: "}" },
      { type: "usage", usage: { inputTokens: 26, outputTokens: 282 } },
      { type: "finish", reason: "stop", raw: "stop" },
      { type: "end" },
    ]);
  });

  it("reports done_reason length as truncation", () => {
    expect(ollama("length.ndjson").at(-2)).toEqual({ type: "finish", reason: "length", raw: "length" });
  });

  it("maps an error line to a provider error", () => {
    expect(ollama("mid-stream-error.ndjson").at(-1)).toEqual({
      type: "error",
      errorType: "error",
      message: "an error was encountered while running the model: unexpected EOF",
      retryable: false,
    });
  });

  it("reads /api/generate's response field and an old server's done without done_reason", () => {
    expect(decode("ollama", ['{"response":"[1]","done":false}\n{"response":"","done":true}\n'])).toEqual([
      { type: "text", delta: "[1]" },
      { type: "finish", reason: "stop", raw: "done" },
      { type: "end" },
    ]);
  });
});
