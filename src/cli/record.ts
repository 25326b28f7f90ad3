import { escapeJsonText } from "./text.ts";

/** One recorded piece of a response body: when it arrived (ms after the request) and its text. */
export interface RecordedChunk {
  t: number;
  chunk: string;
}

/** A `fetch` that keeps the body of the last response it got, chunk by chunk, with timings. */
export interface Recorder {
  fetch: typeof fetch;
  /** The last response's chunks (each new request, a retry for one, starts a new recording). */
  readonly chunks: readonly RecordedChunk[];
  /** The recording as NDJSON, one `{"t","chunk"}` a line: what `structream parse --pace recorded` replays. */
  toNdjson(): string;
}

/**
 * Wraps `fetch` so that the wire text of the last response is kept as it streamed: `run --record`
 * saves it, and `parse --pace recorded` replays it at the speed it arrived. The body the caller
 * reads is the same stream; cancelling it cancels the request.
 *
 * @example
 * ```ts
 * const recorder = createRecorder();
 * const s = structuredStream({ request, schema, fetch: recorder.fetch });
 * await s.result;
 * await writeFile("capture.ndjson", recorder.toNdjson());
 * ```
 */
export function createRecorder(
  base: typeof fetch = globalThis.fetch,
  now: () => number = Date.now,
): Recorder {
  let chunks: RecordedChunk[] = [];
  const recordingFetch: typeof fetch = async (input, init) => {
    const started = now();
    const response = await base(input, init);
    const recording: RecordedChunk[] = [];
    chunks = recording;
    if (response.body === null) return response;
    const decoder = new TextDecoder();
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          recording.push({ t: now() - started, chunk: decoder.decode(chunk, { stream: true }) });
          controller.enqueue(chunk);
        },
        flush() {
          const tail = decoder.decode();
          if (tail !== "") recording.push({ t: now() - started, chunk: tail });
        },
      }),
    );
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return {
    fetch: recordingFetch,
    get chunks() {
      return chunks;
    },
    toNdjson: () => chunks.map((c) => `${escapeJsonText(JSON.stringify(c))}\n`).join(""),
  };
}
