/**
 * `structream serve`: the demo page, the SSE relay and (without an API key) the provider
 * simulator, behind one `node:http` server.
 *
 * Routes:
 * - `GET /` and static files: the page built into `demo/dist`.
 * - `GET /api/config`: the mode (simulator or a provider), the example schemas and the faults.
 * - `POST /api/streams` with `{ prompt, schema, fault?, provider? }`: starts a structured stream,
 *   hands it to the relay, answers `201 { id, token, url }`.
 * - `GET /api/streams/:id`: the relay's server-sent events, resumable with `Last-Event-ID`.
 * - `DELETE /api/streams/:id` (with the stream's token): stops the stream and its model call.
 *
 * Every request must name this server in `Host` (and, when it has one, in `Origin`): the address it
 * listens on, `localhost` for a loopback address, or one of `allowedHosts`. Anything else gets 403,
 * so a page on another site that resolves its own name to 127.0.0.1 (DNS rebinding) cannot start
 * streams on your API key.
 */
import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { readdir, readFile, stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { hostname, networkInterfaces } from "node:os";
import { extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { type ProviderId, providerEnv } from "../providers/index.ts";
import { createRelay, type Relay, toWebRequest, writeResponseToNode } from "../server/index.ts";
import {
  type Simulator,
  type SimulatorOptions,
  simulatorBaseUrl,
  startSimulator,
} from "../simulator/index.ts";
import { structuredStream } from "../stream/index.ts";

/** Options of {@link startDemoServer}. */
export interface DemoServerOptions {
  /**
   * Port to listen on; `0` picks a free one (read it from `server.port`).
   * @defaultValue `3000`
   */
  port?: number;
  /**
   * Interface to listen on. The demo spends your API key for whoever can reach it: keep it on loopback.
   * @defaultValue `"127.0.0.1"`
   */
  host?: string;
  /**
   * The provider's wire format. Without `apiKey` and `baseURL` the in-process simulator answers,
   * and the page may pick any wire format it speaks.
   * @defaultValue `"openai-chat"`
   */
  provider?: Exclude<ProviderId, "text">;
  /** The provider's API key. With neither this nor `baseURL`, the simulator answers. */
  apiKey?: string;
  /** The provider's base URL (an OpenAI-compatible server, a local Ollama). */
  baseURL?: string;
  /**
   * The model asked. Required with a real provider; with the simulator the page's fault picks it
   * (`sim-refusal`, ...).
   * @defaultValue `"structream-sim"` with the simulator
   */
  model?: string;
  /** Options of the in-process simulator (`seed`, `pace`, `deltasPerSecond`, ...). */
  simulator?: Omit<SimulatorOptions, "port" | "host" | "fault">;
  /**
   * The built page.
   * @defaultValue the package's `demo/dist`
   */
  staticDir?: string;
  /**
   * Where the example schemas (`*.schema.json`) are.
   * @defaultValue the package's `examples`
   */
  schemasDir?: string;
  /** Told one line per stream started and per failure (the CLI prints them). */
  onLog?: (line: string) => void;
  /**
   * Other names this server may be reached by (`Host` and `Origin`), e.g. behind a proxy:
   * `"demo.example.com"` or `"demo.example.com:8443"`. The address it listens on (and `localhost`
   * for a loopback address; every local interface for `0.0.0.0` or `::`) is always allowed.
   * @defaultValue `[]`
   */
  allowedHosts?: readonly string[];
}

/** A running demo server. */
export interface DemoServer {
  /** `http://HOST:PORT`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** The in-process simulator, when no API key was given. */
  readonly simulator: Simulator | undefined;
  readonly relay: Relay;
  /** Stops listening, ends every stream and destroys every open connection. */
  close(): Promise<void>;
}

/** An example schema the page offers. */
export interface DemoSchema {
  /** The file name without `.schema.json`: what `POST /api/streams` takes as `schema`. */
  name: string;
  title: string;
  description: string;
  /** A prompt that suits the schema, to prefill the form. */
  prompt: string;
  schema: Record<string, unknown>;
}

/** Faults the page offers with the simulator, by the simulator model they select. */
export const DEMO_FAULTS: readonly { id: string; label: string }[] = [
  { id: "none", label: "None" },
  { id: "refusal", label: "Refusal" },
  { id: "schema-violation", label: "Schema violation" },
  { id: "truncate", label: "Truncation" },
  { id: "drop-once", label: "Provider drop" },
  { id: "429-once", label: "Rate limit (429)" },
  { id: "invalid-json", label: "Invalid JSON" },
];

const SIMULATED_PROVIDERS: readonly Exclude<ProviderId, "text">[] = [
  "openai-chat",
  "openai-responses",
  "anthropic",
  "gemini",
  "ollama",
];

const PROMPTS: Record<string, string> = {
  "article-summary":
    "Summarize an article about how streaming structured outputs lets interfaces show answers field by field",
  recipe: "A lemon drizzle cake for a rainy Sunday afternoon",
  "support-ticket": "My invoice was charged twice this month and I need a refund before Friday",
};
const FALLBACK_PROMPT = "Tell me about streaming JSON from language models";

/** Largest `POST /api/streams` body. */
export const MAX_DEMO_BODY_BYTES = 64 * 1024;
/** Longest prompt, in characters. */
export const MAX_DEMO_PROMPT_LENGTH = 4_000;

const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".woff2": "font/woff2",
  ".map": "application/json; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(res, error.status, { error: { code: error.code, message: error.message } });
}

function readJsonBody(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolveBody, reject) => {
    const type = req.headers["content-type"] ?? "";
    if (!/^application\/json\b/i.test(type)) {
      reject(
        new HttpError(
          415,
          "unsupported_media_type",
          "Send the request as JSON (Content-Type: application/json).",
        ),
      );
      return;
    }
    const declared = Number(req.headers["content-length"]);
    const tooLarge = () =>
      new HttpError(
        413,
        "payload_too_large",
        `The request body is larger than ${MAX_DEMO_BODY_BYTES / 1024} KB.`,
      );
    if (Number.isFinite(declared) && declared > MAX_DEMO_BODY_BYTES) {
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on("data", (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > MAX_DEMO_BODY_BYTES) {
        failed = true;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString("utf8");
      try {
        resolveBody(JSON.parse(text));
      } catch (error) {
        reject(
          new HttpError(
            400,
            "invalid_json",
            `The request body is not valid JSON: ${(error as Error).message}`,
          ),
        );
      }
    });
    req.on("error", reject);
  });
}

