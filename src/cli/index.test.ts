import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startSimulator } from "../simulator/index.ts";
import { type CliIo, runCli } from "./index.ts";

function memoryIo(input: string[] = [], options: { tty?: boolean; signal?: AbortSignal } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIo = {
    stdin: Object.assign(
      (async function* () {
        yield* input;
      })(),
      { isTTY: false },
    ),
    stdout: { write: (text: string) => out.push(text) },
    stderr: { write: (text: string) => err.push(text), isTTY: options.tty ?? false, columns: 80, rows: 24 },
    env: {},
    cwd: process.cwd(),
    ...(options.signal !== undefined ? { signal: options.signal } : {}),
  };
  return { io, stdout: () => out.join(""), stderr: () => err.join("") };
}

describe("runCli in-process", () => {
  it("renders a stream piped to parse, and prints its JSON", async () => {
    const { io, stdout, stderr } = memoryIo(['{"name":', '"Ada","langs":["en"', "]}"]);
    expect(await runCli(["parse", "-"], io)).toBe(0);
    expect(stdout()).toBe(`${JSON.stringify({ name: "Ada", langs: ["en"] }, null, 2)}\n`);
    const records = stderr()
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(records.at(-1)).toMatchObject({ type: "complete", value: { name: "Ada", langs: ["en"] } });
  });

  it("draws the live view when stderr is a terminal, and gives the cursor back", async () => {
    const { io, stderr } = memoryIo(['{"name":"Ada"}'], { tty: true });
    expect(await runCli(["parse", "-", "--no-color"], io)).toBe(0);
    expect(stderr()).toContain("\x1b[?25l");
    expect(stderr()).toContain('✓ name  "Ada"');
    expect(stderr()).toContain("✓ complete");
    expect(stderr().endsWith("\x1b[?25h")).toBe(true);
  });

  it("stops when its signal aborts, as on Ctrl-C, and exits 130", async () => {
    const controller = new AbortController();
    const { io, stderr } = memoryIo(['{"name":"Ada","more":"', ...Array.from({ length: 200 }, () => "x")], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort("SIGINT"), 30);
    const code = await runCli(["parse", "-", "--pace", "50"], io);
    expect(code).toBe(130);
    const last = JSON.parse(stderr().trimEnd().split("\n").at(-1)!);
    expect(last).toMatchObject({ type: "error", code: "aborted", partial: { name: "Ada" } });
  });

  it("answers --help, help <command> and --version on stdout", async () => {
    for (const argv of [["--help"], ["help", "parse"], ["--version"], ["simulate", "-h"]]) {
      const { io, stdout, stderr } = memoryIo();
      expect(await runCli(argv, io)).toBe(0);
      expect(stdout().length).toBeGreaterThan(4);
      expect(stderr()).toBe("");
    }
  });

  it("exits 2 with the main help when no command is given", async () => {
    const { io, stderr } = memoryIo();
    expect(await runCli([], io)).toBe(2);
    expect(stderr()).toMatch(/^structream: stream a language model's structured answer/);
  });

  it("refuses to wait for a terminal's stdin", async () => {
    const { io, stderr } = memoryIo();
    (io.stdin as { isTTY?: boolean }).isTTY = true;
    expect(await runCli(["parse"], io)).toBe(2);
    expect(stderr()).toMatch(/parse reads a file, or stdin when a stream is piped in/);
  });

  it("exits 143 after SIGTERM, and its error record says 143 too", async () => {
    const controller = new AbortController();
    const { io, stderr } = memoryIo(['{"name":"Ada","more":"', ...Array.from({ length: 200 }, () => "x")], {
      signal: controller.signal,
    });
    setTimeout(() => controller.abort("SIGTERM"), 30);
    expect(await runCli(["parse", "-", "--pace", "50"], io)).toBe(143);
    const last = JSON.parse(stderr().trimEnd().split("\n").at(-1)!);
    expect(last).toMatchObject({ type: "error", code: "aborted", exitCode: 143 });
  });

  it("hints at stdin, not the network, when parse gets an empty stdin", async () => {
    const { io, stderr } = memoryIo([]);
    expect(await runCli(["parse", "-"], io)).toBe(7);
    const last = JSON.parse(stderr().trimEnd().split("\n").at(-1)!) as { hint: string };
    expect(last.hint).toMatch(/Nothing arrived on stdin/);
    expect(last.hint).not.toMatch(/network|base-url/);
    const tty = memoryIo([], { tty: true });
    expect(await runCli(["parse", "-", "--no-color"], tty.io)).toBe(7);
    expect(tty.stderr()).toMatch(/Nothing arrived on stdin/);
  });

  it("checks --out before making the call, and leaves no file behind", async () => {
    const sim = await startSimulator({ pace: "fast" });
    const dir = await mkdtemp(join(tmpdir(), "structream-out-"));
    try {
      for (const out of [join(dir, "missing", "a.json"), dir]) {
        const { io, stderr } = memoryIo();
        const code = await runCli(
          [
            "run",
            "-s",
            "examples/recipe.schema.json",
            "-p",
            "hi",
            "--base-url",
            `${sim.url}/v1`,
            "--out",
            out,
          ],
          io,
        );
        expect(code).toBe(2);
        expect(stderr()).toMatch(/--out .* (cannot be written|is a directory)/);
      }
      expect(sim.requests).toBe(0);
      const { io } = memoryIo();
      const fine = join(dir, "fine.json");
      expect(
        await runCli(
          [
            "run",
            "-s",
            "examples/recipe.schema.json",
            "-p",
            "hi",
            "--base-url",
            `${sim.url}/v1`,
            "--out",
            fine,
          ],
          io,
        ),
      ).toBe(0);
      expect(sim.requests).toBe(1);
      expect(await readdir(dir)).toEqual(["fine.json"]);
    } finally {
      await sim.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("escapes every control class (C0, DEL, C1, bidi) in --json, stdout and the terminal view", async () => {
    const hostile = "a\u001b[2J\u007f\u009b31m\u009d0;title\u0007\u202eevil\u2066\u2028z";
    const input = JSON.stringify({ [`k${hostile}`]: hostile, list: [hostile] });
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
    const json = memoryIo([input]);
    expect(await runCli(["parse", "-", "--json"], json.io)).toBe(0);
    expect(json.stderr()).not.toMatch(raw);
    expect(json.stdout()).not.toMatch(raw);
    expect(JSON.parse(json.stdout())).toEqual(JSON.parse(input));
    for (const line of json.stderr().trimEnd().split("\n")) expect(() => JSON.parse(line)).not.toThrow();

    const tty = memoryIo([input.slice(0, 20), input.slice(20)], { tty: true });
    expect(await runCli(["parse", "-", "--no-color"], tty.io)).toBe(0);
    // The view's own escapes are CSI sequences it writes itself; nothing else of the model's.
    const view = tty.stderr().replace(/\u001b\[[?0-9;]*[A-Za-z]/g, "");
    expect(view).not.toMatch(raw);
    expect(view).toContain("evil");
  });

  it("gives -p one meaning: --prompt in run, and serve refuses it rather than read a port", async () => {
    const { io, stderr } = memoryIo();
    expect(await runCli(["serve", "-p", "3000"], io)).toBe(2);
    expect(stderr()).toMatch(/-p is --prompt .*--port/);
  });
});
