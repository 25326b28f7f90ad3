/**
 * The relay on the four shapes that made it quadratic (a long string, a wide object, a wide array,
 * deep nesting): over real HTTP, the client ends with the exact value, and the bytes on the wire
 * grow in proportion to the answer (bytes are counted, never time).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscribe } from "../src/client/index.ts";
import { createRelay, type Relay } from "../src/server/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import { serve, type TestServer } from "./relay-fixtures.ts";

let relay: Relay;
let server: TestServer;

beforeAll(async () => {
  relay = createRelay({ keepAliveMs: 60_000 });
  server = await serve((request) => relay.handle(request));
});

afterAll(async () => {
  await relay.close();
  await server.close();
});

/** The answer's text in chunks of `size` characters, as a model's deltas. */
async function* deltas(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) yield text.slice(i, i + size);
}

const shapes: Record<string, (n: number) => unknown> = {
  "a long string": (n) => ({ summary: "lorem ipsum ".repeat(n) }),
  "a wide object": (n) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`key_${i}`, `v${i}`])),
  "a wide array": (n) => ({ items: Array.from({ length: n }, (_, i) => ({ id: i, name: `item ${i}` })) }),
  "deep nesting": (n) => {
    let value: unknown = { leaf: "x".repeat(n * 4), list: Array.from({ length: n }, (_, i) => i) };
    for (let d = 0; d < 64; d++) value = { level: d, child: value };
    return value;
  },
};

/** Streams `value` through the relay in 8-character deltas; returns the SSE bytes and the client's value. */
async function relayed(value: unknown): Promise<{ bytes: number; received: unknown }> {
  const text = JSON.stringify(value);
  const { id } = await relay.start(structuredStream({ source: deltas(text, 8), provider: "text" }));
  const url = `${server.url}/streams/${id}`;
  const subscription = subscribe(url);
  const received = await subscription.done;
  // The whole log, as a client that reads it from the start gets it.
  const body = await (await fetch(url)).arrayBuffer();
  return { bytes: body.byteLength, received };
}

describe("the relay, on answers twice as large", () => {
  for (const [name, make] of Object.entries(shapes)) {
    it(`sends ${name} exactly, in bytes linear in the answer`, async () => {
      const small = make(500);
      const large = make(1000);
      const a = await relayed(small);
      const b = await relayed(large);
      expect(a.received).toEqual(small);
      expect(b.received).toEqual(large);
      const ratio = b.bytes / a.bytes;
      const answerRatio = JSON.stringify(large).length / JSON.stringify(small).length;
      // Linear: twice the answer, about twice the bytes (a quadratic relay sends about four times).
      expect(ratio).toBeLessThan(answerRatio * 1.25);
    });
  }
});

describe("the relay, on an answer that arrives as one burst", () => {
  it("sends it exactly, the text once (the burst's partials merged)", async () => {
    // 1 MB in 8-character deltas, all read within one turn of the event loop (an in-memory source):
    // the relay reads the burst once it is due to write it, and the stream merges its partials.
    const value = { summary: "lorem ipsum ".repeat(90_000), tail: [1, 2, 3] };
    const { bytes, received } = await relayed(value);
    expect(received).toEqual(value);
    // The text once, plus the events around it: not a copy per delta.
    expect(bytes).toBeLessThan(JSON.stringify(value).length * 1.1);
  });

  it("writes no patch event larger than about 64 KiB, however large the burst", async () => {
    const text = JSON.stringify({ summary: "lorem ipsum ".repeat(90_000) });
    const { id } = await relay.start(structuredStream({ source: deltas(text, 8), provider: "text" }));
    const body = await (await fetch(`${server.url}/streams/${id}`)).text();
    const patches = body
      .split("\n\n")
      .filter((block) => !/^event: /m.test(block) && /^data: /m.test(block))
      .map((block) => (/^data: (.*)$/m.exec(block)?.[1] ?? "").length);
    expect(patches.length).toBeGreaterThan(1);
    // One patch of appends is at most 64 Ki characters of text, plus its JSON around them.
    expect(Math.max(...patches)).toBeLessThan(66_000);
    // Few events for 135,000 deltas: the burst was merged, not sent delta by delta.
    expect(patches.length).toBeLessThan(200);
  });
});
