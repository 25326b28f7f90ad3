/**
 * The demo page in a real Chromium: the page served by `structream serve`, the relay and the
 * simulator, driven as a person would, with the connection cut mid-stream.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { buildDemo, type DemoServer, loadDemoSchemas, startDemoServer } from "../src/cli/serve.ts";
import type { RelaySource } from "../src/server/index.ts";
import { type StreamEvent, structuredStream } from "../src/stream/index.ts";
import { requires } from "./support/requires.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

const PROMPT = "A lemon drizzle cake for a rainy Sunday afternoon";
const SHOTS = "/tmp/structream-demo";
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 900 };
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface Observation {
  /** The stream's status (`data-status`): connecting, streaming, validating, complete, error. */
  status: string;
  /** What the status pill says: the status, or how the stream ended (stopped, refused, ...). */
  label: string;
  percent: number;
  /** The progress label ("3 of 8 fields"). */
  progress: string;
  /** Notices on screen: [kind and phase, text]. */
  notices: [string, string][];
  /** Top-level fields in page order: [pointer, state]. */
  fields: [string, string][];
  /** Each top-level field's top edge, in page coordinates. */
  tops: number[];
  /** The "Time to first byte" statistic. */
  firstByte: string;
}

/** What the page shows now, read from the DOM. */
function observe(page: Page): Promise<Observation> {
  return page.evaluate(() => {
    const items = [...document.querySelectorAll<HTMLElement>('[data-testid="fields"] > ul > li.field')];
    const status = document.querySelector<HTMLElement>('[data-testid="status"]');
    const stat = [...document.querySelectorAll<HTMLElement>('[data-testid="stats"] .stat')].find(
      (s) => s.querySelector("dt")?.textContent === "Time to first byte",
    );
    return {
      status: status?.dataset.status ?? "",
      label: status?.textContent?.trim() ?? "",
      percent: Number(
        document.querySelector('[data-testid="progress"]')?.getAttribute("aria-valuenow") ?? "0",
      ),
      progress: document.querySelector('[data-testid="progress-label"]')?.textContent ?? "",
      notices: [...document.querySelectorAll<HTMLElement>(".notice")].map(
        (n) =>
          [
            `${n.dataset.testid}:${n.dataset.phase}${n.dataset.replaced === "true" ? ":replaced" : ""}`,
            n.textContent ?? "",
          ] as [string, string],
      ),
      fields: items.map((li) => [li.dataset.pointer ?? "", li.dataset.state ?? ""] as [string, string]),
      tops: items.map((li) => li.getBoundingClientRect().top + window.scrollY),
      firstByte: stat?.querySelector("dd")?.textContent ?? "",
    };
  });
}

/** Polls the page every 25 ms until the stream ends (or `until` says stop); every observation. */
async function watch(
  page: Page,
  until: (now: Observation, seen: Observation[]) => boolean | Promise<boolean> = () => false,
): Promise<Observation[]> {
  const seen: Observation[] = [];
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const now = await observe(page);
    seen.push(now);
    if (now.status === "complete" || now.status === "error") break;
    if (await until(now, seen)) break;
    await page.waitForTimeout(25);
  }
  return seen;
}

