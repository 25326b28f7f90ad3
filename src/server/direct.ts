/**
 * The relay's Node fast path: a relay `Response` carries, besides its web `ReadableStream` body, a
 * {@link DirectBody} that {@link writeResponseToNode} drives instead, writing each batch of SSE text
 * straight to the Node response (no web stream, no promise per event). Internal to `server/`.
 *
 * @module
 */

/** One Node response as the relay sees it (no Node types here: the relay runs in any runtime). */
export interface DirectTarget {
  /** Sends SSE text (the first call sends the headers with it); `false` when the client's buffer is full. */
  write(text: string): boolean;
  /** Ends the response. */
  end(): void;
}

/** A relay response's body, written by {@link writeResponseToNode} without its web stream. */
export interface DirectBody {
  /** Starts writing to `target`. */
  pipe(target: DirectTarget): DirectPipe;
}

/** A body being written: the Node side tells it about the socket. */
export interface DirectPipe {
  /** The client can take more (Node's `drain`). */
  drained(): void;
  /** The client went away (the response closed before it ended). */
  closed(): void;
  /** Resolves when the body has ended or the client went away. */
  readonly done: Promise<void>;
}

const bodies = new WeakMap<Response, DirectBody>();

/** Marks `response` as one whose body can be written directly. */
export function setDirectBody(response: Response, body: DirectBody): void {
  bodies.set(response, body);
}

/** The direct body of `response`, once (`undefined` when it has none or its web body is in use). */
export function takeDirectBody(response: Response): DirectBody | undefined {
  const body = bodies.get(response);
  if (body === undefined || response.bodyUsed || response.body?.locked === true) return undefined;
  bodies.delete(response);
  return body;
}
