import { describe, expect, it } from "vitest";
import { applyPatch, decodePatch } from "../server/index.ts";
import { runCli } from "./index.ts";
import { replay, splitRecording } from "./parse.ts";

async function collect(iterable: AsyncIterable<string>): Promise<string[]> {
  const out: string[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

describe("splitting a recording", () => {
  it("cuts an SSE capture into its events", () => {
    const sse = 'data: {"a":1}\n\nevent: x\ndata: {"b":2}\n\ndata: [DONE]\n\n';
    expect(splitRecording(sse).map((c) => c.text)).toEqual([
      'data: {"a":1}\n\n',
      'event: x\ndata: {"b":2}\n\n',
      "data: [DONE]\n\n",
    ]);
  });

  it("cuts NDJSON into lines and raw JSON into delta-sized pieces", () => {
    expect(splitRecording('{"a":1}\n{"b":2}\n').map((c) => c.text)).toEqual(['{"a":1}\n', '{"b":2}\n']);
    const raw = splitRecording('{"title":"Hello world"}');
    expect(raw.map((c) => c.text).join("")).toBe('{"title":"Hello world"}');
    expect(raw.every((c) => c.text.length <= 8)).toBe(true);
  });

  it("keeps the timing of a timed capture", () => {
    const timed = '{"t":0,"chunk":"data: 1\\n\\n"}\n{"t":120,"chunk":"data: 2\\n\\n"}\n';
    expect(splitRecording(timed)).toEqual([
      { text: "data: 1\n\n", t: 0 },
      { text: "data: 2\n\n", t: 120 },
    ]);
  });
});

describe("replaying", () => {
  it("gives every chunk, in order, at once or paced", async () => {
    const chunks = ["a", "b", "c"].map((text) => ({ text }));
    expect(await collect(replay(chunks, { kind: "instant" }))).toEqual(["a", "b", "c"]);
    const start = Date.now();
    expect(await collect(replay(chunks, { kind: "rate", perSecond: 50 }))).toEqual(["a", "b", "c"]);
    expect(Date.now() - start).toBeGreaterThanOrEqual(35);
  });

  it("waits for the recorded times", async () => {
    const start = Date.now();
    await collect(
      replay(
        [
          { text: "a", t: 0 },
          { text: "b", t: 60 },
        ],
        { kind: "recorded" },
      ),
    );
    expect(Date.now() - start).toBeGreaterThanOrEqual(55);
  });

  it("stops waiting as soon as the signal aborts", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const out = await collect(
      replay(
        [
          { text: "a", t: 0 },
          { text: "b", t: 5000 },
        ],
        { kind: "recorded" },
        controller.signal,
      ),
    );
    // The next chunk is due in 5 s, the abort in 20 ms (timers fire in order): ending with only "a" shows
    // the wait was cut short. No clock asserted.
    expect(out).toEqual(["a"]);
  });
});

describe("parse --json", () => {
  /** Runs `structream parse - --json` in-process on `text`; returns what it wrote. */
  async function parseJson(
    text: string,
    extra: string[] = [],
  ): Promise<{ stdout: string; stderr: string; code: number }> {
    let stdout = "";
    let stderr = "";
    const stdin = {
      async *[Symbol.asyncIterator]() {
        for (let i = 0; i < text.length; i += 64) yield text.slice(i, i + 64);
      },
    };
    const io = {
      stdin,
      stdout: { write: (s: string) => void (stdout += s) },
      stderr: { write: (s: string) => void (stderr += s) },
      env: {},
      cwd: process.cwd(),
    };
    const code = await runCli(["parse", "-", "--json", ...extra], io);
    return { stdout, stderr, code };
  }

  const answer = {
    title: "A long answer",
    summary: "word ".repeat(5000),
    items: Array.from({ length: 600 }, (_, i) => ({ id: i, name: `item ${i}`, tags: ["a", "b"] })),
  };
  const text = JSON.stringify(answer);

  it("writes output linear in the answer: patches that rebuild it, the whole value once", async () => {
    expect(text.length).toBeGreaterThan(40_000);
    const { stdout, stderr, code } = await parseJson(text);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(answer);
    expect(stdout.length + stderr.length).toBeLessThan(10 * text.length);
    const records = stderr
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line));
    let doc: unknown;
    for (const record of records)
      if (record.type === "partial") doc = applyPatch(doc, decodePatch(record.patch));
    expect(doc).toEqual(answer);
  });

  it("adds the whole value to a partial at most as often as --snapshot-every asks", async () => {
    const { stderr } = await parseJson(text, ["--snapshot-every", "0"]);
    const partials = stderr
      .trimEnd()
      .split("\n")
      .map((line) => JSON.parse(line))
      .filter((record) => record.type === "partial");
    expect(partials.every((p) => "value" in p && "patch" in p)).toBe(true);
  });
});
