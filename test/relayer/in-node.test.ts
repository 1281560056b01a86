// The relayer inside a sequencer node, all as real processes: `metro da serve` and
// `metro sequencer start --da-url`. A committed transaction becomes DA-final, and metro_da_status
// names the DA height, namespace and commitment that blob.Get on the DA server confirms.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { initHome } from "../../sequencer/init.ts";
import { Secp256k1Signer } from "../../sequencer/client/signer.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { DaClient } from "../../celestia/da-client.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";

const running: MetroProcess[] = [];
const homes: string[] = [];

afterEach(async () => {
  for (const p of running.splice(0).reverse()) await p.kill("SIGKILL");
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
});

async function rpc<T>(url: string, method: string, params: Record<string, unknown>): Promise<T> {
  const response = await fetch(url, { method: "POST", body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
  const body = (await response.json()) as { result?: T; error?: { message: string; data?: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message} ${body.error.data ?? ""}`);
  return body.result!;
}

describe("relayer in the sequencer node", () => {
  it("makes a committed transaction DA-final and says where it is", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-relay-node-"));
    homes.push(home);
    const signer = Secp256k1Signer.random();
    initHome({ home: join(home, "seq"), chainId: "metro-relay-1", accounts: [{ address: signer.address, balance: 10n ** 12n }] });
    const da = await startMetro(["da", "serve", "--port", "0", "--home", join(home, "da"), "--block-time", "200"]);
    running.push(da);
    const seq = await startMetro(["sequencer", "start", "--home", join(home, "seq"), "--rpc", "127.0.0.1:0", "--metrics", "off", "--block-time", "200", "--da-url", String(da.ready.url)]);
    running.push(seq);
    const url = String(seq.ready.url);

    const gasLimit = 50_000n;
    const tx = signer.sign([submitRollupTxMsg(signer.address, { secondaryChainId: "da-final", data: Buffer.from("to celestia") })], {
      chainId: "metro-relay-1",
      accountNumber: 0n,
      sequence: 0n,
      gasLimit,
      fee: requiredFee(DEFAULT_PARAMS, gasLimit),
    });
    const committed = await rpc<{ hash: string; height: string; check_tx: { code: number } }>(url, "broadcast_tx_commit", { tx: Buffer.from(tx).toString("base64") });
    expect(committed.check_tx.code).toBe(0);

    const client = new DaClient({ url: String(da.ready.url), retry: false });
    const headers = await client.subscribeHeaders();
    try {
      type Status = { state: string; da_height?: string; namespace?: string; commitment?: string; tx_height?: string };
      let status: Status | undefined;
      for await (const _ of headers) {
        const current: Status = await rpc(url, "metro_da_status", { hash: committed.hash });
        status = current;
        if (current.state === "posted") break;
      }
      if (!status) throw new Error("the DA header stream ended before the transaction was posted");
      expect(status.tx_height).toBe(committed.height);
      const blob = await client.get(Number(status.da_height), Buffer.from(status.namespace!, "base64"), Buffer.from(status.commitment!, "base64"));
      expect(blob.data.length).toBeGreaterThan(0);
    } finally {
      await headers.cancel();
      await client.close();
    }
  });
});
