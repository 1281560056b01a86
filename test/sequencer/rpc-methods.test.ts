// The CometBFT methods and transports: every method decoded by cosmjs's own Comet38Client (HTTP and
// WebSocket), the GET URI form, positional params and batches, CometBFT's error codes, tx_search's
// query grammar, paging and ordering, and subscriptions with their per-client limit.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Comet38Client, WebsocketClient } from "@cosmjs/tendermint-rpc";
import { WebSocket } from "ws";
import { sha256, toHexUpper } from "../../cometbft/hash.ts";
import { submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { requiredFee, DEFAULT_PARAMS } from "../../sequencer/params.ts";
import type { RpcServer } from "../../sequencer/rpc/server.ts";
import { startMetricsServer } from "../../sequencer/rpc/metrics-server.ts";
import { CHAIN_ID, extraServer, rpcCall, rpcResult, startChain, stopAll, waitForHeight, type TestChain } from "./rpc-harness.ts";
import { signTx, testSigner, TEST_MNEMONICS, type TestSigner } from "./signing.ts";

const GAS = 200_000n;
let chain: TestChain;
let alice: TestSigner;
let bob: TestSigner;
let comet: Comet38Client;
let sequence = 0n;
/** Sends committed in beforeAll: hash and height, in order. */
const sends: { hash: string; height: number; to: string }[] = [];

async function signed(messages: Parameters<typeof signTx>[1]): Promise<Uint8Array> {
  return signTx(alice, messages, { chainId: CHAIN_ID, accountNumber: 0n, sequence: sequence++, gasLimit: GAS, fee: requiredFee(DEFAULT_PARAMS, GAS) });
}

const sendMsg = (to: string, amount: number) => ({ typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: alice.address, toAddress: to, amount: [{ denom: "umetro", amount: String(amount) }] } });

beforeAll(async () => {
  alice = await testSigner(TEST_MNEMONICS[0]);
  bob = await testSigner(TEST_MNEMONICS[1]);
  const carol = await testSigner(TEST_MNEMONICS[2]);
  chain = await startChain({ accounts: [{ address: alice.address, balance: 1_000_000_000n }] });
  comet = await Comet38Client.connect(chain.rpc.url);
  // Five sends over at least three blocks: bob, carol, bob, carol, bob.
  for (const [i, to] of [bob.address, carol.address, bob.address, carol.address, bob.address].entries()) {
    const tx = await signed([sendMsg(to, 1000 + i)]);
    const result = await comet.broadcastTxCommit({ tx });
    expect(result.checkTx.code).toBe(0);
    sends.push({ hash: toHexUpper(result.hash), height: result.height, to });
    if (i % 2 === 1) await waitForHeight(chain.node, result.height + 1);
  }
});

afterAll(async () => {
  comet?.disconnect();
  await stopAll();
});

