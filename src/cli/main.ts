#!/usr/bin/env node
/**
 * The `structream` binary: runs {@link runCli} with the process's streams, turns the first
 * Ctrl-C (or SIGTERM) into a clean abort that keeps what arrived, and a second one into an
 * immediate exit.
 */
import { processIo, runCli } from "./index.ts";
import { SHOW_CURSOR } from "./live-view.ts";

const controller = new AbortController();
let signals = 0;
const onSignal = (signal: NodeJS.Signals) => {
  signals++;
  if (signals > 1) {
    if (process.stderr.isTTY) process.stderr.write(SHOW_CURSOR);
    process.exit(signal === "SIGTERM" ? 143 : 130);
  }
  controller.abort(signal);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
// `structream run ... | head` closes stdout early: that is the reader's choice, not a crash.
for (const stream of [process.stdout, process.stderr]) {
  stream.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code !== "EPIPE") throw error;
  });
}
// Whatever happens, never leave the user's terminal without a cursor.
process.on("exit", () => {
  if (process.stderr.isTTY) process.stderr.write(SHOW_CURSOR);
});

const code = await runCli(process.argv.slice(2), processIo(controller.signal));
process.exitCode = code;
// Flush both streams, then leave even if a library left a handle open (a keep-alive socket).
process.stdout.write("", () => {
  process.stderr.write("", () => process.exit(code));
});
