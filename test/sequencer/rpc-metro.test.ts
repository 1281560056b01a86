// Metro's own methods: C0 receipts that verify (and tampered ones that do not), a rollup's
// transactions with proofs against the header's roots (present and absent), the rollup txs a
// sequencer tx carried, and the block stream: catch-up then live, every height once and in order,
// and slow clients dropped with an error that says where to resume.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Writable } from "node:stream";
import { createHash } from "node:crypto";
import pino from "pino";
import { WebSocket } from "ws";
import { fromBase64, toHexUpper } from "../../cometbft/hash.ts";
import { blockHash, blockIdOf, decodeBlock, decodeCommit } from "../../sequencer/block/block.ts";
import { decodeEntry, verifyRollupIds, verifyRollupTxs } from "../../sequencer/block/rollup-data.ts";
import { submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_PARAMS, requiredFee } from "../../sequencer/params.ts";
import { verifyReceipt } from "../../sequencer/receipt.ts";
import { receiptFromJson, rollupTxsProofFromJson, sequencerHeaderFromJson, type RollupTxsJson } from "../../sequencer/rpc/json.ts";
import { CHAIN_ID, extraServer, nextBlock, rpcCall, rpcResult, startChain, stopAll, waitForHeight, type TestChain } from "./rpc-harness.ts";
import { signTx, testSigner, TEST_MNEMONICS, type TestSigner } from "./signing.ts";

let chain: TestChain;
let alice: TestSigner;
let sequence = 0n;
const drops: { reason: string; detail: string }[] = [];
const dropListeners = new Set<() => void>();

/** A logger that records the server's "dropped websocket client" lines. */
function capturingLogger() {
  const sink = new Writable({
    write(line: Buffer, _encoding, done) {
      const entry = JSON.parse(line.toString());
      if (entry.msg === "dropped websocket client") {
        drops.push({ reason: entry.reason, detail: entry.detail });
        for (const listener of dropListeners) listener();
      }
      done();
    },
  });
  return pino({ level: "warn" }, sink);
}

/** Resolves with the next "dropped websocket client" log line with `reason` (logged from now on). */
function waitForDrop(reason: string, timeoutMs = 60_000): Promise<{ reason: string; detail: string }> {
  const start = drops.length;
  return new Promise((resolve, reject) => {
    const check = () => {
      const found = drops.slice(start).find((d) => d.reason === reason);
      if (!found) return;
      cleanup();
      resolve(found);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no client dropped for "${reason}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      dropListeners.delete(check);
    };
    dropListeners.add(check);
  });
}

async function submit(messages: Parameters<typeof signTx>[1], gasLimit = 200_000n): Promise<string> {
  const tx = await signTx(alice, messages, { chainId: CHAIN_ID, accountNumber: 0n, sequence: sequence++, gasLimit, fee: requiredFee(DEFAULT_PARAMS, gasLimit) });
  const checked = await chain.node.checkTx(tx);
  expect(checked.log).toBe("");
  return checked.hash;
}

const rollup = (id: string, data: Uint8Array) => submitRollupTxMsg(alice.address, { secondaryChainId: id, data });
const sha = (data: Uint8Array) => toHexUpper(new Uint8Array(createHash("sha256").update(data).digest()));

beforeAll(async () => {
  alice = await testSigner(TEST_MNEMONICS[0]);
  chain = await startChain({ accounts: [{ address: alice.address, balance: 10_000_000_000n }], logger: capturingLogger() });
});

afterAll(stopAll);

/** A raw WebSocket JSON-RPC client that keeps every message per id. */
class WsClient {
  readonly socket: WebSocket;
  readonly messages = new Map<number, any[]>();
  #nextId = 1;
  #waiters: (() => void)[] = [];
  closeCode: number | undefined;

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString());
      const list = this.messages.get(message.id) ?? [];
      list.push(message);
      this.messages.set(message.id, list);
      this.#wake();
    });
    socket.on("close", (code) => {
      this.closeCode = code;
      this.#wake();
    });
  }

  static async open(url: string): Promise<WsClient> {
    const socket = new WebSocket(url);
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    return new WsClient(socket);
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Resolves when `condition` holds, re-checked on every message and on close. */
  until(condition: () => boolean, timeoutMs = 15_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("condition not met in time")), timeoutMs);
      const check = () => {
        if (condition()) {
          clearTimeout(timer);
          resolve();
        } else this.#waiters.push(check);
      };
      check();
    });
  }

  /** Sends a request; resolves with its first reply. */
  async call(method: string, params: unknown): Promise<{ id: number; reply: any }> {
    const id = this.#nextId++;
    this.socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
    await this.until(() => (this.messages.get(id)?.length ?? 0) > 0);
    return { id, reply: this.messages.get(id)![0] };
  }

  /** Stream messages (everything after the confirmation) on `id`. */
  streamed(id: number): any[] {
    return (this.messages.get(id) ?? []).slice(1);
  }
}

