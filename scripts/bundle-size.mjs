#!/usr/bin/env node
// Sizes of what a browser or edge bundle pulls in for each way of importing structream: esbuild,
// minified, ESM, tree-shaken, from the built dist/ (run `npm run build` first). Prints one line per
// entry, and whether ajv (and its code generation) is in it.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL("../", import.meta.url));

/** What a user writes, by name. */
export const ENTRIES = {
  "structream/json (createParser)": `import { createParser } from "structream/json"; globalThis.p = createParser;`,
  "structream (createParser only)": `import { createParser } from "structream"; globalThis.p = createParser;`,
  "structream (structuredStream)": `import { structuredStream } from "structream"; globalThis.s = structuredStream;`,
  "structream/client (subscribe)": `import { subscribe } from "structream/client"; globalThis.s = subscribe;`,
};

/** Bundles each entry; returns `{ name, bytes, gzip, ajv }` per entry. */
export async function measure() {
  const dir = mkdtempSync(join(tmpdir(), "structream-bundle-"));
  try {
    mkdirSync(join(dir, "node_modules"));
    symlinkSync(root, join(dir, "node_modules", "structream"), "dir");
    const rows = [];
    for (const [name, code] of Object.entries(ENTRIES)) {
      const file = join(dir, `${rows.length}.js`);
      writeFileSync(file, code);
      const result = await build({
        entryPoints: [file],
        bundle: true,
        minify: true,
        format: "esm",
        platform: "browser",
        write: false,
        logLevel: "silent",
        absWorkingDir: dir,
      });
      const text = result.outputFiles[0].text;
      rows.push({
        name,
        bytes: Buffer.byteLength(text),
        gzip: gzipSync(text, { level: 9 }).length,
        ajv: /ajv|new Function|Function\(/.test(text),
      });
    }
    return rows;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const row of await measure()) {
    const kb = (n) => `${(n / 1024).toFixed(1)} KiB`;
    console.log(
      `${row.name.padEnd(34)} ${kb(row.bytes).padStart(10)} min  ${kb(row.gzip).padStart(9)} gzip  ${row.ajv ? "ajv + code generation" : "no ajv"}`,
    );
  }
}
