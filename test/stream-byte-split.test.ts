/**
 * Recorded provider streams (test/fixtures/stream/, recorded from the simulator) read by
 * structuredStream however the bytes are split: one byte per `res.write` from a real node:http
 * server on 127.0.0.1:0 (the provider detected from the content type and first event), and any
 * chunking (fast-check, mid-character included) of the same bytes given as an async iterable. Every
 * split gives the same value, field events, error code and salvaged partial.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { StreamError } from "../src/errors/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import {
  answerSchema,
  chunkBytes,
  countingSource,
  expectNoLeaks,
  fixtureBytes,
  fixtureText,
  type Outcome,
  openHandles,
  serve,
  settle,
  splitBytes,
  statuses,
  type TestServer,
  utf8,
  wireFixtures,
  write,
} from "./fixtures/stream/harness.ts";

const RUNS = Number(process.env.FC_RUNS ?? 50);

let server: TestServer;
let handlesBefore: Record<string, number>;
/** The server starts writing the body once the test has started reading it. */
let reading: Promise<void> = Promise.resolve();
let startReading: () => void = () => {};

function armReading(): void {
  reading = new Promise((resolve) => {
    startReading = resolve;
  });
}

beforeAll(async () => {
  handlesBefore = openHandles();
  server = await serve(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const fixture = wireFixtures.find((f) => f.file === url.searchParams.get("file"));
    if (fixture === undefined) {
      res.writeHead(404).end();
      return;
    }
    const bytes = fixtureBytes(fixture.file);
    res.socket?.setNoDelay(true);
    res.writeHead(200, { "content-type": url.searchParams.get("type") ?? fixture.contentType });
    res.flushHeaders();
    await reading;
    for (let i = 0; i < bytes.length; i++) {
      await write(res, bytes.subarray(i, i + 1));
      // Let the reader take each byte before the next is written, so bytes are not coalesced.
      await new Promise((resolve) => setImmediate(resolve));
    }
    res.end();
  });
});

afterAll(async () => {
  await server.close();
  expect(server.sockets.size).toBe(0);
  await new Promise((resolve) => setTimeout(resolve, 20));
  expectNoLeaks(handlesBefore);
});

/** What must be the same for every split. */
function summary<T>(outcome: Outcome<T>) {
  return {
    value: outcome.value,
    code: outcome.error?.code,
    partial: outcome.error?.partial,
    refusal: outcome.error?.refusal,
    fields: outcome.events.flatMap((e) =>
      e.type === "field" ? [`${e.pointer} ${JSON.stringify(e.value)}`] : [],
    ),
    statuses: statuses(outcome.events),
  };
}

function checkExpected<T>(fixture: (typeof wireFixtures)[number], outcome: Outcome<T>): void {
  if ("value" in fixture.expect) {
    expect(outcome.error).toBeUndefined();
    expect(outcome.value).toEqual(fixture.expect.value);
  } else {
    expect(outcome.error).toBeInstanceOf(StreamError);
    expect(outcome.error?.code).toBe(fixture.expect.code);
  }
}

async function fromChunks(provider: string, chunks: Uint8Array[]) {
  return settle(
    structuredStream({
      source: countingSource(chunks).source,
      provider: provider as "text",
      schema: answerSchema,
    }),
  );
}

describe.each(wireFixtures)("the recorded stream $file", (fixture) => {
  it("is read whole to the expected outcome", async () => {
    const outcome = await fromChunks(fixture.provider, [fixtureBytes(fixture.file)]);
    checkExpected(fixture, outcome);
    if ("code" in fixture.expect && fixture.expect.code === "truncated") {
      // The salvaged partial holds what arrived before the cut.
      expect(outcome.error?.partial).toMatchObject({ title: expect.any(String), mood: expect.any(String) });
    }
    if (
      "code" in fixture.expect &&
      fixture.expect.code === "refusal" &&
      fixture.provider === "openai-responses"
    ) {
      expect(outcome.error?.refusal).toBe("I'm sorry, but I can't help with that request.");
    }
  });

  it("is read the same when the server writes it one byte at a time", async () => {
    armReading();
    const response = await fetch(`${server.url}/?file=${encodeURIComponent(fixture.file)}`);
    const s = structuredStream({ source: response, schema: answerSchema });
    const settled = settle(s);
    startReading();
    const outcome = await settled;
    checkExpected(fixture, outcome);
    const whole = await fromChunks(fixture.provider, [fixtureBytes(fixture.file)]);
    expect(summary(outcome)).toEqual(summary(whole));
    expect(s.stats.bytes).toBe(fixtureBytes(fixture.file).length);
    // Nearly every byte was read on its own.
    expect(s.stats.chunks).toBeGreaterThan(s.stats.bytes / 2);
  });

  it("gives the same outcome for any chunking of its bytes", async () => {
    const bytes = fixtureBytes(fixture.file);
    const whole = summary(await fromChunks(fixture.provider, [bytes]));
    expect(summary(await fromChunks(fixture.provider, chunkBytes(bytes, 1)))).toEqual(whole);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 60 }),
        async (cuts) => {
          expect(summary(await fromChunks(fixture.provider, splitBytes(bytes, cuts)))).toEqual(whole);
        },
      ),
      { numRuns: RUNS },
    );
  });
});

describe("a text stream wrapped in a ```json fence", () => {
  const text = fixtureText("text.fenced.txt");
  const expected = JSON.parse(text.slice(text.indexOf("{"), text.lastIndexOf("}") + 1));

  it("is read with lenient: true, for any chunking", async () => {
    const bytes = utf8(text);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 30 }),
        async (cuts) => {
          const outcome = await settle(
            structuredStream({
              source: countingSource(splitBytes(bytes, cuts)).source,
              provider: "text",
              lenient: true,
              schema: answerSchema,
            }),
          );
          expect(outcome.error).toBeUndefined();
          expect(outcome.value).toEqual(expected);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it("fails with invalid_json without lenient", async () => {
    const outcome = await settle(
      structuredStream({
        source: countingSource([utf8(text)]).source,
        provider: "text",
        schema: answerSchema,
      }),
    );
    expect(outcome.error?.code).toBe("invalid_json");
    expect(outcome.error?.parse).toMatchObject({ offset: 0, line: 1, column: 1 });
  });

  it("is read with lenient: true from a text/plain response one byte at a time", async () => {
    const one = await serve(async (_req, res) => {
      res.socket?.setNoDelay(true);
      res.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      const bytes = utf8(text);
      for (let i = 0; i < bytes.length; i++) await write(res, bytes.subarray(i, i + 1));
      res.end();
    });
    try {
      const outcome = await settle(
        structuredStream({ source: await fetch(one.url), lenient: true, schema: answerSchema }),
      );
      expect(outcome.error).toBeUndefined();
      expect(outcome.value).toEqual(expected);
    } finally {
      await one.close();
    }
  });
});
