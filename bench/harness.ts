/**
 * Shared plumbing for benchmark suites: timing with a time budget and the median, garbage
 * collection, and markdown output. A suite is a name plus a `run` that prints markdown.
 */

/** What `bench/index.ts` hands every suite. */
export interface BenchContext {
  /** Writes markdown to the report (stdout). */
  print(markdown: string): void;
  /** `--quick`: small inputs only, for a smoke run. */
  quick: boolean;
}

/** One benchmark module, listed in `bench/index.ts`. */
export interface BenchSuite {
  /** Short name, matched against the command-line filter (`bench/index.ts json`). */
  name: string;
  /** One line on what it measures. */
  description: string;
  run(context: BenchContext): Promise<void> | void;
}

export interface Measurement {
  /** Median wall time of one run, in milliseconds. */
  ms: number;
  runs: number;
}

export interface MeasureOptions {
  /** Stop repeating once this much time went into the measured runs (default 500 ms). */
  budgetMs?: number;
  minRuns?: number;
  maxRuns?: number;
  /** Run once unmeasured first (skip for runs that take seconds). */
  warmup?: boolean;
}

/** Runs `fn` repeatedly within a time budget and returns the median. */
export async function measure(fn: () => unknown, options: MeasureOptions = {}): Promise<Measurement> {
  const { budgetMs = 500, minRuns = 1, maxRuns = 25, warmup = true } = options;
  if (warmup) await fn();
  const times: number[] = [];
  let spent = 0;
  while (times.length < minRuns || (times.length < maxRuns && spent < budgetMs)) {
    const started = performance.now();
    await fn();
    const elapsed = performance.now() - started;
    times.push(elapsed);
    spent += elapsed;
  }
  return { ms: median(times), runs: times.length };
}

/**
 * Times `a` and `b` for a ratio: both warmed up, then run in turns (a, b, a, b, ...), so that the
 * machine's load falls on both alike. Returns each one's median. `gc`: a full garbage collection
 * before each run, for runs whose garbage (megabytes of buffers) would otherwise fall on the next
 * one; not for short runs, which a full collection slows down (V8 then shrinks the young
 * generation, and an allocating run pays many more scavenges than it would in a steady state).
 */
export async function measurePair(
  a: () => unknown,
  b: () => unknown,
  options: MeasureOptions & { gc?: boolean } = {},
): Promise<[Measurement, Measurement]> {
  const { budgetMs = 500, minRuns = 3, maxRuns = 25, warmup = true, gc = false } = options;
  if (warmup) {
    await a();
    await b();
  }
  const times: [number[], number[]] = [[], []];
  let spent = 0;
  while (times[0].length < minRuns || (times[0].length < maxRuns && spent < budgetMs)) {
    for (const [i, fn] of [a, b].entries()) {
      if (gc) collectGarbage();
      const started = performance.now();
      await fn();
      const elapsed = performance.now() - started;
      times[i].push(elapsed);
      spent += elapsed;
    }
  }
  return [
    { ms: median(times[0]), runs: times[0].length },
    { ms: median(times[1]), runs: times[1].length },
  ];
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** Full garbage collection when node runs with `--expose-gc`; false otherwise. */
export function collectGarbage(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return false;
  gc();
  gc();
  return true;
}

/** A markdown table; the first column is left-aligned, the others right-aligned. */
export function markdownTable(headers: string[], rows: string[][]): string {
  const align = headers.map((_, i) => (i === 0 ? ":--" : "--:"));
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  return [line(headers), line(align), ...rows.map(line)].join("\n");
}

export function formatBytes(bytes: number): string {
  if (Math.abs(bytes) >= 1e6) return `${(bytes / 1e6).toFixed(2)} MB`;
  if (Math.abs(bytes) >= 1e3) return `${(bytes / 1e3).toFixed(1)} KB`;
  return `${Math.round(bytes)} B`;
}

/** Throughput in MB/s (10^6 bytes per second). */
export function megabytesPerSecond(bytes: number, ms: number): number {
  return bytes / 1e6 / (ms / 1000);
}

export function formatRate(rate: number): string {
  return rate >= 100
    ? rate.toFixed(0)
    : rate >= 10
      ? rate.toFixed(1)
      : rate >= 0.1
        ? rate.toFixed(2)
        : rate.toPrecision(2);
}

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32). */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
