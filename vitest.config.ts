import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "celestia/**/*.test.ts", "sequencer/**/*.test.ts", "lazy-rollup-node/**/*.test.ts", "proto/**/*.test.ts", "cli/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
  },
});
