/**
 * The `structream serve` server over real HTTP: its API's answers to good and bad requests, the
 * relayed stream end to end (simulator and "real provider" modes), static files, and teardown.
 */

import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoServer, loadDemoSchemas, serveCommand, startDemoServer } from "../src/cli/serve.ts";
import { subscribe } from "../src/client/index.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { structuredStream } from "../src/stream/index.ts";

/** A raw GET, so the path is sent exactly as written (fetch would fold `..`). */
function rawGet(url: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${url}${path}`, { method: "GET", path }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
      });
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers["content-type"] ?? "", body }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function post(url: string, body: string, type = "application/json"): Promise<Response> {
  return fetch(`${url}/api/streams`, { method: "POST", headers: { "content-type": type }, body });
}

async function expectError(response: Response, status: number, code: string, message: RegExp): Promise<void> {
  expect(response.status).toBe(status);
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message).toMatch(message);
}

const PROMPT = "A lemon drizzle cake for a rainy Sunday afternoon";

describe("the demo server with the simulator", () => {
  let demo: DemoServer;
  let staticDir: string;

  beforeAll(async () => {
    staticDir = await mkdtemp(join(tmpdir(), "structream-demo-static-"));
    await mkdir(join(staticDir, "assets"));
    await writeFile(join(staticDir, "index.html"), "<!doctype html><title>demo</title>");
    await writeFile(join(staticDir, "assets", "app-1234.js"), "console.log('demo');");
    demo = await startDemoServer({ port: 0, staticDir, simulator: { pace: "fast" } });
  });

  afterAll(async () => {
    await demo?.close();
    await rm(staticDir, { recursive: true, force: true });
  });

  it("describes itself: simulator mode, wire formats, faults and the example schemas", async () => {
    const config = (await (await fetch(`${demo.url}/api/config`)).json()) as {
      mode: string;
      providers: string[];
      faults: { id: string }[];
      schemas: { name: string; title: string; prompt: string; schema: { type: string } }[];
    };
    expect(config.mode).toBe("simulator");
    expect(config.providers).toContain("anthropic");
    expect(config.faults.map((f) => f.id)).toEqual(
      expect.arrayContaining(["none", "refusal", "schema-violation"]),
    );
    const recipe = config.schemas.find((s) => s.name === "recipe");
    expect(recipe).toMatchObject({ title: "Recipe", prompt: PROMPT, schema: { type: "object" } });
  });

  it("starts a stream whose relayed value is exactly what the simulator sent", async () => {
    const response = await post(demo.url, JSON.stringify({ prompt: PROMPT, schema: "recipe" }));
    expect(response.status).toBe(201);
    const { id, token, url } = (await response.json()) as { id: string; token: string; url: string };
    expect(url).toBe(`/api/streams/${id}`);
    expect(token).toEqual(expect.any(String));

    const answer = subscribe(`${demo.url}${url}`, { token });
    const value = await answer.done;

    const recipe = (await loadDemoSchemas()).find((s) => s.name === "recipe")!;
    const direct = structuredStream({
      request: { model: "structream-sim", messages: [{ role: "user", content: PROMPT }] },
      baseURL: `${demo.simulator!.url}/v1`,
      schema: recipe.schema,
    });
    expect(value).toEqual(await direct.result);
  });

  it.each(["openai-responses", "anthropic", "gemini", "ollama"])(
    "speaks the %s wire format to the simulator",
    async (provider) => {
      const response = await post(
        demo.url,
        JSON.stringify({ prompt: "My parcel never arrived", schema: "support-ticket", provider }),
      );
      expect(response.status).toBe(201);
      const { url, token } = (await response.json()) as { url: string; token: string };
      const value = (await subscribe(`${demo.url}${url}`, { token }).done) as { category: string };
      expect(["billing", "technical", "account", "shipping", "other"]).toContain(value.category);
    },
  );

  it("refuses the stream without its token", async () => {
    const response = await post(demo.url, JSON.stringify({ prompt: PROMPT, schema: "recipe" }));
    const { url } = (await response.json()) as { url: string };
    expect((await fetch(`${demo.url}${url}`)).status).toBe(401);
  });

  it("relays the fault the page picked, as the stream's error", async () => {
    const response = await post(
      demo.url,
      JSON.stringify({ prompt: PROMPT, schema: "recipe", fault: "refusal" }),
    );
    const { url, token } = (await response.json()) as { url: string; token: string };
    const answer = subscribe(`${demo.url}${url}`, { token });
    await expect(answer.done).rejects.toMatchObject({
      code: "refusal",
      message: expect.stringContaining("can't help"),
    });
  });

  it("answers bad requests with a status and a message a person can act on", async () => {
    await expectError(await post(demo.url, '{"prompt": "x",'), 400, "invalid_json", /not valid JSON/);
    await expectError(
      await post(demo.url, "prompt=x", "application/x-www-form-urlencoded"),
      415,
      "unsupported_media_type",
      /JSON/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x".repeat(70_000), schema: "recipe" })),
      413,
      "payload_too_large",
      /64 KB/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x".repeat(5_000), schema: "recipe" })),
      400,
      "invalid_request",
      /longer than 4000/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "  ", schema: "recipe" })),
      400,
      "invalid_request",
      /Write a prompt/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x", schema: "nope" })),
      400,
      "invalid_request",
      /Unknown schema "nope": choose one of .*"recipe"/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x", schema: "recipe", fault: "sim-explode" })),
      400,
      "invalid_request",
      /Unknown fault/,
    );
    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x", schema: "recipe", provider: "text" })),
      400,
      "invalid_request",
      /Unknown provider/,
    );
    await expectError(await post(demo.url, JSON.stringify(["x"])), 400, "invalid_request", /JSON object/);
    await expectError(await fetch(`${demo.url}/api/streams`), 405, "method_not_allowed", /POST/);
    await expectError(await fetch(`${demo.url}/api/nothing`), 404, "not_found", /No route/);
  });

  it("serves the page and its assets, and nothing outside them", async () => {
    const index = await rawGet(demo.url, "/");
    expect(index.status).toBe(200);
    expect(index.type).toContain("text/html");
    expect(index.body).toContain("<title>demo</title>");
    const asset = await fetch(`${demo.url}/assets/app-1234.js`);
    expect(asset.headers.get("content-type")).toContain("text/javascript");
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect((await rawGet(demo.url, "/../package.json")).status).toBe(404);
    expect((await rawGet(demo.url, "/%2e%2e/%2e%2e/package.json")).status).toBe(404);
    expect((await rawGet(demo.url, "/missing.js")).status).toBe(404);
    expect((await rawGet(demo.url, "/%E0%A4%A")).status).toBe(400);
  });
});

describe("the demo server with a provider (an API key or a base URL)", () => {
  let simulator: Simulator;
  let demo: DemoServer;

  beforeAll(async () => {
    // Stands in for the real provider: the demo server treats it as one (no faults, no choice of format).
    simulator = await startSimulator({ pace: "fast" });
    demo = await startDemoServer({
      port: 0,
      apiKey: "sk-test",
      baseURL: `${simulator.url}/v1`,
      model: "gpt-test",
    });
  });

  afterAll(async () => {
    await demo?.close();
    await simulator?.close();
  });

  it("asks the provider, and allows no simulator faults", async () => {
    expect(demo.simulator).toBeUndefined();
    const config = (await (await fetch(`${demo.url}/api/config`)).json()) as {
      mode: string;
      model: string;
      faults: unknown[];
    };
    expect(config).toMatchObject({ mode: "provider", model: "gpt-test", faults: [] });

    const response = await post(
      demo.url,
      JSON.stringify({ prompt: "My parcel never arrived", schema: "support-ticket" }),
    );
    const { url, token } = (await response.json()) as { url: string; token: string };
    const value = (await subscribe(`${demo.url}${url}`, { token }).done) as { subject: string };
    expect(value.subject).toEqual(expect.any(String));

    await expectError(
      await post(demo.url, JSON.stringify({ prompt: "x", schema: "recipe", fault: "refusal" })),
      400,
      "invalid_request",
      /Faults need the simulator/,
    );
  });

  it("needs a model name", async () => {
    await expect(startDemoServer({ port: 0, apiKey: "sk-test" })).rejects.toThrow(/model/);
  });
});

describe("teardown", () => {
  it("closes open event streams and every socket", async () => {
    const demo = await startDemoServer({ port: 0, simulator: { deltasPerSecond: 5 } });
    const response = await post(demo.url, JSON.stringify({ prompt: PROMPT, schema: "recipe" }));
    const { url, token } = (await response.json()) as { url: string; token: string };
    const events = await fetch(`${demo.url}${url}`, { headers: { authorization: `Bearer ${token}` } });
    expect(events.headers.get("content-type")).toContain("text/event-stream");
    const reader = events.body!.getReader();
    await reader.read();
    // close() resolving at all is the check: the stream (5 deltas/s) is far from its end.
    await demo.close();
    // The body ends (or breaks) instead of hanging.
    const drained = (async () => {
      while (!(await reader.read()).done) {}
      return "ended";
    })().catch(() => "broken");
    const hangs = new Promise((resolve) => setTimeout(resolve, 2_000, "hangs"));
    expect(await Promise.race([drained, hangs])).not.toBe("hangs");
  });
});

describe("structream serve", () => {
  it("prints its help", async () => {
    let out = "";
    expect(await serveCommand(["--help"], { stdout: (t) => (out += t) })).toBe(0);
    expect(out).toContain("Usage: structream serve");
  });

  it("rejects bad arguments with exit code 2", async () => {
    let err = "";
    const io = { stderr: (t: string) => (err += t), stdout: () => {} };
    expect(await serveCommand(["--port", "http"], io)).toBe(2);
    expect(err).toContain("--port must be an integer");
    expect(await serveCommand(["--provider", "acme"], io)).toBe(2);
    expect(await serveCommand(["--bogus"], io)).toBe(2);
  });

  it("serves until its signal aborts, then closes", async () => {
    const controller = new AbortController();
    let out = "";
    let url = "";
    const done = serveCommand(["--port", "0"], {
      stdout: (t) => (out += t),
      signal: controller.signal,
      onListening: (server) => {
        url = server.url;
        controller.abort();
      },
    });
    expect(await done).toBe(0);
    expect(out).toMatch(/structream demo on http:\/\/127\.0\.0\.1:\d+ \(the provider simulator answers/);
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
  });
});
