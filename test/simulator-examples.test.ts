/**
 * Every schema shipped in examples/ through every wire format the simulator speaks, for several
 * seeds: the request is built by structream's own request builders (which move constraints where
 * each provider wants them: Anthropic's structured outputs into the descriptions), the simulator
 * answers it, and the answer completes and validates against the original schema.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAnthropicRequest, type ProviderId } from "../src/providers/index.ts";
import { compileSchema, type JsonSchemaObject } from "../src/schema/index.ts";
import { type Simulator, startSimulator } from "../src/simulator/index.ts";
import { structuredStream } from "../src/stream/index.ts";

const EXAMPLES = join(import.meta.dirname, "..", "examples");
const SEEDS = [0, 1, 2, 3, "lemon"];
const PROMPTS = ["A recipe for lemon bread", "Summarize the history of the printing press"];

type Wire = Exclude<ProviderId, "text"> | "anthropic-tool";
const WIRES: readonly Wire[] = [
  "openai-chat",
  "openai-responses",
  "anthropic",
  "anthropic-tool",
  "gemini",
  "ollama",
];

const BASE: Record<Exclude<Wire, "anthropic-tool">, string> = {
  "openai-chat": "/v1",
  "openai-responses": "/v1",
  anthropic: "/v1",
  gemini: "/v1beta",
  ollama: "",
};

/** Every example schema: the JSON files as they are, the .ts ones through their JSON Schema. */
async function exampleSchemas(): Promise<[string, JsonSchemaObject][]> {
  const out: [string, JsonSchemaObject][] = [];
  for (const file of readdirSync(EXAMPLES).sort()) {
    if (file.endsWith(".json")) out.push([file, JSON.parse(readFileSync(join(EXAMPLES, file), "utf8"))]);
    else if (file.endsWith(".ts")) {
      const module = (await import(join(EXAMPLES, file))) as { default?: unknown; schema?: unknown };
      const jsonSchema = compileSchema((module.schema ?? module.default) as never).jsonSchema;
      if (jsonSchema === undefined) throw new Error(`${file}: no JSON Schema`);
      out.push([file, jsonSchema]);
    }
  }
  return out;
}

let sim: Simulator;
let schemas: [string, JsonSchemaObject][];

beforeAll(async () => {
  sim = await startSimulator({ pace: "fast" });
  schemas = await exampleSchemas();
});

afterAll(async () => {
  await sim.close();
});

function streamFor(wire: Wire, schema: JsonSchemaObject, seed: number | string, prompt: string) {
  const request = { model: "structream-sim", messages: [{ role: "user" as const, content: prompt }] };
  const headers = { "x-sim-seed": String(seed) };
  if (wire === "anthropic-tool") {
    // The forced-tool path: the schema goes as the tool's input_schema, untouched.
    const built = buildAnthropicRequest({
      schema,
      request,
      baseURL: `${sim.url}/v1`,
      headers,
      anthropicMode: "tool",
    });
    return structuredStream({
      schema,
      provider: "anthropic",
      maxRetries: 0,
      source: () => fetch(built.url, built.init),
    });
  }
  return structuredStream({
    schema,
    request,
    provider: wire,
    baseURL: `${sim.url}${BASE[wire]}`,
    apiKey: "sim",
    headers,
    maxRetries: 0,
  });
}

describe("every example schema, every wire format, several seeds", () => {
  it("finds the shipped examples (JSON and TypeScript)", () => {
    const names = schemas.map(([name]) => name);
    expect(names).toContain("recipe.schema.json");
    expect(names).toContain("article-summary.schema.ts");
    expect(names.length).toBeGreaterThanOrEqual(4);
  });

  it.each(WIRES)("answers each example validly over %s", async (wire) => {
    const failures: string[] = [];
    for (const [name, schema] of schemas) {
      const compiled = compileSchema(schema);
      for (const [i, seed] of SEEDS.entries()) {
        const prompt = PROMPTS[i % PROMPTS.length]!;
        const stream = streamFor(wire, schema, seed, prompt);
        try {
          const value = await stream.result;
          const outcome = await compiled.validateFinal(value);
          if ("issues" in outcome && outcome.issues !== undefined)
            failures.push(`${name} seed ${seed}: ${JSON.stringify(outcome.issues)}`);
        } catch (error) {
          const e = error as { code?: string; message?: string; issues?: unknown };
          failures.push(`${name} seed ${seed}: ${e.code} ${e.message} ${JSON.stringify(e.issues ?? "")}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });
});
