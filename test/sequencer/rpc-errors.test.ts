// What a cosmjs user sees for bad input: each rejected transaction throws BroadcastTxError with the
// SDK's (or Metro's) code, codespace and log, and leaves the account as it was; transport limits
// (body size, rate, a full mempool) come back as readable errors too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GasPrice, SigningStargateClient, StargateClient, BroadcastTxError, type StdFee } from "@cosmjs/stargate";
import type { EncodeObject } from "@cosmjs/proto-signing";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { metroRegistry, submitBundleMsg, submitRollupTxMsg } from "../../sequencer/client/registry.ts";
import { DEFAULT_MEMPOOL_LIMITS } from "../../sequencer/mempool/mempool.ts";
import { DEFAULT_PARAMS } from "../../sequencer/params.ts";
import type { SequencerNode } from "../../sequencer/node.ts";
import { CHAIN_ID, extraServer, nextBlock, startChain, stopAll, type TestChain } from "./rpc-harness.ts";
import { testSigner, TEST_MNEMONICS, type TestSigner } from "./signing.ts";

const GAS = 400_000;
const FEE: StdFee = { amount: [{ denom: "umetro", amount: String(GAS * 0.025) }], gas: String(GAS) };
const CAROL_BALANCE = 50_000n;

let chain: TestChain;
let alice: TestSigner;
let carol: TestSigner;
let aliceClient: SigningStargateClient;
let carolClient: SigningStargateClient;
/** An alice transaction already in a block, for the replay case. */
let committedTx: Uint8Array;

async function connect(url: string, signer: TestSigner): Promise<SigningStargateClient> {
  return SigningStargateClient.connectWithSigner(url, signer.wallet, { registry: metroRegistry(), gasPrice: GasPrice.fromString("0.025umetro"), broadcastPollIntervalMs: 100 });
}

beforeAll(async () => {
  alice = await testSigner(TEST_MNEMONICS[0]);
  carol = await testSigner(TEST_MNEMONICS[2]);
  chain = await startChain({
    accounts: [
      { address: alice.address, balance: 1_000_000_000n },
      { address: carol.address, balance: CAROL_BALANCE },
    ],
  });
  aliceClient = await connect(chain.rpc.url, alice);
  carolClient = await connect(chain.rpc.url, carol);
  committedTx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(1))]);
  await aliceClient.broadcastTx(committedTx);
});

afterAll(async () => {
  aliceClient?.disconnect();
  carolClient?.disconnect();
  await stopAll();
});

const rollupMsg = (id: string, data: Uint8Array) => submitRollupTxMsg(alice.address, { secondaryChainId: id, data });

interface SignOverrides {
  fee?: StdFee;
  sequence?: number;
  accountNumber?: bigint;
  chainId?: string;
}

/** TxRaw bytes signed by cosmjs with explicit signer data (so any of it can be wrong on purpose). */
async function sign(client: SigningStargateClient, signer: TestSigner, msgs: EncodeObject[], o: SignOverrides = {}): Promise<Uint8Array> {
  const account = await client.getAccount(signer.address);
  const raw = await client.sign(signer.address, msgs, o.fee ?? FEE, "", {
    accountNumber: o.accountNumber ?? account!.accountNumber,
    sequence: o.sequence ?? account!.sequence,
    chainId: o.chainId ?? CHAIN_ID,
  });
  return TxRaw.encode(raw).finish();
}

async function accountState(client: StargateClient, address: string) {
  const account = await client.getAccount(address);
  return { sequence: account?.sequence, balance: (await client.getBalance(address, "umetro")).amount };
}

/** Broadcasts `tx`, expects cosmjs to throw BroadcastTxError with `expected`, and the account unchanged a block later. */
async function expectRejected(node: SequencerNode, client: SigningStargateClient, owner: string, tx: Uint8Array, expected: { code: number; codespace: string; log: string | RegExp }) {
  const before = await accountState(client, owner);
  const error = await client.broadcastTxSync(tx).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(BroadcastTxError);
  const { code, codespace, log } = error as BroadcastTxError;
  expect({ code, codespace }).toEqual({ code: expected.code, codespace: expected.codespace });
  if (typeof expected.log === "string") expect(log).toBe(expected.log);
  else expect(log).toMatch(expected.log);
  await nextBlock(node);
  expect(await accountState(client, owner)).toEqual(before);
}

