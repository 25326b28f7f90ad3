/**
 * Retries: the cost of a retry catching up with what the first attempt showed, against the same
 * answer read once. The first attempt drops at 90%; the retry sends the same answer (as it was,
 * spaced otherwise, with its keys in another order) or a different one (a rewind). A catch-up is
 * compared incrementally on whitespace-free text, and as values at most every sixteenth of the
 * answer, so every case stays linear in the answer.
 */
import { structuredStream } from "../src/stream/index.ts";
import { type BenchSuite, markdownTable, measure } from "./harness.ts";

function chunks(text: string, size = 64): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

async function read(first: string | undefined, second: string): Promise<number> {
  const s = structuredStream({
    provider: "text",
    retry: { baseDelayMs: 0, maxDelayMs: 0 },
    source: async ({ attempt }) => {
      const drop = attempt === 0 && first !== undefined;
      const list = drop ? chunks(first.slice(0, Math.floor(first.length * 0.9))) : chunks(second);
      let i = 0;
      return new ReadableStream<string>({
        pull(controller) {
          if (i < list.length) controller.enqueue(list[i++]!);
          else if (drop) controller.error(new TypeError("terminated"));
          else controller.close();
        },
      });
    },
  });
  let rewinds = 0;
  s.on("rewind", () => rewinds++);
  for await (const _ of s) {
    // every event, as a UI reads them
  }
  await s.result;
  return rewinds;
}

export const lifecycleSuite: BenchSuite = {
  name: "lifecycle",
  description:
    "A retry after a drop at 90%, in 64-char chunks, read with for await: median wall time against the same answer read once.",
  async run(context) {
    const counts = context.quick ? [300] : [1500, 6000];
    const rows: string[][] = [];
    for (const n of counts) {
      const value = {
        items: Array.from({ length: n }, (_, i) => ({ id: i, label: `item number ${i} with some text` })),
      };
      const text = JSON.stringify(value);
      const cases: [string, string | undefined, string][] = [
        ["no retry", undefined, text],
        ["retry, same answer", text, text],
        ["retry, same answer spaced otherwise", text, JSON.stringify(value, null, 1)],
        [
          "retry, keys in another order",
          text,
          JSON.stringify({ items: value.items.map((x) => ({ label: x.label, id: x.id })) }),
        ],
        [
          "retry, different answer (rewind)",
          text,
          text.replace(`item number ${Math.floor(n * 0.6)} `, "another item "),
        ],
      ];
      let base = 0;
      for (const [name, first, second] of cases) {
        const m = await measure(() => read(first, second), { budgetMs: 1500, maxRuns: 7 });
        if (first === undefined) base = m.ms;
        rows.push([
          `${(text.length / 1024).toFixed(0)} KB: ${name}`,
          `${m.ms.toFixed(0)} ms`,
          `${(m.ms / base).toFixed(2)}x`,
        ]);
      }
    }
    context.print(markdownTable(["answer", "median", "vs no retry"], rows));
  },
};
