/**
 * The `structream` command line: `run` asks a model (or the built-in simulator) for a structured
 * answer and shows it filling in, `parse` renders a recorded stream, `simulate` starts the
 * provider simulator. `runCli` runs it in-process (tests, embedding); `main.ts` is the binary.
 */
import { readFileSync } from "node:fs";
import { isStructreamError } from "../errors/index.ts";
import { COMMANDS, type Command, parseCommandArgs, UsageError } from "./args.ts";
import { EXIT } from "./exit-codes.ts";
import { helpText } from "./help.ts";
import { type CliIo, processIo } from "./io.ts";
import { parseCommand } from "./parse.ts";
import { runCommand } from "./run.ts";
import { simulateCommand } from "./simulate.ts";
import { sanitize } from "./text.ts";

export { type Command, parseCommandArgs, UsageError } from "./args.ts";
export { EXIT, EXIT_CODE_HELP, type ExitCode, exitCodeFor, hintFor } from "./exit-codes.ts";
export { helpText } from "./help.ts";
export { type CliInput, type CliIo, type CliOutput, processIo, wantsColor, wantsLiveView } from "./io.ts";
export { createLiveView, type LiveView, type LiveViewOptions } from "./live-view.ts";
export { type LoadedSchema, loadSchema } from "./load-schema.ts";
export { type ReplayChunk, replay, splitRecording } from "./parse.ts";
export { type NdjsonRecord, ndjsonLine, toNdjsonRecord } from "./render-ndjson.ts";
export { type RenderOptions, renderTerminal, statsParts } from "./render-terminal.ts";
export { resolveTarget, type Target } from "./run.ts";
export {
  applyEvent,
  createViewState,
  type FieldInfo,
  schemaFields,
  type ViewInit,
  type ViewState,
  withStats,
} from "./view-state.ts";

/** The package's version, read from its package.json (two folders up from `src/cli` and `dist/cli`). */
export function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version?: string;
    };
    return pkg.version ?? "unknown";
  } catch {
    return "unknown";
  }
}

function isCommand(value: string | undefined): value is Command {
  return COMMANDS.includes(value as Command);
}

/**
 * Runs the CLI with `argv` (the arguments after the program name) and resolves to the exit code;
 * it never calls `process.exit`. Everything outside (streams, environment, directory, Ctrl-C) comes
 * from `io`, the process's own by default.
 *
 * @example
 * ```ts
 * const code = await runCli(["parse", "capture.sse", "--json"], { ...processIo(), stderr: myLog });
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    io.stderr.write(helpText("main"));
    return EXIT.usage;
  }
  if (first === "-h" || first === "--help") {
    io.stdout.write(helpText("main"));
    return EXIT.ok;
  }
  if (first === "help") {
    const topic = rest[0];
    io.stdout.write(helpText(isCommand(topic) ? topic : "main"));
    return EXIT.ok;
  }
  if (first === "-v" || first === "--version") {
    io.stdout.write(`${version()}\n`);
    return EXIT.ok;
  }
  if (first === "serve") {
    // The demo server (serve.ts) loads the relay and reads the page from disk: loaded only when asked for.
    const { serveCommand } = await import("./serve.ts");
    return serveCommand(rest, {
      stdout: (text) => io.stdout.write(text),
      stderr: (text) => io.stderr.write(text),
      ...(io.signal !== undefined ? { signal: io.signal } : {}),
    });
  }
  if (!isCommand(first)) {
    io.stderr.write(
      `structream: unknown command "${sanitize(first)}": use run, parse, simulate or serve (see "structream --help").\n`,
    );
    return EXIT.usage;
  }
  try {
    const args = parseCommandArgs(first, rest);
    if (args.help) {
      io.stdout.write(helpText(first));
      return EXIT.ok;
    }
    switch (args.command) {
      case "run":
        return await runCommand(args, io);
      case "parse":
        return await parseCommand(args, io);
      case "simulate":
        return await simulateCommand(args, io);
    }
  } catch (error) {
    if (error instanceof UsageError) {
      const message = sanitize(error.message.replace(/\s*\n\s*/g, " "));
      io.stderr.write(
        `structream ${error.command ?? first}: ${message} See "structream ${error.command ?? first} --help".\n`,
      );
      return EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    const code = isStructreamError(error) ? ` (${error.code})` : "";
    io.stderr.write(
      `structream: unexpected error${code}: ${sanitize(message.replace(/\s*\n\s*/g, " "))} Please report it.\n`,
    );
    if (io.env.STRUCTREAM_DEBUG) io.stderr.write(`${(error as Error)?.stack ?? ""}\n`);
    return EXIT.internal;
  }
}
