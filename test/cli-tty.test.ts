/**
 * The live view on a real (pseudo-)terminal: the built CLI runs inside tmux, and the test reads
 * the screen with `tmux capture-pane` while the answer streams and after it ends.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { compileSchema } from "../src/schema/index.ts";
import { ARTICLE_SCHEMA, cleanEnv, ensureBuilt, MAIN, ROOT } from "./cli-support.ts";
import { requires } from "./support/requires.ts";

const hasTmux = spawnSync("tmux", ["-V"], { encoding: "utf8" }).status === 0;
const SOCKET = `structream-cli-test-${process.pid}`;
const PROMPT = "Summarize the history of the printing press";
let dir: string;
let sessions = 0;

function tmux(...args: string[]): string {
  const result = spawnSync("tmux", ["-L", SOCKET, ...args], { encoding: "utf8", env: cleanEnv(), cwd: ROOT });
  if (result.status !== 0) throw new Error(`tmux ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

interface Session {
  name: string;
  out: string;
  codeFile: string;
  screen(options?: { history?: boolean; escapes?: boolean; join?: boolean }): string;
  code(): number | undefined;
}

/** Starts `structream <args>` in a detached tmux session of `width` × `height`. */
function start(args: string[], options: { width?: number; height?: number; env?: string } = {}): Session {
  const name = `s${++sessions}`;
  const out = join(dir, `${name}.json`);
  const codeFile = join(dir, `${name}.code`);
  const command =
    `cd ${quote(ROOT)} && env ${options.env ?? ""} ${quote(process.execPath)} ${quote(MAIN)} ${args.map(quote).join(" ")}` +
    ` > ${quote(out)}; echo $? > ${quote(codeFile)}; sleep 120`;
  tmux(
    "new-session",
    "-d",
    "-s",
    name,
    "-x",
    String(options.width ?? 100),
    "-y",
    String(options.height ?? 40),
    command,
  );
  return {
    name,
    out,
    codeFile,
    screen: ({ history = false, escapes = false, join = false } = {}) =>
      tmux(
        "capture-pane",
        "-p",
        "-t",
        name,
        ...(history ? ["-S", "-"] : []),
        ...(escapes ? ["-e"] : []),
        ...(join ? ["-J"] : []),
      ),
    code: () => (existsSync(codeFile) ? Number(readFileSync(codeFile, "utf8").trim()) : undefined),
  };
}

