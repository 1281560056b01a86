// The shape every benchmark returns, and how the runner prints and saves it.
import { cpus, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export type BenchRow = Record<string, string | number>;

export interface BenchReport {
  /** Short id, also the JSON file name: `bench-results/<name>.json`. */
  name: string;
  title: string;
  rows: BenchRow[];
  /** What the figures mean, what the ceiling is, the ratio to it. */
  notes?: string[];
}

export function machine(): Record<string, string | number> {
  return { cpu: cpus()[0]?.model ?? "unknown", cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version };
}

export function printReport(report: BenchReport): void {
  console.log(`\n## ${report.title}`);
  if (report.rows.length > 0) console.table(report.rows);
  for (const note of report.notes ?? []) console.log(`- ${note}`);
}

export function saveReport(report: BenchReport, dir = "bench-results"): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `${report.name}.json`);
  writeFileSync(path, JSON.stringify({ ...report, machine: machine(), date: new Date().toISOString() }, null, 2) + "\n");
  return path;
}
