import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UsageError } from "./args.ts";
import { loadSchema } from "./load-schema.ts";

const root = new URL("../../", import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "structream-schema-"));
  await writeFile(join(dir, "bad.json"), "{ not json");
  await writeFile(join(dir, "list.json"), "[1, 2]");
  await writeFile(
    join(dir, "plain.mjs"),
    'export const schema = { type: "object", properties: { a: { type: "string" } } };',
  );
  await writeFile(join(dir, "none.mjs"), "export const answer = 42;");
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("loading --schema", () => {
  it("reads a JSON Schema file", async () => {
    const loaded = await loadSchema("examples/article-summary.schema.json", root, "run");
    expect(loaded.compiled.kind).toBe("json-schema");
    expect(Object.keys(loaded.compiled.jsonSchema.properties as object)).toEqual([
      "title",
      "summary",
      "key_points",
      "sentiment",
      "word_count",
      "sections",
      "published_at",
    ]);
  });

  it("imports a TypeScript module exporting a zod schema (through tsx)", async () => {
    const loaded = await loadSchema("examples/article-summary.schema.ts", root, "run");
    expect(loaded.compiled.kind).toBe("standard");
    expect(loaded.compiled.vendor).toBe("zod");
    expect(Object.keys(loaded.compiled.jsonSchema.properties as object)).toContain("sections");
  }, 30_000);

  it("imports a JavaScript module exporting a JSON Schema as `schema`", async () => {
    const loaded = await loadSchema("plain.mjs", dir, "run");
    expect(loaded.compiled.jsonSchema).toMatchObject({ properties: { a: { type: "string" } } });
  });

  it.each([
    ["missing.json", /missing\.json: no such file/],
    ["missing.mjs", /missing\.mjs: no such file/],
    ["bad.json", /bad\.json is not JSON/],
    ["list.json", /holds an array, not a JSON Schema object/],
    ["none.mjs", /exports answer: export the schema as "default" or "schema"/],
  ])("reports %s as bad usage, in words", async (file, message) => {
    const error = await loadSchema(file, dir, "run").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  });
});
