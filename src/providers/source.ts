import { createProviderDecoder, createSdkMapper, getProvider } from "./adapters.ts";
import { DETECT_MAX_TEXT, detectProvider, detectSdkProvider } from "./detect.ts";
import { errorFromSdk, readErrorResponse } from "./errors.ts";
import type {
  BuiltRequest,
  ProviderErrorEvent,
  ProviderEvent,
  ProviderId,
  RequestOptions,
  WireDecoder,
} from "./types.ts";

/** Options of {@link sendRequest}. */
export interface SendOptions extends RequestOptions {
  /**
   * The `fetch` to send with (a mock, an instrumented one, undici's with a dispatcher).
   * @defaultValue globalThis.fetch
   */
  fetch?: typeof fetch;
}

/** What {@link sendRequest} got: the streaming response, or the error it stands for. */
export type SendResult =
  | { ok: true; response: Response; request: BuiltRequest }
  | { ok: false; error: ProviderErrorEvent; request: BuiltRequest };

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true || (error instanceof Error && error.name === "AbortError");
}

/**
 * Builds the provider's structured-output request (see the `build*Request` functions) and sends
 * it. An HTTP error answer becomes the normalized error event, its body read for the provider's
 * error type and message, with `retryable` and `retryAfterMs`; a network failure is a retryable
 * `network_error`. An abort rethrows.
 *
 * @example
 * ```ts
 * const sent = await sendRequest("anthropic", { schema, request: { model, messages }, apiKey });
 * if (!sent.ok) console.log(sent.error.retryable, sent.error.retryAfterMs);
 * else for await (const event of readProviderEvents(sent.response, { provider: "anthropic" })) ...
 * ```
 */
export async function sendRequest(provider: ProviderId, options: SendOptions): Promise<SendResult> {
  const adapter = getProvider(provider);
  if (!adapter.buildRequest)
    throw new TypeError(`The "${provider}" provider has no request of its own to build.`);
  const request = adapter.buildRequest(options);
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(request.url, request.init);
  } catch (error) {
    if (isAbort(error, options.signal)) throw error;
    const message = error instanceof Error ? error.message : String(error);
    return {
      ok: false,
      request,
      error: {
        type: "error",
        errorType: "network_error",
        message: `The request failed: ${message}`,
        retryable: true,
      },
    };
  }
  if (response.ok) return { ok: true, response, request };
  return { ok: false, request, error: await readErrorResponse(response, provider) };
}

/** What {@link readProviderEvents} reads. */
export type ProviderSource =
  | Response
  | ReadableStream<Uint8Array | string>
  | AsyncIterable<unknown>
  | Iterable<unknown>;

/** Options of {@link readProviderEvents}. */
export interface ReadOptions {
  /**
   * The provider, or `"auto"` to tell it from the content type and the first event.
   * @defaultValue "auto"
   */
  provider?: ProviderId | "auto";
  /** Skip a Markdown fence or prose around the JSON (see `createLenientFilter`). @defaultValue false */
  lenient?: boolean;
  /** The content type, when the source is a bare stream whose headers are known elsewhere. */
  contentType?: string | null;
  /** Called once the provider is known (given or detected). */
  onProvider?: (provider: ProviderId) => void;
}

function unsupported(reason: string): ProviderErrorEvent {
  return { type: "error", errorType: "unsupported_format", message: reason, retryable: false };
}

async function* itemsOf(source: ReadableStream<unknown> | AsyncIterable<unknown>): AsyncGenerator<unknown> {
  // Older runtimes' ReadableStreams are not async-iterable; read those through a reader.
  if (!(Symbol.asyncIterator in source)) {
    const reader = (source as ReadableStream<unknown>).getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        yield value;
      }
    } finally {
      // Leaving early (break, throw) cancels the body rather than leaving it locked and open.
      await reader.cancel().catch(() => {});
    }
  }
  yield* source as AsyncIterable<unknown>;
}

function requestedProvider(options: ReadOptions): ProviderId | undefined {
  return options.provider === "auto" ? undefined : options.provider;
}

