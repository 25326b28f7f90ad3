import { describe, expect, it } from "vitest";
import { isStructreamError } from "../errors/index.ts";
import { AttemptCounter, parseFault } from "./faults.ts";

describe("parseFault", () => {
  it.each([
    ["refusal", { kind: "refusal", spec: "refusal" }],
    ["sim-drop-at-200", { kind: "drop", at: 200, spec: "drop-at-200" }],
    ["drop-at-200-once", { kind: "drop", at: 200, times: 1, spec: "drop-at-200-once" }],
    ["SIM-429-ONCE", { kind: "http", status: 429, times: 1, spec: "429-once" }],
    ["500-twice", { kind: "http", status: 500, times: 2, spec: "500-twice" }],
    ["529-times-3", { kind: "http", status: 529, times: 3, spec: "529-times-3" }],
    ["stall-at-100", { kind: "stall", at: 100, spec: "stall-at-100" }],
    ["truncate-at-10", { kind: "truncate", at: 10, spec: "truncate-at-10" }],
    ["truncation", { kind: "truncate", spec: "truncate" }],
    ["error", { kind: "error-event", spec: "error-event" }],
    ["sim-error-event-once", { kind: "error-event", times: 1, spec: "error-event-once" }],
    ["error-at-50", { kind: "error-event", at: 50, spec: "error-event-at-50" }],
    ["schema-violation", { kind: "schema-violation", spec: "schema-violation" }],
    ["invalid-json-once", { kind: "invalid-json", times: 1, spec: "invalid-json-once" }],
    ["malformed-at-0", { kind: "malformed", at: 0, spec: "malformed-at-0" }],
    ["none", { kind: "none", spec: "none" }],
  ])("reads %s", (text, fault) => {
    expect(parseFault(text)).toEqual(fault);
  });

  it.each(["bogus", "drop-at", "drop-at-x", "429-at-5", "refusal-at-3", "200", "600", "drop-thrice", ""])(
    "rejects %j with code invalid_fault",
    (text) => {
      let caught: unknown;
      try {
        parseFault(text);
      } catch (error) {
        caught = error;
      }
      expect(isStructreamError(caught) && caught.code).toBe("invalid_fault");
    },
  );
});

describe("AttemptCounter", () => {
  it("lets a transient fault fire for its first attempts per key only", () => {
    const counter = new AttemptCounter();
    const twice = parseFault("500-twice");
    expect([1, 2, 3].map(() => counter.fires(twice, "a"))).toEqual([true, true, false]);
    expect(counter.fires(twice, "b")).toBe(true);
    const always = parseFault("500");
    expect([1, 2, 3].every(() => counter.fires(always, "a"))).toBe(true);
  });
});
