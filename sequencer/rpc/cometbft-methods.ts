// The CometBFT 0.38 RPC methods, answered from a sequencer node in the shapes (and, where a client may
// read them, the error texts) CometBFT uses, so cosmjs's Comet38Client and StargateClient work as
// published.
import { sha256, toBase64, toHexUpper } from "../../cometbft/hash.ts";
import { blockIdJson } from "../../cometbft/header.ts";
import { formatRfc3339Nano } from "../../cometbft/time.ts";
import { validatorAddress, validatorJson } from "../../cometbft/validator-set.ts";
import { commitJson } from "../../cometbft/vote.ts";
import { APP_VERSION, BLOCK_PROTOCOL_VERSION } from "../app.ts";
import type { SequencerNode } from "../node.ts";
import { abciQuery } from "./abci-query.ts";
import type { ChainView } from "./chain-view.ts";
import { internalError, invalidParams, method, type CallContext, type RpcMethod } from "./json-rpc.ts";
import { blockJson, checkTxJson, EMPTY_BLOCK_ID_JSON, sequencerHeaderJson } from "./json.ts";
import { parseQuery, QuerySyntaxError } from "./query.ts";
import { searchTxs } from "./tx-search.ts";

/** cosmjs picks its decoder from this: 0.38.x selects Comet38. */
export const COMETBFT_VERSION = "0.38.17";
const P2P_PROTOCOL = "8";
/** CometBFT's channel ids (hex bytes) a full node advertises; nothing reads them, cosmjs wants a string. */
const CHANNELS = "40202122233038606100";
const DEFAULT_PER_PAGE = 30;
const MAX_PER_PAGE = 100;
const BLOCKCHAIN_LIMIT = 20;

export interface CometMethodOptions {
  /** host:port the server is bound to, once it is. */
  listen: () => string;
  /** How long broadcast_tx_commit waits for inclusion. */
  broadcastTxCommitTimeoutMs: number;
  onBackgroundError: (error: unknown) => void;
}

/** CometBFT's paging: per_page defaults to 30 and is capped at 100; a page past the end is an error. */
function paging(total: number, page: number | undefined, perPage: number | undefined): { skip: number; take: number } {
  const size = perPage === undefined || perPage < 1 ? DEFAULT_PER_PAGE : Math.min(perPage, MAX_PER_PAGE);
  const pages = Math.max(1, Math.ceil(total / size));
  const current = page ?? 1;
  if (current < 1 || current > pages) throw internalError(`page should be within [1, ${pages}] range, given ${current}`);
  const skip = (current - 1) * size;
  return { skip, take: Math.min(size, total - skip) };
}

function nodeInfo(node: SequencerNode, listen: string) {
  return {
    protocol_version: { p2p: P2P_PROTOCOL, block: String(BLOCK_PROTOCOL_VERSION), app: String(APP_VERSION) },
    // No p2p key yet: the validator key's address stands in as the node id.
    id: toHexUpper(validatorAddress(node.privval.key.publicKey)).toLowerCase(),
    listen_addr: `tcp://${listen}`,
    network: node.chainId,
    version: COMETBFT_VERSION,
    channels: CHANNELS,
    moniker: node.config.moniker,
    other: { tx_index: "on", rpc_address: `tcp://${listen}` },
  };
}

async function status(view: ChainView, listen: string) {
  const node = view.node;
  const head = node.head;
  const latest = await view.latestHeader();
  const earliest = await view.earliestBlock();
  const genesisTime = node.genesisJson.genesis_time;
  const me = node.genesis.validators.find((v) => Buffer.compare(v.pubKey, node.privval.key.publicKey) === 0);
  const validator = validatorJson({ pubKey: node.privval.key.publicKey, votingPower: me?.votingPower ?? 0n });
  return {
    node_info: nodeInfo(node, listen),
    sync_info: {
      latest_block_hash: toHexUpper(head.blockId.hash),
      latest_app_hash: toHexUpper(latest?.appHash ?? new Uint8Array()),
      latest_block_height: String(head.height),
      latest_block_time: latest ? formatRfc3339Nano(latest.time) : genesisTime,
      earliest_block_hash: toHexUpper(earliest?.blockId.hash ?? new Uint8Array()),
      earliest_app_hash: toHexUpper(earliest?.header.appHash ?? new Uint8Array()),
      earliest_block_height: String(earliest ? 1 : 0),
      earliest_block_time: earliest ? formatRfc3339Nano(earliest.header.time) : genesisTime,
      catching_up: false,
    },
    validator_info: { address: validator.address, pub_key: validator.pub_key, voting_power: validator.voting_power },
  };
}

async function broadcastCommit(node: SequencerNode, view: ChainView, tx: Uint8Array, ctx: CallContext, timeoutMs: number) {
  const checked = await node.checkTx(tx);
  const base = { check_tx: checkTxJson(checked), hash: checked.hash };
  if (checked.code !== 0) return { ...base, tx_result: checkTxJson({ code: 0, codespace: "", log: "" }), height: "0" };
  const height = await node.waitForTx(checked.hash, timeoutMs, ctx.signal);
  if (height === undefined) throw internalError("timed out waiting for tx to be included in a block");
  const loc = await view.txLocation(sha256(tx));
  if (!loc) throw internalError(`tx (${checked.hash}) not found after its block committed`);
  const [found] = await view.txs([loc], false);
  return { ...base, tx_result: found.tx_result, height: String(height) };
}

