// Crash atomicity for real: a child process commits version after version and is killed with
// SIGKILL at a random moment; the store it leaves must be exactly some version, block record
// included, never a mix.
import { describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Level } from "level";
import { MerkleStore } from "../../merkle-store/index.ts";
import { ACCOUNTS, accountKey, contentsAt } from "./crash-workload.ts";
import { hex, leavesOf, referenceRoot } from "./reference.ts";

const CHILD = join(import.meta.dirname, "crash-child.ts");

/** Starts the child on `dir`, kills it once it has printed `versions` more commits plus a random few ms, and returns the last version it printed. */
async function runAndKill(dir: string, versions: number): Promise<number> {
  const child = spawn(process.execPath, [CHILD, dir], { stdio: ["ignore", "pipe", "inherit"] });
  let printed = 0;
  let last = 0;
  let buffered = "";
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.once("exit", (_code, signal) => resolve(signal)));
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    buffered += chunk;
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    for (const line of lines) {
      last = Number(line);
      if (++printed === versions) setTimeout(() => child.kill("SIGKILL"), Math.random() * 20);
    }
  });
  expect(await exited).toBe("SIGKILL");
  return last;
}

describe("merkle-store crash atomicity", () => {
  it("recovers at a whole version, with the block record of that version and no later one, after each kill -9", async () => {
    const dir = mkdtempSync(join(tmpdir(), "merkle-store-crash-"));
    try {
      for (let round = 0; round < 3; round++) {
        const lastPrinted = await runAndKill(dir, 15);
        const db = new Level(dir);
        try {
          const store = await MerkleStore.open(db.sublevel("state"));
          const blocks = db.sublevel("blocks");
          const version = store.version;
          // The kill may land after a commit was written but before it was printed.
          expect(version).toBeGreaterThanOrEqual(lastPrinted);
          expect(version).toBeLessThanOrEqual(lastPrinted + 1);
          const contents = contentsAt(version);
          const root = referenceRoot(leavesOf([...contents].map(([account, value]) => [accountKey(account), value] as const)));
          expect(hex(await store.root())).toBe(hex(root));
          expect(await blocks.get(String(version))).toBe(hex(root));
          expect(await blocks.get(String(version + 1))).toBeUndefined();
          for (let account = 0; account < ACCOUNTS; account += 7) {
            expect(await store.get(accountKey(account))).toEqual(contents.get(account));
          }
        } finally {
          await db.close();
        }
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