describe("CometBFT methods through cosmjs's Comet38Client", () => {
  it("status, health, abci_info, genesis, validators", async () => {
    const status = await comet.status();
    expect(status.nodeInfo.network).toBe(CHAIN_ID);
    expect(status.nodeInfo.version).toMatch(/^0\.38\./);
    expect(status.syncInfo.latestBlockHeight).toBeGreaterThanOrEqual(sends.at(-1)!.height);
    expect(status.syncInfo.earliestBlockHeight).toBe(1);
    expect(status.validatorInfo.pubkey?.algorithm).toBe("ed25519");
    expect(await comet.health()).toBeNull();
    const info = await comet.abciInfo();
    expect(info.lastBlockHeight).toBeGreaterThan(0);
    expect(info.lastBlockAppHash?.length).toBe(32);
    const genesis = await comet.genesis();
    expect(genesis.chainId).toBe(CHAIN_ID);
    expect(genesis.validators).toHaveLength(1);
    expect(genesis.consensusParams.block?.maxBytes).toBe(DEFAULT_PARAMS.maxBlockBytes);
    const validators = await comet.validators({});
    expect(validators).toMatchObject({ count: 1, total: 1 });
    expect(Buffer.from(validators.validators[0].address)).toEqual(Buffer.from(status.validatorInfo.address));
  });

  it("block, blockchain and commit agree on block ids", async () => {
    const height = sends[0].height;
    const block = await comet.block(height);
    expect(block.block.header.height).toBe(height);
    expect(block.block.txs.map((t) => toHexUpper(sha256(t)))).toContain(sends[0].hash);
    expect(block.block.lastCommit?.height).toBe(height - 1);
    const first = await comet.block(1);
    expect(first.block.lastCommit).toBeNull();
    expect(first.block.header.lastBlockId).toBeNull();

    const chainInfo = await comet.blockchain(1, height);
    expect(chainInfo.blockMetas.map((m) => m.header.height)).toEqual(Array.from({ length: Math.min(height, 20) }, (_, i) => height - i));
    expect(chainInfo.blockMetas[0].blockId.hash).toEqual(block.blockId.hash);
    expect(chainInfo.blockMetas[0].numTxs).toBe(block.block.txs.length);

    const commit = await comet.commit(height);
    expect(commit.canonical).toBe(true);
    expect(commit.commit.blockId.hash).toEqual(block.blockId.hash);
    expect(commit.commit.signatures[0].signature?.length).toBe(64);
    // The next block's last_commit is the same commit.
    const next = await comet.block(height + 1);
    expect(next.block.lastCommit?.blockId.hash).toEqual(block.blockId.hash);

    const byHash = await rpcResult(chain.rpc.url, "block_by_hash", { hash: Buffer.from(block.blockId.hash).toString("base64") });
    expect(byHash.block.header.height).toBe(String(height));
  });

  it("tx by hash, with a proof against data_hash", async () => {
    const tx = await comet.tx({ hash: Buffer.from(sends[1].hash, "hex"), prove: true });
    expect(tx.height).toBe(sends[1].height);
    expect(tx.result.code).toBe(0);
    const block = await comet.block(tx.height);
    expect(Buffer.from(tx.proof!.rootHash)).toEqual(Buffer.from(block.block.header.dataHash));
    expect(tx.proof!.proof.total).toBe(block.block.txs.length);
    const missing = await rpcCall(chain.rpc.url, "tx", { hash: "00".repeat(32) });
    expect(missing.error).toEqual({ code: -32603, message: "Internal error", data: `tx (${"00".repeat(32)}) not found` });
  });

  it("broadcast_tx_async, then the tx appears", async () => {
    const tx = await signed([submitRollupTxMsg(alice.address, { secondaryChainId: "rollup-a", data: Uint8Array.of(1) })]);
    const result = await comet.broadcastTxAsync({ tx });
    expect(toHexUpper(result.hash)).toBe(toHexUpper(sha256(tx)));
    const height = await chain.node.waitForTx(toHexUpper(result.hash), 5000);
    expect(height).toBeGreaterThan(0);
    expect(await comet.numUnconfirmedTxs()).toEqual({ total: chain.node.mempool.size, totalBytes: chain.node.mempool.bytes });
  });

  it("broadcast_tx_commit reports a CheckTx failure without waiting", async () => {
    const result = await comet.broadcastTxCommit({ tx: Uint8Array.of(1, 2, 3) });
    expect(result.checkTx.code).toBe(2);
    expect(result.height).toBe(0);
  });
});

