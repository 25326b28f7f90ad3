/**
 * Integration suites that need something outside node_modules (Chromium, redis-server, tmux, the
 * shared JSONTestSuite checkout, a runtime binary). Locally a missing dependency skips the suite
 * with a warning that says how to get it; under CI (`CI` set to anything but `false`/`0`) it fails
 * the run with that message instead, so a green CI always ran every suite.
 */
import { describe, it } from "vitest";

/** True when the tests run under CI (`CI=true`, as CI services and .ci/run set it). */
export const isCI: boolean = (() => {
  const value = process.env.CI;
  return value !== undefined && value !== "" && value !== "false" && value !== "0";
})();

/** A `describe` for a suite that needs `what`; see the module's comment. */
export type SuiteWith = (name: string, body: () => void) => void;

/**
 * `describe` when `available`; otherwise a skipped suite (locally) or a suite whose one test fails
 * with `what is missing: how` (under CI).
 *
 * @example
 * ```ts
 * requires("redis-server", redisServerPath !== undefined, "apt-get install redis-server")("relay on Redis", () => { ... });
 * ```
 */
export function requires(what: string, available: boolean, how: string): SuiteWith {
  if (available) return (name, body) => describe(name, body);
  const message = `${what} is missing: ${how}`;
  if (isCI) {
    return (name) =>
      describe(name, () => {
        it(`needs ${what}`, () => {
          throw new Error(`${message}. Under CI=true integration suites fail rather than skip.`);
        });
      });
  }
  return (name, body) => {
    console.warn(`structream tests: skipping "${name}": ${message}.`);
    describe.skip(name, body); // locally only: under CI the branch above fails instead
  };
}