/** A name for people: `support-ticket` and `SupportTicket` → `Support ticket`; a title with spaces stays. */
function titleOf(name: string): string {
  if (/\s/.test(name)) return name;
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, "$1 $2")
    .replace(/[-_]+/g, " ")
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * The example schemas in `dir` (`*.schema.json`), the article summary, recipe and support ticket
 * first. A file that is not a JSON object is skipped.
 */
export async function loadDemoSchemas(dir = join(PACKAGE_ROOT, "examples")): Promise<DemoSchema[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((file) => file.endsWith(".schema.json"));
  } catch {
    return [];
  }
  const order = Object.keys(PROMPTS);
  const rank = (name: string) => (order.includes(name) ? order.indexOf(name) : order.length);
  const schemas: DemoSchema[] = [];
  for (const file of files) {
    const name = file.slice(0, -".schema.json".length);
    let schema: unknown;
    try {
      schema = JSON.parse(await readFile(join(dir, file), "utf8"));
    } catch {
      continue;
    }
    if (typeof schema !== "object" || schema === null || Array.isArray(schema)) continue;
    const record = schema as Record<string, unknown>;
    schemas.push({
      name,
      title: titleOf(typeof record.title === "string" ? record.title : name),
      description: typeof record.description === "string" ? record.description : "",
      prompt: PROMPTS[name] ?? FALLBACK_PROMPT,
      schema: record,
    });
  }
  return schemas.sort((a, b) => rank(a.name) - rank(b.name) || a.name.localeCompare(b.name));
}

