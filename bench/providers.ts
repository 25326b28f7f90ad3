/**
 * Provider framing: the same answer as one 8 MB line of Ollama NDJSON and as one 8 MB event of
 * OpenAI SSE, fed in 16 KB chunks, through the wire decoder alone and through structuredStream.
 * NDJSON framing keeps a line's pieces apart and joins them once, when its newline arrives, so
 * both framings are linear (issue 9 target: NDJSON at most 2x SSE).
 */
import { createProviderDecoder, type ProviderId } from "../src/providers/index.ts";
import { structuredStream } from "../src/stream/index.ts";
import { type BenchSuite, measure } from "./harness.ts";

const CHUNK = 16 * 1024;

function answerOf(bytes: number): string {
  return JSON.stringify({
    summary: "lorem ipsum dolor sit amet ".repeat(Math.ceil(bytes / 27)).slice(0, bytes),
  });
}

function wireOf(provider: "ollama" | "openai-chat", answer: string): string {
  if (provider === "ollama") {
    return `${JSON.stringify({ message: { role: "assistant", content: answer }, done: false })}\n${JSON.stringify({ message: { role: "assistant", content: "" }, done: true, done_reason: "stop" })}\n`;
  }
  return `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: answer }, finish_reason: null }] })}\n\ndata: ${JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: "stop" }] })}\n\ndata: [DONE]\n\n`;
}

function chunksOf(text: string): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += CHUNK) chunks.push(text.slice(i, i + CHUNK));
  return chunks;
}

function decodeAll(provider: ProviderId, chunks: readonly string[]): number {
  const decoder = createProviderDecoder(provider);
  let events = 0;
  for (const chunk of chunks) events += decoder.push(chunk).length;
  return events + decoder.end().length;
}

async function* from(chunks: readonly string[]): AsyncGenerator<string> {
  yield* chunks;
}

export const providersSuite: BenchSuite = {
  name: "providers",
  description:
    "The same answer as one NDJSON line (Ollama) and as one SSE event (OpenAI chat), in 16 KB chunks: median wall time.",
  async run(context) {
    const sizes = context.quick ? [1] : [4, 8];
    const rows: string[] = [
      "| answer | path | SSE (openai-chat) | NDJSON (ollama) | NDJSON / SSE |",
      "|---|---|---|---|---|",
    ];
    for (const mb of sizes) {
      const answer = answerOf(mb * 1024 * 1024);
      const sse = chunksOf(wireOf("openai-chat", answer));
      const ndjson = chunksOf(wireOf("ollama", answer));
      const options = { budgetMs: 1500, maxRuns: 7 };
      const d1 = await measure(() => decodeAll("openai-chat", sse), options);
      const d2 = await measure(() => decodeAll("ollama", ndjson), options);
      rows.push(
        `| ${mb} MB | decoder | ${d1.ms.toFixed(1)} ms | ${d2.ms.toFixed(1)} ms | ${(d2.ms / d1.ms).toFixed(2)}x |`,
      );
      const s1 = await measure(
        () => structuredStream({ source: from(sse), provider: "openai-chat" }).result,
        options,
      );
      const s2 = await measure(
        () => structuredStream({ source: from(ndjson), provider: "ollama" }).result,
        options,
      );
      rows.push(
        `| ${mb} MB | structuredStream | ${s1.ms.toFixed(1)} ms | ${s2.ms.toFixed(1)} ms | ${(s2.ms / s1.ms).toFixed(2)}x |`,
      );
    }
    context.print(rows.join("\n"));
  },
};
