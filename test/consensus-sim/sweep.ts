// A bounded sweep of simulation seeds as vitest tests; SEED=<n> runs just that seed (in the first
// sweep file). Split across files so vitest's workers share the load.
import { describe, expect, it } from "vitest";
import { replayHint, runSimulation, type SimResult } from "./simulation.ts";

const CHUNK = 20;

function report(results: SimResult[]): string {
  return results.map((r) => [`seed ${r.seed} failed (${replayHint(r.seed)}):`, ...r.violations.map((v) => `  ${v}`)].join("\n")).join("\n");
}

export function defineSweep(name: string, from: number, count: number, runsSingleSeed: boolean): void {
  const single = process.env.SEED;
  describe(`consensus simulation: ${name}`, () => {
    if (single !== undefined) {
      it.runIf(runsSingleSeed)(`seed ${single}`, async () => {
        const result = await runSimulation(Number(single));
        expect(result.violations, report([result])).toEqual([]);
      });
      return;
    }
    for (let start = from; start < from + count; start += CHUNK) {
      const end = Math.min(start + CHUNK, from + count);
      it(`seeds ${start}..${end - 1}: agreement, validity, no double signing, liveness after healing`, async () => {
        const failed: SimResult[] = [];
        for (let seed = start; seed < end; seed++) {
          const result = await runSimulation(seed);
          if (result.violations.length > 0) failed.push(result);
        }
        expect(failed.length, report(failed)).toBe(0);
      });
    }
  });
}
