// An integration suite whose dependency is missing skips locally and fails under CI=true.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

function runFixture(ci: string | undefined) {
  const env = { ...process.env };
  delete env.CI;
  if (ci !== undefined) env.CI = ci;
  const result = spawnSync(
    process.execPath,
    ["node_modules/vitest/vitest.mjs", "run", "--config", "test/fixtures/requires/vitest.config.ts"],
    { cwd: ROOT, env, encoding: "utf8", timeout: 120_000 },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("a suite whose dependency is missing", () => {
  it("fails the run under CI=true with a message that says what is missing and how to get it", () => {
    const { status, output } = runFixture("true");
    expect(status).toBe(1);
    expect(output).toContain("a dependency that is never installed is missing: install it");
  });

  it("is skipped with a warning outside CI", () => {
    const { status, output } = runFixture(undefined);
    expect(status).toBe(0);
    expect(output).toMatch(
      /skipping "a suite that needs it": a dependency that is never installed is missing/,
    );
  });
});