/** Serious and critical accessibility violations (contrast included) that axe-core finds. */
async function axeViolations(page: Page): Promise<string[]> {
  if (!(await page.evaluate(() => "axe" in window))) await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(context: Document, options: object): Promise<AxeResult> } }
    ).axe;
    interface AxeResult {
      violations: { id: string; impact: string; nodes: { target: string[]; failureSummary: string }[] }[];
    }
    const { violations } = await axe.run(document, { resultTypes: ["violations"] });
    return violations
      .filter((v) => v.impact === "serious" || v.impact === "critical")
      .flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact}) ${n.target.join(" ")}: ${n.failureSummary}`));
  });
}

/** What nothing on the page may show once a stream has ended: a streaming badge, caret or pulse. */
function stillStreaming(page: Page): Promise<string[]> {
  return page.evaluate(() => [
    ...[...document.querySelectorAll<HTMLElement>('[data-state="streaming"]')].map(
      (e) => `data-state=streaming on ${e.dataset.pointer}`,
    ),
    ...[...document.querySelectorAll(".badge-streaming, .state-streaming, .caret, .item-waiting")].map(
      (e) => `.${e.className}`,
    ),
    ...document
      .getAnimations()
      // Keyframe animations (a pulse, a blink, a shimmer), not the brief transitions of a state change.
      .filter((a) => a instanceof CSSAnimation && a.playState === "running" && a.animationName !== "rise")
      .map(
        (a) =>
          `animation ${(a as CSSAnimation).animationName} on ${((a.effect as KeyframeEffect).target as Element)?.className}`,
      ),
    ...[...document.querySelectorAll(".json-tag")]
      .filter((e) => e.textContent === "streaming")
      .map(() => "JSON tagged streaming"),
  ]);
}

/**
 * The relay's view of `source`, with its answer held back: once a `reasoning` event has gone by,
 * the next `partial` waits for `gate()`. Everything else passes through as it comes.
 */
function holdAnswerAfterReasoning(source: RelaySource, gate: () => Promise<void>): RelaySource {
  async function* hold(events: AsyncIterator<StreamEvent<unknown>>): AsyncGenerator<StreamEvent<unknown>> {
    let reasoned = false;
    let held = false;
    try {
      for (;;) {
        const next = await events.next();
        if (next.done === true) return;
        if (next.value.type === "reasoning") reasoned = true;
        else if (next.value.type === "partial" && reasoned && !held) {
          held = true;
          await gate();
        }
        yield next.value;
      }
    } finally {
      await events.return?.();
    }
  }
  return {
    [Symbol.asyncIterator]: () => hold(source[Symbol.asyncIterator]()),
    events: (options) => hold(source.events?.(options) ?? source[Symbol.asyncIterator]()),
    abort: (reason) => source.abort?.(reason),
  };
}

/**
 * Records every notice phase the page renders, from inside the page (a MutationObserver), so a
 * phase that lasts less than a polling period on a loaded machine is still seen.
 */
async function recordNotices(page: Page): Promise<() => Promise<[string, string][]>> {
  await page.evaluate(() => {
    const log: [string, string][] = [];
    (window as unknown as { __notices: [string, string][] }).__notices = log;
    const record = () => {
      for (const n of document.querySelectorAll<HTMLElement>(".notice")) {
        const entry: [string, string] = [`${n.dataset.testid}:${n.dataset.phase}`, n.textContent ?? ""];
        const last = log.at(-1);
        if (last === undefined || last[0] !== entry[0] || last[1] !== entry[1]) log.push(entry);
      }
    };
    new MutationObserver(record).observe(document.body, {
      subtree: true,
      childList: true,
      characterData: true,
      attributes: true,
    });
  });
  return () => page.evaluate(() => (window as unknown as { __notices: [string, string][] }).__notices);
}

async function startFromForm(page: Page, options: { schema: string; prompt: string; fault?: string }) {
  await page.getByRole("radio", { name: options.schema }).check();
  await page.getByLabel("Prompt").fill(options.prompt);
  await page.getByLabel("Simulated fault").selectOption(options.fault ?? "none");
  await page.getByRole("button", { name: "Stream the answer" }).click();
}

requires(
  CHROMIUM,
  hasChromium,
  "apt-get install chromium (or npm test, whose pretest installs it)",
)("the demo page in Chromium", () => {
  let demo: DemoServer;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const lastEventIds: string[] = [];
  /** The relay's answers to DELETE (a cancel), in order. */
  const cancels: number[] = [];
  /** Uncaught errors and console errors in the page: none is expected. */
  const problems: string[] = [];

  beforeAll(async () => {
    // Always from the current sources: a stale build would test yesterday's page.
    await buildDemo();
    // A slower model than the default, so a person (and this test) can act mid-stream.
    demo = await startDemoServer({ port: 0, simulator: { deltasPerSecond: 45 } });
    const handle = demo.relay.handle.bind(demo.relay);
    (demo.relay as { handle: typeof handle }).handle = async (request) => {
      if (request.method === "DELETE") {
        const response = await handle(request);
        cancels.push(response.status);
        return response;
      }
      lastEventIds.push(request.headers.get("last-event-id") ?? "");
      return handle(request);
    };
    profile = await mkdtemp(join(tmpdir(), "structream-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--disable-sync",
        "--disable-quic",
      ],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    page.on("console", (message) => {
      if (message.type() === "error") problems.push(`console: ${message.text()}`);
    });
    await page.goto(demo.url);
    await page.getByRole("button", { name: "Stream the answer" }).waitFor();
    await page.screenshot({ path: `${SHOTS}-idle.png`, fullPage: true });
  }, 120_000);

  afterEach(() => {
    expect(problems).toEqual([]);
  });

  afterAll(async () => {
    await context?.close();
    await demo?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
  });

  it("fills the fields one after another, resumes after a dropped connection, and ends with the simulator's exact value", async () => {
    await startFromForm(page, { schema: "Recipe", prompt: PROMPT });

    let dropped = false;
    const seen = await watch(page, async (now) => {
      const states = new Map(now.fields);
      // Mid-stream: the title and the summary are done, the rest is not.
      if (!dropped && states.get("/summary") === "complete" && now.status === "streaming") {
        await page.screenshot({ path: `${SHOTS}-streaming.png`, fullPage: true });
        expect(demo.relay.connections).toBe(1);
        await page.getByRole("button", { name: "Drop connection" }).click();
        dropped = true;
        // The socket really closes: the relay sees the client go before it comes back.
        const until = Date.now() + 10_000;
        while (demo.relay.connections > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 5));
        expect(demo.relay.connections).toBe(0);
      }
      return false;
    });
    expect(dropped).toBe(true);
    expect(seen.at(-1)?.status).toBe("complete");

    // Intermediate states, not only the end: a field streaming while a later one is still pending.
    const order = seen.at(-1)!.fields.map(([pointer]) => pointer);
    expect(order).toEqual([
      "/title",
      "/summary",
      "/servings",
      "/totalMinutes",
      "/difficulty",
      "/ingredients",
      "/steps",
      "/vegetarian",
    ]);
    const midway = seen.filter(({ fields }) => {
      const states = fields.map(([, state]) => state);
      const streaming = states.indexOf("streaming");
      return streaming > 0 && states[streaming - 1] === "complete" && states.at(-1) === "pending";
    });
    expect(midway.length).toBeGreaterThan(0);
    expect(seen.some((o) => o.percent > 0 && o.percent < 100)).toBe(true);
    // Progress only grows.
    const percents = seen.map((o) => o.percent);
    expect(percents).toEqual([...percents].sort((a, b) => a - b));
    // The field total comes from the schema: the same from the first frame to the last.
    const totals = new Set(seen.map((o) => o.progress.match(/ of (\d+) fields/)?.[1]));
    expect([...totals]).toEqual(["8"]);
    expect(seen.at(-1)!.progress).toBe("8 of 8 fields");
    // Fields completed in the schema's order, one after another.
    const completedAt = order.map((pointer) =>
      seen.findIndex((o) => o.fields.some(([p, state]) => p === pointer && state === "complete")),
    );
    expect(completedAt.every((index) => index >= 0)).toBe(true);
    expect(completedAt).toEqual([...completedAt].sort((a, b) => a - b));
    expect(new Set(completedAt).size).toBeGreaterThan(3);

    // The drop was one notice, changed in place: "reconnecting…", then "resumed", never two at once.
    expect(Math.max(...seen.map((o) => o.notices.length))).toBe(1);
    const lost = seen.find((o) => o.notices[0]?.[0] === "connection-notice:lost")?.notices[0]?.[1];
    const resumed = seen.find((o) => o.notices[0]?.[0] === "connection-notice:resumed")?.notices[0]?.[1];
    const lostAt = lost?.match(/Connection to the relay lost after event (\d+): reconnecting…/)?.[1];
    expect(lostAt).toBeDefined();
    expect(resumed).toMatch(
      new RegExp(`Reconnected after losing the connection at event ${lostAt}: resumed with Last-Event-ID`),
    );
    // The relay saw the reconnection ask for the events after the last one the page had.
    expect(lastEventIds).toContain(lostAt);
    await expect.poll(() => page.getByTestId("stats").innerText()).toMatch(/Relay connections\s+2/);

    // Exactly the value the simulator sent: the same prompt, schema and seed, read directly.
    const shown = JSON.parse(await page.locator('[data-testid="json"][data-final="true"]').innerText());
    const recipe = (await loadDemoSchemas()).find((s) => s.name === "recipe")!;
    const direct = structuredStream({
      request: { model: "structream-sim", messages: [{ role: "user", content: PROMPT }] },
      provider: "openai-chat",
      baseURL: `${demo.simulator!.url}/v1`,
      headers: { "x-sim-pace": "fast" },
      schema: recipe.schema,
    });
    expect(shown).toEqual(await direct.result);
    expect(await axeViolations(page)).toEqual([]);
    await page.waitForTimeout(300); // the progress bar's transition
    await page.screenshot({ path: `${SHOTS}-complete.png`, fullPage: true });
  }, 90_000);

  it("shows live statistics: the time to first byte as soon as the first byte arrives", async () => {
    await startFromForm(page, { schema: "Support ticket triage", prompt: "My parcel never arrived" });
    const seen = await watch(page, (now) => now.fields.some(([, state]) => state === "complete"));
    const streaming = seen.filter((o) => o.status === "streaming");
    expect(streaming.length).toBeGreaterThan(0);
    // Every frame that shows the stream streaming already shows when its first byte came.
    for (const o of streaming) expect(o.firstByte).toMatch(/^\d[\d,]* ms$/);
    // Before it, there was nothing to show.
    expect(seen.filter((o) => o.status === "connecting").every((o) => o.firstByte === "—")).toBe(true);
    expect(await page.getByTestId("stats").innerText()).toMatch(/Deltas\s+at the end/);
    await expect.poll(() => observe(page).then((o) => o.status), { timeout: 30_000 }).toBe("complete");
    await expect.poll(() => page.getByTestId("stats").innerText()).toMatch(/Deltas\s+\d/);
  }, 60_000);

  it("shows a refusal's message, and no field left streaming", async () => {
    await startFromForm(page, { schema: "Recipe", prompt: PROMPT, fault: "refusal" });
    const alert = page.getByTestId("error");
    await expect.poll(() => alert.innerText().catch(() => ""), { timeout: 30_000 }).toContain("refused");
    const end = await observe(page);
    expect(end.status).toBe("error");
    expect(end.label).toBe("refused");
    const text = await alert.innerText();
    expect(text).toContain("The model refused to answer");
    expect(text).toContain("refusal");
    expect(text).toContain("I'm sorry, but I can't help with that request.");
    expect(await stillStreaming(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}-refusal.png`, fullPage: true });
  }, 60_000);

  it("shows a schema mismatch's message", async () => {
    await startFromForm(page, {
      schema: "Support ticket triage",
      prompt: "My invoice was charged twice",
      fault: "schema-violation",
    });
    const alert = page.getByTestId("error");
    await expect.poll(() => alert.innerText().catch(() => ""), { timeout: 30_000 }).toContain("schema");
    expect((await observe(page)).status).toBe("error");
    const text = await alert.innerText();
    expect(text).toContain("The answer does not match the schema");
    expect(text).toContain("schema_mismatch");
    expect(await stillStreaming(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}-schema-mismatch.png`, fullPage: true });
  }, 60_000);

  it("shows a truncated answer as truncated: the open field incomplete, the list without a streaming badge", async () => {
    await startFromForm(page, { schema: "Recipe", prompt: PROMPT, fault: "truncate" });
    const seen = await watch(page);
    const end = seen.at(-1)!;
    expect(end.status).toBe("error");
    expect(end.label).toBe("truncated");
    expect(await page.getByTestId("error").innerText()).toContain("truncated");
    // What arrived stays; what was open when the answer stopped says so.
    const states = end.fields.map(([, state]) => state);
    expect(states).toContain("complete");
    expect(states.filter((s) => s !== "complete" && s !== "incomplete" && s !== "missing")).toEqual([]);
    expect(await stillStreaming(page)).toEqual([]);
    expect(await axeViolations(page)).toEqual([]);
    await page.screenshot({ path: `${SHOTS}-truncated.png`, fullPage: true });
  }, 60_000);

  it("shows the provider's dropped connection as a retry, in the future tense until it happens, then completes", async () => {
    const notices = await recordNotices(page);
    await startFromForm(page, {
      schema: "Support ticket triage",
      prompt: "My parcel never arrived",
      fault: "drop-once",
    });
    const seen = await watch(page);
    expect(seen.at(-1)?.status).toBe("complete");
    expect(await page.getByTestId("error").count()).toBe(0);
    const retry = (await notices()).filter(([kind]) => kind.startsWith("retry-notice"));
    const phases = [...new Set(retry.map(([kind]) => kind))];
    expect(phases).toEqual(["retry-notice:waiting", "retry-notice:retried"]);
    expect(retry[0]![1]).toMatch(/The provider failed; retrying in [\d.]+ s…/);
    expect(retry.at(-1)![1]).toMatch(/The provider failed; retried \(attempt 2\)\./);
    expect(Math.max(...seen.map((o) => o.notices.length))).toBe(1);
    await expect.poll(() => page.getByTestId("stats").innerText()).toMatch(/Provider retries\s+1/);
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SHOTS}-retry.png`, fullPage: true });
  }, 60_000);

  describe("on a phone (390x844)", () => {
    beforeAll(async () => {
      await page.setViewportSize(PHONE);
      // Record how the page scrolls, to check it honours prefers-reduced-motion.
      await page.addInitScript(() => {
        const scrolls: unknown[] = [];
        (window as unknown as { scrolls: unknown[] }).scrolls = scrolls;
        const original = Element.prototype.scrollIntoView;
        Element.prototype.scrollIntoView = function (
          this: Element,
          options?: boolean | ScrollIntoViewOptions,
        ) {
          scrolls.push({ target: this.getAttribute("aria-labelledby"), options });
          return original.call(this, options);
        };
      });
    });

    afterAll(async () => {
      await page.emulateMedia({ reducedMotion: null });
      await page.setViewportSize(DESKTOP);
    });

    /** Loads the page afresh, at the top, and starts a stream from the form. */
    async function startOnPhone(fault = "none") {
      await page.goto(demo.url);
      await page.getByRole("button", { name: "Stream the answer" }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
      await startFromForm(page, { schema: "Recipe", prompt: PROMPT, fault });
    }

    /** Where the answer card is against the viewport. */
    function answerBox() {
      return page.evaluate(() => {
        const card = document.querySelector('[aria-labelledby="answer-title"]')!.getBoundingClientRect();
        return { top: card.top, inView: card.top >= 0 && card.top < window.innerHeight };
      });
    }

    it("brings the answer into view as it starts streaming, smoothly", async () => {
      await page.emulateMedia({ reducedMotion: "no-preference" });
      await page.goto(demo.url);
      await page.getByRole("button", { name: "Stream the answer" }).scrollIntoViewIfNeeded();
      // The button is at the bottom of the form; the answer below it, out of sight.
      expect((await answerBox()).inView).toBe(false);
      await startOnPhone();
      await expect.poll(() => observe(page).then((o) => o.status), { timeout: 30_000 }).toBe("streaming");
      await expect.poll(() => answerBox().then((b) => b.inView), { timeout: 25_000 }).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { scrolls: unknown[] }).scrolls)).toEqual([
        { target: "answer-title", options: { behavior: "smooth", block: "start" } },
      ]);
      await page.screenshot({ path: `${SHOTS}-phone-streaming.png` });
      expect(await axeViolations(page)).toEqual([]);
      await watch(page);
      await page.screenshot({ path: `${SHOTS}-phone-complete.png` });
    }, 60_000);

    it("jumps instead of scrolling smoothly when the reader asked for reduced motion", async () => {
      await page.emulateMedia({ reducedMotion: "reduce" });
      await startOnPhone();
      await expect.poll(() => answerBox().then((b) => b.inView), { timeout: 30_000 }).toBe(true);
      expect(await page.evaluate(() => (window as unknown as { scrolls: unknown[] }).scrolls)).toEqual([
        { target: "answer-title", options: { behavior: "auto", block: "start" } },
      ]);
      await page.getByRole("button", { name: "Stop" }).click();
      await expect.poll(() => observe(page).then((o) => o.status)).toBe("error");
    }, 60_000);

    it("stops the model call with Stop, and shows it stopped, not as an error, with nothing left streaming", async () => {
      await page.emulateMedia({ reducedMotion: "no-preference" });
      await startOnPhone();
      await watch(page, (now) => new Map(now.fields).get("/summary") === "streaming");
      expect(demo.relay.running).toBe(1);
      cancels.length = 0;
      await page.getByRole("button", { name: "Stop" }).click();
      await expect.poll(() => observe(page).then((o) => o.status)).toBe("error");
      // The relay was asked to cancel, accepted, and the server-side stream (the model call) ended.
      await expect.poll(() => cancels).toEqual([202]);
      await expect.poll(() => demo.relay.running).toBe(0);
      const end = await observe(page);
      expect(end.label).toBe("stopped");
      const alert = page.getByTestId("error");
      expect(await alert.innerText()).toContain("Stopped");
      expect(await alert.getAttribute("class")).toContain("alert-muted");
      // /summary was streaming at the click; on a loaded machine it may complete before the stop
      // lands. Either way it is no longer streaming, and the answer was cut short.
      expect(["incomplete", "complete"]).toContain(new Map(end.fields).get("/summary"));
      expect(new Map(end.fields).get("/vegetarian")).toBe("missing");
      expect(await stillStreaming(page)).toEqual([]);
      await page.screenshot({ path: `${SHOTS}-phone-stopped.png`, fullPage: true });
      expect(await axeViolations(page)).toEqual([]);
    }, 60_000);

    it("shows a dropped connection in a notice that moves nothing on the page", async () => {
      await page.emulateMedia({ reducedMotion: "no-preference" });
      await startOnPhone();
      await watch(page, (now) => new Map(now.fields).get("/summary") === "complete");
      const before = await observe(page);
      await page.getByRole("button", { name: "Drop connection" }).click();
      const seen = await watch(page, (now) =>
        now.notices.some(([kind]) => kind === "connection-notice:resumed"),
      );
      const during = seen.filter((o) => o.notices.length > 0);
      expect(during.length).toBeGreaterThan(0);
      // The fields already complete stay where they were while the notice comes and changes (later
      // ones move down only as the fields above them grow).
      const done = before.fields.flatMap(([, state], index) => (state === "complete" ? [index] : []));
      expect(done.length).toBeGreaterThan(0);
      for (const o of during) expect(done.map((i) => o.tops[i])).toEqual(done.map((i) => before.tops[i]));
      expect(Math.max(...seen.map((o) => o.notices.length))).toBe(1);
      await page.screenshot({ path: `${SHOTS}-phone-reconnected.png` });
      expect(await axeViolations(page)).toEqual([]);
      // A reader can put it away at once.
      await page.getByRole("button", { name: "Dismiss" }).click();
      expect((await observe(page)).notices).toEqual([]);
      await watch(page);
    }, 60_000);
  });

  describe("with a model that answers differently when retried", () => {
    let diverging: DemoServer;

    beforeAll(async () => {
      diverging = await startDemoServer({
        port: 0,
        simulator: { deltasPerSecond: 45, divergeOnRetry: true },
      });
      await page.goto(diverging.url);
      await page.getByRole("button", { name: "Stream the answer" }).waitFor();
    });

    afterAll(async () => {
      await diverging?.close();
    });

    it("says the retry's answer replaced the earlier one, and shows only the retry's answer", async () => {
      await startFromForm(page, { schema: "Recipe", prompt: PROMPT, fault: "drop-once" });
      let titleBefore: string | undefined;
      const seen = await watch(page, async (now) => {
        if (titleBefore === undefined && new Map(now.fields).get("/title") === "complete")
          titleBefore = await page.locator('[data-pointer="/title"] [data-testid="value"]').innerText();
        return false;
      });
      expect(seen.at(-1)?.status).toBe("complete");
      const kinds = [...new Set(seen.flatMap((o) => o.notices.map(([kind]) => kind)))];
      // Waiting, then retried (the new attempt began), then replaced once its answer diverged.
      expect(kinds).toEqual(
        kinds.length === 2
          ? ["retry-notice:waiting", "retry-notice:retried:replaced"]
          : ["retry-notice:waiting", "retry-notice:retried", "retry-notice:retried:replaced"],
      );
      const replaced = seen.flatMap((o) => o.notices).find(([kind]) => kind.endsWith(":replaced"))![1];
      expect(replaced).toContain("the retry's answer replaced the earlier one");
      expect(Math.max(...seen.map((o) => o.notices.length))).toBe(1);
      // The page ends with the retry's answer, every field complete, the total never changed.
      const shown = JSON.parse(await page.locator('[data-testid="json"][data-final="true"]').innerText());
      expect(await page.locator('[data-pointer="/title"] [data-testid="value"]').innerText()).toBe(
        shown.title,
      );
      expect(titleBefore).toBeDefined();
      expect(shown.title).not.toBe(titleBefore);
      expect(seen.at(-1)!.fields.every(([, state]) => state === "complete")).toBe(true);
      expect([...new Set(seen.map((o) => o.progress.match(/ of (\d+) fields/)?.[1]))]).toEqual(["8"]);
      expect(await stillStreaming(page)).toEqual([]);
      await page.screenshot({ path: `${SHOTS}-rewind.png`, fullPage: true });
    }, 60_000);
  });

  describe("with a model that thinks before it answers", () => {
    let thinking: DemoServer;
    /** Opens the gate that holds each stream's answer until the test has seen its reasoning. */
    let release: () => void = () => {};
    let gate: Promise<void> = Promise.resolve();

    beforeAll(async () => {
      thinking = await startDemoServer({ port: 0, simulator: { pace: "fast", blocks: ["thinking"] } });
      // Each stream's answer waits, after the reasoning, until the test opens the gate: so "the
      // reasoning shows while the answer is still streaming" is a matter of order, not of timing.
      const start = thinking.relay.start.bind(thinking.relay);
      (thinking.relay as { start: typeof start }).start = (source, options) =>
        start(
          holdAnswerAfterReasoning(source, () => gate),
          options,
        );
      await page.goto(thinking.url);
      await page.getByRole("button", { name: "Stream the answer" }).waitFor();
    });

    afterAll(async () => {
      release();
      await thinking?.close();
    });

    it("shows the model's reasoning live in a collapsed panel, apart from the answer", async () => {
      gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      await startFromForm(page, { schema: "Support ticket triage", prompt: "My parcel never arrived" });
      const panel = page.getByTestId("reasoning");
      // Live: the panel is there while the answer is held back, so before the answer completes.
      await panel.waitFor({ state: "attached" });
      const live = await observe(page);
      expect(["connecting", "streaming"]).toContain(live.status);
      expect(await page.locator('[data-testid="json"][data-final="true"]').count()).toBe(0);
      expect(await panel.evaluate((e) => (e as HTMLDetailsElement).open)).toBe(false);
      const liveText = (await panel.locator("p").textContent()) ?? "";
      expect(liveText.length).toBeGreaterThan(0);
      release();
      const seen = await watch(page);
      expect(seen.at(-1)?.status).toBe("complete");
      expect(await panel.evaluate((e) => (e as HTMLDetailsElement).open)).toBe(false);
      await panel.locator("summary").click();
      const text = await panel.locator("p").innerText();
      expect(text.startsWith(liveText)).toBe(true);
      // Never the answer: the JSON holds none of it.
      expect(await page.getByTestId("json").innerText()).not.toContain(text.slice(0, 40));
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: `${SHOTS}-reasoning.png`, fullPage: true });
    }, 60_000);
  });
});
