/**
 * Load: 200 concurrent streams through one relay on a real node:http server, read by 200 clients
 * over real fetch with a third of the connections cut at random points; every client must end with
 * the exact final value, having seen every event once. `npm run bench` runs 500 and reports figures.
 */
import { describe, expect, it } from "vitest";
import { runRelayLoad } from "./relay-fixtures.ts";

const STREAMS = Number(process.env.RELAY_LOAD_STREAMS ?? 200);

describe("relay under load", () => {
  it(`gives each of ${STREAMS} concurrent clients the exact final value despite random drops`, async () => {
    const result = await runRelayLoad({ streams: STREAMS, dropRate: 0.35, items: 3, delayMs: 1, seed: 7 });
    expect(result.failures).toEqual([]);
    expect(result.exact).toBe(STREAMS);
    expect(result.exactlyOnce).toBe(STREAMS);
    expect(result.reconnects).toBeGreaterThan(STREAMS / 10);
    // Patches cost a small fraction of re-sent snapshots, HTTP and SSE framing included.
    expect(result.bytesSent).toBeLessThan(result.snapshotBytes / 2);
    console.info(
      `relay load: ${STREAMS} streams in ${result.wallMs.toFixed(0)} ms, ${result.reconnects} reconnects, ` +
        `${(result.bytesSent / 1024).toFixed(0)} KiB sent vs ${(result.snapshotBytes / 1024).toFixed(0)} KiB of snapshots`,
    );
  }, 60_000);
});