const isBytes = (value: unknown): value is Uint8Array => value instanceof Uint8Array;

/**
 * Reads any supported source as normalized provider events: a fetch `Response` (an HTTP error
 * status becomes the error event), a `ReadableStream` of the body's bytes or text, an async
 * iterable of bytes or text, or the event objects an official SDK's stream yields (an SDK
 * `APIError` thrown mid-stream becomes the error event). With `provider: "auto"` it tells the
 * provider from the content type and the first event, or yields one `unsupported_format` error
 * that says why it cannot. Breaking out of the loop cancels the source.
 *
 * @example
 * ```ts
 * const response = await fetch(url, init);
 * for await (const event of readProviderEvents(response)) {
 *   if (event.type === "text") parser.push(event.delta);
 * }
 * ```
 */
export async function* readProviderEvents(
  source: ProviderSource,
  options: ReadOptions = {},
): AsyncGenerator<ProviderEvent, void, undefined> {
  let contentType = options.contentType;
  let items: AsyncIterable<unknown>;
  if (typeof Response !== "undefined" && source instanceof Response) {
    contentType ??= source.headers.get("content-type");
    if (!source.ok) {
      yield await readErrorResponse(source, requestedProvider(options));
      return;
    }
    if (!source.body) {
      yield {
        type: "error",
        errorType: "empty_body",
        message: "The response has no body.",
        retryable: false,
      };
      return;
    }
    items = itemsOf(source.body);
  } else if (Symbol.asyncIterator in (source as object) || "getReader" in (source as object)) {
    items = itemsOf(source as ReadableStream<unknown> | AsyncIterable<unknown>);
  } else {
    const iterable = source as Iterable<unknown>;
    items = (async function* () {
      yield* iterable;
    })();
  }

  const requested = options.provider ?? "auto";
  const text = new TextDecoder();
  let decoder: WireDecoder | undefined;
  let mapper: ReturnType<typeof createSdkMapper> | undefined;
  let pending = "";
  let mode: "wire" | "sdk" | undefined;

  const choose = (provider: ProviderId): WireDecoder => {
    options.onProvider?.(provider);
    decoder = createProviderDecoder(provider, { lenient: options.lenient });
    return decoder;
  };

  try {
    for await (const item of items) {
      mode ??= isBytes(item) || typeof item === "string" ? "wire" : "sdk";
      if (mode === "sdk") {
        if (!mapper) {
          const provider = requested === "auto" ? detectSdkProvider(item) : requested;
          if (provider === undefined) {
            yield unsupported(
              "The stream's first object matches no known provider's events; pass the provider explicitly.",
            );
            return;
          }
          options.onProvider?.(provider);
          mapper = createSdkMapper(provider, { lenient: options.lenient });
        }
        yield* mapper.map(item);
        continue;
      }
      const chunk = isBytes(item) ? text.decode(item, { stream: true }) : String(item);
      if (decoder) {
        yield* decoder.push(chunk);
        continue;
      }
      if (requested !== "auto") {
        yield* choose(requested).push(chunk);
        continue;
      }
      pending += chunk;
      const detected = detectProvider({ contentType, text: pending });
      if (detected.provider !== undefined) {
        yield* choose(detected.provider).push(pending);
        pending = "";
      } else if (!detected.needMore || pending.length > DETECT_MAX_TEXT) {
        yield unsupported(detected.reason);
        return;
      }
    }
  } catch (error) {
    const event = errorFromSdk(error);
    if (!event) throw error;
    yield event;
    return;
  }

  if (mapper) {
    yield* mapper.end();
    return;
  }
  const tail = text.decode();
  let last = decoder as WireDecoder | undefined;
  if (!last) {
    pending += tail;
    const detected =
      requested !== "auto"
        ? { provider: requested }
        : detectProvider({ contentType, text: pending, final: true });
    if (detected.provider === undefined) {
      yield unsupported(detected.reason);
      return;
    }
    last = choose(detected.provider);
    yield* last.push(pending);
  } else if (tail) {
    yield* last.push(tail);
  }
  yield* last.end();
}
