import { describe, expect, it } from "vitest";
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
});