interface StreamRequest {
  prompt: string;
  schema: DemoSchema;
  fault: string;
  provider: Exclude<ProviderId, "text">;
}

function parseStreamRequest(
  body: unknown,
  schemas: readonly DemoSchema[],
  simulated: boolean,
  defaultProvider: Exclude<ProviderId, "text">,
): StreamRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "invalid_request", "Send a JSON object: { prompt, schema, fault? }.");
  }
  const { prompt, schema, fault, provider } = body as Record<string, unknown>;
  if (typeof prompt !== "string" || prompt.trim() === "") {
    throw new HttpError(400, "invalid_request", "Write a prompt: `prompt` must be a non-empty string.");
  }
  if (prompt.length > MAX_DEMO_PROMPT_LENGTH) {
    throw new HttpError(
      400,
      "invalid_request",
      `The prompt is longer than ${MAX_DEMO_PROMPT_LENGTH} characters.`,
    );
  }
  const chosen = schemas.find((s) => s.name === schema);
  if (chosen === undefined) {
    const names = schemas.map((s) => `"${s.name}"`).join(", ");
    throw new HttpError(
      400,
      "invalid_request",
      `Unknown schema ${JSON.stringify(schema)}: choose one of ${names}.`,
    );
  }
  let faultId = "none";
  if (fault !== undefined && fault !== null && fault !== "none") {
    if (!simulated) {
      throw new HttpError(400, "invalid_request", "Faults need the simulator: restart without an API key.");
    }
    if (typeof fault !== "string" || !DEMO_FAULTS.some((f) => f.id === fault)) {
      const ids = DEMO_FAULTS.map((f) => `"${f.id}"`).join(", ");
      throw new HttpError(
        400,
        "invalid_request",
        `Unknown fault ${JSON.stringify(fault)}: choose one of ${ids}.`,
      );
    }
    faultId = fault;
  }
  let wire = defaultProvider;
  if (provider !== undefined && provider !== null && provider !== defaultProvider) {
    if (!simulated) {
      throw new HttpError(400, "invalid_request", `This server talks to ${defaultProvider} only.`);
    }
    if (
      typeof provider !== "string" ||
      !SIMULATED_PROVIDERS.includes(provider as Exclude<ProviderId, "text">)
    ) {
      const ids = SIMULATED_PROVIDERS.map((p) => `"${p}"`).join(", ");
      throw new HttpError(
        400,
        "invalid_request",
        `Unknown provider ${JSON.stringify(provider)}: choose one of ${ids}.`,
      );
    }
    wire = provider as Exclude<ProviderId, "text">;
  }
  return { prompt, schema: chosen, fault: faultId, provider: wire };
}

async function serveStatic(
  req: IncomingMessage,
  res: ServerResponse,
  root: string,
  pathname: string,
): Promise<void> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    sendError(res, new HttpError(405, "method_not_allowed", `${req.method} is not allowed here.`));
    return;
  }
  let relative: string;
  try {
    relative = decodeURIComponent(pathname);
  } catch {
    sendError(res, new HttpError(400, "invalid_path", "The path is not valid percent-encoding."));
    return;
  }
  if (relative.endsWith("/")) relative += "index.html";
  // `normalize` folds `..`; the prefix check keeps every request inside the root.
  const file = normalize(join(root, relative));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) {
    sendError(res, new HttpError(404, "not_found", "Not found."));
    return;
  }
  let body: Buffer;
  try {
    const info = await stat(file);
    if (!info.isFile()) throw new Error("not a file");
    body = await readFile(file);
  } catch {
    if (!existsSync(join(root, "index.html"))) {
      res.writeHead(503, { "content-type": "text/plain; charset=utf-8", "retry-after": "60" });
      res.end(
        "The demo page is not built. Build it with: npx vite build --config demo/vite.config.ts\n" +
          `(looked for ${join(root, "index.html")})\n`,
      );
      return;
    }
    sendError(res, new HttpError(404, "not_found", "Not found."));
    return;
  }
  const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? "application/octet-stream";
  res.writeHead(200, {
    "content-type": type,
    "content-length": body.length,
    // Vite names built assets by content hash; the page itself must be revalidated.
    "cache-control": relative.startsWith("/assets/") ? "public, max-age=31536000, immutable" : "no-cache",
    "x-content-type-options": "nosniff",
  });
  res.end(req.method === "HEAD" ? undefined : body);
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const WILDCARD = new Set(["0.0.0.0", "::", ""]);

