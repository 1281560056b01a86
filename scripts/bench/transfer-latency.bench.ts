// One user's view of a token transfer on the running devnet (issue 6): cosmjs signs and broadcasts
// (fee "auto"), then the time from the sequencer commit of its block to the rollup node reporting it
// soft, firm and under a header, each seen as the node's own WebSocket event; every firm location is
// checked with blob.Get on the DA server. Transfers go one after another at a user's pace, so this
// is latency without load (`npm run bench:e2e` is the loaded view).
import { createHash } from "node:crypto";
import { WebSocket } from "ws";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { signingClient } from "../../cli/context.ts";
import { signTokenTransfer } from "../../lazy-rollup-node/token/client.ts";
import { FEE_DENOM } from "../../sequencer/params.ts";
import { DEFAULT_DEVNET_SETTINGS } from "../../devnet/create.ts";
import { startBenchDevnet } from "./e2e/devnet-process.ts";
import type { BenchReport } from "./report.ts";

const TRANSFERS = Number(process.env.METRO_BENCH_TRANSFERS ?? 40);
const LEVEL_TIMEOUT_MS = 30_000;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

/** Arrival times of rollup-node events per tx hash, and of sequencer blocks per tx hash. */
class Observer {
  readonly seen = new Map<string, Map<string, number>>();
  #waiters: (() => void)[] = [];

  record(hash: string, level: string, at = performance.now()): void {
    const levels = this.seen.get(hash) ?? new Map<string, number>();
    if (!levels.has(level)) levels.set(level, at);
    this.seen.set(hash, levels);
    for (const wake of this.#waiters.splice(0)) wake();
  }

  async until(hash: string, level: string): Promise<number> {
    const deadline = performance.now() + LEVEL_TIMEOUT_MS;
    for (;;) {
      const at = this.seen.get(hash)?.get(level);
      if (at !== undefined) return at;
      if (performance.now() > deadline) throw new Error(`tx ${hash}: no ${level} within ${LEVEL_TIMEOUT_MS} ms`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 1_000).unref();
      });
    }
  }
}

function socket(url: string, onMessage: (message: any) => void): Promise<WebSocket> {
  const ws = new WebSocket(url, { maxPayload: 64 * 1024 * 1024 });
  ws.on("message", (raw) => onMessage(JSON.parse(String(raw))));
  return new Promise((resolve, reject) => ws.once("open", () => resolve(ws)).once("error", reject));
}

async function daBlob(url: string, da: { height: number; namespace: string; commitment: string }): Promise<{ commitment: string }> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "blob.Get", params: [da.height, da.namespace, da.commitment] }),
  });
  const body = (await response.json()) as { result?: { commitment: string }; error?: { message: string } };
  if (!body.result) throw new Error(`blob.Get at DA height ${da.height}: ${body.error?.message}`);
  return body.result;
}

