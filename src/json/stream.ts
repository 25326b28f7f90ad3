import { createParser, type ParserOptions } from "./parser.ts";

/** A source of JSON text: an async iterable or a web ReadableStream of string or byte chunks. */
export type ChunkSource = AsyncIterable<string | Uint8Array> | ReadableStream<string | Uint8Array>;

async function* chunksOf(source: ChunkSource): AsyncGenerator<string | Uint8Array> {
  if (Symbol.asyncIterator in source) {
    yield* source as AsyncIterable<string | Uint8Array>;
    return;
  }
  const reader = (source as ReadableStream<string | Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    // Leaving the loop early (break, throw) cancels the source rather than leaving it locked.
    await reader.cancel().catch(() => {});
  }
}

/**
 * Parses a stream of JSON chunks into a stream of immutable snapshots: one after each chunk that
 * changed the value, and the final value last. Breaking out of the loop cancels the source.
 *
 * @example
 * ```ts
 * for await (const snapshot of parseJsonStream(response.body!)) render(snapshot);
 * ```
 */
export async function* parseJsonStream(
  source: ChunkSource,
  options: Omit<ParserOptions, "onEvent"> = {},
): AsyncGenerator<unknown, unknown, undefined> {
  const parser = createParser(options);
  let last: unknown;
  // One generator, no delegation: each level of async iteration costs a promise per chunk.
  const chunks =
    Symbol.asyncIterator in source ? (source as AsyncIterable<string | Uint8Array>) : chunksOf(source);
  for await (const chunk of chunks) {
    parser.push(chunk);
    const value = parser.value;
    if (value !== last && value !== undefined) {
      last = value;
      yield value;
    }
  }
  const final = parser.end();
  if (final !== last) yield final;
  return final;
}

/**
 * A `TransformStream` from JSON chunks (strings or bytes) to immutable snapshots of the value,
 * one per chunk that changed it, then the final value. A chunk that is not JSON errors the stream
 * with a `JsonParseError`.
 *
 * @example
 * ```ts
 * const snapshots = response.body!.pipeThrough(new PartialJsonStream());
 * for await (const value of snapshots) console.log(value);
 * ```
 */
export class PartialJsonStream extends TransformStream<string | Uint8Array, unknown> {
  constructor(options: Omit<ParserOptions, "onEvent"> = {}) {
    const parser = createParser(options);
    let last: unknown;
    super({
      transform(chunk, controller) {
        parser.push(chunk);
        const value = parser.value;
        if (value !== last && value !== undefined) {
          last = value;
          controller.enqueue(value);
        }
      },
      flush(controller) {
        const final = parser.end();
        if (final !== last) controller.enqueue(final);
      },
    });
  }
}