/** `host` as it appears in a `Host` header (IPv6 in brackets), lowercase. */
function hostForm(host: string): string {
  const bare = host.toLowerCase().replace(/^\[|\]$/g, "");
  return bare.includes(":") ? `[${bare}]` : bare;
}

/**
 * The `Host` values (host:port) the demo answers to: the address it listens on, its loopback
 * names, and `extra`. DNS rebinding gives an attacker's page a name of its own for 127.0.0.1; the
 * browser then sends that name in `Host`, and this list does not have it.
 */
export function allowedHostsFor(host: string, port: number, extra: readonly string[] = []): Set<string> {
  const names = new Set<string>();
  const bound = host.toLowerCase().replace(/^\[|\]$/g, "");
  if (LOOPBACK.has(bound)) for (const name of LOOPBACK) names.add(hostForm(name));
  else if (WILDCARD.has(bound)) {
    for (const name of LOOPBACK) names.add(hostForm(name));
    names.add(hostForm(hostname()));
    for (const list of Object.values(networkInterfaces()))
      for (const address of list ?? []) names.add(hostForm(address.address.replace(/%.*$/, "")));
  } else names.add(hostForm(bound));
  const allowed = new Set<string>();
  for (const name of names) {
    allowed.add(`${name}:${port}`);
    if (port === 80) allowed.add(name);
  }
  for (const name of extra) {
    const form = name.toLowerCase();
    allowed.add(form);
    if (!/:\d+$/.test(form)) allowed.add(`${hostForm(form)}:${port}`);
  }
  return allowed;
}

/** Why a request may not be served (its `Host` or `Origin` names another site), or undefined. */
function foreignRequest(req: IncomingMessage, allowed: ReadonlySet<string>): HttpError | undefined {
  const host = (req.headers.host ?? "").toLowerCase();
  if (!allowed.has(host)) {
    return new HttpError(
      403,
      "host_not_allowed",
      `This server does not answer to Host ${JSON.stringify(host)} (it protects your API key from DNS rebinding); add the name with --allowed-host.`,
    );
  }
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string | undefined;
    try {
      const url = new URL(origin);
      if (url.protocol === "http:" || url.protocol === "https:") originHost = url.host.toLowerCase();
    } catch {
      // "null" (a sandboxed frame, a file:// page) or garbage: not this server.
    }
    if (originHost === undefined || !allowed.has(originHost)) {
      return new HttpError(
        403,
        "origin_not_allowed",
        `This server does not answer to pages from ${JSON.stringify(origin)}; add the name with --allowed-host.`,
      );
    }
  }
  return undefined;
}

/**
 * Starts the demo: the page, the relay, and the simulator unless an API key or base URL is given.
 *
 * @example
 * ```ts
 * const demo = await startDemoServer({ port: 0 });
 * console.log(`open ${demo.url}`);
 * // ...
 * await demo.close();
 * ```
 */