const badSignatureLog = () => `signature verification failed; please verify account number (0) and chain-id (${CHAIN_ID}): unauthorized`;

describe("rejected transactions, as cosmjs reports them", () => {
  it("bad signature", async () => {
    const raw = TxRaw.decode(await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))]));
    raw.signatures[0][10] ^= 0x01;
    await expectRejected(chain.node, aliceClient, alice.address, TxRaw.encode(raw).finish(), { code: 4, codespace: "sdk", log: badSignatureLog() });
  });

  it("wrong chain id", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))], { chainId: "some-other-chain" });
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 4, codespace: "sdk", log: badSignatureLog() });
  });

  it("wrong account number", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))], { accountNumber: 7n });
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 4, codespace: "sdk", log: badSignatureLog() });
  });

  it("replayed sequence", async () => {
    const { sequence } = await accountState(aliceClient, alice.address);
    await expectRejected(chain.node, aliceClient, alice.address, committedTx, {
      code: 32,
      codespace: "sdk",
      log: `account sequence mismatch, expected ${sequence}, got 0: incorrect account sequence`,
    });
  });

  it("future sequence beyond the queue window", async () => {
    const { sequence } = await accountState(aliceClient, alice.address);
    const ahead = sequence! + DEFAULT_MEMPOOL_LIMITS.maxFutureSequences + 1;
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))], { sequence: ahead });
    await expectRejected(chain.node, aliceClient, alice.address, tx, {
      code: 32,
      codespace: "sdk",
      log: `account sequence mismatch, expected ${sequence}, got ${ahead} (at most ${DEFAULT_MEMPOOL_LIMITS.maxFutureSequences} ahead are queued): incorrect account sequence`,
    });
  });

  it("fee too low", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))], { fee: { amount: [{ denom: "umetro", amount: "1" }], gas: String(GAS) } });
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 13, codespace: "sdk", log: `insufficient fees; got: 1umetro required: ${GAS * 0.025}umetro: insufficient fee` });
  });

  it("gas too low", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", Uint8Array.of(2))], { fee: { amount: [{ denom: "umetro", amount: "25" }], gas: "1000" } });
    const used = DEFAULT_PARAMS.gasBase + DEFAULT_PARAMS.gasPerByte * tx.length;
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 11, codespace: "sdk", log: `out of gas in location: txSize; gasWanted: 1000, gasUsed: ${used}: out of gas` });
  });

  it("insufficient funds", async () => {
    const send = { typeUrl: "/cosmos.bank.v1beta1.MsgSend", value: { fromAddress: carol.address, toAddress: alice.address, amount: [{ denom: "umetro", amount: "1000000" }] } };
    const tx = await sign(carolClient, carol, [send]);
    await expectRejected(chain.node, carolClient, carol.address, tx, {
      code: 5,
      codespace: "sdk",
      log: `spendable balance ${CAROL_BALANCE}umetro is smaller than ${1_000_000 + GAS * 0.025}umetro: insufficient funds`,
    });
  });

  it("malformed bytes", async () => {
    await expectRejected(chain.node, aliceClient, alice.address, Uint8Array.of(1, 2, 3), { code: 2, codespace: "sdk", log: /^decoding TxRaw: .+: tx parse error$/ });
  });

  it("unknown message type", async () => {
    const delegate = { typeUrl: "/cosmos.staking.v1beta1.MsgDelegate", value: { delegatorAddress: alice.address, validatorAddress: alice.address, amount: { denom: "umetro", amount: "1" } } };
    const tx = await sign(aliceClient, alice, [delegate]);
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 2, codespace: "sdk", log: "unable to resolve type URL /cosmos.staking.v1beta1.MsgDelegate: tx parse error" });
  });

  it("empty rollup data", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", new Uint8Array())]);
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 3, codespace: "sequencer", log: "rollup rollup-a: empty rollup data" });
  });

  it("oversize rollup data", async () => {
    const size = DEFAULT_PARAMS.maxRollupDataBytes + 1;
    const tx = await sign(aliceClient, alice, [rollupMsg("rollup-a", new Uint8Array(size))], { fee: { amount: [{ denom: "umetro", amount: "100000" }], gas: "4000000" } });
    await expectRejected(chain.node, aliceClient, alice.address, tx, {
      code: 4,
      codespace: "sequencer",
      log: `${size} bytes for rollup rollup-a exceeds the limit of ${DEFAULT_PARAMS.maxRollupDataBytes}: rollup data too large`,
    });
  });

  it("invalid secondary chain id", async () => {
    const tx = await sign(aliceClient, alice, [rollupMsg("Rollup_A", Uint8Array.of(2))]);
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 2, codespace: "sequencer", log: '"Rollup_A" must be 1 to 64 characters of [a-z0-9-]: invalid secondary chain id' });
  });

  it("empty bundle", async () => {
    const tx = await sign(aliceClient, alice, [submitBundleMsg(alice.address, [])]);
    await expectRejected(chain.node, aliceClient, alice.address, tx, { code: 5, codespace: "sequencer", log: "a bundle needs at least one transaction: empty bundle" });
  });

  it("simulating an invalid transaction fails fee estimation with the same reason", async () => {
    await expect(aliceClient.signAndBroadcast(alice.address, [rollupMsg("rollup-a", new Uint8Array())], "auto")).rejects.toThrow(
      "Query failed with (3): rollup rollup-a: empty rollup data",
    );
  });
});

