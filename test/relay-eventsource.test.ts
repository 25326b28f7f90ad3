/**
 * The relay read by a plain `EventSource` in a real Chromium, with the example of docs/protocol.md:
 * the page gets the exact value, hears the failure on `stream-error` (not on `onerror`), and the
 * 204 the relay answers to the reconnection after the last event closes the EventSource instead of
 * replaying the stream every second.
 */
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { StreamError } from "../src/errors/index.ts";
import { createRelay, type Relay } from "../src/server/index.ts";
import { createRandom, fakeStream, randomAnswer, serve, type TestServer } from "./relay-fixtures.ts";
import { requires } from "./support/requires.ts";

const CHROMIUM = "/usr/bin/chromium";

/** The docs' example, with a small applier of the patch table, recording what it saw. */
const PAGE = `<!doctype html><meta charset="utf-8"><title>EventSource</title><script>
function applyOps(value, ops) {
  for (const [op, pointer, arg] of ops) {
    const keys = pointer === "" ? [] : pointer.slice(1).split("/").map((k) => k.replace(/~1/g, "/").replace(/~0/g, "~"));
    if (keys.length === 0) { value = op === ">" ? value + arg : arg; continue; }
    let parent = value;
    for (const k of keys.slice(0, -1)) parent = parent[k];
    const last = keys[keys.length - 1];
    if (op === ">") parent[last] += arg;
    else if (op === "-") Array.isArray(parent) ? parent.splice(Number(last), 1) : delete parent[last];
    else if (op === "+" && Array.isArray(parent)) parent.splice(Number(last), 0, arg);
    else Object.defineProperty(parent, last, { value: arg, writable: true, enumerable: true, configurable: true });
  }
  return value;
}
window.read = (url) => new Promise((resolve) => {
  const seen = { value: undefined, ended: undefined, onerrorData: [], opened: 0 };
  window.seen = seen;
  const source = new EventSource(url);
  window.source = source;
  source.onopen = () => seen.opened++;
  source.addEventListener("snapshot", (e) => (seen.value = JSON.parse(e.data).value));
  source.onmessage = (e) => (seen.value = applyOps(seen.value, JSON.parse(e.data)));
  source.addEventListener("complete", (e) => {
    const { value } = JSON.parse(e.data);
    if (value !== undefined) seen.value = value;
    seen.ended = "complete";          // no close(): the relay's 204 must stop the EventSource
    resolve(seen);
  });
  source.addEventListener("stream-error", (e) => {
    seen.ended = JSON.parse(e.data).code;
    resolve(seen);
  });
  source.onerror = (e) => { if ("data" in e) seen.onerrorData.push(e.data); };
});
</script>`;

requires(
  CHROMIUM,
  existsSync(CHROMIUM),
  "apt-get install chromium",
)("a plain EventSource in Chromium", () => {
  let relay: Relay;
  let server: TestServer;
  let context: BrowserContext;
  let profile: string;
  let page: Page;
  const gets = new Map<string, string[]>();

  beforeAll(async () => {
    relay = createRelay({ retryMs: 200 });
    server = await serve(async (request) => {
      const url = new URL(request.url);
      if (url.pathname === "/") return new Response(PAGE, { headers: { "content-type": "text/html" } });
      const id = url.pathname.split("/").pop() ?? "";
      gets.set(id, [...(gets.get(id) ?? []), request.headers.get("last-event-id") ?? ""]);
      return relay.handle(request);
    });
    profile = await mkdtemp(join(tmpdir(), "structream-eventsource-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-quic"],
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(`${server.url}/`);
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    if (profile !== undefined) await rm(profile, { recursive: true, force: true });
    await relay?.close();
    await server?.close();
  });

  it("gets the exact value, and stops after the end: one reconnection, answered 204", async () => {
    const answer = randomAnswer(createRandom(31), 3);
    const { id } = await relay.start(fakeStream(answer, { seed: 31, delayMs: 1 }));
    const seen = await page.evaluate(
      (url) => (window as unknown as { read(u: string): Promise<unknown> }).read(url),
      `/streams/${id}`,
    );
    expect(seen).toMatchObject({ value: answer, ended: "complete", onerrorData: [] });
    // EventSource reconnects when the response ends; the relay's 204 closes it for good.
    await page.waitForFunction(() => (window as unknown as { source: EventSource }).source.readyState === 2);
    const requests = gets.get(id) ?? [];
    expect(requests).toHaveLength(2);
    expect(requests[0]).toBe("");
    expect(Number(requests[1])).toBeGreaterThan(10);
    await new Promise((r) => setTimeout(r, 600));
    expect(gets.get(id)).toHaveLength(2);
  }, 30_000);

  it("hears a failure on stream-error, not on onerror", async () => {
    const { id } = await relay.start(
      fakeStream({ a: "partial" }, { failWith: new StreamError("refusal", "I can't help with that.") }),
    );
    const seen = await page.evaluate(
      (url) => (window as unknown as { read(u: string): Promise<unknown> }).read(url),
      `/streams/${id}`,
    );
    expect(seen).toMatchObject({ value: { a: "partial" }, ended: "refusal", onerrorData: [] });
    await page.waitForFunction(() => (window as unknown as { source: EventSource }).source.readyState === 2);
    expect(gets.get(id)).toHaveLength(2);
  }, 30_000);
});
