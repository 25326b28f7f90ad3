/**
 * Relay benchmark: N concurrent streams (500 by default) through one relay on a real node:http
 * server, read by N `subscribe` clients over real fetch, all in this process.
 *
 * - clean run: streams per second, time-to-first-field added by the relay (from the source's first
 *   `field` event to the client's; each source starts once its client is connected), bytes sent
 *   (HTTP included) versus re-sending the whole snapshot on every change, peak server heap;
 * - run with drops: 35 % of connections cut at a random point; every client must still end with the
 *   exact final value, each event seen once.
 *
 * Run alone: `node --expose-gc --import tsx bench/relay.ts [streams]`; `bench/index.ts` runs
 * {@link relaySuite}.
 */
import { pathToFileURL } from "node:url";
import { type RelayLoadResult, runRelayLoad } from "../test/relay-fixtures.ts";
import type { BenchContext, BenchSuite } from "./harness.ts";

/** Options of {@link runRelayBench}. */
export interface RelayBenchOptions {
  /** @defaultValue 500 */
  streams?: number;
  /** Items per answer (about 450 JSON bytes each). @defaultValue 6 */
  items?: number;
  /** Share of connections cut in the second run. @defaultValue 0.35 */
  dropRate?: number;
}

/** Both runs' figures. */
export interface RelayBenchReport {
  clean: RelayLoadResult;
  drops: RelayLoadResult;
}

/** Runs the clean run and the run with drops, one after the other. */
export async function runRelayBench(options: RelayBenchOptions = {}): Promise<RelayBenchReport> {
  const streams = options.streams ?? 500;
  const items = options.items ?? 6;
  const clean = await runRelayLoad({ streams, items, dropRate: 0, delayMs: 1, seed: 1 });
  const drops = await runRelayLoad({
    streams,
    items,
    dropRate: options.dropRate ?? 0.35,
    delayMs: 1,
    seed: 2,
  });
  return { clean, drops };
}

const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;

/** The report as a few lines of text. */
export function formatRelayBench(report: RelayBenchReport): string {
  const { clean, drops } = report;
  return [
    `relay: ${clean.streams} concurrent streams through one relay (node:http + fetch, one process)`,
    `  clean run      ${clean.wallMs.toFixed(0)} ms, ${clean.streamsPerSecond.toFixed(0)} streams/s, ` +
      `${clean.exact}/${clean.streams} exact`,
    `  first field    +${clean.firstFieldP50Ms.toFixed(1)} ms p50, +${clean.firstFieldP99Ms.toFixed(1)} ms p99 (added by the relay)`,
    `  bytes sent     ${kib(clean.bytesSent)} (HTTP and SSE framing included) vs ${kib(clean.snapshotBytes)} ` +
      `re-sending snapshots (JSON only): ${(clean.snapshotBytes / clean.bytesSent).toFixed(1)}x less`,
    `  memory         ${(clean.peakHeapBytes / 1024 / 1024).toFixed(0)} MiB peak heap above baseline for the whole ` +
      `process (sources, relay, clients), ${kib(clean.retainedHeapBytes / clean.streams)} per stream retained ` +
      `by the relay's memory log once all ended`,
    `  with drops     ${drops.wallMs.toFixed(0)} ms, ${drops.reconnects} reconnections, ` +
      `${drops.exact}/${drops.streams} exact, ${drops.exactlyOnce}/${drops.streams} saw every event once` +
      (drops.failures.length > 0 ? `\n  FAILURES: ${drops.failures.slice(0, 5).join("; ")}` : ""),
  ].join("\n");
}

/** The suite `bench/index.ts` runs. */
export const relaySuite: BenchSuite = {
  name: "relay",
  description: "SSE relay: streams/s, time-to-first-field, bytes vs snapshots, memory, resume under drops",
  async run(context: BenchContext): Promise<void> {
    const report = await runRelayBench(context.quick ? { streams: 50 } : {});
    context.print(`\`\`\`\n${formatRelayBench(report)}\n\`\`\``);
  },
};

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const streams = process.argv[2] === undefined ? undefined : Number(process.argv[2]);
  console.log(formatRelayBench(await runRelayBench(streams === undefined ? {} : { streams })));
}
