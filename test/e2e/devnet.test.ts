// The whole network as users get it: `metro devnet` (real processes: local DA, four validators with
// BFT over libp2p, a relayer, two token rollups, one with two nodes), driven only through published
// cosmjs and the components' public APIs. Transfers on both rollups and a bundle spanning both; a
// validator and the relayer are killed with SIGKILL in the middle and come back; then every
// transaction that got a C0 receipt is firm exactly once, the DA server holds the blobs the nodes
// cite, both nodes of a rollup agree on headers and state, balances add up on both layers, and a
// stopped devnet resumes where it was.
import { afterAll, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { decodeTxRaw, DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { Bip39, EnglishMnemonic, Slip10, Slip10Curve } from "@cosmjs/crypto";
import { makeCosmoshubPath } from "@cosmjs/amino";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";
import { metroRegistry, submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { signTokenTransfer } from "../../lazy-rollup-node/token/client.ts";
import { ADDRESS_PREFIX, FEE_DENOM } from "../../sequencer/params.ts";
import { verifyReceipt } from "../../sequencer/receipt.ts";
import { receiptFromJson } from "../../sequencer/rpc/json.ts";
import type { DevnetFile } from "../../cli/context.ts";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));
const home = mkdtempSync(join(tmpdir(), "metro-e2e-devnet-"));
// Ports from the pid, so parallel test files and other devnets do not collide, and below Linux's
// ephemeral range (32768 and up), where outgoing connections take ports.
const basePort = 21_000 + (process.pid % 12) * 400;
let devnet: MetroProcess | undefined;

afterAll(async () => {
  await devnet?.kill("SIGTERM");
});

const startDevnet = () => startMetro(["devnet", "--home", home, "--base-port", String(basePort), "--status-interval", "0"], "ready", 180_000);

async function getJson(url: string): Promise<any> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const body = await response.json();
  if (!response.ok) throw Object.assign(new Error(`${url}: ${response.status} ${JSON.stringify(body)}`), { status: response.status });
  return body;
}

async function jsonRpc(url: string, method: string, params: unknown): Promise<any> {
  const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal: AbortSignal.timeout(5_000) });
  const body = (await response.json()) as { result?: unknown; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result;
}

/** Polls `read` until it returns a value that is not undefined (errors count as "not yet"). */
async function until<T>(read: () => Promise<T | undefined>, what: string, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await read();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

interface User {
  name: string;
  address: string;
  privateKey: Uint8Array;
  client: SigningStargateClient;
}

async function user(file: DevnetFile, name: string, rpc: string): Promise<User> {
  const { mnemonic, address } = file.accounts.find((a) => a.name === name)!;
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: ADDRESS_PREFIX });
  // The rollup key is the wallet's own key (the same account on every layer).
  const seed = await Bip39.mnemonicToSeed(new EnglishMnemonic(mnemonic));
  const { privkey } = Slip10.derivePath(Slip10Curve.Secp256k1, seed, makeCosmoshubPath(0));
  const client = await SigningStargateClient.connectWithSigner(rpc, wallet, { registry: metroRegistry(), gasPrice: GasPrice.fromString(`${file.sequencer.minGasPrice}${FEE_DENOM}`), broadcastPollIntervalMs: 200 });
  return { name, address, privateKey: privkey, client };
}

interface Sent {
  what: string;
  sequencerHash: string;
  rpc: string;
  /** Rollup tx hash per secondary chain id. */
  rollupTxs: { rollup: string; hash: string }[];
}

const sha256Hex = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex").toUpperCase();

