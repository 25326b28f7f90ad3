import { fileURLToPath } from "node:url";
import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

const root = fileURLToPath(new URL(".", import.meta.url));

/**
 * The demo page of `structream serve`. It imports structream's client and React hook from the
 * repository's sources (`../../src/...`), so it builds without publishing the package.
 * Build: `npx vite build --config demo/vite.config.ts` (writes demo/dist, which the server serves).
 * Develop: `npx vite --config demo/vite.config.ts` with `structream serve --port 3000` running:
 * `/api` is proxied to it.
 */
export default defineConfig({
  root,
  base: "./",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: true,
  },
  server: {
    proxy: { "/api": "http://127.0.0.1:3000" },
  },
});
