/**
 * Runs the benchmark suites and prints a markdown report to stdout.
 *
 *   node --expose-gc --import tsx bench/index.ts            # every suite
 *   node --expose-gc --import tsx bench/index.ts json       # suites whose name contains "json"
 *   node --expose-gc --import tsx bench/index.ts --quick    # small inputs only (smoke run)
 *
 * To add a suite, export a `BenchSuite` (see ./harness.ts) from a module and list it below.
 */
import os from "node:os";
import { deltaSuite } from "./deltas.ts";
import { type BenchContext, type BenchSuite, collectGarbage } from "./harness.ts";
import { jsonSuite } from "./json.ts";
import { lifecycleSuite } from "./lifecycle.ts";
import { providersSuite } from "./providers.ts";
import { relaySuite } from "./relay.ts";
import { schemaSuite } from "./schema.ts";

const suites: BenchSuite[] = [jsonSuite, schemaSuite, relaySuite, providersSuite, deltaSuite, lifecycleSuite];

const args = process.argv.slice(2);
const filters = args.filter((arg) => !arg.startsWith("--"));
const selected = suites.filter(
  (suite) => filters.length === 0 || filters.some((f) => suite.name.includes(f)),
);
if (selected.length === 0) {
  console.error(`No suite matches ${filters.join(", ")}. Suites: ${suites.map((s) => s.name).join(", ")}.`);
  process.exit(1);
}

const context: BenchContext = {
  print: (markdown) => process.stdout.write(`${markdown}\n\n`),
  quick: args.includes("--quick"),
};

const started = performance.now();
context.print(
  [
    "# structream benchmarks",
    "",
    `Node ${process.version}, ${os.cpus()[0]?.model ?? "unknown CPU"} × ${os.cpus().length}, ${os.platform()} ${os.arch()}, ${new Date().toISOString().slice(0, 10)}.`,
    collectGarbage() ? "" : "Note: run with `node --expose-gc` for the memory figures.",
  ].join("\n"),
);
for (const suite of selected) {
  context.print(`## ${suite.name}\n\n${suite.description}`);
  await suite.run(context);
}
context.print(`_Total time: ${((performance.now() - started) / 1000).toFixed(0)} s._`);