it("runs the whole network: transfers and a bundle reach firm and headers through a validator and relayer crash, exactly once, and the devnet resumes", async () => {
  devnet = await startDevnet();
  const file = JSON.parse(readFileSync(join(home, "devnet.json"), "utf8")) as DevnetFile;
  expect(file.sequencer.rpc).toHaveLength(4);
  expect(file.rollups.map((r) => [r.secondaryChainId, r.nodes.length])).toEqual([["alpha-1", 2], ["beta-1", 1]]);
  const [alpha, beta] = file.rollups;
  const rollupAddress = (u: User, prefix: string) => file.accounts.find((a) => a.name === u.name)!.rollupAddresses![prefix === alpha.addressPrefix ? alpha.secondaryChainId : beta.secondaryChainId];

  // Users talk to different validators, as they would to different RPC providers.
  const [alice, bob, carol] = await Promise.all(["alice", "bob", "carol"].map((name, i) => user(file, name, file.sequencer.rpc[i])));
  const nonces = new Map<string, bigint>();
  const nextNonce = (u: User, rollup: string) => {
    const key = `${u.name}/${rollup}`;
    const n = nonces.get(key) ?? 0n;
    nonces.set(key, n + 1n);
    return n;
  };
  const transferTx = (from: User, rollup: { secondaryChainId: string; addressPrefix: string }, to: User, amount: bigint) =>
    signTokenTransfer(from.privateKey, { chainId: rollup.secondaryChainId, nonce: nextNonce(from, rollup.secondaryChainId), to: rollupAddress(to, rollup.addressPrefix), amount });

  const sent: Sent[] = [];
  const moved = new Map<string, bigint>(); // `${rollup}/${name}` -> net change
  const move = (rollup: string, from: User, to: User, amount: bigint) => {
    moved.set(`${rollup}/${from.name}`, (moved.get(`${rollup}/${from.name}`) ?? 0n) - amount);
    moved.set(`${rollup}/${to.name}`, (moved.get(`${rollup}/${to.name}`) ?? 0n) + amount);
  };
  async function submitTransfer(from: User, rollup: typeof alpha, to: User, amount: bigint, what: string) {
    const data = transferTx(from, rollup, to, amount);
    const result = await from.client.signAndBroadcast(from.address, [submitRollupTxMsg(from.address, { secondaryChainId: rollup.secondaryChainId, data })], "auto");
    expect(result.code, `${what}: ${result.rawLog}`).toBe(0);
    move(rollup.secondaryChainId, from, to, amount);
    sent.push({ what, sequencerHash: result.transactionHash, rpc: file.sequencer.rpc[["alice", "bob", "carol"].indexOf(from.name)], rollupTxs: [{ rollup: rollup.secondaryChainId, hash: sha256Hex(data) }] });
  }

  const sequencerBefore = await StargateClient.connect(file.sequencer.rpc[3]).then((c) => c.getBalance(carol.address, FEE_DENOM));
  await submitTransfer(alice, alpha, bob, 100n, "alpha transfer alice->bob");
  await submitTransfer(bob, beta, carol, 40n, "beta transfer bob->carol");
  // A bundle spanning both rollups, signed on the sequencer by alice.
  const bundleAlpha = transferTx(alice, alpha, carol, 7n);
  const bundleBeta = transferTx(alice, beta, bob, 9n);
  const bundle = await alice.client.signAndBroadcast(alice.address, [submitBundleMsg(alice.address, [{ secondaryChainId: alpha.secondaryChainId, data: bundleAlpha }, { secondaryChainId: beta.secondaryChainId, data: bundleBeta }])], "auto");
  expect(bundle.code, bundle.rawLog).toBe(0);
  move(alpha.secondaryChainId, alice, carol, 7n);
  move(beta.secondaryChainId, alice, bob, 9n);
  sent.push({ what: "bundle", sequencerHash: bundle.transactionHash, rpc: file.sequencer.rpc[0], rollupTxs: [{ rollup: alpha.secondaryChainId, hash: sha256Hex(bundleAlpha) }, { rollup: beta.secondaryChainId, hash: sha256Hex(bundleBeta) }] });
  // A plain token send on the sequencer.
  const send = await bob.client.sendTokens(bob.address, carol.address, [{ denom: FEE_DENOM, amount: "12345" }], "auto");
  expect(send.code).toBe(0);

  // Soft on every node of each rollup (the first batch, before any fault).
  const nodesOf = (rollup: string) => file.rollups.find((r) => r.secondaryChainId === rollup)!.nodes;
  for (const s of sent) for (const t of s.rollupTxs) for (const api of nodesOf(t.rollup)) await until(() => getJson(`${api}/v1/txs/${t.hash}`), `${s.what} soft on ${api}`);

  // Faults: SIGKILL a validator and the relayer; the devnet reports them and restarts them.
  const pidOf = (name: string) => [...devnet!.events].reverse().find((e) => e.event === "component_ready" && e.name === name)!.pid as number;
  for (const name of ["validator-3", "relayer"]) process.kill(pidOf(name), "SIGKILL");
  await devnet.waitForEvent((e) => e.event === "component_crashed" && e.name === "validator-3", "validator-3 reported crashed");
  await devnet.waitForEvent((e) => e.event === "component_crashed" && e.name === "relayer", "relayer reported crashed");
  // Transactions keep flowing while they are down (three of four validators are live).
  await submitTransfer(carol, alpha, alice, 3n, "alpha transfer during the outage");
  await submitTransfer(carol, beta, alice, 5n, "beta transfer during the outage");
  for (const name of ["validator-3", "relayer"]) await devnet.waitForEvent((e) => e.event === "component_ready" && e.name === name && (e.restarts as number) > 0, `${name} restarted`, 90_000);
  await submitTransfer(bob, alpha, carol, 11n, "alpha transfer after the restarts");

  // Every transaction with a C0 receipt: committed once on the sequencer, firm exactly once under a header on every node.
  for (const s of sent) {
    const receipt = await jsonRpc(s.rpc, "metro_receipt", { hash: s.sequencerHash });
    expect(receipt).toMatchObject({ tx_hash: s.sequencerHash, chain_id: file.sequencer.chainId });
    expect(verifyReceipt(receiptFromJson(receipt)), `${s.what}: C0 receipt signature`).toBe(true);
    for (const t of s.rollupTxs) {
      for (const api of nodesOf(t.rollup)) {
        const tx = await until(async () => {
          const view = await getJson(`${api}/v1/txs/${t.hash}`);
          return view.status === "firm" && view.header_hash ? view : undefined;
        }, `${s.what} firm with a header on ${api}`, 90_000);
        expect(tx.later, `${s.what} landed more than once`).toBeUndefined();
        expect(tx.result.ok, JSON.stringify(tx.result)).toBe(true);
        // The DA server holds the blob the node cites.
        const blob = await jsonRpc(file.da.url, "blob.Get", [tx.da.height, tx.da.namespace, tx.da.commitment]);
        expect(blob.commitment).toBe(tx.da.commitment);
        if (s.what === "bundle") expect(tx.bundle.member_chain_ids).toEqual([alpha.secondaryChainId, beta.secondaryChainId]);
      }
    }
  }

  // A plain send carries no rollup tx: `metro follow` finds its block on Celestia through the devnet's
  // standalone relayer, and the DA server holds that sequencer-namespace blob.
  const follow = await new Promise<string>((resolve, reject) =>
    execFile(process.execPath, [METRO, "follow", send.transactionHash, "--devnet", join(home, "devnet.json"), "--until", "firm", "--timeout", "60", "--json"], (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
  );
  const firm = follow.trim().split("\n").map((line) => JSON.parse(line)).find((r) => r.level === "firm");
  expect(firm).toMatchObject({ tx: send.transactionHash, sequencer_height: send.height });
  expect((await jsonRpc(file.da.url, "blob.Get", [firm.da_height, firm.namespace, firm.commitment])).commitment).toBe(firm.commitment);

  // Both nodes of alpha derived the same headers (hence state roots) at every height both have.
  const [a0, a1] = alpha.nodes;
  const common = Math.min(...(await Promise.all([a0, a1].map(async (api) => (await getJson(`${api}/v1/headers/latest`)).header.height as number))));
  expect(common).toBeGreaterThan(0);
  for (const height of [1, Math.ceil(common / 2), common]) {
    const [h0, h1] = await Promise.all([a0, a1].map((api) => getJson(`${api}/v1/headers/${height}`)));
    expect(h0.header).toEqual(h1.header);
  }
  for (const api of alpha.nodes.concat(beta.nodes)) expect((await getJson(`${api}/v1/status`)).alarms).toBe(0);

  // Balances on both layers.
  for (const rollup of [alpha, beta]) {
    for (const u of [alice, bob, carol]) {
      const account = await getJson(`${rollup.nodes[0]}/v1/token/accounts/${rollupAddress(u, rollup.addressPrefix)}`);
      expect(BigInt(account.balance), `${u.name} on ${rollup.secondaryChainId}`).toBe(1_000_000_000n + (moved.get(`${rollup.secondaryChainId}/${u.name}`) ?? 0n));
    }
  }
  const sequencerAfter = await StargateClient.connect(file.sequencer.rpc[3]).then((c) => c.getBalance(carol.address, FEE_DENOM));
  // Carol received 12,345 umetro from bob and paid the fees of her two transactions, nothing else.
  const carolFees = await Promise.all(
    sent.filter((s) => s.what.includes("outage")).map(async (s) => BigInt(decodeTxRaw((await carol.client.getTx(s.sequencerHash))!.tx).authInfo.fee!.amount[0].amount)),
  );
  expect(carolFees).toHaveLength(2);
  expect(BigInt(sequencerAfter.amount)).toBe(BigInt(sequencerBefore.amount) + 12345n - carolFees[0] - carolFees[1]);

  // Stop and resume: the same chain continues, nothing firm is lost.
  const heightBefore = Number((await getJson(`${file.sequencer.rpc[0]}/status`)).result.sync_info.latest_block_height);
  const firmBefore = (await getJson(`${a0}/v1/status`)).firm.height as number;
  await devnet.kill("SIGTERM");
  expect(devnet.events.at(-1)).toMatchObject({ event: "stopped" });
  devnet = await startDevnet();
  expect(devnet.events.some((e) => e.event === "resuming")).toBe(true);
  await until(async () => ((await getJson(`${a0}/v1/status`)).firm.height > firmBefore ? true : undefined), "alpha firm beyond where it was before the stop");
  // The chain goes on from where it stopped (its first block after the restart is heightBefore + 1).
  await until(async () => (Number((await getJson(`${file.sequencer.rpc[0]}/status`)).result.sync_info.latest_block_height) > heightBefore ? true : undefined), "a sequencer block after the restart");
  const resumed = await getJson(`${file.sequencer.rpc[0]}/block?height=${heightBefore + 1}`);
  expect(resumed.result.block.header.last_block_id.hash).toBe((await getJson(`${file.sequencer.rpc[0]}/block?height=${heightBefore}`)).result.block_id.hash);
  const first = sent[0].rollupTxs[0];
  expect((await getJson(`${a0}/v1/txs/${first.hash}`)).status).toBe("firm");
}, 420_000);
