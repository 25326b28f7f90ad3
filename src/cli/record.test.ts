import { describe, expect, it } from "vitest";
import { createRecorder } from "./record.ts";

function fakeFetch(parts: string[]): typeof fetch {
  return async () => {
    const encoder = new TextEncoder();
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const part of parts) controller.enqueue(encoder.encode(part));
        controller.close();
      },
    });
    return new Response(body, { status: 200, headers: { "content-type": "text/event-stream" } });
  };
}

describe("recording a response", () => {
  it("passes the body through unchanged and keeps each chunk with its time", async () => {
    let clock = 100;
    const recorder = createRecorder(fakeFetch(["data: 1\n\n", "data: é\n\n"]), () => (clock += 10));
    const response = await recorder.fetch("http://x", {});
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    expect(await response.text()).toBe("data: 1\n\ndata: é\n\n");
    expect(recorder.chunks).toEqual([
      { t: 10, chunk: "data: 1\n\n" },
      { t: 20, chunk: "data: é\n\n" },
    ]);
    expect(recorder.toNdjson()).toBe('{"t":10,"chunk":"data: 1\\n\\n"}\n{"t":20,"chunk":"data: é\\n\\n"}\n');
  });

  it("starts over with each request, so a retry's recording replaces the failed one", async () => {
    const recorder = createRecorder(fakeFetch(["x"]));
    await (await recorder.fetch("http://x")).text();
    await (await recorder.fetch("http://x")).text();
    expect(recorder.chunks).toHaveLength(1);
  });
});
