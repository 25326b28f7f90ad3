import { type SimulatorRequestEvent, startSimulator } from "../simulator/index.ts";
import { type SimulateArgs, UsageError } from "./args.ts";
import { EXIT } from "./exit-codes.ts";
import type { CliIo } from "./io.ts";

/** The log line of one request the simulator answered. */
export function requestLine(event: SimulatorRequestEvent): string {
  const parts = [event.method, event.path];
  if (event.provider !== undefined) parts.push(event.provider);
  if (event.model !== undefined) parts.push(`model=${event.model}`);
  if (event.fault !== "none") parts.push(`fault=${event.fault}`);
  parts.push(`→ ${event.status}`);
  return `${parts.join(" ")}\n`;
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
  io.stderr.write(
    `structream: simulator listening on ${url}${args.fault !== undefined ? ` (fault: ${args.fault})` : ""}\n` +
      `  OpenAI:    baseURL ${url}/v1   Anthropic, Gemini, Ollama: ${url}\n` +
      `  Faults by model name: sim-refusal, sim-truncate, sim-drop-once, sim-429, ... Ctrl-C to stop.\n`,
  );
  await new Promise<void>((resolve) => {
    if (io.signal === undefined) return;
    if (io.signal.aborted) resolve();
    else io.signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await simulator.close();
  io.stderr.write("structream: simulator stopped.\n");
  return EXIT.ok;
}
