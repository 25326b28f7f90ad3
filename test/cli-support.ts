/** Helpers for the CLI's end-to-end tests: the built binary, spawned as a user would. */
import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
export const MAIN = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url));
export const ARTICLE_SCHEMA = "examples/article-summary.schema.json";

/** Builds `dist/` when it is missing (`npm test` builds it first, in `pretest`). */
export function ensureBuilt(): void {
  if (existsSync(MAIN)) return;
  const result = spawnSync(
    process.execPath,
    ["node_modules/typescript/bin/tsc", "-p", "tsconfig.build.json"],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 180_000,
    },
  );
  if (result.status !== 0) throw new Error(`npm run build failed:\n${result.stdout}${result.stderr}`);
}

/** The environment of a user without API keys and without colours. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (value === undefined) continue;
    if (/_API_KEY$|_BASE_URL$|^OLLAMA_HOST$|^FORCE_COLOR$|^NO_COLOR$/.test(key)) continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** stderr's NDJSON records (every line must be one). */
  events: { type: string; [key: string]: unknown }[];
}

export interface SpawnOptions {
  env?: Record<string, string>;
  input?: string;
  timeoutMs?: number;
  /** Called with each stderr record as it arrives, and the child (to send it a signal). */
  onEvent?: (event: { type: string; [key: string]: unknown }, child: ReturnType<typeof spawn>) => void;
}

/** Runs `node dist/cli/main.js ...args` with piped stdio (not a terminal: NDJSON on stderr). */
export function runBuiltCli(args: readonly string[], options: SpawnOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], {
      cwd: ROOT,
      env: options.env ?? cleanEnv(),
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let pending = "";
    const events: CliResult["events"] = [];
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `structream ${args.join(" ")} did not end within ${options.timeoutMs ?? 30_000} ms\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 30_000);
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
      pending += chunk;
      let newline = pending.indexOf("\n");
      while (newline !== -1) {
        const line = pending.slice(0, newline);
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
        if (line.startsWith("{")) {
          const event = JSON.parse(line) as CliResult["events"][number];
          events.push(event);
          options.onEvent?.(event, child);
        }
      }
    });
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, events });
    });
    if (options.input !== undefined) child.stdin.end(options.input);
    else child.stdin.end();
  });
}
