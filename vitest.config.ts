import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

/** A package of React 18 (test/react18, installed beside the project's React 19). */
const react18 = (name: string) =>
  fileURLToPath(new URL(`./test/react18/node_modules/${name}`, import.meta.url));

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for a condition, not against a clock: 1 s (vitest's default) is missed on
    // a loaded machine; the test's own time-out bounds it.
    expect: { poll: { timeout: 25_000 } },
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts", "test/**/*.test.tsx"],
          env: { STRUCTREAM_REACT_MAJOR: "19" },
          typecheck: { enabled: true, include: ["src/**/*.test-d.ts", "test/**/*.test-d.ts"] },
        },
      },
      {
        // The React hooks again, under React 18: `react` and `react-dom` (and what imports them,
        // @testing-library/react, inlined so the alias reaches it) resolve to test/react18.
        extends: true,
        test: {
          name: "react18",
          include: [
            "test/react-hooks.test.tsx",
            "test/react-version.test.tsx",
            "test/stream-rewind-react.test.tsx",
          ],
          env: { STRUCTREAM_REACT_MAJOR: "18" },
          server: { deps: { inline: ["@testing-library/react"] } },
        },
        resolve: {
          alias: [
            // Its ES module build, whose imports of react-dom go through these aliases too.
            {
              find: /^@testing-library\/react$/,
              replacement: fileURLToPath(
                new URL(
                  "./node_modules/@testing-library/react/dist/@testing-library/react.esm.js",
                  import.meta.url,
                ),
              ),
            },
            { find: /^react$/, replacement: react18("react/index.js") },
            { find: /^react\/(.*?)(\.js)?$/, replacement: `${react18("react")}/$1.js` },
            { find: /^react-dom$/, replacement: react18("react-dom/index.js") },
            { find: /^react-dom\/(.*?)(\.js)?$/, replacement: `${react18("react-dom")}/$1.js` },
          ],
        },
      },
    ],
  },
});