describe("tx_search", () => {
  const search = (params: Record<string, unknown>) => rpcResult(chain.rpc.url, "tx_search", params);
  const hashes = (result: { txs: { hash: string }[] }) => result.txs.map((t) => t.hash);

  it("matches equality, ranges, CONTAINS and EXISTS, with honest counts", async () => {
    const toBob = sends.filter((s) => s.to === bob.address);
    const all = await search({ query: `transfer.recipient='${bob.address}'` });
    expect(hashes(all)).toEqual(toBob.map((s) => s.hash));
    expect(all.total_count).toBe(String(toBob.length));

    const from = sends[2].height;
    const later = await search({ query: `transfer.recipient='${bob.address}' AND tx.height>=${from}` });
    expect(hashes(later)).toEqual(toBob.filter((s) => s.height >= from).map((s) => s.hash));

    const range = await search({ query: `tx.height>${sends[0].height} AND tx.height<=${sends[3].height}`, per_page: "100" });
    const expected = sends.filter((s) => s.height > sends[0].height && s.height <= sends[3].height).map((s) => s.hash);
    expect(hashes(range).filter((h) => expected.includes(h))).toEqual(expected);
    expect(range.txs.every((t: { height: string }) => Number(t.height) > sends[0].height && Number(t.height) <= sends[3].height)).toBe(true);

    const contains = await search({ query: `transfer.recipient CONTAINS '${bob.address.slice(-6)}'` });
    expect(hashes(contains)).toEqual(toBob.map((s) => s.hash));
    const exists = await search({ query: "transfer.sender EXISTS AND tm.event='Tx'" });
    expect(hashes(exists)).toEqual(sends.map((s) => s.hash));
    expect((await search({ query: "tm.event='NewBlock' AND transfer.sender EXISTS" })).total_count).toBe("0");
  });

  it("pages and orders like CometBFT", async () => {
    const query = `message.sender='${alice.address}' AND transfer.sender EXISTS`;
    const page2 = await search({ query, per_page: "2", page: "2" });
    expect(page2.total_count).toBe("5");
    expect(hashes(page2)).toEqual([sends[2].hash, sends[3].hash]);
    const desc = await search({ query, order_by: "desc", per_page: "2" });
    expect(hashes(desc)).toEqual([sends[4].hash, sends[3].hash]);
    const beyond = await rpcCall(chain.rpc.url, "tx_search", { query, per_page: "2", page: "4" });
    expect(beyond.error?.data).toBe("page should be within [1, 3] range, given 4");
    const order = await rpcCall(chain.rpc.url, "tx_search", { query, order_by: "sideways" });
    expect(order.error?.data).toBe("expected order_by to be either `asc` or `desc` or empty");
  });

  it("explains bad and unsearchable queries", async () => {
    const syntax = await rpcCall(chain.rpc.url, "tx_search", { query: "tx.height >> 5" });
    expect(syntax.error).toMatchObject({ code: -32602, message: "Invalid params" });
    expect(syntax.error?.data).toMatch(/^query: expected a number, TIME or DATE after tx\.height >, got > at offset 11$/);
    const unindexed = await rpcCall(chain.rpc.url, "tx_search", { query: "transfer.amount='1000umetro'" });
    expect(unindexed.error?.data).toMatch(/^query: transfer\.amount is not indexed by this node; searchable: tx\.hash, tx\.height, message\.sender/);
    const long = await rpcCall(chain.rpc.url, "tx_search", { query: `tx.height=1 AND ${"a".repeat(600)} EXISTS` });
    expect(long.error?.data).toMatch(/the maximum is 512/);
  });

  it("finds a transaction by hash whatever else is asked", async () => {
    expect(hashes(await search({ query: `tx.hash='${sends[1].hash}'` }))).toEqual([sends[1].hash]);
    expect((await search({ query: `tx.hash='${sends[1].hash}' AND tx.height=${sends[1].height + 1}` })).total_count).toBe("0");
  });
});

describe("transport", () => {
  it("takes positional params, batches, and skips notifications", async () => {
    const positional = await rpcResult(chain.rpc.url, "block", ["1"]);
    expect(positional.block.header.height).toBe("1");
    const res = await fetch(chain.rpc.url, {
      method: "POST",
      body: JSON.stringify([
        { jsonrpc: "2.0", id: 1, method: "health" },
        { jsonrpc: "2.0", method: "health" },
        { jsonrpc: "2.0", id: "two", method: "nope" },
      ]),
    });
    expect(await res.json()).toEqual([
      { jsonrpc: "2.0", id: 1, result: {} },
      { jsonrpc: "2.0", id: "two", error: { code: -32601, message: "Method not found", data: 'no method "nope"; GET / lists the methods' } },
    ]);
  });

  it("answers errors with HTTP 200 and CometBFT's codes", async () => {
    expect((await rpcCall(chain.rpc.url, "block", { height: "abc" })).error).toEqual({ code: -32602, message: "Invalid params", data: 'height: expected an integer, got "abc"' });
    expect((await rpcCall(chain.rpc.url, "block", { height: "999999" })).error?.data).toMatch(/^height 999999 must be less than or equal to the current blockchain height \d+$/);
    expect((await rpcCall(chain.rpc.url, "subscribe", { query: "tm.event='NewBlock'" })).error).toEqual({
      code: -32601,
      message: "Method not found",
      data: "subscribe is only available over WebSocket, at /websocket",
    });
    const res = await fetch(chain.rpc.url, { method: "POST", body: "{not json" });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { error: { code: number } }).error.code).toBe(-32700);
  });

  it("serves the GET URI form", async () => {
    const get = async (path: string) => (await (await fetch(`${chain.rpc.url}${path}`)).json()) as { id: number; result?: any; error?: any };
    const status = await get("/status");
    expect(status.id).toBe(-1);
    expect(status.result.node_info.network).toBe(CHAIN_ID);
    expect((await get("/block?height=1")).result.block.header.height).toBe("1");
    const found = await get(`/tx_search?query="tx.hash='${sends[0].hash}'"&prove=true`);
    expect(found.result.txs[0].proof.root_hash).toMatch(/^[0-9A-F]{64}$/);
    expect((await get(`/tx?hash=0x${sends[0].hash}`)).result.height).toBe(String(sends[0].height));
    expect((await get(`/metro_tx_rollup?hash=${sends[0].hash}`)).result.rollup_txs).toEqual([]);
    const listing = await (await fetch(`${chain.rpc.url}/`)).text();
    expect(listing).toContain("/tx_search?query=_&prove=_&page=_&per_page=_&order_by=_");
    expect((await fetch(`${chain.rpc.url}/nope`)).status).toBe(404);
  });
});

