/**
 * The demo page in a real Chromium: the page served by `structream serve`, the relay and the
 * simulator, driven as a person would, with the connection cut mid-stream.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { buildDemo, type DemoServer, loadDemoSchemas, startDemoServer } from "../src/cli/serve.ts";
import { structuredStream } from "../src/stream/index.ts";
import { requires } from "./support/requires.ts";

const CHROMIUM = "/usr/bin/chromium";
const hasChromium = existsSync(CHROMIUM);

const PROMPT = "A lemon drizzle cake for a rainy Sunday afternoon";
const SHOTS = "/tmp/structream-demo";

interface Observation {
  status: string;
  percent: number;
  connection: string[];
  /** Top-level fields in page order: [pointer, state]. */
  fields: [string, string][];
}

/** What the page shows now, read from the DOM. */
function observe(page: Page): Promise<Observation> {
  return page.evaluate(() => {
    const fields = [...document.querySelectorAll<HTMLElement>('[data-testid="fields"] > ul > li.field')].map(
      (li) => [li.dataset.pointer ?? "", li.dataset.state ?? ""] as [string, string],
    );
    return {
      status: document.querySelector('[data-testid="status"]')?.textContent?.trim() ?? "",
      percent: Number(
        document.querySelector('[data-testid="progress"]')?.getAttribute("aria-valuenow") ?? "0",
      ),
      connection: [...document.querySelectorAll('[data-testid="connection-notice"]')].map(
        (n) => n.textContent ?? "",
      ),
      fields,
    };
  });
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
  /** Uncaught errors and console errors in the page: none is expected. */
  const problems: string[] = [];

  beforeAll(async () => {
    // Always from the current sources: a stale build would test yesterday's page.
    await buildDemo();
    // A slower model than the default, so a person (and this test) can act mid-stream.
    demo = await startDemoServer({ port: 0, simulator: { deltasPerSecond: 45 } });
    const handle = demo.relay.handle.bind(demo.relay);
    (demo.relay as { handle: typeof handle }).handle = (request) => {
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

    const seen: Observation[] = [];
    let dropped = false;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      const now = await observe(page);
      seen.push(now);
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
      if (now.status === "complete" || now.status === "error") break;
      await page.waitForTimeout(25);
    }
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
    // Fields completed in the schema's order, one after another.
    const completedAt = order.map((pointer) =>
      seen.findIndex((o) => o.fields.some(([p, state]) => p === pointer && state === "complete")),
    );
    expect(completedAt.every((index) => index >= 0)).toBe(true);
    expect(completedAt).toEqual([...completedAt].sort((a, b) => a - b));
    expect(new Set(completedAt).size).toBeGreaterThan(3);

    // The drop was seen, and the client came back with Last-Event-ID.
    const notices = seen.at(-1)!.connection.join("\n");
    const lostAt = notices.match(/Connection to the relay lost after event (\d+)/)?.[1];
    const resumedAt = notices.match(/Resumed after event (\d+) with Last-Event-ID/)?.[1];
    expect(lostAt).toBeDefined();
    expect(resumedAt).toBe(lostAt);
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
    await page.waitForTimeout(300); // the progress bar's transition
    await page.screenshot({ path: `${SHOTS}-complete.png`, fullPage: true });
  }, 90_000);

  it("shows a refusal's message", async () => {
    await startFromForm(page, { schema: "Recipe", prompt: PROMPT, fault: "refusal" });
    const alert = page.getByTestId("error");
    await expect.poll(() => alert.innerText().catch(() => ""), { timeout: 30_000 }).toContain("refused");
    expect((await observe(page)).status).toBe("error");
    const text = await alert.innerText();
    expect(text).toContain("The model refused to answer");
    expect(text).toContain("refusal");
    expect(text).toContain("I'm sorry, but I can't help with that request.");
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
    await page.screenshot({ path: `${SHOTS}-schema-mismatch.png`, fullPage: true });
  }, 60_000);

  it("shows the provider's dropped connection as a retry, then completes", async () => {
    await startFromForm(page, {
      schema: "Support ticket triage",
      prompt: "My parcel never arrived",
      fault: "drop-once",
    });
    await page.getByTestId("retry-notice").first().waitFor({ timeout: 30_000 });
    await expect.poll(() => observe(page).then((o) => o.status), { timeout: 30_000 }).toBe("complete");
    expect(await page.getByTestId("error").count()).toBe(0);
    expect(await page.getByTestId("retry-notice").first().innerText()).toMatch(
      /The provider failed; retry 1 in \d+ ms/,
    );
    await page.waitForTimeout(300);
    await page.screenshot({ path: `${SHOTS}-retry.png`, fullPage: true });
  }, 60_000);
});
