import { open, rm, stat } from "node:fs/promises";
import { resolve } from "node:path";
import { type Command, UsageError } from "./args.ts";

/** A stream the CLI writes to: `process.stdout`, `process.stderr`, or a test's stand-in. */
export interface CliOutput {
  write(text: string): unknown;
  /** True on a terminal: stderr then gets the live view instead of NDJSON. */
  isTTY?: boolean;
  columns?: number;
  rows?: number;
  on?(event: "resize", listener: () => void): unknown;
  off?(event: "resize", listener: () => void): unknown;
}

/** A stream the CLI reads from (`parse -`). */
export interface CliInput extends AsyncIterable<string | Uint8Array> {
  isTTY?: boolean;
}

/**
 * Everything the CLI touches outside itself, so that tests and embedders can run it in-process.
 * `runCli(argv)` alone uses the process's own.
 */
export interface CliIo {
  stdin: CliInput;
  stdout: CliOutput;
  stderr: CliOutput;
  env: Record<string, string | undefined>;
  /** Relative paths (`--schema`, `--out`, the `parse` file) start here. */
  cwd: string;
  /** Aborting it stops the command as Ctrl-C does; its reason `"SIGTERM"` exits 143, anything else 130. */
  signal?: AbortSignal;
  /** The clock. @defaultValue Date.now */
  now?: () => number;
}

/** The process's own streams, environment and directory. */
export function processIo(signal?: AbortSignal): CliIo {
  const io: CliIo = {
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    cwd: process.cwd(),
  };
  if (signal !== undefined) io.signal = signal;
  return io;
}

/**
 * Whether the CLI uses colours on `output`: only on a terminal, never with `--no-color`, with
 * `NO_COLOR` set to anything non-empty (https://no-color.org) or with `TERM=dumb`; `FORCE_COLOR`
 * (non-empty and not `0`) turns them on regardless.
 */
export function wantsColor(output: CliOutput, env: CliIo["env"], noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== "") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "" && force !== "0" && force !== "false") return true;
  return output.isTTY === true && env.TERM !== "dumb";
}

/** Whether stderr gets the live view: a terminal that can move its cursor, and no `--json`. */
export function wantsLiveView(output: CliOutput, env: CliIo["env"], json: boolean): boolean {
  return !json && output.isTTY === true && env.TERM !== "dumb";
}

/**
 * Checks, before any (paid) call, that `file` (relative to `cwd`) can be written: not a
 * directory, in a folder that exists, writable. A file that did not exist is not left behind.
 *
 * @throws UsageError naming the flag and the reason.
 * @example
 * ```ts
 * await assertWritable("--out", "answer.json", process.cwd(), "run");
 * ```
 */
export async function assertWritable(
  flag: string,
  file: string,
  cwd: string,
  command: Command,
): Promise<void> {
  const path = resolve(cwd, file);
  let existed = true;
  try {
    if ((await stat(path)).isDirectory())
      throw new UsageError(`${flag} ${file} is a directory: give a file name.`, command);
  } catch (error) {
    if (error instanceof UsageError) throw error;
    existed = false;
  }
  try {
    const handle = await open(path, "a");
    await handle.close();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT"
        ? "its folder does not exist"
        : code === "EACCES" || code === "EPERM"
          ? "permission denied"
          : code === "EROFS"
            ? "the file system is read-only"
            : (error as Error).message;
    throw new UsageError(`${flag} ${file} cannot be written (${reason}); nothing was sent.`, command);
  }
  if (!existed) await rm(path, { force: true });
}
