// Four validators as real processes, BFT over libp2p on 127.0.0.1, under load: with one killed
// (kill -9) blocks go on; with two killed they stop (safety over liveness) and resume when one
// returns; a restarted validator catches up; in the end all hold identical blocks and every
// accepted transaction is committed exactly once.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initTestnet } from "../../sequencer/init.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";

const CHAIN_ID = "metro-committee-1";
const BASE = 31000 + Math.floor(Math.random() * 200) * 20;
const rpcPort = (i: number) => BASE + i;
const p2pPort = (i: number) => BASE + 10 + i;
const url = (i: number) => `http://127.0.0.1:${rpcPort(i)}`;
const root = mkdtempSync(join(tmpdir(), "metro-committee-"));
const homes = [0, 1, 2, 3].map((i) => join(root, `validator-${i}`));
const processes: (MetroProcess | undefined)[] = [];

afterAll(async () => {
  for (const p of processes) await p?.kill("SIGKILL");
  rmSync(root, { recursive: true, force: true });
});

async function rpc<T>(i: number, method: string, params: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch(url(i), { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result!;
}

const height = async (i: number) => Number((await rpc<{ sync_info: { latest_block_height: string } }>(i, "status")).sync_info.latest_block_height);

/** Waits (polling the RPC) until validator i reaches `target`; fails after `timeoutMs`. */
async function reach(i: number, target: number, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await height(i).catch(() => 0)) >= target) return;
    if (Date.now() > deadline) throw new Error(`validator ${i} did not reach height ${target} in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function start(i: number): Promise<void> {
  processes[i] = await startMetro(["sequencer", "start", "--home", homes[i], "--metrics", "off"]);
}

describe("a committee of four validators", () => {
  it("keeps safety and liveness through kill -9 and restarts", async () => {
    const signers = Array.from({ length: 3 }, () => Secp256k1Signer.random());
    initTestnet({ homes, chainId: CHAIN_ID, accounts: signers.map((s) => ({ address: s.address, balance: 10n ** 12n })), rpcPort, p2pPort, blockTimeMs: 200 });
    await Promise.all([0, 1, 2, 3].map(start));
    await reach(0, 3);

    const gasLimit = 50_000n;
    const accepted: string[] = [];
    const sequences = signers.map(() => 0n);
    const submit = async (via: number, count: number) => {
      for (let n = 0; n < count; n++) {
        const s = n % signers.length;
        const tx = signers[s].sign([submitRollupTxMsg(signers[s].address, { secondaryChainId: "committee", data: Buffer.from(`${via}/${n}`) })], {
          chainId: CHAIN_ID,
          accountNumber: BigInt(s),
          sequence: sequences[s],
          gasLimit,
          fee: requiredFee(DEFAULT_PARAMS, gasLimit),
        });
        const r = await rpc<{ code: number; hash: string }>(via, "broadcast_tx_sync", { tx: Buffer.from(tx).toString("base64") });
        expect(r.code).toBe(0);
        sequences[s]++;
        accepted.push(r.hash);
      }
    };

    await submit(1, 30);
    await processes[3]!.kill("SIGKILL");
    const afterOne = await height(0);
    await submit(0, 30);
    await reach(0, afterOne + 3); // three validators of four: +2/3 of the power, blocks go on

    await processes[2]!.kill("SIGKILL");
    const stalled = await height(0);
    // Two of four are down: no block may be committed. Watch for a while (an absence has no event).
    await new Promise((r) => setTimeout(r, 2000));
    expect(await height(0)).toBeLessThanOrEqual(stalled + 1);

    await start(2);
    await reach(0, stalled + 3);
    await start(3);
    const tip = await height(0);
    await reach(3, tip);

    // Every accepted transaction ends up in a block, exactly once.
    const found = async (hash: string) => rpc<{ height: string }>(0, "tx", { hash: `0x${hash}` }).then(() => true, () => false);
    for (const hash of accepted) {
      const deadline = Date.now() + 20_000;
      while (!(await found(hash))) {
        if (Date.now() > deadline) throw new Error(`accepted tx ${hash} was never committed`);
        await reach(0, (await height(0)) + 1);
      }
    }
    for (const [s, signer] of signers.entries()) {
      const mine = await rpc<{ total_count: string; txs: { hash: string }[] }>(0, "tx_search", { query: `message.sender='${signer.address}'`, per_page: "100" });
      expect(Number(mine.total_count)).toBe(Number(sequences[s]));
      expect(new Set(mine.txs.map((t) => t.hash)).size).toBe(mine.txs.length);
    }

    // All four hold the same blocks.
    const common = Math.min(...(await Promise.all([0, 1, 2, 3].map(height))));
    for (let h = 1; h <= common; h++) {
      const hashes = await Promise.all([0, 1, 2, 3].map(async (i) => (await rpc<{ block_id: { hash: string } }>(i, "block", { height: String(h) })).block_id.hash));
      expect(new Set(hashes).size).toBe(1);
    }
  }, 120_000);
});
