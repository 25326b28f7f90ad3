// The README's smallest example runs, and every value its comments promise is what it gives.
import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import * as structream from "../src/index.ts";

async function codeBlockAfter(heading: string): Promise<string> {
  const readme = await readFile(new URL("../README.md", import.meta.url), "utf8");
  const section = readme.slice(readme.indexOf(heading));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (match === null) throw new Error(`No ts code block after ${heading}`);
  return match[1];
}

describe("the README", () => {
  it("shows in its smallest example exactly the values the parser gives", async () => {
    const code = await codeBlockAfter("## The smallest example");
    const lines = code.split("\n").filter((line) => !line.startsWith("import ") && line.trim() !== "");
    const checks: { expression: string; expected: string }[] = [];
    const body = lines
      .map((line) => {
        const comment = /^(.*?);\s*\/\/\s*(\{.*?\}|\[.*?\]|".*?")(\s|,|$)/.exec(line);
        if (comment === null) return line;
        checks.push({ expression: comment[1], expected: comment[2] });
        return `__seen.push(${comment[1]});`;
      })
      .join("\n");
    const run = new Function("structream", "__seen", `const { createParser } = structream;\n${body}`);
    const seen: unknown[] = [];
    run(structream, seen);
    expect(checks.length).toBeGreaterThanOrEqual(4);
    checks.forEach((check, i) => {
      const expected = new Function(`return (${check.expected});`)();
      expect(seen[i], check.expression).toEqual(expected);
    });
  });
});
