import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decode, fixture, joinDeltas, splitAt, textOf } from "../../test/fixtures/providers/harness.ts";
import { createLenientFilter, createSdkMapper, type ProviderEvent, withLenient } from "./index.ts";

const RUNS = Number(process.env.FC_RUNS ?? 100);

function filter(chunks: readonly string[]): string {
  const f = createLenientFilter();
  return chunks.map((chunk) => f.push(chunk)).join("") + f.end();
}

describe("createLenientFilter", () => {
  it("skips a leading ```json fence and a closing fence", () => {
    expect(filter(['```json\n{"a": 1}\n```'])).toBe('{"a": 1}');
  });

  it("skips prose up to the first { or [", () => {
    expect(filter(["Sure! Here you go: [1, 2]"])).toBe("[1, 2]");
  });

  it("skips text after the value closes: a fence, prose, both", () => {
    expect(filter(['{"a": 1}\n```\nHope this helps!'])).toBe('{"a": 1}');
    expect(filter(["Here you go:\n```json\n", '{"a": 1}\n```\nHope that helps'])).toBe('{"a": 1}');
    expect(filter(['{"a": 1} done.'])).toBe('{"a": 1}');
  });

  it("keeps brackets, braces, quotes and backticks inside strings", () => {
    expect(filter(['{"code": "```js"}'])).toBe('{"code": "```js"}');
    expect(filter(['{"a": "`"}'])).toBe('{"a": "`"}');
    expect(filter(['{"a": "} ] \\" {"} tail'])).toBe('{"a": "} ] \\" {"}');
  });

  it("passes plain JSON through unchanged", () => {
    expect(filter(['{"a": [1, 2]}'])).toBe('{"a": [1, 2]}');
  });

  it("remembers the skipped prose, for error messages, and whether JSON started", () => {
    const f = createLenientFilter();
    f.push("I cannot answer that.");
    expect(f.end()).toBe("");
    expect(f.started).toBe(false);
    expect(f.skipped).toBe("I cannot answer that.");
  });

  it("gives the same text for any split (property)", () => {
    const inputs = [
      fixture("text", "fenced-with-prose.txt"),
      '```\n[{"a": "``"}]\n```  \n',
      'Text {"x": "a ``` b"} ```',
      "{`}``",
    ];
    fc.assert(
      fc.property(fc.constantFrom(...inputs), fc.array(fc.nat(), { maxLength: 20 }), (input, cuts) => {
        const whole = filter([input]);
        expect(
          filter(
            splitAt(
              input,
              cuts.map((c) => c % (input.length + 1)),
            ),
          ),
        ).toBe(whole);
      }),
      { numRuns: RUNS },
    );
  });

  it("strips the fixture's prose and fence, keeping the backtick inside the JSON", () => {
    expect(filter([fixture("text", "fenced-with-prose.txt")])).toBe(
      '{"title": "A `tick` inside", "tags": ["x", "y"]}',
    );
  });
});

describe("withLenient", () => {
  it("filters a text stream's deltas, one character at a time", () => {
    const events = decode("text", [...fixture("text", "fenced-with-prose.txt")], { lenient: true });
    expect(joinDeltas(events)).toEqual([
      { type: "text", delta: '{"title": "A `tick` inside", "tags": ["x", "y"]}' },
      { type: "finish", reason: "stop", raw: "end_of_stream" },
      { type: "end" },
    ]);
  });

  it("filters an SDK mapper's text and passes other events unchanged", () => {
    const mapper = withLenient(createSdkMapper("ollama"));
    const events: ProviderEvent[] = [
      ...mapper.map({ message: { content: "```json\n{}" }, done: false }),
      ...mapper.map({ message: { content: "\n```" }, done: true, done_reason: "stop" }),
      ...mapper.end(),
    ];
    expect(textOf(events)).toBe("{}");
    expect(events.at(-2)).toEqual({ type: "finish", reason: "stop", raw: "stop" });
  });
});
