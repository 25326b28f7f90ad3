// Records the public surface of every subpath, imported as a user would (by package name, from
// the built dist/), so that any change to it shows in review.
import { describe, expect, it } from "vitest";

const surfaces: Record<string, string[]> = {
  structream: [
    "DEFAULT_BASE_URLS",
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "JsonParseError",
    "PROVIDER_IDS",
    "PartialJsonStream",
    "StreamError",
    "StructreamError",
    "StructuredStream",
    "backoffDelay",
    "compileSchema",
    "createParser",
    "createProviderDecoder",
    "createSdkMapper",
    "detectProvider",
    "fromPointer",
    "isStreamError",
    "isStructreamError",
    "parseJsonStream",
    "parsePartial",
    "structuredStream",
    "toJsonSchema",
    "toPointer",
    "toStrictJsonSchema",
  ],
  "structream/json": [
    "DEFAULT_MAX_DEPTH",
    "DEFAULT_MAX_LENGTH",
    "JsonParseError",
    "PartialJsonStream",
    "createParser",
    "fromPointer",
    "parseJsonStream",
    "parsePartial",
    "toPointer",
    "valueAt",
  ],
  "structream/server": [
    "INITIAL_STATE",
    "PatchError",
    "applyPatch",
    "createMemoryEventLog",
    "createRedisEventLog",
    "createRelay",
    "decodePatch",
    "decodeRelayEvent",
    "diff",
    "encodePatch",
    "formatSseEvent",
    "isTerminal",
    "reduceRelayState",
    "toEventStreamResponse",
    "toNodeHandler",
    "toPublicError",
    "toWebRequest",
    "writeResponseToNode",
  ],
  "structream/client": ["subscribe"],
  "structream/simulator": [
    "SIM_BLOCKS",
    "generateValue",
    "parseFault",
    "simulatorBaseUrl",
    "splitDeltas",
    "startSimulator",
  ],
};

describe("the public surface", () => {
  for (const [specifier, names] of Object.entries(surfaces)) {
    it(`${specifier} exports exactly its documented names`, async () => {
      const module = await import(specifier);
      expect(Object.keys(module).sort()).toEqual([...names].sort());
    });
  }

  // Browser bundles must not reach Node built-ins, the root must not reach React, and the parser
  // alone reaches no package at all (no ajv: nothing that generates code).
  for (const [entry, forbidden] of [
    ["client/index.js", /^node:/],
    ["server/index.js", /^node:/],
    ["index.js", /^react/],
    ["json/index.js", /^[^.]/],
  ] as const) {
    it(`dist/${entry} reaches no import matching ${forbidden}`, async () => {
      const { readFile } = await import("node:fs/promises");
      const seen = new Set<string>();
      const offending: string[] = [];
      const visit = async (url: URL): Promise<void> => {
        if (seen.has(url.href)) return;
        seen.add(url.href);
        const code = await readFile(url, "utf8");
        for (const match of code.matchAll(/(?:^|\n)\s*(?:import|export)[^"']*?from\s*["']([^"']+)["']/g)) {
          const target = match[1];
          if (target.startsWith(".")) await visit(new URL(target, url));
          else if (forbidden.test(target)) offending.push(`${url.pathname.split("/dist/")[1]} → ${target}`);
        }
      };
      await visit(new URL(`../dist/${entry}`, import.meta.url));
      expect(seen.size).toBeGreaterThan(1);
      expect(offending).toEqual([]);
    });
  }
});
