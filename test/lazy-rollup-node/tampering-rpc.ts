// A real, lying sequencer RPC for the soft path's tests: a WebSocket server that speaks
// metro_subscribe_blocks exactly as the node's RPC does (catch-up from the store, then live), serving
// a real sequencer's blocks, except that `tamper` may replace any block before it is sent. The
// tamperings below break the commit or the block's data, or build blocks that the test's validator key
// (the sequencer's only one) signs validly: what a server holding a validator key, or an equivocating
// validator set, could send.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { fromBase64, toBase64 } from "../../cometbft/hash.ts";
import { blockIdJson } from "../../cometbft/header.ts";
import { validatorJson, type Validator } from "../../cometbft/validator-set.ts";
import { PRECOMMIT, voteSignBytes } from "../../cometbft/vote.ts";
import { blockIdOf, decodeBlock, decodeCommit, encodeBlock, encodeCommit, txsHash, type Block } from "../../sequencer/block/block.ts";
import { collectRollupData } from "../../sequencer/block/rollup-data.ts";
import type { SequencerNode } from "../../sequencer/node.ts";
import type { StreamedBlockJson } from "../../sequencer/rpc/block-stream.ts";
import { decodeTx } from "../../sequencer/tx/decode.ts";
import { onStop } from "../relayer/harness.ts";

/** Returns the block to send instead of `json`, or `json` itself. */
export type Tamper = (json: StreamedBlockJson) => StreamedBlockJson;

export interface TamperingRpcOptions {
  /** Serve the CometBFT `validators` method over HTTP JSON-RPC with this set per height. */
  validators?: (height: number) => readonly Validator[];
  /** Validators per page at most (whatever per_page asks). Default 100. */
  pageSize?: number;
  /** False: refuse metro_subscribe_blocks (an endpoint good only for validator sets). */
  blocks?: boolean;
}

/** The `validators` method as CometBFT pages it. */
function validatorsResponse(o: TamperingRpcOptions, params: { height?: string; page?: string; per_page?: string }) {
  const height = Number(params.height);
  const all = o.validators!(height);
  const size = Math.min(Number(params.per_page ?? 30), o.pageSize ?? 100);
  const page = Number(params.page ?? 1);
  const validators = all.slice((page - 1) * size, page * size).map((v) => validatorJson(v));
  return { block_height: String(height), validators, count: String(validators.length), total: String(all.length) };
}

export async function startTamperingRpc(node: SequencerNode, tamper: Tamper, o: TamperingRpcOptions = {}): Promise<{ url: string; validatorRequests: number[] }> {
  const validatorRequests: number[] = [];
  const server = http.createServer((req, res) => {
    if (req.method !== "POST" || o.validators === undefined) return void res.writeHead(404).end();
    let body = "";
    req.on("data", (chunk) => (body += chunk));
    req.on("end", () => {
      const request = JSON.parse(body) as { id: number; method: string; params: Record<string, string> };
      if (request.method !== "validators") return void res.writeHead(404).end();
      validatorRequests.push(Number(request.params.height));
      res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: validatorsResponse(o, request.params) }));
    });
  });
  const wss = new WebSocketServer({ server, path: "/websocket" });
  wss.on("connection", (socket) => {
    const closed = new AbortController();
    socket.on("close", () => closed.abort());
    socket.on("message", (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string; params: { from_height: string } };
      if (request.method !== "metro_subscribe_blocks") return;
      if (o.blocks === false) return void socket.send(JSON.stringify({ jsonrpc: "2.0", id: request.id, error: { code: -32601, message: "Method not found" } }));
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: {} }));
      void (async () => {
        for (let height = Number(request.params.from_height); !closed.signal.aborted; height++) {
          while (node.head.height < height && !closed.signal.aborted) await new Promise<void>((resolve) => {
            const off = node.onCommitted(() => (off(), resolve()));
            closed.signal.addEventListener("abort", () => (off(), resolve()), { once: true });
          });
          if (closed.signal.aborted) return;
          const committed = (await node.store.block(height))!;
          const commit = (await node.store.commit(height))!;
          const json = { height: String(height), block_id: blockIdJson(committed.blockId), block: toBase64(committed.encoded), commit: toBase64(encodeCommit(commit)) };
          socket.send(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: tamper(json) }));
        }
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(async () => {
    for (const client of wss.clients) client.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/websocket`, validatorRequests };
}

/** The block's sequencer txs carry rollup transactions for `rollupId`. */
export function hasRollupTxs(node: SequencerNode, json: StreamedBlockJson, rollupId: string): boolean {
  const block = decodeBlock(fromBase64(json.block));
  const data = collectRollupData(block.txs.map((tx) => decodeTx(tx, node.genesis.params)));
  return data.rollups.some((r) => r.secondaryChainId === rollupId);
}

/** The first signature in the commit, one bit flipped. */
export function breakCommit(json: StreamedBlockJson): StreamedBlockJson {
  const commit = decodeCommit(fromBase64(json.commit));
  const signature = Uint8Array.from(commit.signatures[0].signature);
  signature[0] ^= 1;
  return { ...json, commit: toBase64(encodeCommit({ ...commit, signatures: [{ ...commit.signatures[0], signature }, ...commit.signatures.slice(1)] })) };
}

/** The same signed header with the transactions dropped: the block's part set is no longer the one the commit signs. */
export function dropTxs(json: StreamedBlockJson): StreamedBlockJson {
  const block = decodeBlock(fromBase64(json.block));
  return { ...json, block: toBase64(encodeBlock({ ...block, txs: [] })) };
}

/** `change` applied to the block, and a commit for the result signed by `key` (the only validator): it verifies like a real block. */
export function resigned(json: StreamedBlockJson, key: Ed25519Key, change: (block: Block) => Block): StreamedBlockJson {
  const commit = decodeCommit(fromBase64(json.commit));
  const other = change(decodeBlock(fromBase64(json.block)));
  const encoded = encodeBlock(other);
  const blockId = blockIdOf(other, encoded);
  const { header } = other;
  const signatures = commit.signatures.map((sig) => ({
    ...sig,
    signature: ed25519Sign(key, voteSignBytes({ chainId: header.chainId, type: PRECOMMIT, height: header.height, round: commit.round, blockId, timestamp: sig.timestamp })),
  }));
  return { height: json.height, block_id: blockIdJson(blockId), block: toBase64(encoded), commit: toBase64(encodeCommit({ ...commit, blockId, signatures })) };
}

/** A validly signed block whose header's rollup_txs_root is not that of its transactions. */
export function badRoots(json: StreamedBlockJson, key: Ed25519Key): StreamedBlockJson {
  return resigned(json, key, (block) => ({ ...block, header: { ...block.header, rollupTxsRoot: Uint8Array.from(block.header.rollupTxsRoot, (b) => b ^ 0xff) } }));
}

/** Another valid block at the same height: without its transactions, its header's roots to match, signed by `key`. */
export function divergentBlock(json: StreamedBlockJson, key: Ed25519Key): StreamedBlockJson {
  const empty = collectRollupData([]);
  return resigned(json, key, (block) => ({ ...block, txs: [], header: { ...block.header, dataHash: txsHash([]), rollupTxsRoot: empty.rollupTxsRoot, rollupIdsRoot: empty.rollupIdsRoot } }));
}