describe("metro_receipt", () => {
  it("returns a C0 receipt that verifies, and a tampered one does not", async () => {
    const hash = await submit([rollup("rollup-a", Uint8Array.of(1))]);
    const json = await rpcResult(chain.rpc.url, "metro_receipt", { hash });
    expect(json).toMatchObject({ chain_id: CHAIN_ID, tx_hash: hash, node_pub_key: { type: "tendermint/PubKeyEd25519" } });
    const receipt = receiptFromJson(json);
    expect(verifyReceipt(receipt)).toBe(true);
    expect(Buffer.from(receipt.nodePubKey)).toEqual(Buffer.from(chain.node.privval.key.publicKey));
    expect(verifyReceipt({ ...receipt, receivedAtMs: receipt.receivedAtMs + 1 })).toBe(false);
    expect(verifyReceipt({ ...receipt, chainId: "other-chain" })).toBe(false);
    const signature = new Uint8Array(receipt.signature);
    signature[0] ^= 1;
    expect(verifyReceipt({ ...receipt, signature })).toBe(false);
    // Asking again (after the receive time is on disk) gives the same receipt.
    await chain.node.waitForTx(hash, 5000);
    expect(await rpcResult(chain.rpc.url, "metro_receipt", { hash: hash.toLowerCase() })).toEqual(json);

    const missing = await rpcCall(chain.rpc.url, "metro_receipt", { hash: "AB".repeat(32) });
    expect(missing.error).toEqual({ code: -32603, message: "Internal error", data: `no receipt for tx ${"AB".repeat(32)}: this node never admitted it` });
    expect((await rpcCall(chain.rpc.url, "metro_receipt", { hash: "xyz" })).error?.code).toBe(-32602);
  });
});

describe("metro_rollup_txs and metro_tx_rollup", () => {
  const bundle = [
    { secondaryChainId: "rollup-b", data: Uint8Array.of(20) },
    { secondaryChainId: "rollup-a", data: Uint8Array.of(21) },
    { secondaryChainId: "rollup-c", data: Uint8Array.of(22, 22) },
  ];
  let height: number;
  let bundleHash: string;

  beforeAll(async () => {
    await nextBlock(chain.node);
    // Submitted together so they share a block.
    await submit([rollup("rollup-a", Uint8Array.of(10))]);
    bundleHash = await submit([submitBundleMsg(alice.address, bundle)]);
    await submit([rollup("rollup-a", Uint8Array.of(11))]);
    height = (await chain.node.waitForTx(bundleHash, 5000))!;
  });

  /** Checks everything a rollup node checks: header -> block id, entries -> rollup_txs_root, ids -> rollup_ids_root. */
  function verify(json: RollupTxsJson) {
    const header = sequencerHeaderFromJson(json.header);
    expect(toHexUpper(blockHash(header))).toBe(json.block_id.hash);
    expect(verifyRollupIds(header.rollupIdsRoot, json.rollup_ids)).toBe(true);
    const proof = rollupTxsProofFromJson(json);
    if (proof) expect(verifyRollupTxs(header.rollupTxsRoot, proof)).toBe(true);
    return { header, proof };
  }

  it("proves a rollup's entries in block order against the header", async () => {
    const json: RollupTxsJson = await rpcResult(chain.rpc.url, "metro_rollup_txs", { height: String(height), secondary_chain_id: "rollup-a" });
    expect(json.rollup_ids).toEqual(["rollup-a", "rollup-b", "rollup-c"]);
    const { header, proof } = verify(json);
    expect(json.block_id.hash).toBe(toHexUpper((await chain.node.store.block(height))!.blockId.hash));
    const entries = json.entries.map((e) => decodeEntry(fromBase64(e)));
    expect(entries.map((e) => [...e.data])).toEqual([[10], [21], [11]]);
    expect(entries[1].bundle?.memberChainIds).toEqual(["rollup-b", "rollup-a", "rollup-c"]);
    expect(toHexUpper(entries[1].bundle!.bundleId)).toBe(bundleHash);
    // Leaving out an entry, or reordering, no longer verifies.
    expect(verifyRollupTxs(header.rollupTxsRoot, { ...proof!, entries: proof!.entries.slice(1) })).toBe(false);
    expect(verifyRollupTxs(header.rollupTxsRoot, { ...proof!, entries: [...proof!.entries].reverse() })).toBe(false);
  });

  it("proves absence with the complete id list", async () => {
    const json: RollupTxsJson = await rpcResult(chain.rpc.url, "metro_rollup_txs", { height: String(height), secondary_chain_id: "rollup-z" });
    expect(json.entries).toEqual([]);
    expect(json.proof).toBeNull();
    const { header } = verify(json);
    expect(json.rollup_ids).not.toContain("rollup-z");
    // A list that drops a rollup does not match the root.
    expect(verifyRollupIds(header.rollupIdsRoot, json.rollup_ids.slice(1))).toBe(false);

    const invalid = await rpcCall(chain.rpc.url, "metro_rollup_txs", { height: String(height), secondary_chain_id: "Not Valid" });
    expect(invalid.error?.data).toMatch(/^secondary_chain_id: "Not Valid" must be 1 to 64 characters of \[a-z0-9-\]/);
  });

  it("maps a sequencer tx to the rollup txs it carried", async () => {
    const json = await rpcResult(chain.rpc.url, "metro_tx_rollup", { hash: bundleHash });
    expect(json).toMatchObject({ hash: bundleHash, height: String(height) });
    expect(json.rollup_txs).toEqual(bundle.map((t) => ({ secondary_chain_id: t.secondaryChainId, hash: sha(t.data) })));
  });
});