export async function startDemoServer(options: DemoServerOptions = {}): Promise<DemoServer> {
  const host = options.host ?? "127.0.0.1";
  const provider = options.provider ?? "openai-chat";
  const simulated = options.apiKey === undefined && options.baseURL === undefined;
  if (!simulated && (options.model === undefined || options.model === "")) {
    throw new TypeError("Name the model to ask (`model`, the CLI's --model) when not using the simulator.");
  }
  const staticRoot = resolve(options.staticDir ?? join(PACKAGE_ROOT, "demo", "dist"));
  const schemas = await loadDemoSchemas(options.schemasDir);
  const log = options.onLog ?? (() => {});
  const simulator = simulated
    ? await startSimulator({ ...options.simulator, host: "127.0.0.1", port: 0 })
    : undefined;
  const relay = createRelay({
    token: true,
    maxStreams: 100,
    onError: (error, id) =>
      log(`relay: stream ${id}: ${error instanceof Error ? error.message : String(error)}`),
  });
  const sockets = new Set<Socket>();

  const config = {
    mode: simulated ? "simulator" : "provider",
    provider,
    model: simulated ? (options.model ?? "structream-sim") : options.model,
    providers: simulated ? SIMULATED_PROVIDERS : [provider],
    faults: simulated ? DEMO_FAULTS : [],
    schemas,
  };

  async function startStream(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJsonBody(req);
    const request = parseStreamRequest(body, schemas, simulated, provider);
    const model = simulated
      ? request.fault === "none"
        ? config.model!
        : `sim-${request.fault}`
      : options.model!;
    const stream = structuredStream({
      request: { model, messages: [{ role: "user", content: request.prompt }] },
      provider: request.provider,
      schema: request.schema.schema,
      ...(simulator !== undefined
        ? {
            baseURL: simulatorBaseUrl(simulator.url, request.provider),
            // Transient faults (`-once`) count per stream, not per prompt: each run shows them.
            headers: { "x-sim-attempt-key": randomUUID() },
          }
        : {}),
      ...(options.apiKey !== undefined ? { apiKey: options.apiKey } : {}),
      ...(options.baseURL !== undefined ? { baseURL: options.baseURL } : {}),
    });
    // The relay reports a failure to the page, but it attaches only after its log write: a stream
    // that fails sooner (a refusal) must not count as a failure nobody observed.
    stream.result.catch(() => {});
    const { id, token } = await relay.start(stream);
    log(`stream ${id}: ${request.schema.name} via ${request.provider} (${model})`);
    sendJson(res, 201, { id, token, url: `/api/streams/${id}` });
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://demo.local");
    const { pathname } = url;
    if (pathname === "/api/config") {
      if (req.method !== "GET") throw new HttpError(405, "method_not_allowed", "Use GET.");
      sendJson(res, 200, config);
      return;
    }
    if (pathname === "/api/health") {
      sendJson(res, 200, { status: "ok", streams: relay.running, connections: relay.connections });
      return;
    }
    if (pathname === "/api/streams") {
      if (req.method !== "POST")
        throw new HttpError(405, "method_not_allowed", "Use POST to start a stream.");
      await startStream(req, res);
      return;
    }
    if (pathname.startsWith("/api/streams/")) {
      await writeResponseToNode(res, await relay.handle(toWebRequest(req, res)));
      return;
    }
    if (pathname.startsWith("/api/")) throw new HttpError(404, "not_found", `No route ${pathname}.`);
    await serveStatic(req, res, staticRoot, pathname);
  }

  let allowedHosts: ReadonlySet<string> = new Set();
  const server: Server = createServer((req, res) => {
    const foreign = foreignRequest(req, allowedHosts);
    if (foreign !== undefined) {
      res.setHeader("connection", "close");
      sendError(res, foreign);
      return;
    }
    route(req, res).catch((error: unknown) => {
      const known =
        error instanceof HttpError
          ? error
          : new HttpError(
              (error as { code?: unknown }).code === "limit_exceeded" ? 503 : 500,
              (error as { code?: unknown }).code === "limit_exceeded" ? "limit_exceeded" : "internal_error",
              (error as { code?: unknown }).code === "limit_exceeded"
                ? "Too many streams at once: try again in a moment."
                : "The demo server failed; see its log.",
            );
      if (!(error instanceof HttpError))
        log(`error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // A body left unread (413) would stall the client's upload: answer, then close the connection.
      if (known.status === 413) res.setHeader("connection", "close");
      if (known.status === 503) res.setHeader("retry-after", "2");
      sendError(res, known);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.once("close", () => sockets.delete(socket));
  });

  try {
    await new Promise<void>((resolveListen, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 3000, host, () => {
        server.off("error", reject);
        resolveListen();
      });
    });
  } catch (error) {
    await relay.close();
    await simulator?.close();
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  allowedHosts = allowedHostsFor(host, port, options.allowedHosts);
  const shownHost = host.includes(":") ? `[${host}]` : host;
  let closing: Promise<void> | undefined;

  return {
    url: `http://${shownHost}:${port}`,
    port,
    simulator,
    relay,
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolveClose) => server.close(() => resolveClose()));
        await relay.close();
        for (const socket of sockets) socket.destroy();
        await stopped;
        await simulator?.close();
      })();
      return closing;
    },
  };
}

