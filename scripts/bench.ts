// `npm run bench [name...]`: runs the benchmarks in scripts/bench/ (all, or those named), prints a
// table for each and writes bench-results/<name>.json.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { printReport, saveReport, machine, type BenchReport } from "./bench/report.ts";

const dir = join(dirname(fileURLToPath(import.meta.url)), "bench");
const wanted = process.argv.slice(2);
const available = readdirSync(dir).filter((f) => f.endsWith(".bench.ts")).map((f) => f.replace(/\.bench\.ts$/, ""));
const chosen = wanted.length > 0 ? wanted : available;
const unknown = chosen.filter((n) => !available.includes(n));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; available: ${available.join(", ")}`);
  process.exit(2);
}
console.log("machine:", machine());
for (const name of chosen) {
  const mod = (await import(join(dir, `${name}.bench.ts`))) as { run: () => Promise<BenchReport> };
  const report = await mod.run();
  printReport(report);
  console.log(`saved ${saveReport(report)}`);
}
