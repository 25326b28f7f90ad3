import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decode,
  fixture,
  fixtureNames,
  lineEndings,
  splitAt,
} from "../../test/fixtures/providers/harness.ts";
import { MAX_EVENT_LENGTH } from "./framing.ts";
import { createProviderDecoder, type ProviderId } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);
const WIRE: ProviderId[] = ["openai-chat", "openai-responses", "anthropic", "gemini", "ollama"];

describe.each(WIRE)("the %s decoder", (provider) => {
  const sse = provider !== "ollama";
  for (const name of fixtureNames(provider)) {
    const { lf, crlf, cr } = lineEndings(fixture(provider, name));
    const whole = decode(provider, [lf]);
    const variants: [string, string][] = sse
      ? [
          ["CRLF", crlf],
          ["CR", cr],
        ]
      : [["CRLF", crlf]];

    it(`gives the same events for ${name} split at every character`, () => {
      for (let at = 1; at < lf.length; at++) expect(decode(provider, splitAt(lf, [at]))).toEqual(whole);
      expect(decode(provider, [...lf])).toEqual(whole);
    });

    it.each(variants)(
      `gives the same events for ${name} with %s line ends, whole and one character at a time`,
      (_, text) => {
        expect(decode(provider, [text])).toEqual(whole);
        expect(decode(provider, [...text])).toEqual(whole);
      },
    );

    it(`gives the same events for ${name} under any chunking and line ends (property)`, () => {
      fc.assert(
        fc.property(
          fc.constantFrom(lf, ...variants.map(([, text]) => text)),
          fc.array(fc.nat(), { maxLength: 40 }),
          (text, cuts) => {
            const points = cuts.map((c) => c % (text.length + 1));
            expect(decode(provider, splitAt(text, points))).toEqual(whole);
          },
        ),
        { numRuns: RUNS },
      );
    });
  }
});

describe("SSE framing", () => {
  it("joins multi-line data with a newline before parsing the JSON", () => {
    const text = 'data: {"type":"content_block_delta",\ndata: "delta":{"type":"text_delta","text":"hi"}}\n\n';
    expect(decode("anthropic", [text])).toEqual([{ type: "text", delta: "hi" }]);
  });

  it("ignores comments, ids, retry fields and an event's blank-line separators", () => {
    const text =
      ': hello\nid: 7\nretry: 1000\n\n\n\ndata: {"choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}\n\n';
    expect(decode("openai-chat", [text])).toEqual([{ type: "text", delta: "x" }]);
  });

  it("reports a data line that is not JSON as a malformed event that is not retryable", () => {
    const events = decode("openai-chat", ["data: {not json\n\n"]);
    expect(events).toEqual([
      {
        type: "error",
        errorType: "malformed_event",
        message: expect.stringContaining("{not json"),
        retryable: false,
      },
    ]);
  });

  it("dispatches a whole last event that lacks its blank line at the end of the body", () => {
    expect(decode("openai-chat", [fixture("openai-chat", "no-final-newline.sse")])).toEqual([
      { type: "text", delta: "{}" },
      { type: "finish", reason: "stop", raw: "stop" },
    ]);
  });

  it("drops a last event cut mid-line, so the stream reads as cut rather than malformed", () => {
    const events = decode("openai-chat", [fixture("openai-chat", "cut-mid-stream.sse")]);
    expect(events).toEqual([{ type: "text", delta: '{"a":' }]);
  });

  it("says when a body is not server-sent events at all", () => {
    const events = decode("anthropic", ["<html><body>Bad gateway</body></html>\n"]);
    expect(events).toEqual([
      {
        type: "error",
        errorType: "malformed_event",
        message: expect.stringContaining("not server-sent events"),
        retryable: false,
      },
    ]);
  });

  it("reads a body that is one unframed JSON error object as that error", () => {
    const events = decode("anthropic", ['{"type":"error","error":{"type":"api_error","message":"boom"}}\n']);
    expect(events).toEqual([{ type: "error", errorType: "api_error", message: "boom", retryable: true }]);
  });

  it("accepts an error event whose data is not JSON as the error message", () => {
    expect(decode("anthropic", ["event: error\ndata: upstream went away\n\n"])).toEqual([
      { type: "error", errorType: "error", message: "upstream went away", retryable: false },
    ]);
  });

  it("reads a UTF-8 character split across byte chunks once the caller decodes in stream mode", () => {
    const bytes = new TextEncoder().encode(fixture("anthropic", "basic.sse"));
    const whole = decode("anthropic", [fixture("anthropic", "basic.sse")]);
    const utf8 = new TextDecoder();
    for (let at = 1; at < bytes.length; at += 7) {
      const decoder = createProviderDecoder("anthropic");
      const events = [
        ...decoder.push(utf8.decode(bytes.subarray(0, at), { stream: true })),
        ...decoder.push(utf8.decode(bytes.subarray(at), { stream: true })),
        ...decoder.push(utf8.decode()),
        ...decoder.end(),
      ];
      expect(events).toEqual(whole);
    }
  });
});

describe("NDJSON framing", () => {
  it("reads a last line without a newline, and CRLF line ends", () => {
    expect(decode("ollama", [fixture("ollama", "crlf-no-final-newline.ndjson")])).toEqual([
      { type: "text", delta: "[1]" },
      { type: "usage", usage: { inputTokens: 26, outputTokens: 282 } },
      { type: "finish", reason: "stop", raw: "stop" },
      { type: "end" },
    ]);
  });

  it("skips blank lines and reports a line that is not JSON", () => {
    const events = decode("ollama", ["\n\n", "oops\n", "\r\n"]);
    expect(events).toEqual([
      {
        type: "error",
        errorType: "malformed_event",
        message: expect.stringContaining("oops"),
        retryable: false,
      },
    ]);
  });

  it("drops a last line cut mid-object at the end of the body", () => {
    expect(decode("ollama", ['{"message":{"content":"a"},"done":false}\n{"message":{"con'])).toEqual([
      { type: "text", delta: "a" },
    ]);
  });
});

describe("limits", () => {
  it("stops with limit_exceeded when one event grows past MAX_EVENT_LENGTH, SSE and NDJSON alike", () => {
    const huge = "x".repeat(MAX_EVENT_LENGTH + 10);
    for (const provider of ["openai-chat", "ollama"] as const) {
      const decoder = createProviderDecoder(provider);
      const events = [...decoder.push(`data: "${huge}`), ...decoder.push("more\n\n"), ...decoder.end()];
      expect(events).toEqual([
        { type: "error", errorType: "limit_exceeded", message: expect.any(String), retryable: false },
      ]);
    }
  });
});