export async function run(): Promise<BenchReport> {
  const devnet = await startBenchDevnet(DEFAULT_DEVNET_SETTINGS, [], false);
  const sockets: WebSocket[] = [];
  try {
    const { file } = devnet;
    const rollup = file.rollups[0];
    const observer = new Observer();
    // Commits: the sequencer's NewBlock events, each tx hashed as cosmjs reports it.
    // The commit moment is the first NewBlock event from any validator: each validator reports the
    // commit when it has it, and the rollup node may follow one that is ahead of any given other.
    const validators = await Promise.all(
      file.sequencer.websocket.map((url, v) =>
        socket(url, (m) => {
          for (const tx of m.result?.data?.value?.block?.data?.txs ?? []) {
            const hash = createHash("sha256").update(Buffer.from(tx, "base64")).digest("hex").toUpperCase();
            observer.record(hash, "commit");
            observer.record(hash, `commit-${v}`);
          }
        }),
      ),
    );
    for (const v of validators) v.send(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "subscribe", params: { query: "tm.event='NewBlock'" } }));
    const node = await socket(`${rollup.nodes[0].replace("http", "ws")}/v1/ws`, (m) => {
      if (m.event && m.hash) observer.record(m.hash, m.event);
      if (m.event === "firm") observer.record(`${m.hash}/da`, JSON.stringify(m.tx.da));
    });
    sockets.push(...validators, node);

    // The same signer `metro token transfer` uses: the mnemonic's key signs on both layers.
    const users = await Promise.all(
      file.accounts.slice(0, 2).map(async ({ mnemonic }) => {
        const { client, address, privateKey } = await signingClient({ from: mnemonic, node: file.sequencer.rpc[0], gasPrice: `${file.sequencer.minGasPrice}${FEE_DENOM}` });
        return { address, rollupAddress: "", privateKey, client, nonce: 0n };
      }),
    );
    for (const [i, u] of users.entries()) u.rollupAddress = file.accounts[i].rollupAddresses![rollup.secondaryChainId];

    const samples: { submitToCommit: number; commitToSoft: number; commitToFirm: number; commitToHeader: number }[] = [];
    let confirmed = 0;
    for (let n = 0; n < TRANSFERS; n++) {
      const [from, to] = n % 2 === 0 ? users : [users[1], users[0]];
      const data = signTokenTransfer(from.privateKey, { chainId: rollup.secondaryChainId, nonce: from.nonce++, to: to.rollupAddress, amount: 1n });
      const rollupHash = createHash("sha256").update(data).digest("hex").toUpperCase();
      node.send(JSON.stringify({ subscribe: "tx", hash: rollupHash }));
      const submitted = performance.now();
      const hash = await from.client.signAndBroadcastSync(from.address, [submitRollupTxMsg(from.address, { secondaryChainId: rollup.secondaryChainId, data })], "auto");
      const commit = await observer.until(hash, "commit");
      const soft = await observer.until(rollupHash, "soft");
      const firm = await observer.until(rollupHash, "firm");
      const header = await observer.until(rollupHash, "header");
      const da = JSON.parse([...observer.seen.get(`${rollupHash}/da`)!.keys()][0]) as { height: number; namespace: string; commitment: string };
      if ((await daBlob(file.da.url, da)).commitment !== da.commitment) throw new Error(`tx ${rollupHash}: the DA blob at ${da.height} has another commitment`);
      confirmed++;
      samples.push({ submitToCommit: commit - submitted, commitToSoft: soft - commit, commitToFirm: firm - commit, commitToHeader: header - commit });
    }
    // How far behind the first each validator's NewBlock came: a validator that trails by a gossip
    // round delays the rollup node whenever the node follows it.
    const validatorLags = file.sequencer.websocket.map((_, v) =>
      [...observer.seen.values()].flatMap((levels) => {
        const first = levels.get("commit");
        const own = levels.get(`commit-${v}`);
        return first === undefined || own === undefined ? [] : [own - first];
      }),
    );
    const row = (measure: string, values: number[]) => ({ measure, p50_ms: Math.round(percentile(values, 50) * 10) / 10, p99_ms: Math.round(percentile(values, 99) * 10) / 10, max_ms: Math.round(Math.max(...values)) });
    return {
      name: "transfer-latency",
      title: `Token transfer latency on the devnet (${TRANSFERS} cosmjs transfers one after another, ${file.settings!.blockTimeMs} ms sequencer blocks, ${file.settings!.daBlockTimeMs} ms DA blocks)`,
      rows: [
        row("broadcast (incl. simulate + sign) -> commit", samples.map((s) => s.submitToCommit)),
        row("commit -> soft", samples.map((s) => s.commitToSoft)),
        row("commit -> firm", samples.map((s) => s.commitToFirm)),
        row("commit -> header", samples.map((s) => s.commitToHeader)),
      ],
      notes: [
        "commit = the first NewBlock event with the transaction on any of the four validators' WebSockets; soft, firm, header = the rollup node's own /v1/ws events for the transaction; all seen by this one process on one clock.",
        `${confirmed} of ${TRANSFERS} firm locations (DA height, namespace, commitment) confirmed by blob.Get on the DA server.`,
        `each validator's NewBlock after the first one, p50 / max in ms: ${validatorLags.map((lags, v) => `validator-${v} ${lags.length === 0 ? "none seen" : `${Math.round(percentile(lags, 50))} / ${Math.round(Math.max(...lags))}`}`).join(", ")}; the measured rollup node (the devnet's first) streams blocks from validator-1 while it answers.`,
        "Target (issue 6): commit -> soft p50 <= 200 ms.",
      ],
    };
  } finally {
    for (const s of sockets) s.close();
    await devnet.stop();
  }
}
