// The sequencer as a real process under load, killed with kill -9 and restarted on the same home:
// every transaction it committed is still there exactly once, sequences line up, and it goes on.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StargateClient } from "@cosmjs/stargate";
import { initHome } from "../../sequencer/init.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";

const CHAIN_ID = "metro-crash-1";
const running: MetroProcess[] = [];
const homes: string[] = [];

afterEach(async () => {
  for (const p of running.splice(0)) await p.kill("SIGKILL");
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function start(home: string): Promise<{ process: MetroProcess; url: string }> {
  const process = await startMetro(["sequencer", "start", "--home", home, "--rpc", "127.0.0.1:0", "--metrics", "off", "--block-time", "100"]);
  running.push(process);
  return { process, url: String(process.ready.url) };
}

async function rpc<T>(url: string, method: string, tx: Uint8Array): Promise<T> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { tx: Buffer.from(tx).toString("base64") } }) });
  return ((await response.json()) as { result: T }).result;
}

const broadcast = (url: string, tx: Uint8Array) => rpc<{ code: number; hash: string }>(url, "broadcast_tx_sync", tx);

describe("sequencer process", () => {
  it("after kill -9 keeps every committed transaction exactly once and resumes", async () => {
    const signers = Array.from({ length: 4 }, () => Secp256k1Signer.random());
    const home = mkdtempSync(join(tmpdir(), "metro-seq-crash-"));
    homes.push(home);
    initHome({ home, chainId: CHAIN_ID, accounts: signers.map((s) => ({ address: s.address, balance: 10n ** 12n })) });
    const first = await start(home);
    const gasLimit = 50_000n;
    const sign = (i: number, seq: number) =>
      signers[i].sign([submitRollupTxMsg(signers[i].address, { secondaryChainId: "crash", data: Buffer.from(`tx ${i}/${seq}`) })], {
        chainId: CHAIN_ID,
        accountNumber: BigInt(i),
        sequence: BigInt(seq),
        gasLimit,
        fee: requiredFee(DEFAULT_PARAMS, gasLimit),
      });
    // Keep offering transactions while the node is killed mid-stream.
    const accepted: string[] = [];
    for (let seq = 0; ; seq++) {
      for (let i = 0; i < signers.length; i++) {
        const r = await broadcast(first.url, sign(i, seq));
        expect(r.code).toBe(0);
        accepted.push(r.hash);
      }
      if (seq === 20) {
        await first.process.kill("SIGKILL");
        break;
      }
    }
    expect((await first.process.exited).signal).toBe("SIGKILL");

    const second = await start(home);
    const client = await StargateClient.connect(second.url);
    try {
      const resumedAt = Number(second.process.ready.height);
      // Every account's sequence equals the number of its transactions that are in blocks, and each
      // committed transaction is found exactly once.
      let committed = 0;
      for (let i = 0; i < signers.length; i++) {
        const account = await client.getAccount(signers[i].address);
        const sequence = account?.sequence ?? 0;
        const found = await client.searchTx(`message.sender='${signers[i].address}'`);
        expect(found.length).toBe(sequence);
        expect(new Set(found.map((t) => t.hash)).size).toBe(found.length);
        for (const t of found) expect(accepted).toContain(t.hash);
        committed += found.length;
      }
      expect(committed).toBeGreaterThan(0);
      // The chain goes on from where it was and accepts the next sequence of each account.
      const i = 0;
      const next = (await client.getAccount(signers[i].address))?.sequence ?? 0;
      const r = await rpc<{ check_tx: { code: number }; tx_result: { code: number }; height: string }>(second.url, "broadcast_tx_commit", sign(i, next));
      expect(r.check_tx.code).toBe(0);
      expect(Number(r.height)).toBeGreaterThan(resumedAt);
    } finally {
      client.disconnect();
    }
  });
});
