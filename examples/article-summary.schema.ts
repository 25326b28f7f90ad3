/**
 * The article summary of `article-summary.schema.json`, written with zod 4: `structream run
 * --schema examples/article-summary.schema.ts` loads it through tsx (Node 20 cannot import
 * TypeScript by itself) and validates the final answer with zod.
 */
import { z } from "zod";

export const schema = z
  .object({
    title: z.string().min(3).max(120).describe("The article's title, or a short title for it."),
    summary: z
      .string()
      .min(80)
      .max(1200)
      .describe("One paragraph that says what the article is about and what it concludes."),
    key_points: z
      .array(z.string().min(10).max(200))
      .min(3)
      .max(5)
      .describe("The three to five points a reader should remember."),
    sentiment: z.enum(["positive", "neutral", "negative"]).describe("The article's overall tone."),
    word_count: z.number().int().min(50).max(2000).describe("An estimate of the article's length in words."),
    sections: z
      .array(
        z
          .object({
            heading: z.string().min(3).max(80),
            body: z.string().min(20).max(400).describe("Two or three sentences on what the section says."),
            importance: z.enum(["low", "medium", "high"]),
          })
          .strict(),
      )
      .min(2)
      .max(4)
      .describe("The article's main sections, in order."),
    published_at: z.iso.datetime({ offset: true }).describe("When the article was published (RFC 3339)."),
  })
  .strict();

export type ArticleSummary = z.infer<typeof schema>;

export default schema;