describe("subscriptions over WebSocket", () => {
  /** The first `count` values of a cosmjs (xstream) event stream. */
  function take<T>(stream: { addListener(l: { next(v: T): void; error(e: unknown): void; complete(): void }): void; removeListener(l: unknown): void }, count: number): Promise<T[]> {
    return new Promise((resolve, reject) => {
      const values: T[] = [];
      const timer = setTimeout(() => reject(new Error(`only ${values.length} of ${count} events`)), 10_000);
      const listener = {
        next(v: T) {
          values.push(v);
          if (values.length < count) return;
          clearTimeout(timer);
          stream.removeListener(listener);
          resolve(values);
        },
        error: reject,
        complete: () => reject(new Error("stream completed")),
      };
      stream.addListener(listener);
    });
  }

  it("delivers NewBlock and Tx events to cosmjs's WebSocket client", async () => {
    // cosmjs appends /websocket to the base URL it is given.
    const ws = Comet38Client.create(new WebsocketClient(chain.rpc.url.replace(/^http/, "ws")));
    try {
      const blocks = await take(ws.subscribeNewBlock(), 2);
      expect(blocks[1].header.height).toBe(blocks[0].header.height + 1);
      expect(blocks[0].header.chainId).toBe(CHAIN_ID);

      const tx = await signed([submitRollupTxMsg(alice.address, { secondaryChainId: "rollup-b", data: Uint8Array.of(7) })]);
      const hash = toHexUpper(sha256(tx));
      const events = take(ws.subscribeTx(`tx.hash='${hash}'`), 1);
      // Subscribed once the subscribe request has been answered; a status call on the same socket is answered after it.
      await ws.status();
      await comet.broadcastTxSync({ tx });
      const [event] = await events;
      expect(toHexUpper(event.hash)).toBe(hash);
      expect(event.result.code).toBe(0);
      expect(event.result.events.some((e) => e.type === "rollup_tx")).toBe(true);
    } finally {
      ws.disconnect();
    }
  });

  it("limits subscriptions per client and handles unsubscribe", async () => {
    const limited: RpcServer = await extraServer(chain.node, { maxSubscriptionsPerClient: 2 });
    const socket = new WebSocket(limited.websocketUrl);
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    const replies = new Map<number, any>();
    const waiters = new Map<number, (value: any) => void>();
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString());
      if (message.result?.query !== undefined) return; // events
      waiters.get(message.id)?.(message);
      replies.set(message.id, message);
    });
    let nextId = 1;
    const call = (method: string, params: unknown) => {
      const id = nextId++;
      socket.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }));
      return new Promise<any>((resolve) => waiters.set(id, resolve));
    };
    try {
      expect((await call("subscribe", { query: "tm.event='NewBlock'" })).result).toEqual({});
      expect((await call("subscribe", { query: "tm.event='NewBlock'" })).error?.data).toBe(`already subscribed to "tm.event='NewBlock'"`);
      expect((await call("subscribe", { query: "tm.event='Tx'" })).result).toEqual({});
      expect((await call("subscribe", { query: "tm.event='Tx' AND tx.height>1" })).error).toEqual({ code: -32603, message: "Internal error", data: "max_subscriptions_per_client 2 reached" });
      expect((await call("unsubscribe", { query: "tm.event='Tx'" })).result).toEqual({});
      expect((await call("unsubscribe", { query: "tm.event='Tx'" })).error?.data).toBe("subscription not found");
      expect((await call("subscribe", { query: "tm.event='Tx' AND tx.height>1" })).result).toEqual({});
      expect((await call("unsubscribe_all", {})).result).toEqual({});
      expect((await call("subscribe", { query: "bad query" })).error).toMatchObject({ code: -32602 });
    } finally {
      socket.close();
    }
  });
});

describe("metrics endpoint", () => {
  it("serves the node's registry at GET /metrics", async () => {
    const metrics = await startMetricsServer(chain.node.metrics.registry, "127.0.0.1:0");
    try {
      const res = await fetch(metrics.url);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await res.text()).toMatch(/^metro_sequencer_height \d+$/m);
      expect((await fetch(metrics.url.replace("/metrics", "/other"))).status).toBe(404);
    } finally {
      await metrics.close();
    }
  });
});