async function txSearch(view: ChainView, a: { query?: string; prove?: boolean; page?: number; per_page?: number; order_by?: string }) {
  let query;
  try {
    query = parseQuery(a.query ?? "");
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw invalidParams(`query: ${error.message}`);
    throw error;
  }
  const orderBy = a.order_by ?? "";
  if (orderBy !== "" && orderBy !== "asc" && orderBy !== "desc") throw internalError("expected order_by to be either `asc` or `desc` or empty");
  const found = await searchTxs(view.node.store, view.height, query);
  if (orderBy === "desc") found.reverse();
  const { skip, take } = paging(found.length, a.page, a.per_page);
  return { txs: await view.txs(found.slice(skip, skip + take), a.prove ?? false), total_count: String(found.length) };
}

async function blockAt(view: ChainView, height: number) {
  const committed = await view.block(height);
  return { block_id: blockIdJson(committed.blockId), block: blockJson(committed.block) };
}

async function blockchain(view: ChainView, minHeight = 0, maxHeight = 0) {
  const latest = view.height;
  if (minHeight < 0 || maxHeight < 0) throw internalError("heights must be non-negative");
  const max = Math.min(latest, maxHeight === 0 ? latest : maxHeight);
  const min = Math.max(1, minHeight, max - BLOCKCHAIN_LIMIT + 1);
  if (min > max) throw internalError(`min height ${min} can't be greater than max height ${max}`);
  const metas = [];
  for (let h = max; h >= min; h--) {
    const c = await view.block(h);
    metas.push({ block_id: blockIdJson(c.blockId), block_size: String(c.encoded.length), header: sequencerHeaderJson(c.block.header), num_txs: String(c.block.txs.length) });
  }
  return { last_height: String(latest), block_metas: metas };
}

function genesis(node: SequencerNode) {
  const params = node.genesis.params;
  return {
    genesis: {
      ...node.genesisJson,
      // The consensus params the header's consensus_hash commits to (block size; no gas limit).
      consensus_params: {
        block: { max_bytes: String(params.maxBlockBytes), max_gas: "-1" },
        validator: { pub_key_types: ["ed25519"] },
        version: { app: String(APP_VERSION) },
      },
    },
  };
}

export function cometMethods(node: SequencerNode, view: ChainView, o: CometMethodOptions): [string, RpcMethod][] {
  const heightArg = { height: "int" } as const;
  return [
    ["health", method({}, () => ({}))],
    ["status", method({}, () => status(view, o.listen()))],
    ["abci_info", method({}, () => ({
      // last_block_app_hash is the state root after the last block (the next header's app_hash).
      response: { data: "metro-sequencer", version: String(APP_VERSION), app_version: String(APP_VERSION), last_block_height: String(node.head.height), last_block_app_hash: toBase64(node.head.appHash) },
    }))],
    ["abci_query", method({ path: "string", data: "hex", height: "int", prove: "bool" }, (a) => abciQuery(node, a))],
    ["broadcast_tx_sync", method({ tx: "base64" }, async ({ tx }) => {
      const r = await node.checkTx(tx ?? new Uint8Array());
      return { code: r.code, data: "", log: r.log, codespace: r.codespace, hash: r.hash };
    })],
    ["broadcast_tx_async", method({ tx: "base64" }, ({ tx = new Uint8Array() }) => {
      // CometBFT answers before CheckTx runs; the outcome shows up in the mempool or in the logs.
      node.checkTx(tx).catch(o.onBackgroundError);
      return { code: 0, data: "", log: "", codespace: "", hash: toHexUpper(sha256(tx)) };
    })],
    ["broadcast_tx_commit", method({ tx: "base64" }, ({ tx = new Uint8Array() }, ctx) => broadcastCommit(node, view, tx, ctx, o.broadcastTxCommitTimeoutMs))],
    ["tx", method({ hash: "hash", prove: "bool" }, async ({ hash, prove }) => {
      if (!hash) throw invalidParams("hash: required");
      const loc = await view.txLocation(hash);
      if (!loc) throw internalError(`tx (${toHexUpper(hash)}) not found`);
      const [found] = await view.txs([loc], prove ?? false);
      return found;
    })],
    ["tx_search", method({ query: "string", prove: "bool", page: "int", per_page: "int", order_by: "string" }, (a) => txSearch(view, a))],
    ["block", method(heightArg, ({ height }) => blockAt(view, view.resolveHeight(height)))],
    ["block_by_hash", method({ hash: "hash" }, async ({ hash }) => {
      const height = hash && (await node.store.heightOfHash(hash));
      // CometBFT answers an unknown hash with an empty result rather than an error.
      return height ? blockAt(view, height) : { block_id: EMPTY_BLOCK_ID_JSON, block: null };
    })],
    ["blockchain", method({ minHeight: "int", maxHeight: "int" }, (a) => blockchain(view, a.minHeight, a.maxHeight))],
    ["commit", method(heightArg, async ({ height }) => {
      const h = view.resolveHeight(height);
      const [committed, commit] = await Promise.all([view.block(h), node.store.commit(h)]);
      if (!commit) throw internalError(`commit for height ${h} not found`);
      // The solo engine's commit for a height is final: the next block carries this same commit.
      return { signed_header: { header: sequencerHeaderJson(committed.block.header), commit: commitJson(commit) }, canonical: true };
    })],
    ["validators", method({ height: "int", page: "int", per_page: "int" }, ({ height, page, per_page }) => {
      // The validator set is fixed in genesis; CometBFT also knows the next height's set.
      const h = view.resolveHeight(height, view.height + 1);
      const all = node.genesis.validators;
      const { skip, take } = paging(all.length, page, per_page);
      const validators = all.slice(skip, skip + take).map((v) => validatorJson(v));
      return { block_height: String(h), validators, count: String(validators.length), total: String(all.length) };
    })],
    ["genesis", method({}, () => genesis(node))],
    ["num_unconfirmed_txs", method({}, () => ({ n_txs: String(node.mempool.size), total: String(node.mempool.size), total_bytes: String(node.mempool.bytes), txs: null }))],
  ];
}
