import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { isStructreamError, StructreamError } from "../errors/index.ts";
import {
  type Answer,
  planAnswer,
  SIM_BLOCKS,
  type SimBlock,
  type SimRequest,
  type SimulatedProvider,
} from "./answer.ts";
import { anthropic } from "./anthropic.ts";
import { AttemptCounter, type Fault, parseFault } from "./faults.ts";
import { gemini } from "./gemini.ts";
import { ollama } from "./ollama.ts";
import { openaiChat } from "./openai-chat.ts";
import { openaiResponses } from "./openai-responses.ts";
import { createPacer, type Pace, type PaceOptions, type Pacer, sleep } from "./pace.ts";
import { createRandom } from "./random.ts";
import { isObject } from "./schema-walk.ts";
import { ALPHANUMERIC, BadRequest, type Frame, makeId, type WireFormat } from "./wire.ts";

/** Options of {@link startSimulator}. */
export interface SimulatorOptions extends PaceOptions {
  /**
   * Port to listen on; `0` picks a free one (read it from `simulator.port`).
   * @defaultValue `0`
   */
  port?: number;
  /**
   * Interface to listen on. The simulator accepts any API key: keep it on loopback.
   * @defaultValue `"127.0.0.1"`
   */
  host?: string;
  /**
   * Seed of every answer (a request may override it with the header `x-sim-seed`).
   * @defaultValue `0`
   */
  seed?: number | string;
  /**
   * A fault applied to every request that does not choose its own (grammar in the module TSDoc).
   * @defaultValue none
   */
  fault?: string;
  /**
   * What a 429 asks the client to wait, sent as `retry-after` (seconds, rounded up) and `retry-after-ms`.
   * @defaultValue `1000`
   */
  retryAfterMs?: number;
  /**
   * Answer each attempt differently: the seed of attempt `n` (n ≥ 2) under one attempt key is
   * the seed combined with `n`, so a client's retry gets a different answer from the first
   * attempt (different values from the first field on), as a real model's resampling does.
   * Combine it with a transient fault (`drop-once`, `error-event-once`, ...) to see a retry
   * contradict what the first attempt showed. A request can ask for it alone with the header
   * `x-sim-diverge: 1` (and opt out with `x-sim-diverge: 0`).
   * @defaultValue `false` (every attempt gets the same answer, so a retry agrees with the first)
   */
  divergeOnRetry?: boolean;
  /**
   * Blocks every response carries besides the answer: a `preamble` before a forced tool's call,
   * `thinking`, two client tool calls (`tools`), a `server-tool` run by the provider (see
   * `SimBlock`). A request can ask for its own with the header `x-sim-blocks: thinking,tools`
   * (`none` for none).
   * @defaultValue none
   */
  blocks?: readonly SimBlock[];
  /** Called once per request, after the simulator has decided how to answer (for logs). */
  onRequest?: (event: SimulatorRequestEvent) => void;
}

/** What {@link SimulatorOptions.onRequest} reports. */
export interface SimulatorRequestEvent {
  method: string;
  path: string;
  /** Undefined for paths the simulator does not serve. */
  provider?: SimulatedProvider;
  model?: string;
  stream?: boolean;
  /** The fault in force for this request (`"none"` when none fires). */
  fault: string;
  /** 200, or the error status the simulator answers with. */
  status: number;
  /** The request's number under its attempt key, from 1 (undefined for paths the simulator does not serve). */
  attempt?: number;
  /** The seed the answer was made with (differs from the configured one on a diverging retry). */
  seed?: number | string;
}

/** A running simulator. */
export interface Simulator {
  /** `http://127.0.0.1:PORT`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Requests received so far (every path, every outcome). */
  readonly requests: number;
  /** Stops listening and destroys every open connection (stalled streams included). */
  close(): Promise<void>;
}

const MAX_BODY_BYTES = 32 * 1024 * 1024;
const NO_FAULT: Fault = { kind: "none", spec: "none" };

