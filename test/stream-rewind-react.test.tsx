// @vitest-environment happy-dom
/**
 * The React hook through a divergent retry (issue 11, item 1): the server-side stream's retry
 * answers differently, the relay carries its `rewind`, and the hook's state follows it: the value
 * never splices the two answers, the retracted fields' states start over, and the last retry notice
 * says the retry's answer replaced the earlier one.
 */
import { act, cleanup, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type UseStructuredStreamResult, useStructuredStream } from "../src/react/index.ts";
import { createRelay, type Relay } from "../src/server/index.ts";
import { structuredStream } from "../src/stream/index.ts";

let relay: Relay;
const relayFetch: typeof fetch = async (input, init) =>
  relay.handle(new Request(new URL(String(input), "http://relay.test"), init));

beforeEach(() => {
  relay = createRelay({ keepAliveMs: 60_000 });
});

afterEach(async () => {
  cleanup();
  await relay.close();
});

/** Attempt 0 sends `first` and drops; attempt 1 sends `second`; a few ms between chunks. */
function divergent(first: string[], second: string[]) {
  return async ({ attempt }: { attempt: number }) => {
    const chunks = attempt === 0 ? first : second;
    let i = 0;
    return new ReadableStream<string>({
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (i < chunks.length) controller.enqueue(chunks[i++]!);
        else if (attempt === 0) controller.error(new TypeError("terminated"));
        else controller.close();
      },
    });
  };
}

describe("useStructuredStream through a retry that answers differently", () => {
  it("never shows a splice of the two answers and says the answer was replaced", async () => {
    const s = structuredStream({
      provider: "text",
      source: divergent(
        ['{"title":"Soup",', '"steps":["Boil water",', '"Add salt"'],
        ['{"title":"Stew",', '"steps":["Brown the meat"]}'],
      ),
      retry: { baseDelayMs: 1, maxDelayMs: 2 },
    });
    const { id } = await relay.start(s);
    const seen: UseStructuredStreamResult<unknown>[] = [];
    function View() {
      const answer = useStructuredStream({ url: `/streams/${id}`, fetch: relayFetch, throttle: false });
      seen.push(answer);
      return <pre data-testid="value">{JSON.stringify(answer.value ?? null)}</pre>;
    }
    render(<View />);
    await s.result;
    for (let i = 0; i < 100 && seen.at(-1)?.status !== "complete"; i++) {
      await act(async () => {
        await new Promise((resolve) => setTimeout(resolve, 10));
      });
    }
    const last = seen.at(-1)!;
    const final = { title: "Stew", steps: ["Brown the meat"] };
    expect(last.status).toBe("complete");
    expect(last.value).toEqual(final);
    expect(screen.getByTestId("value").textContent).toBe(JSON.stringify(final));
    for (const state of seen) {
      const v = state.value as { title?: string; steps?: string[] } | undefined;
      if (v?.title === "Stew") expect(v.steps ?? []).not.toContain("Boil water");
      if (v?.title === "Soup") expect(v.steps ?? []).not.toContain("Brown the meat");
    }
    expect(last.retries).toHaveLength(1);
    expect(last.retries[0]?.replaced).toEqual(["/title", "/steps"]);
    // Field states of the withdrawn answer were dropped, then reported anew by the retry's.
    expect(last.fields.get("/steps/1")).toBeUndefined();
    expect(last.stateOf("/steps/0")).toBe("complete");
  });
});