/** Captures the screen every 50 ms until the command exits; returns every distinct screen. */
async function watch(session: Session, timeoutMs = 30_000): Promise<string[]> {
  const screens: string[] = [];
  const deadline = Date.now() + timeoutMs;
  while (session.code() === undefined) {
    if (Date.now() > deadline) throw new Error(`timed out; screen:\n${session.screen()}`);
    const screen = session.screen();
    if (screens.at(-1) !== screen) screens.push(screen);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  screens.push(session.screen());
  return screens;
}

async function waitFor(session: Session, pattern: RegExp, timeoutMs = 20_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const screen = session.screen();
    if (pattern.test(screen)) return screen;
    if (Date.now() > deadline) throw new Error(`no ${pattern} on screen:\n${screen}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const percentOf = (screen: string) => Number(/\]\s+(\d+)%/.exec(screen)?.[1] ?? Number.NaN);
const runArgs = (...extra: string[]) => [
  "run",
  "--schema",
  ARTICLE_SCHEMA,
  "--prompt",
  PROMPT,
  "--simulator",
  ...extra,
];

requires(
  "tmux",
  hasTmux,
  "apt-get install tmux",
)("the live view in a terminal", () => {
  beforeAll(() => {
    ensureBuilt();
    dir = mkdtempSync(join(tmpdir(), "structream-tty-"));
  }, 200_000);

  afterAll(() => {
    try {
      tmux("kill-server");
    } catch {
      // Already gone.
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("shows fields filling in, redrawn in place, and the bar reaching 100%", async () => {
    const session = start(runArgs("--pace", "60"));
    const screens = await watch(session);
    expect(session.code()).toBe(0);

    // An intermediate screen: some fields complete, some still pending, the bar part-way.
    const middle = screens.find(
      (s) => /^✓ title +"/m.test(s) && /^· \w+ +pending/m.test(s) && percentOf(s) > 0 && percentOf(s) < 100,
    );
    expect(middle, screens.join("\n----\n")).toBeDefined();
    expect(middle).toMatch(/streaming \d+\.\ds/);
    const percents = screens.map(percentOf).filter((p) => !Number.isNaN(p));
    expect(percents.length).toBeGreaterThan(3);
    for (let i = 1; i < percents.length; i++) expect(percents[i]).toBeGreaterThanOrEqual(percents[i - 1]!);

    const final = screens.at(-1)!;
    expect(final).toMatch(/✓ complete \d+\.\ds/);
    expect(final).toMatch(/\[█+\] 100% {2}(\d+)\/\1 fields/);
    expect(final).toMatch(/done in \d+\.\ds · first byte \d+ ms · first field \d+ ms/);
    for (const key of [
      "title",
      "summary",
      "key_points",
      "sentiment",
      "word_count",
      "sections",
      "published_at",
    ]) {
      expect(final).toMatch(new RegExp(`^✓ ${key} `, "m"));
    }
    expect(final).not.toMatch(/pending/);

    // Redrawn in place: one header in the whole scrollback, not one per frame.
    const history = session.screen({ history: true });
    expect(history.match(/structream run · /g)).toHaveLength(1);
    expect(history.match(/built-in simulator answers/g)).toHaveLength(1);

    // stdout (redirected to a file) got the validated JSON alone.
    const value = JSON.parse(readFileSync(session.out, "utf8"));
    const schema = JSON.parse(readFileSync(join(ROOT, ARTICLE_SCHEMA), "utf8"));
    expect(await compileSchema(schema).validateFinal(value)).not.toHaveProperty("issues");
  }, 60_000);

  it("fits a narrow terminal without wrapping or scrolling", async () => {
    const session = start(runArgs("--pace", "fast"), { width: 42, height: 30 });
    await watch(session);
    expect(session.code()).toBe(0);
    const history = session.screen({ history: true });
    expect(history.match(/✓ complete/g)).toHaveLength(1);
    const final = session.screen();
    expect(final).toMatch(/100%/);
    for (const line of final.split("\n")) expect([...line].length).toBeLessThanOrEqual(42);
  }, 60_000);

  it("degrades to plain lines on a 5-column pane: a short scrollback, no trail of frames", async () => {
    const session = start(runArgs("--pace", "200"), { width: 5, height: 20 });
    await watch(session);
    expect(session.code()).toBe(0);
    // Joined: each logical line once, however the 5-column pane wrapped it.
    const history = session.screen({ history: true, join: true });
    const lines = history.split("\n").filter((line) => line.trim() !== "");
    // The notice, a status, seven fields, the outcome and the statistics: a few dozen lines at
    // most, where redrawing frames into a pane this narrow left over a thousand.
    expect(lines.length).toBeLessThan(40);
    expect(history.match(/✓ complete/g)).toHaveLength(1);
    for (const key of ["title", "summary", "sections", "published_at"]) expect(history).toContain(`✓ ${key}`);
    const value = JSON.parse(readFileSync(session.out, "utf8"));
    expect(value).toHaveProperty("title");
  }, 60_000);

  it("aborts on Ctrl-C, keeps what arrived and prints it as a partial value (exit 130)", async () => {
    const session = start(runArgs("--pace", "30"));
    await waitFor(session, /^✓ title/m);
    tmux("send-keys", "-t", session.name, "C-c");
    await watch(session);
    expect(session.code()).toBe(130);
    const screen = session.screen({ history: true });
    expect(screen).toMatch(/✗ interrupted/);
    expect(screen).toMatch(/Interrupted \(Ctrl-C\)\. Partial value \(not validated\):/);
    expect(screen).toMatch(/"title": "/);
    expect(readFileSync(session.out, "utf8")).toBe("");
  }, 60_000);

  it("prints a failure as one plain line with the cause and what to do", async () => {
    const session = start(runArgs("--pace", "fast", "--model", "sim-truncate"));
    await watch(session);
    expect(session.code()).toBe(4);
    const screen = session.screen({ join: true });
    expect(screen).toMatch(/✗ truncated/);
    const lines = screen.split("\n").filter((l) => l.startsWith("structream: truncated"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^structream: truncated: The answer was cut off .*\. Ask for a shorter answer/);
  }, 60_000);

  it("uses colours on a terminal, and none with NO_COLOR or --no-color", async () => {
    const colored = start(runArgs("--pace", "fast"), { env: "-u NO_COLOR TERM=xterm-256color" });
    await watch(colored);
    expect(colored.screen({ escapes: true })).toMatch(/\x1b\[(\d+;)*3[1-6]m/);
    for (const [env, flag] of [
      ["NO_COLOR=1", []],
      ["-u NO_COLOR", ["--no-color"]],
    ] as const) {
      const plain = start(runArgs("--pace", "fast", ...flag), { env: `${env} TERM=xterm-256color` });
      await watch(plain);
      expect(plain.code()).toBe(0);
      expect(plain.screen({ escapes: true })).not.toMatch(/\x1b\[(\d+;)*3[1-6]m/);
    }
  }, 60_000);
});
