// The relayer inside a sequencer node, posting to the local DA server over HTTP: every rollup's
// stream rebuilt from the DA layer alone equals what the sequencer committed; DA status by height and
// by transaction; a block larger than a submission; restarts; a DA outage with back-pressure; a fee
// too low for the network; submissions that do not land in time.
import { afterAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { DaClient } from "../../celestia/da-client.ts";
import { fromHex } from "../../cometbft/hash.ts";
import { daStatusJson } from "../../sequencer/relayer/da-status.ts";
import { nodeSource } from "../../sequencer/relayer/node-source.ts";
import { readSequencerBlob } from "../../sequencer/relayer/reader.ts";
import { startRelayer, type Relayer, type RelayerOptions } from "../../sequencer/relayer/relayer.ts";
import { expectStreamsMatch, logger, nextBlock, nextEvent, onStop, postedThrough, startDa, startSequencer, stopAll, tempDir, type TestSequencer } from "./harness.ts";

afterAll(stopAll);

const ROLLUPS = ["rollup-a", "rollup-b", "rollup-c"];

async function relayer(seq: TestSequencer, daUrl: string, o: Partial<RelayerOptions> = {}): Promise<Relayer> {
  const r = await startRelayer({
    source: nodeSource(seq.node),
    da: { url: daUrl },
    home: o.home ?? tempDir("metro-relayer-home-"),
    logger,
    flushIntervalMs: 300,
    targetSubmissionBytes: 64 * 1024,
    backoff: { baseDelayMs: 50, maxDelayMs: 300 },
    ...o,
  });
  let closed = false;
  onStop(async () => {
    if (!closed) await r.close();
  });
  const close = r.close.bind(r);
  r.close = async () => {
    closed = true;
    await close();
  };
  return r;
}

/** Some rollup transactions over several blocks: JSON-like and random, plain and bundled. Returns the last tx's hash. */
async function traffic(seq: TestSequencer, blocks: number): Promise<string> {
  let last = "";
  for (let b = 0; b < blocks; b++) {
    for (let i = 0; i < 6; i++) {
      const id = ROLLUPS[(b + i) % ROLLUPS.length];
      const data = i % 2 === 0 ? new TextEncoder().encode(JSON.stringify({ transfer: { to: `acct-${i}`, amount: b * 100 + i } })) : randomBytes(200);
      last = await seq.submit({ secondaryChainId: id, data });
    }
    last = await seq.submit([{ secondaryChainId: "rollup-a", data: randomBytes(50) }, { secondaryChainId: "rollup-c", data: randomBytes(50) }]);
    await nextBlock(seq.node);
  }
  return last;
}

describe("relayer in a node", () => {
  it("posts every block; a reader rebuilds every rollup's stream from the DA layer; DA status by height and tx", async () => {
    const seq = await startSequencer({ chainId: "metro-relay-1", blockTimeMs: 100 });
    const da = await startDa({ blockTimeMs: 200 });
    const r = await relayer(seq, da.url, { limits: { maxSubmissionBytes: 128 * 1024, maxBlobBytes: 128 * 1024, maxSquareSize: 32, reservedShares: 16 } });
    const lastTx = await traffic(seq, 4);
    // A block with more rollup data than a submission may carry: it is spread over several.
    for (let i = 0; i < 3; i++) await seq.submit({ secondaryChainId: "rollup-b", data: randomBytes(100_000) });
    const [big] = await nextEvent(r, "posted", (e) => e.daHeights.length > 1);
    const height = seq.node.head.height;
    await postedThrough(r, height);

    const reader = await expectStreamsMatch(seq, da.url, height, ROLLUPS);
    expect(reader.duplicateBlocks).toBe(0);
    expect(big.firstHeight).toBe(big.lastHeight);

    const status = await r.daStatus(height);
    if (status.state !== "posted") throw new Error(`height ${height} is ${status.state}`);
    const client = new DaClient({ url: da.url });
    const blob = await client.get(status.daHeight, status.namespace, status.commitment);
    await client.close();
    expect(readSequencerBlob(blob.data, { chainId: seq.node.chainId, validators: seq.node.genesis.validators }).map((b) => b.height)).toContain(height);

    expect(daStatusJson(status)).toMatchObject({
      height: String(height),
      state: "posted",
      da_height: String(status.daHeight),
      namespace: Buffer.from(status.namespace).toString("base64"),
      commitment: Buffer.from(status.commitment).toString("base64"),
    });

    const byTx = await r.daStatusOfTx(fromHex(lastTx));
    expect(byTx?.state).toBe("posted");
    expect(byTx?.txHeight).toBeLessThanOrEqual(height);
    expect(await r.daStatusOfTx(randomBytes(32))).toBeUndefined();
    expect(await r.daStatus(seq.node.head.height + 1000)).toEqual({ height: seq.node.head.height + 1000, state: "unknown" });

    const metrics = await r.metrics.registry.metrics();
    expect(metrics).toMatch(new RegExp(`metro_relayer_posted_height \\d+`));
    expect(Number(/metro_relayer_rollup_data_bytes_total (\d+)/.exec(metrics)![1])).toBeGreaterThan(300_000);
    expect(metrics).toMatch(/metro_relayer_compression_ratio 0\.\d+|metro_relayer_compression_ratio 1/);
    expect(metrics).toMatch(/metro_relayer_share_padding_ratio 1\.\d+/);
  });

  it("resumes after a restart from where it stopped, posting nothing twice", async () => {
    const seq = await startSequencer({ chainId: "metro-relay-2", blockTimeMs: 100 });
    const da = await startDa({ blockTimeMs: 200 });
    const home = tempDir("metro-relayer-home-");
    const first = await relayer(seq, da.url, { home });
    await traffic(seq, 2);
    await postedThrough(first, seq.node.head.height);
    const stoppedAt = first.postedHeight;
    await first.close();
    await traffic(seq, 3);

    const second = await relayer(seq, da.url, { home });
    expect(second.postedHeight).toBe(stoppedAt);
    const [posted] = await nextEvent(second, "posted");
    expect(posted.firstHeight).toBe(stoppedAt + 1);
    const height = seq.node.head.height;
    await postedThrough(second, height);
    const reader = await expectStreamsMatch(seq, da.url, height, ROLLUPS);
    expect(reader.duplicateBlocks).toBe(0);
  });
});

describe("failures", () => {
  it("rides out a DA outage with retries and back-pressure, then catches up", async () => {
    const seq = await startSequencer({ chainId: "metro-relay-3", blockTimeMs: 100 });
    let da = await startDa({ blockTimeMs: 200 });
    const pressure: boolean[] = [];
    const r = await relayer(seq, da.url, { maxLagBlocks: 15, onBackPressure: (e) => pressure.push(e.active) });
    await traffic(seq, 1);
    await postedThrough(r, seq.node.head.height);

    await da.close();
    const failures = nextEvent(r, "submitFailed", (e) => e.reason === "unavailable");
    const behind = nextEvent(r, "backPressure", (e) => e.active);
    await traffic(seq, 2);
    await failures;
    const [active] = await behind;
    expect(active.lagBlocks).toBeGreaterThan(15);
    expect((await r.metrics.backPressure.get()).values[0].value).toBe(1);
    const unposted = seq.node.head.height;
    expect(await r.daStatus(unposted)).toEqual({ height: unposted, state: "pending" });

    da = await startDa({ home: da.home, port: da.port, blockTimeMs: 200 });
    const [released] = await nextEvent(r, "backPressure", (e) => !e.active, 30_000);
    expect(released.lagBlocks).toBeLessThanOrEqual(7);
    // The node's hook heard the same: slow down, then carry on.
    expect(pressure.slice(-2)).toEqual([true, false]);
    const height = seq.node.head.height;
    await postedThrough(r, height);
    await expectStreamsMatch(seq, da.url, height, ROLLUPS);
    const retries = (await r.metrics.retries.get()).values.find((v) => v.labels.reason === "unavailable")?.value ?? 0;
    expect(retries).toBeGreaterThanOrEqual(1);
  });

  it("raises a gas price the network refuses, within the cap", async () => {
    const seq = await startSequencer({ chainId: "metro-relay-4", blockTimeMs: 100 });
    const da = await startDa({ blockTimeMs: 200, minGasPrice: 0.05 });

    const capped = await relayer(seq, da.url, { gasPrice: 0.004, maxGasPrice: 0.02 });
    const [first] = await nextEvent(capped, "submitFailed");
    expect(first.reason).toBe("fee");
    await nextEvent(capped, "submitFailed", (e) => e.reason === "fee");
    expect(capped.gasPrice).toBe(0.02);
    expect(capped.postedHeight).toBe(0);
    await capped.close();

    const r = await relayer(seq, da.url, { gasPrice: 0.004, maxGasPrice: 1 });
    const refused = nextEvent(r, "submitFailed");
    await traffic(seq, 1);
    expect((await refused)[0].reason).toBe("fee");
    await postedThrough(r, seq.node.head.height);
    expect(r.gasPrice).toBeGreaterThanOrEqual(0.05);
    expect(r.gasPrice).toBeLessThan(0.06);
  });

  it("submits again when a submission does not land in time; readers drop the duplicates", async () => {
    const seq = await startSequencer({ chainId: "metro-relay-5", blockTimeMs: 100 });
    const da = await startDa({ blockTimeMs: 1500 });
    const r = await relayer(seq, da.url, { submitTimeoutMs: 300, flushIntervalMs: 100 });
    const timedOut = nextEvent(r, "submitFailed", (e) => e.reason === "timeout");
    await traffic(seq, 1);
    await timedOut;
    const height = seq.node.head.height;
    await postedThrough(r, height, 30_000);
    // The abandoned submissions landed as well: the same blocks are on the DA layer more than once.
    const reader = await expectStreamsMatch(seq, da.url, height, ROLLUPS);
    expect(reader.duplicateBlocks).toBeGreaterThan(0);
  });
});

it("refuses a progress store that belongs to another chain", async () => {
  const seqA = await startSequencer({ chainId: "metro-relay-6", blockTimeMs: 100 });
  const seqB = await startSequencer({ chainId: "metro-relay-7", blockTimeMs: 100 });
  const da = await startDa();
  const home = tempDir("metro-relayer-home-");
  const r = await relayer(seqA, da.url, { home });
  await r.close();
  await expect(relayer(seqB, da.url, { home })).rejects.toThrow(`the relayer store at ${join(home, "data", "relayer")} belongs to chain "metro-relay-6", not "metro-relay-7"`);
});