describe("metro_subscribe_blocks", () => {
  it("catches up from the store, then follows live blocks, each height once and in order", async () => {
    const client = await WsClient.open(chain.rpc.websocketUrl);
    try {
      const from = 2;
      const headAtStart = await waitForHeight(chain.node, 4);
      const { id, reply } = await client.call("metro_subscribe_blocks", { from_height: String(from) });
      expect(reply.result).toEqual({});
      const target = headAtStart + 3;
      await client.until(() => client.streamed(id).length >= target - from + 1);
      const streamed = client.streamed(id);
      expect(streamed.map((m) => Number(m.result.height))).toEqual(Array.from({ length: streamed.length }, (_, i) => from + i));
      for (const { result } of streamed) {
        const encoded = fromBase64(result.block);
        const block = decodeBlock(encoded);
        expect(Number(block.header.height)).toBe(Number(result.height));
        expect(toHexUpper(blockIdOf(block, encoded).hash)).toBe(result.block_id.hash);
        expect(toHexUpper(decodeCommit(fromBase64(result.commit)).blockId.hash)).toBe(result.block_id.hash);
      }
      expect((await client.call("unsubscribe_all", {})).reply.result).toEqual({});
    } finally {
      client.socket.close();
    }
  });

  it("drops a live client that falls too far behind, saying where to resume", async () => {
    const server = await extraServer(chain.node, { blockStream: { highWaterBytes: 256 * 1024, maxLagBlocks: 3 } });
    const client = await WsClient.open(server.websocketUrl);
    const { id } = await client.call("metro_subscribe_blocks", {});
    client.socket.pause();
    let dropped = false;
    const drop = waitForDrop("block stream: client too slow").finally(() => (dropped = true));
    // Blocks of ~0.5 MB until the paused client's socket backs up and the head runs away from it.
    const data = new Uint8Array(120 * 1024);
    for (let i = 0; !dropped && i < 200; i++) {
      for (let j = 0; j < 4; j++) await submit([rollup("rollup-big", data.map(() => i + j))], 2_000_000n);
      await nextBlock(chain.node);
    }
    expect((await drop).detail).toMatch(/^block stream canceled: the client fell \d+ blocks behind/);

    client.socket.resume();
    await client.until(() => client.closeCode !== undefined, 30_000);
    expect(client.closeCode).toBe(1008);
    const messages = client.streamed(id);
    const error = messages.at(-1);
    const heights = messages.slice(0, -1).map((m) => Number(m.result.height));
    expect(heights).toEqual(Array.from({ length: heights.length }, (_, i) => heights[0] + i));
    expect(error.error).toMatchObject({ code: -32000, message: "Server error" });
    expect(error.error.data).toMatch(new RegExp(`^block stream canceled: the client fell \\d+ blocks behind the chain head \\(limit 3\\); resume with from_height=${heights.at(-1)! + 1}$`));
  });

  it("drops a catching-up client whose backlog does not drain", async () => {
    // Catching up through the big blocks of the previous test fills the paused client's socket.
    const server = await extraServer(chain.node, { blockStream: { highWaterBytes: 256 * 1024, stallTimeoutMs: 300 } });
    const client = await WsClient.open(server.websocketUrl);
    const drop = waitForDrop("block stream: client stalled", 20_000);
    const { id } = await client.call("metro_subscribe_blocks", { from_height: "1" });
    client.socket.pause();
    const { detail } = await drop;
    client.socket.resume();
    await client.until(() => client.closeCode !== undefined, 30_000);
    expect(client.closeCode).toBe(1008);
    const heights = client.streamed(id).slice(0, -1).map((m) => Number(m.result.height));
    expect(heights).toEqual(Array.from({ length: heights.length }, (_, i) => i + 1));
    expect(detail).toBe(`block stream canceled: the client's backlog did not drain within 300 ms; resume with from_height=${heights.length + 1}`);
  });

  it("refuses over HTTP and rejects a bad from_height", async () => {
    expect((await rpcCall(chain.rpc.url, "metro_subscribe_blocks", { from_height: "1" })).error?.code).toBe(-32601);
    const client = await WsClient.open(chain.rpc.websocketUrl);
    try {
      expect((await client.call("metro_subscribe_blocks", { from_height: "0" })).reply.error).toEqual({ code: -32602, message: "Invalid params", data: "from_height: must be at least 1, got 0" });
    } finally {
      client.socket.close();
    }
  });
});
