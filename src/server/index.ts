/**
 * structream/server: relays structured streams to browsers over server-sent events, as patches
 * whose size grows linearly with the answer, with resume from any instance sharing the event log.
 * The protocol is written down in docs/protocol.md.
 *
 * Runs on any runtime with web standards (`Request`, `Response`, `ReadableStream`, Web Crypto):
 * Node, Deno, Bun, edge workers. Only {@link toNodeHandler} and its siblings need Node.
 *
 * @example
 * ```ts
 * import { createServer } from "node:http";
 * import { createRelay, toNodeHandler } from "structream/server";
 *
 * const relay = createRelay();
 * const { id } = await relay.start(structuredStream({ source, schema }));
 * createServer(toNodeHandler(relay)).listen(3000);
 * // the browser: subscribe(`http://localhost:3000/streams/${id}`)
 * ```
 *
 * @module
 */
export {
  type CancelListener,
  createMemoryEventLog,
  type EventLog,
  type LogCursor,
  type LogEntry,
  type LogEvent,
  type LogReadOptions,
  type LogTail,
  type MemoryEventLogOptions,
  type StreamMeta,
} from "./event-log.ts";
export {
  type FetchHandler,
  type NodeHandler,
  type NodeHandlerOptions,
  toNodeHandler,
  toWebRequest,
  writeResponseToNode,
} from "./node.ts";
export {
  applyPatch,
  decodePatch,
  diff,
  encodePatch,
  PatchError,
  type PatchErrorCode,
  type PatchOp,
  type WirePatchOp,
} from "./patch.ts";
export {
  decodeRelayEvent,
  formatSseEvent,
  INITIAL_STATE,
  isTerminal,
  type PublicError,
  type RelayEvent,
  type RelayEventType,
  type RelayState,
  reduceRelayState,
  toPublicError,
} from "./protocol.ts";
export { createRedisEventLog, type RedisClientLike, type RedisEventLogOptions } from "./redis-event-log.ts";
export {
  createRelay,
  type EventStreamResponseOptions,
  type Relay,
  type RelayOptions,
  type RelayRespondOptions,
  type RelaySource,
  type RelayStartOptions,
  type StartedStream,
  toEventStreamResponse,
} from "./relay.ts";
