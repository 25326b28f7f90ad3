/**
 * A throwaway redis-server for tests: started on a free port with persistence off, stopped (and
 * waited for) at teardown. `REDIS_SERVER` overrides the binary's path.
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

/** Starts redis-server on a free port and resolves once it accepts connections. */
export async function startRedis(timeoutMs = 10_000): Promise<RedisProcess> {
  if (redisServerPath === undefined) throw new Error("redis-server is not installed");
  for (let attempt = 0; ; attempt++) {
    const port = await freePort();
    const child = spawn(
      redisServerPath,
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let output = "";
    child.stdout?.on("data", (d) => {
      output += String(d);
    });
    child.stderr?.on("data", (d) => {
      output += String(d);
    });
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3_000);
      await exited(child);
      clearTimeout(timer);
    };
    const ready = await waitForPort(port, child, timeoutMs);
    if (ready) return { port, url: `redis://127.0.0.1:${port}`, stop };
    await stop();
    // Another process may have taken the port between freePort() and the spawn: try another.
    if (attempt >= 2) throw new Error(`redis-server did not start: ${output.trim()}`);
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
