import { StructreamError } from "../errors/index.ts";
import { parseFault } from "./faults.ts";
import type { SimulatorOptions } from "./server.ts";

const USAGE =
  "structream simulate [--port <n>] [--host <address>] [--seed <s>] [--fault <fault>] [--pace realtime|fast] " +
  "[--fast] [--deltas-per-second <n>] [--first-byte-delay <ms>] [--retry-after-ms <ms>]";

function invalid(message: string): StructreamError {
  return new StructreamError("invalid_argument", `${message}\nUsage: ${USAGE}`);
}

function count(flag: string, value: string, min: number): number {
  const parsed = Number(value);
  if (value.trim() === "" || !Number.isFinite(parsed) || parsed < min)
    throw invalid(`${flag} needs a number ≥ ${min}, got "${value}".`);
  return parsed;
}

/**
 * Reads the `structream simulate` command line into {@link SimulatorOptions}: `--flag value` or
 * `--flag=value`. Flags: `--port`, `--host`, `--seed`, `--fault`, `--pace realtime|fast` (or
 * `--fast`), `--deltas-per-second`, `--first-byte-delay` (ms), `--retry-after-ms`.
 *
 * @example
 * ```ts
 * const sim = await startSimulator(parseSimulatorArgs(["--port", "8787", "--fault=429-once"]));
 * console.log(`Simulator on ${sim.url}`);
 * ```
 *
 * @throws StructreamError with code `invalid_argument` (unknown flag, missing or bad value) or
 *   `invalid_fault` (a `--fault` outside the grammar).
 */
export function parseSimulatorArgs(args: readonly string[]): SimulatorOptions {
  const options: SimulatorOptions = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) throw invalid(`Unexpected argument "${arg}".`);
    const eq = arg.indexOf("=");
    const flag = eq === -1 ? arg : arg.slice(0, eq);
    if (flag === "--fast") {
      options.pace = "fast";
      continue;
    }
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else {
      const next = args[i + 1];
      if (next === undefined) throw invalid(`${flag} needs a value.`);
      value = next;
      i++;
    }
    switch (flag) {
      case "--port": {
        const port = count(flag, value, 0);
        if (!Number.isInteger(port) || port > 65535)
          throw invalid(`--port needs an integer in 0..65535, got "${value}".`);
        options.port = port;
        break;
      }
      case "--host":
        options.host = value;
        break;
      case "--seed":
        options.seed = /^-?\d+$/.test(value) ? Number(value) : value;
        break;
      case "--fault":
        parseFault(value);
        options.fault = value;
        break;
      case "--pace":
        if (value !== "realtime" && value !== "fast")
          throw invalid(`--pace is "realtime" or "fast", got "${value}".`);
        options.pace = value;
        break;
      case "--deltas-per-second":
        options.deltasPerSecond = count(flag, value, 0);
        break;
      case "--first-byte-delay":
      case "--first-byte-delay-ms":
        options.firstByteDelayMs = count(flag, value, 0);
        break;
      case "--retry-after-ms":
        options.retryAfterMs = count(flag, value, 0);
        break;
      default:
        throw invalid(`Unknown option ${flag}.`);
    }
  }
  return options;
}