describe("limits", () => {
  it("a full mempool refuses a transaction that does not pay more", async () => {
    const small = await startChain({
      accounts: [
        { address: alice.address, balance: 1_000_000_000n },
        { address: carol.address, balance: CAROL_BALANCE },
      ],
      config: { mempool: { ...DEFAULT_MEMPOOL_LIMITS, maxTxs: 2 } },
    });
    const a = await connect(small.rpc.url, alice);
    const c = await connect(small.rpc.url, carol);
    try {
      // Sequences 1 and 2 wait for 0, so they stay in the pool and fill it.
      for (const sequence of [1, 2]) {
        expect(await a.broadcastTxSync(await sign(a, alice, [rollupMsg("rollup-a", Uint8Array.of(sequence))], { sequence }))).toMatch(/^[0-9A-F]{64}$/);
      }
      const tx = await sign(c, carol, [submitRollupTxMsg(carol.address, { secondaryChainId: "rollup-a", data: Uint8Array.of(9) })]);
      await expectRejected(small.node, c, carol.address, tx, { code: 20, codespace: "sdk", log: /^mempool is full: 2 txs, \d+ bytes; offer a higher gas price than 0\.025: mempool is full$/ });
    } finally {
      a.disconnect();
      c.disconnect();
    }
  });

  it("a request body over the limit is a JSON-RPC error cosmjs shows", async () => {
    const limited = await extraServer(chain.node, { maxBodyBytes: 4096 });
    const client = await connect(limited.url, alice);
    try {
      const tx = await sign(client, alice, [rollupMsg("rollup-a", new Uint8Array(4000))]);
      await expect(client.broadcastTxSync(tx)).rejects.toThrow('{"code":-32600,"message":"Invalid Request","data":"request body exceeds the limit of 4096 bytes"}');
    } finally {
      client.disconnect();
    }
  });

  it("a client over its rate gets a JSON-RPC error saying when to retry", async () => {
    const limited = await extraServer(chain.node, { rateLimitPerSecond: 3 });
    const client = await StargateClient.connect(limited.url);
    try {
      const outcomes = await Promise.allSettled(Array.from({ length: 6 }, () => client.getHeight()));
      const rejected = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
      expect(rejected.length).toBeGreaterThan(0);
      expect(String(rejected[0].reason)).toMatch(/"code":-32005,"message":"Rate limit exceeded","data":"more than 3 requests per second from 127\.0\.0\.1; retry in \d+ ms"/);
    } finally {
      client.disconnect();
    }
  });
});
