/**
 * `structream serve` as an operator sees it: DNS rebinding (Host and Origin checked against the
 * address it serves), the stream limit under concurrent starts, and Stop (DELETE on the stream, or
 * the client's `cancel()`) that ends the model call and reads as "aborted", not as a failure.
 */
import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { allowedHostsFor, type DemoServer, startDemoServer } from "../src/cli/serve.ts";
import { subscribe } from "../src/client/index.ts";

/** A request with headers fetch would not let us set (Host). */
function raw(
  url: string,
  path: string,
  headers: Record<string, string>,
  method = "GET",
  body?: string,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        text += chunk;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

const start = (demo: DemoServer, headers: Record<string, string> = {}) =>
  fetch(`${demo.url}/api/streams`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ prompt: "A lemon drizzle cake", schema: "recipe" }),
  });

describe("structream serve under attack and load", () => {
  let demo: DemoServer;

  beforeAll(async () => {
    demo = await startDemoServer({
      port: 0,
      simulator: { deltasPerSecond: 40 },
      allowedHosts: ["demo.test"],
    });
  });

  afterAll(async () => {
    await demo?.close();
  });

  it("answers only to its own address: another Host or Origin gets 403", async () => {
    const port = demo.port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `demo.test:${port}`]) {
      expect((await raw(demo.url, "/api/config", { host })).status, host).toBe(200);
    }
    for (const host of [
      `attacker.example:${port}`,
      "127.0.0.1",
      `127.0.0.1:${port + 1}`,
      "localhost.attacker.example",
    ]) {
      const response = await raw(demo.url, "/api/config", { host });
      expect(response.status, host).toBe(403);
      expect(JSON.parse(response.body).error.code).toBe("host_not_allowed");
    }
    // A rebinding page sends its own name as Origin (and, once rebound, as Host).
    const body = JSON.stringify({ prompt: "x", schema: "recipe" });
    for (const origin of ["http://attacker.example", "null", `http://127.0.0.1:${port + 1}`]) {
      const response = await raw(
        demo.url,
        "/api/streams",
        { host: `127.0.0.1:${port}`, origin, "content-type": "application/json" },
        "POST",
        body,
      );
      expect(response.status, origin).toBe(403);
      expect(JSON.parse(response.body).error.code).toBe("origin_not_allowed");
    }
    expect(demo.relay.running).toBe(0);
    const same = await start(demo, { origin: demo.url });
    expect(same.status).toBe(201);
    const { url, token } = (await same.json()) as { url: string; token: string };
    await fetch(`${demo.url}${url}`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } });
  });

  it("lists loopback names for a loopback address, and only the address otherwise", () => {
    expect(allowedHostsFor("127.0.0.1", 3000)).toEqual(
      new Set(["127.0.0.1:3000", "[::1]:3000", "localhost:3000"]),
    );
    expect(allowedHostsFor("192.168.1.20", 80, ["demo.example.com"])).toEqual(
      new Set(["192.168.1.20:80", "192.168.1.20", "demo.example.com", "demo.example.com:80"]),
    );
  });

  it("starts at most maxStreams (100) of 150 concurrent POSTs; the rest get 503 with Retry-After", async () => {
    const responses = await Promise.all(Array.from({ length: 150 }, () => start(demo)));
    const accepted = responses.filter((r) => r.status === 201);
    const refused = responses.filter((r) => r.status !== 201);
    expect(accepted.length).toBeLessThanOrEqual(100);
    expect(accepted.length + demo.relay.running).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.headers.get("retry-after")).toMatch(/^\d+$/);
    }
    expect(demo.relay.running).toBeLessThanOrEqual(100);
    // Stop them all, as the page's Stop does.
    const stopped = await Promise.all(
      accepted.map(async (r) => {
        const { url, token } = (await r.json()) as { url: string; token: string };
        return fetch(`${demo.url}${url}`, {
          method: "DELETE",
          headers: { authorization: `Bearer ${token}` },
        });
      }),
    );
    for (const r of stopped) expect([202, 204]).toContain(r.status);
    for (const r of refused) await r.body?.cancel();
    while (demo.relay.running > 0) await new Promise((r) => setTimeout(r, 10));
  });

  it("Stop: the client's cancel() ends the model call, and the stream ends as aborted", async () => {
    const response = await start(demo);
    const { url, token, id } = (await response.json()) as { url: string; token: string; id: string };
    const s = subscribe(`${demo.url}${url}`, { token });
    while (s.value === undefined) await new Promise((r) => setTimeout(r, 10));
    expect(demo.relay.running).toBe(1);
    expect(await s.cancel("Stopped from the page.")).toBe(true);
    await expect(s.done).rejects.toMatchObject({ code: "aborted" });
    await demo.relay.finished(id);
    expect(demo.relay.running).toBe(0);
    // A reader that comes later hears how it ended: aborted, not an error of the model.
    const late = subscribe(`${demo.url}${url}`, { token });
    await expect(late.done).rejects.toMatchObject({ code: "aborted" });
    expect((await fetch(`${demo.url}/api/health`).then((r) => r.json())).connections).toBe(0);
  });
});
