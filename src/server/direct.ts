/**
 * The relay's Node fast path: a relay `Response` carries, besides its web `ReadableStream` body, a
 * {@link DirectBody} that {@link writeResponseToNode} drives instead, writing each batch of SSE text
 * straight to the Node response (no web stream, no promise per event); and a relay given to
 * `toNodeHandler` serves Node requests without a web `Request` or `Response` at all. Internal to
 * `server/`.
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

/** A request as the relay reads it (a web `Request`, or a Node `IncomingMessage` without one). */
export interface DirectRequest {
  method: string;
  /** The absolute URL. */
  url: string;
  /** A header's value (several joined with ", "), `undefined` when absent; `name` is lower case. */
  header(name: string): string | undefined;
  /** Whether the client has gone away. */
  gone(): boolean;
}

/** A relay's answer without a web `Response`: a status, headers, then a body or a direct body. */
export interface DirectAnswer {
  status: number;
  headers: Record<string, string | string[]>;
  body?: string;
  direct?: DirectBody;
}

/** How a relay serves a request on Node without web objects (see `toNodeHandler(relay)`). */
export type DirectServe = (request: DirectRequest) => Promise<DirectAnswer>;

const servers = new WeakMap<object, DirectServe>();

/** Marks `owner` (a relay) as one that serves Node requests directly. */
export function setDirectServe(owner: object, serve: DirectServe): void {
  servers.set(owner, serve);
}

/** The direct way `owner` serves requests, if it has one. */
export function directServeOf(owner: object): DirectServe | undefined {
  return servers.get(owner);
}