function route(method: string, pathname: string): WireFormat | undefined {
  if (method !== "POST") return undefined;
  if (pathname === "/v1/chat/completions" || pathname === "/chat/completions") return openaiChat;
  if (pathname === "/v1/responses" || pathname === "/responses") return openaiResponses;
  if (pathname === "/v1/messages") return anthropic;
  if (/^\/(v1beta|v1|v1alpha)\/models\/[^/:]+:(streamGenerateContent|generateContent)$/.test(pathname))
    return gemini;
  if (pathname === "/api/chat") return ollama;
  return undefined;
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the 413 can still be sent.
      if (size > MAX_BODY_BYTES) {
        chunks.length = 0;
        reject(new StructreamError("limit_exceeded", `Request body larger than ${MAX_BODY_BYTES} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Where mid-stream faults strike: frame indexes and byte offsets of a built stream. */
function offsets(frames: Frame[]): number[] {
  const out = [0];
  for (const frame of frames) out.push(out[out.length - 1]! + Buffer.byteLength(frame.text));
  return out;
}

interface Delivery {
  frames: Frame[];
  /** Destroy the socket once this many body bytes are out. */
  dropAt?: number;
  /** Stop writing once this many body bytes are out, and keep the connection open. */
  stallAt?: number;
}

/** Applies a mid-stream fault to a built stream. */
function applyFault(
  fault: Fault,
  frames: Frame[],
  contentStart: number,
  contentEnd: number,
  errorFrame: (index: number) => string,
  malformedFrame: (index: number) => string,
): Delivery {
  const bytes = offsets(frames);
  const total = bytes[frames.length]!;
  const middle = Math.min(contentStart + Math.floor((contentEnd - contentStart) / 2), frames.length - 1);
  // A fault positioned past the end still strikes before the stream completes.
  const frameAt = (at: number | undefined): number => {
    if (at === undefined) return middle;
    let index = 0;
    while (index < frames.length && bytes[index]! < at) index++;
    return Math.min(index, contentEnd);
  };
  switch (fault.kind) {
    case "drop": {
      const at = fault.at ?? bytes[middle]! + Math.floor(Buffer.byteLength(frames[middle]?.text ?? "") / 2);
      return { frames, dropAt: Math.min(at, Math.max(0, total - 1)) };
    }
    case "stall":
      return { frames, stallAt: Math.min(fault.at ?? bytes[middle]!, Math.max(0, total - 1)) };
    case "malformed": {
      const index = frameAt(fault.at);
      return {
        frames: [
          ...frames.slice(0, index),
          { text: malformedFrame(index), delta: true },
          ...frames.slice(index),
        ],
      };
    }
    case "error-event": {
      const index = frameAt(fault.at);
      return { frames: [...frames.slice(0, index), { text: errorFrame(index), delta: true }] };
    }
    default:
      return { frames };
  }
}

/**
 * Starts the provider simulator on `127.0.0.1` (a free port unless `port` is given). See the module
 * TSDoc (`index.ts`) for the endpoints, the schema sources and the fault grammar.
 *
 * @throws StructreamError with code `invalid_fault` when `options.fault` is outside the grammar.
 * @example
 * ```ts
 * import Anthropic from "@anthropic-ai/sdk";
 * import { startSimulator } from "structream/simulator";
 *
 * const sim = await startSimulator({ pace: "fast", seed: 1 });
 * const anthropic = new Anthropic({ baseURL: sim.url, apiKey: "sim", maxRetries: 0 });
 * const message = await anthropic.messages
 *   .stream({
 *     model: "claude-sonnet-4-6",
 *     max_tokens: 1024,
 *     messages: [{ role: "user", content: "Three facts about otters" }],
 *     output_config: { format: { type: "json_schema", schema: { type: "array", items: { type: "string" } } } },
 *   })
 *   .finalMessage();
 * console.log(message.stop_reason, sim.requests); // "end_turn" 1
 * await sim.close();
 * ```
 */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const globalFault = options.fault === undefined ? undefined : parseFault(options.fault);
  const host = options.host ?? "127.0.0.1";
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  const attempts = new AttemptCounter();
  let requests = 0;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const requestNumber = ++requests;
    const url = new URL(req.url ?? "/", "http://simulator.local");
    const method = req.method ?? "GET";
    res.setHeader("access-control-allow-origin", "*");
    res.setHeader("access-control-expose-headers", "*");
    const report = (event: Omit<SimulatorRequestEvent, "method" | "path">) =>
      options.onRequest?.({ method, path: url.pathname, ...event });

    if (method === "OPTIONS") {
      res.writeHead(204, {
        "access-control-allow-methods": "GET, POST, OPTIONS",
        "access-control-allow-headers": "*",
        "access-control-max-age": "600",
      });
      res.end();
      return;
    }
    if (method === "GET" && (url.pathname === "/" || url.pathname === "/health")) {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ status: "ok", name: "structream simulator" }));
      report({ fault: "none", status: 200 });
      return;
    }

    const wire = route(method, url.pathname);
    if (!wire) {
      await readBody(req).catch(() => undefined);
      res.writeHead(404, { "content-type": "application/json" });
      res.end(
        JSON.stringify({
          error: { message: `No simulated endpoint at ${method} ${url.pathname}.`, type: "not_found" },
        }),
      );
      report({ fault: "none", status: 404 });
      return;
    }

    const requestId = makeId(
      createRandom(`request-id\u0000${requestNumber}\u0000${Date.now()}`),
      "req_",
      24,
      ALPHANUMERIC,
    );
    const sendError = (status: number, message: string | undefined, extra: Record<string, string> = {}) => {
      const error = wire.error(status, message, requestId);
      res.writeHead(status, {
        "content-type": error.contentType ?? "application/json",
        ...(wire.requestIdHeader ? { [wire.requestIdHeader]: requestId } : {}),
        ...extra,
      });
      res.end(JSON.stringify(error.body));
    };

    let request: SimRequest;
    try {
      const raw = await readBody(req);
      let body: unknown;
      try {
        body = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
      } catch {
        throw new BadRequest("We could not parse the JSON body of your request.");
      }
      if (!isObject(body)) throw new BadRequest("The request body must be a JSON object.");
      request = wire.parse(body, url);
    } catch (error) {
      const tooLarge = isStructreamError(error) && error.code === "limit_exceeded";
      if (!tooLarge && !(error instanceof BadRequest)) throw error;
      const status = tooLarge ? 413 : 400;
      if (!res.headersSent && !res.destroyed) sendError(status, error.message);
      report({ provider: wire.provider, fault: "none", status });
      return;
    }

    let fault: Fault;
    try {
      const chosen =
        header(req, "x-sim-fault") ?? (request.model.startsWith("sim-") ? request.model : undefined);
      fault = chosen === undefined ? (globalFault ?? NO_FAULT) : parseFault(chosen);
    } catch (error) {
      sendError(400, (error as Error).message);
      report({
        provider: wire.provider,
        model: request.model,
        stream: request.stream,
        fault: "invalid",
        status: 400,
      });
      return;
    }
    const attemptKey =
      header(req, "x-sim-attempt-key") ?? `${wire.provider}\u0000${request.model}\u0000${request.prompt}`;
    const attempt = attempts.next(attemptKey);
    if (fault.kind !== "none" && !attempts.fires(fault, attemptKey)) fault = NO_FAULT;
    const divergeHeader = header(req, "x-sim-diverge");
    const diverge =
      divergeHeader === undefined ? options.divergeOnRetry === true : /^(1|true|yes)$/i.test(divergeHeader);
    const baseSeed = header(req, "x-sim-seed") ?? options.seed ?? 0;
    const seed = diverge && attempt > 1 ? `${String(baseSeed)}\u0000attempt ${attempt}` : baseSeed;

    const status = fault.kind === "http" ? fault.status! : 200;
    report({
      provider: wire.provider,
      model: request.model,
      stream: request.stream,
      fault: fault.spec,
      status,
      attempt,
      seed,
    });
    if (fault.kind === "http") {
      const retryAfterMs = Math.max(0, options.retryAfterMs ?? 1000);
      sendError(
        status,
        undefined,
        status === 429
          ? { "retry-after": String(Math.ceil(retryAfterMs / 1000)), "retry-after-ms": String(retryAfterMs) }
          : {},
      );
      return;
    }

    const paceHeader = header(req, "x-sim-pace");
    const pace: Pace | undefined =
      paceHeader === "fast" || paceHeader === "realtime" ? paceHeader : options.pace;
    const pacer = createPacer({ ...options, pace }, createRandom(`pace\u0000${requestNumber}`));
    const blocksHeader = header(req, "x-sim-blocks");
    const blocks =
      blocksHeader === undefined
        ? (options.blocks ?? [])
        : blocksHeader
            .split(",")
            .map((b) => b.trim())
            .filter((b): b is SimBlock => (SIM_BLOCKS as readonly string[]).includes(b));
    request.blocks = new Set(blocks);
    const answer = planAnswer(request, fault, seed, requestNumber);
    await respond(res, wire, answer, fault, pacer, requestId);
  };

  const respond = async (
    res: ServerResponse,
    wire: WireFormat,
    answer: Answer,
    fault: Fault,
    pacer: Pacer,
    requestId: string,
  ): Promise<void> => {
    const idHeader = wire.requestIdHeader ? { [wire.requestIdHeader]: requestId } : {};
    let delivery: Delivery;
    let contentType: string;
    if (answer.request.stream) {
      const stream = wire.stream(answer, requestId);
      contentType = stream.contentType;
      delivery = applyFault(
        fault,
        stream.frames,
        stream.contentStart,
        stream.contentEnd,
        stream.errorFrame,
        stream.malformedFrame,
      );
    } else {
      contentType = "application/json";
      if (fault.kind === "error-event") {
        const error = wire.error(wire.midStreamErrorStatus, undefined, requestId);
        await sleep(pacer.firstByte(), closing.signal);
        if (res.destroyed) return;
        res.writeHead(wire.midStreamErrorStatus, {
          "content-type": error.contentType ?? contentType,
          ...idHeader,
        });
        res.end(JSON.stringify(error.body));
        return;
      }
      const body = JSON.stringify(wire.complete(answer, requestId));
      const text = fault.kind === "malformed" ? body.slice(0, Math.floor(body.length / 2)) : body;
      const bodyFault = fault.kind === "drop" || fault.kind === "stall" ? fault : NO_FAULT;
      delivery = applyFault(bodyFault, [{ text, delta: false }], 0, 0, String, String);
      if (fault.kind === "stall" && fault.at === undefined) delivery.stallAt = 0;
    }

    let gone = false;
    res.once("close", () => {
      gone = true;
    });
    await sleep(pacer.firstByte(), closing.signal);
    if (gone || closing.signal.aborted) return;
    res.writeHead(200, {
      "content-type": contentType,
      "cache-control": "no-cache",
      ...idHeader,
    });
    const limit = delivery.dropAt ?? delivery.stallAt;
    let written = 0;
    for (const [index, frame] of delivery.frames.entries()) {
      if (frame.delta && index > 0) await sleep(pacer.betweenDeltas(), closing.signal);
      if (gone || closing.signal.aborted) return;
      const bytes = Buffer.from(frame.text, "utf8");
      if (limit !== undefined && written + bytes.length > limit) {
        const part = bytes.subarray(0, limit - written);
        if (part.length > 0 || answer.request.stream) await write(res, part);
        if (delivery.dropAt !== undefined) res.destroy();
        // A stall keeps the socket open until the client gives up or the simulator closes.
        return;
      }
      await write(res, bytes);
      written += bytes.length;
    }
    res.end();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { "content-type": "application/json" });
        res.end(
          JSON.stringify({ error: { message: `Simulator failure: ${String(error)}`, type: "server_error" } }),
        );
      } else res.destroy();
    });
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : (options.port ?? 0);
  const urlHost = host.includes(":") ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    get requests() {
      return requests;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        closing.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        sockets.clear();
      });
      return closed;
    },
  };
}

/** Writes and waits until the bytes are handed to the socket (or the response is gone). */
function write(res: ServerResponse, bytes: Uint8Array): Promise<void> {
  return new Promise((resolve) => {
    if (res.destroyed) {
      resolve();
      return;
    }
    const done = () => {
      res.off("close", done);
      resolve();
    };
    res.once("close", done);
    if (bytes.length === 0) {
      res.flushHeaders();
      done();
      return;
    }
    res.write(bytes, () => done());
  });
}
