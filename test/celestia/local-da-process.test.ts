// The local DA server as a real process: after kill -9 and a restart on the same home it serves
// every block and blob it had confirmed, and its chain continues from there.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DaClient } from "../../celestia/da-client.ts";
import { blobCommitment } from "../../celestia/commitment.ts";
import { namespaceFromSecondaryChainId } from "../../celestia/namespace.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";

const running: MetroProcess[] = [];
const homes: string[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await p.kill("SIGKILL");
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function serve(home: string): Promise<{ process: MetroProcess; client: DaClient }> {
  const process = await startMetro(["da", "serve", "--port", "0", "--home", home, "--block-time", "100"]);
  running.push(process);
  return { process, client: new DaClient({ url: String(process.ready.url), retry: false }) };
}

describe("local DA server process", () => {
  it("survives kill -9: confirmed blobs are still served and heights continue", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-da-proc-"));
    homes.push(home);
    const first = await serve(home);
    const namespace = namespaceFromSecondaryChainId("crash-test");
    const confirmed: { height: number; commitment: Uint8Array; data: Uint8Array }[] = [];
    for (let i = 0; i < 5; i++) {
      const data = new Uint8Array(1000 + i * 700).fill(i + 1);
      const height = await first.client.submit([{ namespace, data, shareVersion: 0 }]);
      confirmed.push({ height, commitment: blobCommitment({ namespace, data, shareVersion: 0 }), data });
    }
    const headBefore = (await first.client.networkHead()).height;
    const hashBefore = (await first.client.headerByHeight(headBefore)).hash;
    await first.client.close();
    await first.process.kill("SIGKILL");
    expect((await first.process.exited).signal).toBe("SIGKILL");

    const second = await serve(home);
    try {
      expect(Number(second.process.ready.head)).toBeGreaterThanOrEqual(headBefore);
      for (const c of confirmed) {
        const blob = await second.client.get(c.height, namespace, c.commitment);
        expect(Buffer.compare(blob.data, c.data)).toBe(0);
        const proof = await second.client.getProof(c.height, namespace, c.commitment);
        expect(await second.client.included(c.height, namespace, proof, c.commitment)).toBe(true);
      }
      expect(Buffer.compare((await second.client.headerByHeight(headBefore)).hash, hashBefore)).toBe(0);
      const next = await second.client.waitForHeight(Number(second.process.ready.head) + 1);
      expect(next.json.header.last_block_id.hash).toBe((await second.client.headerByHeight(next.height - 1)).json.commit.block_id.hash);
    } finally {
      await second.client.close();
    }
  });
});
