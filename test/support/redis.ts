/**
 * A throwaway redis-server for tests: started on a free port with persistence off (or, with `dir`,
 * an append-only file there), stopped (and waited for) at teardown; it can be killed with SIGKILL
 * mid-test and started again on the same port. `REDIS_SERVER` overrides the binary's path.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";

/** The redis-server binary, or undefined when it is not installed. */
export const redisServerPath: string | undefined = [
  process.env.REDIS_SERVER,
  "/usr/bin/redis-server",
  "/usr/local/bin/redis-server",
].find((path): path is string => path !== undefined && path !== "" && existsSync(path));

/** A running redis-server. */
export interface RedisProcess {
  port: number;
  url: string;
  /** Stops the server and waits for it to exit. */
  stop(): Promise<void>;
  /** Kills the server with SIGKILL (no shutdown, no final save) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts the server again on the same port (and the same `dir`, if any). */
  restart(): Promise<void>;
}

/** Options of {@link startRedis}. */
export interface StartRedisOptions {
  /** The port (default: a free one). */
  port?: number;
  /** Keep an append-only file here (`appendfsync always`), so data survives a restart. */
  dir?: string;
  timeoutMs?: number;
}

/** A port that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => child.once("exit", () => resolve()));
}

function spawnRedis(port: number, dir: string | undefined) {
  const persistence =
    dir === undefined
      ? ["--save", "", "--appendonly", "no"]
      : ["--save", "", "--appendonly", "yes", "--appendfsync", "always", "--dir", dir];
  const child = spawn(
    redisServerPath as string,
    ["--port", String(port), "--bind", "127.0.0.1", ...persistence, "--loglevel", "warning"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout?.on("data", (d) => {
    output += String(d);
  });
  child.stderr?.on("data", (d) => {
    output += String(d);
  });
  return { child, output: () => output };
}

/** Starts redis-server (on a free port unless told) and resolves once it accepts connections. */
export async function startRedis(options: StartRedisOptions | number = {}): Promise<RedisProcess> {
  if (redisServerPath === undefined) throw new Error("redis-server is not installed");
  const { timeoutMs = 10_000, dir } = typeof options === "number" ? { timeoutMs: options } : options;
  for (let attempt = 0; ; attempt++) {
    const port = (typeof options === "object" ? options.port : undefined) ?? (await freePort());
    let current = spawnRedis(port, dir);
    const stopChild = async (signal: NodeJS.Signals) => {
      const { child } = current;
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited(child);
      clearTimeout(timer);
    };
    const ready = await waitForPort(port, current.child, timeoutMs);
    if (ready) {
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        stop: () => stopChild("SIGTERM"),
        kill: () => stopChild("SIGKILL"),
        async restart() {
          await stopChild("SIGKILL");
          current = spawnRedis(port, dir);
          if (!(await waitForPort(port, current.child, timeoutMs)))
            throw new Error(`redis-server did not restart: ${current.output().trim()}`);
        },
      };
    }
    await stopChild("SIGTERM");
    // Another process may have taken the port between freePort() and the spawn: try another.
    if (attempt >= 2) throw new Error(`redis-server did not start: ${current.output().trim()}`);
  }
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const { Socket } = await import("node:net");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket();
      socket.once("connect", () => {
        socket.write("PING\r\n");
      });
      socket.once("data", (d) => {
        socket.destroy();
        resolve(String(d).startsWith("+PONG"));
      });
      socket.once("error", () => {
        socket.destroy();
        resolve(false);
      });
      socket.connect(port, "127.0.0.1");
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
