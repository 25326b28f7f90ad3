// @vitest-environment happy-dom
import { act, cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { memo, StrictMode } from "react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { StreamError } from "../src/errors/index.ts";
import { type PathSegment, toPointer } from "../src/json/index.ts";
import {
  type StructuredStreamStore,
  type Throttle,
  type UseStructuredStreamResult,
  useField,
  useStructuredStream,
} from "../src/react/index.ts";
import { createRelay, type Relay, type RelaySource } from "../src/server/index.ts";
import type { FieldState, Progress, StreamEvent } from "../src/stream/index.ts";

/** A server-side stream the test feeds by hand. */
class ManualSource implements RelaySource {
  private queue: StreamEvent<unknown>[] = [];
  private wake: (() => void) | undefined;
  private ended = false;
  aborted: unknown;

  push(...events: StreamEvent<unknown>[]): void {
    this.queue.push(...events);
    this.wake?.();
  }

  end(): void {
    this.ended = true;
    this.wake?.();
  }

  abort(reason?: unknown): void {
    this.aborted = reason ?? true;
    this.end();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<StreamEvent<unknown>> {
    while (true) {
      const next = this.queue.shift();
      if (next !== undefined) {
        yield next;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
      this.wake = undefined;
    }
  }
}

const FIELDS = ["/title", "/tags", "/tags/0", "/tags/1", "/score"];

function progress(completed: string[]): Progress {
  const pending = FIELDS.filter((f) => !completed.includes(f));
  return {
    completed: completed.length,
    total: FIELDS.length,
    percent: Math.round((completed.length / FIELDS.length) * 100),
    pending,
  };
}

const partial = (value: unknown, done: string[] = []): StreamEvent<unknown> => ({
  type: "partial",
  value,
  progress: progress(done),
});
const fieldState = (path: PathSegment[], state: FieldState): StreamEvent<unknown> => ({
  type: "field-state",
  path,
  pointer: toPointer(path),
  state,
});
const STATS = {
  startedAt: 0,
  durationMs: 5,
  chunks: 3,
  bytes: 90,
  deltas: 3,
  deltasPerSecond: 600,
  retries: 0,
};

let relay: Relay;
let fetches = 0;
/**
 * The browser's fetch, answered by an in-process relay (no sockets). As a real fetch does, an
 * abort errors the body being read and closes the connection.
 */
const relayFetch: typeof fetch = async (input, init) => {
  fetches++;
  const url = new URL(String(input), "http://relay.test");
  const response = await relay.handle(new Request(url, init));
  const signal = init?.signal;
  if (response.body === null || !signal) return response;
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      signal.addEventListener(
        "abort",
        () => {
          controller.error(new DOMException("The operation was aborted.", "AbortError"));
          void reader.cancel().catch(() => {});
        },
        { once: true },
      );
    },
    async pull(controller) {
      const { done, value } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
};

/** Waits until the client has read everything the relay has for now. */
async function settle(ms = 30): Promise<void> {
  await act(async () => {
    await new Promise((resolve) => setTimeout(resolve, ms));
  });
}

async function startStream(): Promise<{ source: ManualSource; url: string }> {
  const source = new ManualSource();
  const { id } = await relay.start(source);
  return { source, url: `/streams/${id}` };
}

beforeEach(() => {
  relay = createRelay({ keepAliveMs: 60_000 });
  fetches = 0;
});

afterEach(async () => {
  cleanup();
  vi.unstubAllGlobals();
  await relay.close();
});

describe("useStructuredStream", () => {
  it("shows the value, status, progress and pending fields as the stream goes, then the final value", async () => {
    const { source, url } = await startStream();
    const seen: UseStructuredStreamResult<unknown>[] = [];
    function View() {
      const answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      seen.push(answer);
      return <pre data-testid="value">{JSON.stringify(answer.value ?? null)}</pre>;
    }
    render(<View />);
    await settle();
    expect(seen.at(-1)?.status).toBe("connecting");

    source.push({ type: "status", status: "connecting" }, { type: "status", status: "streaming" });
    source.push(partial({ title: "Lem" }));
    await settle();
    let now = seen.at(-1)!;
    expect(now.status).toBe("streaming");
    expect(now.value).toEqual({ title: "Lem" });
    expect(now.progress?.percent).toBe(0);
    expect(now.pending).toEqual(FIELDS);
    expect(now.stateOf("/title")).toBe("streaming");
    expect(now.stateOf(["score"])).toBe("pending");
    expect(now.connection).toBe("open");

    source.push(partial({ title: "Lemon bread" }, ["/title"]), fieldState(["title"], "complete"));
    source.push(partial({ title: "Lemon bread", tags: ["sweet"] }, ["/title"]));
    await settle();
    now = seen.at(-1)!;
    expect(now.value).toEqual({ title: "Lemon bread", tags: ["sweet"] });
    expect(now.progress?.percent).toBe(20);
    expect(now.pending).toEqual(["/tags", "/tags/0", "/tags/1", "/score"]);
    expect(now.stateOf("/title")).toBe("complete");
    expect(now.stateOf("/tags/0")).toBe("streaming");
    expect(now.fields.get("/title")).toBe("complete");

    const final = { title: "Lemon bread", tags: ["sweet", "citrus"], score: 9 };
    source.push(partial(final, FIELDS), { type: "complete", value: final, stats: STATS });
    source.end();
    await settle();
    now = seen.at(-1)!;
    expect(now.status).toBe("complete");
    expect(now.value).toEqual(final);
    expect(now.progress?.percent).toBe(100);
    expect(now.pending).toEqual([]);
    expect(now.error).toBeUndefined();
    expect(now.stats?.server?.deltas).toBe(3);
    expect(now.connection).toBe("closed");
    expect(screen.getByTestId("value").textContent).toBe(JSON.stringify(final));
    // Every snapshot along the way was a new object; the ones React saw never changed under it.
    expect(new Set(seen).size).toBeGreaterThan(3);
  });

  it("creates the stream with `start(input)`, retries with the same input, and aborts", async () => {
    const calls: string[] = [];
    const sources: ManualSource[] = [];
    let answer!: UseStructuredStreamResult<unknown, string>;
    function View() {
      answer = useStructuredStream<unknown, string>({
        start: async (prompt) => {
          calls.push(prompt);
          const { source, url } = await startStream();
          sources.push(source);
          return { url };
        },
        fetch: relayFetch,
        throttle: false,
      });
      return <p>{answer.status}</p>;
    }
    render(<View />);
    await settle();
    expect(answer.status).toBe("idle");
    expect(calls).toEqual([]);

    act(() => answer.start("lemon bread"));
    expect(answer.status).toBe("connecting");
    await settle();
    sources[0]!.push({ type: "status", status: "streaming" }, partial({ title: "L" }));
    await settle();
    expect(answer.value).toEqual({ title: "L" });

    act(() => answer.abort());
    expect(answer.status).toBe("error");
    expect(answer.error?.code).toBe("aborted");
    expect(answer.value).toEqual({ title: "L" });

    act(() => answer.retry());
    await settle();
    expect(calls).toEqual(["lemon bread", "lemon bread"]);
    expect(answer.status).toBe("connecting");
    expect(answer.value).toBeUndefined();
    expect(answer.error).toBeUndefined();
    sources[1]!.push({ type: "status", status: "streaming" }, partial({ title: "Lemon" }));
    await settle();
    expect(answer.value).toEqual({ title: "Lemon" });
  });

  it("cancels the stream on the server with `cancel()`, and shows it stopped (aborted), not failed", async () => {
    let source!: ManualSource;
    let answer!: UseStructuredStreamResult<unknown, void>;
    function View() {
      answer = useStructuredStream<unknown, void>({
        start: async () => {
          const started = await startStream();
          source = started.source;
          return { url: started.url };
        },
        fetch: relayFetch,
        throttle: false,
      });
      return <p>{answer.status}</p>;
    }
    render(<View />);
    act(() => answer.start());
    await settle();
    source.push({ type: "status", status: "streaming" }, partial({ title: "L" }));
    await settle();
    expect(source.aborted).toBeUndefined();

    let accepted: boolean | undefined;
    await act(async () => {
      accepted = await answer.cancel("Stopped from the page.");
    });
    // The relay stopped the server-side stream (its model call), not only this reader.
    expect(accepted).toBe(true);
    expect(source.aborted).toBeDefined();
    expect(answer.status).toBe("error");
    expect(answer.error?.code).toBe("aborted");
    expect(answer.value).toEqual({ title: "L" });
    // Nothing running: nothing to cancel.
    await act(async () => {
      accepted = await answer.cancel();
    });
    expect(accepted).toBe(false);
  });

  it("reports a start function's failure as an error with its message", async () => {
    let answer!: UseStructuredStreamResult<unknown, string>;
    function View() {
      answer = useStructuredStream<unknown, string>({
        start: async () => {
          throw new Error("The prompt is empty.");
        },
        throttle: false,
      });
      return null;
    }
    render(<View />);
    act(() => answer.start(""));
    await settle();
    expect(answer.status).toBe("error");
    expect(answer.error).toBeInstanceOf(StreamError);
    expect(answer.error?.message).toBe("The prompt is empty.");
  });

  it("shows the model's reasoning live as `reasoning`, before the answer completes", async () => {
    const { source, url } = await startStream();
    let answer!: UseStructuredStreamResult<unknown>;
    function View() {
      answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      return <p data-testid="reasoning">{answer.reasoning}</p>;
    }
    render(<View />);
    expect(answer.reasoning).toBe("");
    source.push({ type: "status", status: "streaming" });
    source.push({ type: "reasoning", delta: "The user wants " }, { type: "reasoning", delta: "a recipe." });
    source.push({ type: "commentary", delta: "Writing it now." });
    await waitFor(() => expect(answer.reasoning).toBe("The user wants a recipe."));
    // Live: the answer has not started, let alone completed.
    expect(answer.status).toBe("streaming");
    expect(answer.value).toBeUndefined();
    expect(answer.commentary).toBe("Writing it now.");
    expect(screen.getByTestId("reasoning").textContent).toBe("The user wants a recipe.");
    const final = { title: "Lemon bread", tags: ["sweet", "citrus"], score: 9 };
    source.push(partial(final, FIELDS), { type: "complete", value: final, stats: STATS });
    source.end();
    await waitFor(() => expect(answer.status).toBe("complete"));
    expect(answer.reasoning).toBe("The user wants a recipe.");
    // A new stream starts with no reasoning.
    act(() => answer.start());
    expect(answer.reasoning).toBe("");
  });

  it("shows the stream's error and its retries", async () => {
    const { source, url } = await startStream();
    let answer!: UseStructuredStreamResult<unknown>;
    function View() {
      answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      return null;
    }
    render(<View />);
    source.push({ type: "status", status: "streaming" }, partial({ title: "Lem" }));
    source.push({
      type: "retry",
      attempt: 1,
      delayMs: 250,
      error: new StreamError("connection_lost", "The provider closed the connection"),
    });
    await settle();
    expect(answer.retries).toHaveLength(1);
    expect(answer.retries[0]).toMatchObject({ attempt: 1, delayMs: 250 });
    expect(answer.retries[0]!.error.code).toBe("connection_lost");
    source.push({
      type: "error",
      error: new StreamError("refusal", "I'm sorry, but I can't help with that request."),
    });
    source.end();
    await settle();
    expect(answer.status).toBe("error");
    expect(answer.error?.code).toBe("refusal");
    expect(answer.error?.message).toContain("can't help");
  });

  it("stops reading when the component unmounts, and reconnects under StrictMode's double mount", async () => {
    const { source, url } = await startStream();
    function View() {
      const answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      return <p data-testid="title">{(answer.value as { title?: string } | undefined)?.title ?? "…"}</p>;
    }
    const view = render(
      <StrictMode>
        <View />
      </StrictMode>,
    );
    source.push({ type: "status", status: "streaming" }, partial({ title: "Lemon" }));
    await settle();
    expect(screen.getByTestId("title").textContent).toBe("Lemon");
    expect(relay.connections).toBe(1);
    view.unmount();
    await settle();
    expect(relay.connections).toBe(0);
    // The server-side stream goes on without listeners.
    expect(source.aborted).toBeUndefined();
  });
});

describe("useField", () => {
  it("re-renders a field's component only when its own subtree changes", async () => {
    const { source, url } = await startStream();
    const renders = { parent: 0, title: 0, tags: 0, score: 0 };
    const states: Record<string, FieldState[]> = { title: [], tags: [], score: [] };

    const Field = memo(function Field({
      store,
      path,
      name,
    }: {
      store: StructuredStreamStore;
      path: string;
      name: "title" | "tags" | "score";
    }) {
      const field = useField(store, path);
      renders[name]++;
      states[name]!.push(field.state);
      return <span data-testid={name}>{JSON.stringify(field.value ?? null)}</span>;
    });
    function Parent() {
      const answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      renders.parent++;
      return (
        <>
          <Field store={answer.store} path="/title" name="title" />
          <Field store={answer.store} path="/tags" name="tags" />
          <Field store={answer.store} path="/score" name="score" />
        </>
      );
    }
    render(<Parent />);
    await settle();
    expect(renders).toMatchObject({ title: 1, tags: 1, score: 1 });

    // Five changes to the title alone.
    source.push({ type: "status", status: "streaming" });
    let value: Record<string, unknown> = {};
    for (const text of ["L", "Le", "Lem", "Lemo", "Lemon"]) {
      value = { ...value, title: text };
      source.push(partial(value));
      await settle(10);
    }
    expect(screen.getByTestId("title").textContent).toBe('"Lemon"');
    expect(renders.title).toBe(6);
    expect(renders.tags).toBe(1);
    expect(renders.score).toBe(1);
    expect(renders.parent).toBeGreaterThanOrEqual(6);

    // The title completes: its state changes though its value does not.
    source.push(partial(value, ["/title"]), fieldState(["title"], "complete"));
    await settle();
    expect(renders.title).toBe(7);
    expect(states.title.at(-1)).toBe("complete");

    // Now the tags grow; the title and the score stay put.
    for (const tags of [[""], ["sw"], ["sweet"], ["sweet", ""], ["sweet", "cit"]]) {
      value = { ...value, tags };
      source.push(partial(value, ["/title"]));
      await settle(10);
    }
    expect(renders.title).toBe(7);
    expect(renders.score).toBe(1);
    expect(renders.tags).toBe(6);
    expect(states.tags.slice(1)).toEqual(["streaming", "streaming", "streaming", "streaming", "streaming"]);
    expect(states.score).toEqual(["pending"]);

    const final = { title: "Lemon", tags: ["sweet", "citrus"], score: 9 };
    source.push(partial(final, FIELDS), { type: "complete", value: final, stats: STATS });
    source.end();
    await settle();
    expect(renders.title).toBe(7);
    expect(states.tags.at(-1)).toBe("complete");
    expect(states.score.at(-1)).toBe("complete");
    expect(screen.getByTestId("score").textContent).toBe("9");
  });

  it("accepts the hook's result and a path as keys and indexes", async () => {
    const { source, url } = await startStream();
    let seen: unknown[] = [];
    function Tag({ answer }: { answer: UseStructuredStreamResult<unknown> }) {
      const tag = useField<string>(answer, ["tags", 1]);
      seen.push(tag.value);
      return null;
    }
    function Parent() {
      const answer = useStructuredStream({ url, fetch: relayFetch, throttle: false });
      return <Tag answer={answer} />;
    }
    render(<Parent />);
    source.push({ type: "status", status: "streaming" }, partial({ tags: ["a", "b"] }));
    await settle();
    expect(seen.at(-1)).toBe("b");
    seen = [];
    source.push(partial({ tags: ["a", "bc"] }));
    await settle();
    expect(seen.at(-1)).toBe("bc");
  });
});

describe("render coalescing", () => {
  /** A hand-cranked requestAnimationFrame. */
  function stubFrames(): { pending: () => number; run: () => void } {
    let callbacks = new Map<number, FrameRequestCallback>();
    let next = 1;
    vi.stubGlobal("requestAnimationFrame", (callback: FrameRequestCallback) => {
      callbacks.set(next, callback);
      return next++;
    });
    vi.stubGlobal("cancelAnimationFrame", (handle: number) => {
      callbacks.delete(handle);
    });
    return {
      pending: () => callbacks.size,
      run: () => {
        const due = callbacks;
        callbacks = new Map();
        act(() => {
          for (const callback of due.values()) callback(performance.now());
        });
      },
    };
  }

  let events = 0;
  function Counter({
    url,
    throttle,
    onRender,
  }: {
    url: string;
    throttle?: Throttle;
    onRender: (v: unknown) => void;
  }) {
    const answer = useStructuredStream({
      url,
      fetch: relayFetch,
      ...(throttle === undefined ? {} : { throttle }),
    });
    onRender(answer.value);
    events = answer.stats?.events ?? 0;
    return null;
  }

  it("renders a burst of a hundred updates once per animation frame, with the latest value", async () => {
    const frames = stubFrames();
    const { source, url } = await startStream();
    const values: unknown[] = [];
    render(<Counter url={url} onRender={(v) => values.push(v)} />);
    await settle();
    frames.run();
    const before = values.length;

    source.push({ type: "status", status: "streaming" });
    let text = "";
    // One update per turn of the event loop: the relay merges the patches made within one turn,
    // so a burst pushed at once would reach the client as a single event.
    await act(async () => {
      for (let i = 0; i < 100; i++) {
        text += String.fromCharCode(97 + (i % 26));
        source.push(partial({ title: text }));
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    });
    await settle(100);
    // A hundred updates reached the client, and not one render yet.
    expect(values.length).toBe(before);
    expect(frames.pending()).toBe(1);

    frames.run();
    expect(values.length).toBe(before + 1);
    expect(values.at(-1)).toEqual({ title: text });
    expect(events).toBeGreaterThanOrEqual(100);
    expect(frames.pending()).toBe(0);

    // Nothing new: no frame requested, no render.
    await settle();
    expect(frames.pending()).toBe(0);

    // The end is shown at once, without waiting for a frame.
    source.push({ type: "complete", value: { title: text }, stats: STATS });
    source.end();
    await settle();
    expect(values.at(-1)).toEqual({ title: text });
    expect(values.length).toBe(before + 2);
  });

  it("coalesces to a period in milliseconds when `throttle` is a number", async () => {
    const { source, url } = await startStream();
    const values: unknown[] = [];
    render(<Counter url={url} throttle={200} onRender={(v) => values.push(v)} />);
    await settle();
    const before = values.length;
    const started = performance.now();
    source.push({ type: "status", status: "streaming" });
    for (let i = 1; i <= 20; i++) {
      source.push(partial({ n: i }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await settle(250);
    const elapsed = performance.now() - started;
    // One render per 200 ms period at most, however slow the machine ran the 20 updates.
    const renders = values.length - before;
    expect(renders).toBeGreaterThanOrEqual(1);
    expect(renders).toBeLessThanOrEqual(Math.ceil(elapsed / 200));
    expect(values.at(-1)).toEqual({ n: 20 });
  });

  it("renders every update when `throttle` is false", async () => {
    const { source, url } = await startStream();
    const values: unknown[] = [];
    render(<Counter url={url} throttle={false} onRender={(v) => values.push(v)} />);
    await settle();
    source.push({ type: "status", status: "streaming" });
    await settle();
    const before = values.length;
    for (let i = 1; i <= 10; i++) {
      source.push(partial({ n: i }));
      await settle(5);
    }
    const shown = values.slice(before).flatMap((v) => (v === undefined ? [] : [(v as { n: number }).n]));
    expect([...new Set(shown)]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });
});

describe("with a button", () => {
  it("starts from a click and shows the fields", async () => {
    const { source, url } = await startStream();
    function View() {
      const answer = useStructuredStream<{ title: string }, void>({
        url: () => url,
        fetch: relayFetch,
        throttle: false,
      });
      return (
        <>
          <button type="button" onClick={() => answer.start()}>
            Go
          </button>
          <output>{answer.status}</output>
          <h1>{answer.value?.title}</h1>
        </>
      );
    }
    render(<View />);
    expect(screen.getByRole("status").textContent).toBe("idle");
    fireEvent.click(screen.getByText("Go"));
    await settle();
    source.push({ type: "status", status: "streaming" }, partial({ title: "Hello" }));
    await settle();
    expect(screen.getByRole("heading").textContent).toBe("Hello");
    expect(fetches).toBe(1);
  });
});
