import { describe, expect, it } from "vitest";
import { EXIT, EXIT_CODE_HELP, exitCodeFor, hintFor } from "./exit-codes.ts";

describe("exit codes", () => {
  it("gives each kind of failure its own code", () => {
    const codes = ["refusal", "truncated", "schema_mismatch", "invalid_json", "timeout"].map(exitCodeFor);
    expect(codes).toEqual([3, 4, 5, 6, 7]);
    expect(new Set([...codes, EXIT.ok, EXIT.usage, EXIT.interrupted]).size).toBe(8);
  });

  it("maps every transport failure to the connection code and Ctrl-C to 130", () => {
    for (const code of ["connection_lost", "timeout", "rate_limited", "provider_error"])
      expect(exitCodeFor(code)).toBe(7);
    expect(exitCodeFor("aborted")).toBe(130);
    expect(exitCodeFor("unsupported_format")).toBe(8);
    expect(exitCodeFor("something_new")).toBe(EXIT.internal);
  });

  it("says what to do about each failure, and documents every code in --help", () => {
    for (const code of [
      "refusal",
      "truncated",
      "schema_mismatch",
      "invalid_json",
      "connection_lost",
      "timeout",
    ]) {
      expect(hintFor(code)).toMatch(/\.$/);
    }
    for (const code of new Set(Object.values(EXIT))) {
      if (code === EXIT.terminated) continue;
      expect(EXIT_CODE_HELP).toMatch(new RegExp(`^  ${code} `, "m"));
    }
  });
});