/**
 * Builds the demo page into `demo/dist` with Vite (a development dependency: this works in a
 * checkout of the repository, not in an installed package, which ships the built page).
 */
export async function buildDemo(root = join(PACKAGE_ROOT, "demo")): Promise<void> {
  const vite = await import("vite");
  await vite.build({ configFile: join(root, "vite.config.ts"), logLevel: "warn" });
}

/** The text of `structream serve --help`. */
export const SERVE_HELP = `structream serve: the demo page, with the relay and the provider simulator

Usage: structream serve [options]

Without an API key, a local simulator answers (no network, no cost), and the page
can pick any wire format and inject faults. With --provider and a key (or
--base-url), the page asks the real provider.

Options:
      --port <n>        port to listen on (default 3000; 0 picks a free one). There is no
                        -p: in structream, -p is always --prompt (structream run)
      --host <host>     interface to listen on (default 127.0.0.1)
      --provider <id>   openai-chat, openai-responses, anthropic, gemini or ollama
      --model <name>    the model to ask (required with a real provider)
      --api-key <key>   the provider's key (default: OPENAI_API_KEY, ANTHROPIC_API_KEY,
                        GEMINI_API_KEY, as the provider's SDK reads it; only with --provider)
      --base-url <url>  the provider's base URL (an OpenAI-compatible server, Ollama)
      --seed <seed>     the simulator's seed (the same prompt gives the same answer)
      --allowed-host <name>
                        another name the page may be reached by (behind a proxy); may repeat.
                        Requests whose Host or Origin names anything else get 403 (DNS rebinding)
  -h, --help            this help
`;

/** Where {@link serveCommand} writes, and what stops it (tests). */
export interface ServeCommandIO {
  stdout?: (text: string) => void;
  stderr?: (text: string) => void;
  /** Stops the server; without it, SIGINT and SIGTERM do. */
  signal?: AbortSignal;
  /** Told the running server (tests). */
  onListening?: (server: DemoServer) => void;
}

/**
 * `structream serve [options]`: runs the demo until SIGINT/SIGTERM (or `io.signal`), then
 * resolves with the exit code (0; 2 for bad arguments; 1 when the server cannot start).
 */
