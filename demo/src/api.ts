import type { StreamTarget } from "../../src/react/index.ts";

/** What `GET /api/config` answers. */
export interface DemoConfig {
  mode: "simulator" | "provider";
  provider: string;
  model: string;
  providers: string[];
  faults: { id: string; label: string }[];
  schemas: DemoSchema[];
}

export interface DemoSchema {
  name: string;
  title: string;
  description: string;
  prompt: string;
  schema: JsonSchema;
}

export interface JsonSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: unknown[];
  format?: string;
  [key: string]: unknown;
}

/** What the form sends to `POST /api/streams`. */
export interface StreamInput {
  prompt: string;
  schema: string;
  fault?: string;
  provider?: string;
}

async function errorMessage(response: Response): Promise<string> {
  try {
    const body = (await response.json()) as { error?: { message?: string } };
    if (typeof body.error?.message === "string") return body.error.message;
  } catch {
    // Not the server's JSON error: the status says enough.
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

export async function loadConfig(signal?: AbortSignal): Promise<DemoConfig> {
  const response = await fetch("api/config", { signal: signal ?? null });
  if (!response.ok) throw new Error(await errorMessage(response));
  return (await response.json()) as DemoConfig;
}

/** Creates the stream on the server; the hook then reads it from the relay. */
export async function createStream(input: StreamInput, signal: AbortSignal): Promise<StreamTarget> {
  const response = await fetch("api/streams", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(input),
    signal,
  });
  if (!response.ok) throw new Error(await errorMessage(response));
  const { url, token } = (await response.json()) as { url: string; token?: string };
  // The server answers a path from its root; the page may live below it.
  const absolute = new URL(url.replace(/^\//, ""), document.baseURI).href;
  return token === undefined ? { url: absolute } : { url: absolute, token };
}

/**
 * A `fetch` whose open response bodies can be cut on demand, the way a flaky network cuts them:
 * the body errors with a `TypeError` (as a real network failure does) and the connection closes,
 * so the client reconnects and resumes with `Last-Event-ID`.
 */
export function createDroppableFetch(): { fetch: typeof fetch; drop(): number } {
  const open = new Set<() => void>();
  const droppable: typeof fetch = async (input, init) => {
    const response = await fetch(input, init);
    if (response.body === null) return response;
    const reader = response.body.getReader();
    let cut: () => void = () => {};
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        cut = () => {
          open.delete(cut);
          try {
            controller.error(new TypeError("The connection was dropped (demo button)."));
          } catch {
            // Already closed.
          }
          // Cancelling the network body closes the socket: the relay sees the client go away.
          void reader.cancel("dropped").catch(() => {});
        };
        open.add(cut);
      },
      async pull(controller) {
        try {
          const { done, value } = await reader.read();
          if (done) {
            open.delete(cut);
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          open.delete(cut);
          try {
            controller.error(error);
          } catch {
            // Already errored by a drop.
          }
        }
      },
      cancel(reason) {
        open.delete(cut);
        return reader.cancel(reason);
      },
    });
    return new Response(body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return {
    fetch: droppable,
    drop() {
      const count = open.size;
      for (const cut of [...open]) cut();
      return count;
    },
  };
}
