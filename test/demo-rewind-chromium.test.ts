/**
 * The demo page in a real Chromium when the provider's retry answers differently (issue 11,
 * item 1): the simulator diverges on a retry, the first attempt drops mid-answer, and the page's
 * retry notice says the retry's answer replaced the earlier one. Built into a directory of its own,
 * so it never races the other Chromium suite's build of demo/dist.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type DemoServer, startDemoServer } from "../src/cli/serve.ts";
import { requires } from "./support/requires.ts";

const CHROMIUM = "/usr/bin/chromium";

requires(
  CHROMIUM,
  existsSync(CHROMIUM),
  "apt-get install chromium (or npm test, whose pretest installs it)",
)("the demo page when a retry's answer differs", () => {
  let demo: DemoServer;
  let context: BrowserContext;
  let dir: string;
  let page: Page;
  const problems: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "structream-demo-rewind-"));
    const vite = await import("vite");
    const root = fileURLToPath(new URL("../demo/", import.meta.url));
    await vite.build({
      configFile: join(root, "vite.config.ts"),
      logLevel: "warn",
      build: { outDir: join(dir, "dist"), emptyOutDir: true },
    });
    demo = await startDemoServer({
      port: 0,
      staticDir: join(dir, "dist"),
      simulator: { divergeOnRetry: true, deltasPerSecond: 120 },
    });
    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"],
      viewport: { width: 1280, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
    await page.goto(demo.url);
    await page.getByRole("button", { name: "Stream the answer" }).waitFor();
  }, 180_000);

  afterAll(async () => {
    await context?.close();
    await demo?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("says the retry's answer replaced the earlier one, and completes", async () => {
    await page.getByRole("radio", { name: "Support ticket triage" }).check();
    await page.getByLabel("Prompt").fill("My parcel never arrived");
    await page.getByLabel("Simulated fault").selectOption("drop-once");
    await page.getByRole("button", { name: "Stream the answer" }).click();
    const notices: { replaced: string | undefined; text: string }[] = [];
    const deadline = Date.now() + 60_000;
    let status = "";
    while (Date.now() < deadline) {
      const now = await page.evaluate(() => ({
        status: document.querySelector<HTMLElement>('[data-testid="status"]')?.dataset.status ?? "",
        notices: [...document.querySelectorAll<HTMLElement>('[data-testid="retry-notice"]')].map((n) => ({
          replaced: n.dataset.replaced,
          text: n.textContent ?? "",
        })),
      }));
      notices.push(...now.notices);
      status = now.status;
      if (status === "complete" || status === "error") break;
      await page.waitForTimeout(25);
    }
    expect(status).toBe("complete");
    const replaced = notices.find((n) => n.replaced === "true");
    expect(replaced?.text).toMatch(/retried \(attempt 2\): the retry's answer replaced the earlier one\./);
    expect(problems).toEqual([]);
  }, 90_000);
});
