// What user commands print: a line of text per step for people, or with --json one JSON object per
// line (the same facts, machine-readable) for scripts and tests.
import type { Command } from "commander";

export interface OutputOptions {
  json?: boolean;
}

export const outputOption = (cmd: Command): Command => cmd.option("--json", "print one JSON object per line instead of text");

/** Prints `record` as JSON with --json, else `text`. */
export function emit(o: OutputOptions, record: Record<string, unknown>, text: string): void {
  console.log(o.json ? JSON.stringify(record) : text);
}

/** A label padded so that steps line up: "committed  height 12". */
export const label = (name: string): string => name.padEnd(10);

/** Why a request failed, for a message: fetch's network cause (ECONNREFUSED, …) rather than its bare "fetch failed". */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return (error.cause as Error | undefined)?.message ?? error.message;
}