export async function serveCommand(argv: readonly string[], io: ServeCommandIO = {}): Promise<number> {
  const out = io.stdout ?? ((text: string) => process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => process.stderr.write(text));
  let values: Record<string, string | boolean | string[] | undefined>;
  // One meaning for -p across the commands: --prompt (run). The port is --port only.
  if (argv.some((arg) => arg === "-p" || /^-p\d/.test(arg))) {
    err(
      'structream serve: -p is --prompt in structream; give the port as --port <n>. See "structream serve --help".\n',
    );
    return 2;
  }
  try {
    ({ values } = parseArgs({
      args: [...argv],
      allowPositionals: false,
      options: {
        port: { type: "string" },
        host: { type: "string" },
        provider: { type: "string" },
        model: { type: "string" },
        "api-key": { type: "string" },
        "base-url": { type: "string" },
        seed: { type: "string" },
        "allowed-host": { type: "string", multiple: true },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    err(`structream serve: ${(error as Error).message}\n\n${SERVE_HELP}`);
    return 2;
  }
  if (values.help === true) {
    out(SERVE_HELP);
    return 0;
  }
  const options: DemoServerOptions = { onLog: (line) => out(`${line}\n`) };
  if (values.port !== undefined) {
    const port = Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) {
      err(
        `structream serve: --port must be an integer from 0 to 65535, not ${JSON.stringify(values.port)}\n`,
      );
      return 2;
    }
    options.port = port;
  }
  if (typeof values.host === "string") options.host = values.host;
  if (Array.isArray(values["allowed-host"])) options.allowedHosts = values["allowed-host"];
  if (typeof values.model === "string") options.model = values.model;
  if (typeof values.seed === "string") options.simulator = { seed: values.seed };
  if (typeof values.provider === "string") {
    if (!SIMULATED_PROVIDERS.includes(values.provider as Exclude<ProviderId, "text">)) {
      err(
        `structream serve: unknown --provider ${JSON.stringify(values.provider)}: use ${SIMULATED_PROVIDERS.join(", ")}\n`,
      );
      return 2;
    }
    options.provider = values.provider as Exclude<ProviderId, "text">;
    // A named provider means the real one: its key and base URL come from the SDK's variables.
    const env = providerEnv(options.provider);
    const apiKey = typeof values["api-key"] === "string" ? values["api-key"] : env.apiKey;
    const baseURL = typeof values["base-url"] === "string" ? values["base-url"] : env.baseURL;
    if (apiKey !== undefined) options.apiKey = apiKey;
    if (baseURL !== undefined) options.baseURL = baseURL;
    if (apiKey === undefined && baseURL === undefined) {
      err(
        `structream serve: --provider ${options.provider} needs an API key (--api-key or the provider's environment variable) or --base-url; leave --provider out to use the simulator\n`,
      );
      return 2;
    }
  } else if (values["api-key"] !== undefined || values["base-url"] !== undefined) {
    if (typeof values["api-key"] === "string") options.apiKey = values["api-key"];
    if (typeof values["base-url"] === "string") options.baseURL = values["base-url"];
  }

  if (!existsSync(join(options.staticDir ?? join(PACKAGE_ROOT, "demo", "dist"), "index.html"))) {
    out("Building the demo page (demo/dist)...\n");
    try {
      await buildDemo();
    } catch (error) {
      err(
        `structream serve: the demo page is not built and cannot be built here (${(error as Error).message}).\n` +
          "Run: npx vite build --config demo/vite.config.ts\n",
      );
    }
  }

  let server: DemoServer;
  try {
    server = await startDemoServer(options);
  } catch (error) {
    err(`structream serve: ${(error as Error).message}\n`);
    return 1;
  }
  const mode = server.simulator
    ? "the provider simulator answers: no API key needed"
    : `asking ${options.provider ?? "openai-chat"} (${options.model})`;
  out(
    `structream demo on ${server.url} (${mode})\n` +
      "It answers only to requests whose Host and Origin name this address (DNS-rebinding protection; " +
      "--allowed-host adds a name).\nPress Ctrl+C to stop.\n",
  );
  io.onListening?.(server);

  await new Promise<void>((resolveStop) => {
    const stop = () => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      io.signal?.removeEventListener("abort", stop);
      resolveStop();
    };
    if (io.signal !== undefined) {
      if (io.signal.aborted) stop();
      else io.signal.addEventListener("abort", stop, { once: true });
    } else {
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
    }
  });
  await server.close();
  return 0;
}
