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
