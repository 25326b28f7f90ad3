import { describe, expect, it } from "vitest";
import { StreamError } from "../errors/index.ts";
import { ndjsonLine, toNdjsonRecord } from "./render-ndjson.ts";

describe("NDJSON records", () => {
  it("gives every event type its record, with the time since the start", () => {
    expect(toNdjsonRecord({ type: "status", status: "streaming" }, 5)).toEqual({
      type: "status",
      t: 5,
      status: "streaming",
    });
    const progress = { completed: 1, total: 2, percent: 50, pending: ["/b"] };
    expect(toNdjsonRecord({ type: "partial", value: { a: 1 }, progress }, 6)).toEqual({
      type: "partial",
      t: 6,
      value: { a: 1 },
      progress,
    });
    const changes: ["+", string, unknown][] = [["+", "/a", 1]];
    expect(toNdjsonRecord({ type: "partial", value: { a: 1 }, progress, changes }, 6)).toEqual({
      type: "partial",
      t: 6,
      patch: changes,
      progress,
    });
    expect(
      toNdjsonRecord({ type: "partial", value: { a: 1 }, progress, changes }, 6, { snapshot: true }),
    ).toEqual({
      type: "partial",
      t: 6,
      patch: changes,
      value: { a: 1 },
      progress,
    });
    expect(toNdjsonRecord({ type: "field", path: ["o"], pointer: "/o", value: { a: 1 } }, 7)).toEqual({
      type: "field",
      t: 7,
      pointer: "/o",
    });
    expect(toNdjsonRecord({ type: "field", path: ["a"], pointer: "/a", value: 1 }, 7)).toEqual({
      type: "field",
      t: 7,
      pointer: "/a",
      value: 1,
    });
    const lost = new StreamError("connection_lost", "The connection broke.");
    expect(toNdjsonRecord({ type: "retry", attempt: 1, delayMs: 300, error: lost }, 8)).toEqual({
      type: "retry",
      t: 8,
      attempt: 1,
      delayMs: 300,
      code: "connection_lost",
      message: "The connection broke.",
    });
    expect(
      toNdjsonRecord({ type: "field-state", path: ["a"], pointer: "/a", state: "complete" }, 9),
    ).toBeUndefined();
  });

  it("reports an error with its exit code, what to do, the partial value and the schema issues", () => {
    const issues = [{ path: ["s"], pointer: "/s", code: "invalid_enum", message: "Expected a or b" }];
    const error = new StreamError("schema_mismatch", "The answer does not match.", {
      partial: { s: "c" },
      issues,
    });
    expect(toNdjsonRecord({ type: "error", error }, 10)).toEqual({
      type: "error",
      t: 10,
      code: "schema_mismatch",
      message: "The answer does not match.",
      hint: expect.stringMatching(/schema/),
      exitCode: 5,
      partial: { s: "c" },
      issues,
    });
  });

  it("writes one record per line, whatever the strings hold", () => {
    const line = ndjsonLine({ type: "partial", t: 1, value: { text: "a\nb\r\u2028c" } });
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toMatch(/[\n\r]/);
    expect(JSON.parse(line).value.text).toBe("a\nb\r\u2028c");
  });
});
