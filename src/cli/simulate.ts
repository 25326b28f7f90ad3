import { type SimulatorRequestEvent, simulatorBaseUrl, startSimulator } from "../simulator/index.ts";
import { type SimulateArgs, UsageError } from "./args.ts";
import { EXIT } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";
import { sanitize } from "./text.ts";

/** The wire formats in the order the banner lists them, with where each provider's own SDK points. */
const BANNER: readonly { provider: Parameters<typeof simulatorBaseUrl>[1]; sdk?: string }[] = [
  { provider: "openai-chat", sdk: "OpenAI SDK baseURL: the same" },
  { provider: "openai-responses" },
  { provider: "anthropic", sdk: "Anthropic SDK baseURL: <url>, it adds /v1" },
  { provider: "gemini", sdk: "Google Gen AI SDK baseUrl: <url>, it adds /v1beta" },
  { provider: "ollama" },
];

/**
 * The banner of `structream simulate`: for each wire format, the exact `--base-url` that
 * `structream run --provider <id>` (and structream's request builders) take.
 *
 * @example
 * ```ts
 * simulatorBanner("http://127.0.0.1:8787"); // "...--provider gemini  --base-url http://127.0.0.1:8787/v1beta..."
 * ```
 */
export function simulatorBanner(url: string, fault?: string): string {
  const lines = [
    `structream: simulator listening on ${url}${fault !== undefined ? ` (fault: ${fault})` : ""}`,
    "  structream run ... with:",
  ];
  for (const { provider, sdk } of BANNER) {
    const base = simulatorBaseUrl(url, provider);
    const left = `    --provider ${provider.padEnd(16)}  --base-url ${base}`;
    lines.push(sdk === undefined ? left : `${left.padEnd(51 + url.length)}  (${sdk.replace("<url>", url)})`);
  }
  lines.push(
    "  Faults by model name: sim-refusal, sim-truncate, sim-drop-once, sim-429, ... Ctrl-C to stop.",
  );
  return `${lines.join("\n")}\n`;
}

/** The log line of one request the simulator answered. */
export function requestLine(event: SimulatorRequestEvent): string {
  const parts = [event.method, event.path];
  if (event.provider !== undefined) parts.push(event.provider);
  if (event.model !== undefined) parts.push(`model=${event.model}`);
  if (event.fault !== "none") parts.push(`fault=${event.fault}`);
  if (event.attempt !== undefined && event.attempt > 1) parts.push(`attempt=${event.attempt}`);
  parts.push(`→ ${event.status}`);
  // The path and the model name come from whoever sent the request: never raw to the terminal.
  return `${sanitize(parts.join(" "))}\n`;
}

/**
 * `structream simulate`: starts the simulator, prints its URL on stdout (one line, for scripts)
 * and where each provider's SDK should point on stderr, logs each request on stderr, and runs
 * until `io.signal` aborts (Ctrl-C), then closes every connection and resolves to 0.
 */
export async function simulateCommand(args: SimulateArgs, io: CliIo): Promise<number> {
  let simulator: Awaited<ReturnType<typeof startSimulator>>;
  try {
    simulator = await startSimulator({
      port: args.port,
      ...(args.host !== undefined ? { host: args.host } : {}),
      ...(args.fault !== undefined ? { fault: args.fault } : {}),
      ...(args.pace !== undefined ? { pace: args.pace.pace } : {}),
      ...(args.pace?.deltasPerSecond !== undefined ? { deltasPerSecond: args.pace.deltasPerSecond } : {}),
      ...(args.seed !== undefined ? { seed: args.seed } : {}),
      ...(args.firstByteDelayMs !== undefined ? { firstByteDelayMs: args.firstByteDelayMs } : {}),
      ...(args.retryAfterMs !== undefined ? { retryAfterMs: args.retryAfterMs } : {}),
      ...(args.diverge ? { divergeOnRetry: true } : {}),
      ...(args.blocks !== undefined ? { blocks: args.blocks } : {}),
      onRequest: (event) => io.stderr.write(requestLine(event)),
    });
  } catch (error) {
    const code = (error as { code?: string }).code;
    if (code === "EADDRINUSE")
      throw new UsageError(`port ${args.port} is in use: pick another --port (or 0 for any).`, "simulate");
    if (code === "EADDRNOTAVAIL" || code === "ENOTFOUND") {
      throw new UsageError(`--host ${args.host}: no such interface on this machine.`, "simulate");
    }
    throw error;
  }
  const url = simulator.url;
  io.stdout.write(`${url}\n`);
  io.stderr.write(simulatorBanner(url, args.fault));
  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return;
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await simulator.close();
  io.stderr.write("structream: simulator stopped.\n");
  return EXIT.ok;
}
