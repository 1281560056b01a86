// The firm path against tampered blobs on the DA layer: ahead of every batch the relayer posts, the
// DA server includes copies of its blobs with a commit signature broken, a rollup entry changed (it no
// longer proves against the header's rollup_txs_root), or a byte of the blob flipped. The node refuses
// each of them, counts them, and confirms every block from the real blobs, with no alarm. A second
// validly committed block at a firm height (an equivocation) raises the alarm.
import { afterAll, expect, it } from "vitest";
import { newBlob, type Blob } from "../../celestia/blob.ts";
import { DaClient } from "../../celestia/da-client.ts";
import { namespaceFromSecondaryChainId, namespacesEqual } from "../../celestia/namespace.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { decodeBlobPart, decodeRollupBatch, decodeSequencerBatch, encodeBlobPart, encodeRollupBlockTxs, encodeSequencerBlockMeta, joinParts, joinRecords } from "../../sequencer/relayer/format.ts";
import { COMPRESSION, decompressBatch } from "../../sequencer/relayer/compression.ts";
import { openBatch, readBlobPart } from "../../sequencer/relayer/reader.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { collectRollupData, decodeEntry } from "../../sequencer/block/rollup-data.ts";
import { blockHash, txsHash } from "../../sequencer/block/block.ts";
import { ed25519Sign } from "../../cometbft/ed25519.ts";
import { PRECOMMIT, voteSignBytes } from "../../cometbft/vote.ts";
import { toHexUpper } from "../../cometbft/hash.ts";
import { getJson, initHome, PREFIX, ROLLUP, startEnv, startNode, stopAll, submit, transfer, until } from "./node-harness.ts";

afterAll(stopAll);

/** The blob with its (single-part) batch re-encoded raw after `change`. */
function rewrite(blob: Blob, change: (raw: Uint8Array, kind: "sequencer" | "rollup") => Uint8Array): Blob {
  const part = decodeBlobPart(blob.data);
  const joined = joinParts([part]);
  const raw = change(decompressBatch(joined.stored, joined.compression, joined.batchSize), part.kind);
  const data = encodeBlobPart({ kind: part.kind, compression: COMPRESSION.none, batchSize: raw.length, batchHash: sha256(raw), part: 0, parts: 1, data: raw });
  return newBlob({ namespace: blob.namespace, data, shareVersion: blob.shareVersion });
}

const flipFirst = (bytes: Uint8Array) => Uint8Array.from(bytes, (b, i) => (i === 0 ? b ^ 1 : b));

function brokenCommit(blob: Blob): Blob {
  return rewrite(blob, (raw) => {
    const blocks = decodeSequencerBatch(raw);
    const [first, ...rest] = blocks;
    const signatures = first.commit.signatures.map((s, i) => (i === 0 ? { ...s, signature: flipFirst(s.signature) } : s));
    return joinRecords([{ ...first, commit: { ...first.commit, signatures } }, ...rest].map(encodeSequencerBlockMeta));
  });
}

function changedEntry(blob: Blob): Blob {
  return rewrite(blob, (raw) => {
    const [first, ...rest] = decodeRollupBatch(raw);
    return joinRecords([{ ...first, entries: [flipFirst(first.entries[0]), ...first.entries.slice(1)] }, ...rest].map(encodeRollupBlockTxs));
  });
}

function flippedByte(blob: Blob): Blob {
  const data = Uint8Array.from(blob.data);
  data[data.length - 1] ^= 1;
  return newBlob({ namespace: blob.namespace, data, shareVersion: blob.shareVersion });
}

it("refuses tampered commits, proofs and blobs on the DA layer and confirms from the real ones", async () => {
  const env = await startEnv({ chainId: "metro-rollup-da-lie-1" });
  const sequencerNs = namespaceFromSecondaryChainId(env.seq.node.chainId);
  const rollupNs = namespaceFromSecondaryChainId(ROLLUP);
  const tampered = { commit: 0, entry: 0, blob: 0 };
  const submitToChain = env.da.chain.submit.bind(env.da.chain);
  env.da.chain.submit = (blobs, config) => {
    const fakes: Blob[] = [];
    for (const blob of blobs) {
      if (namespacesEqual(blob.namespace, sequencerNs)) {
        fakes.push(brokenCommit(blob), flippedByte(blob));
        tampered.commit++;
        tampered.blob++;
      } else if (namespacesEqual(blob.namespace, rollupNs)) {
        fakes.push(changedEntry(blob));
        tampered.entry++;
      }
    }
    // The fakes go first, so they are read before (or beside) the real blobs.
    if (fakes.length > 0) void submitToChain(fakes, config).catch(() => {});
    return submitToChain(blobs, config);
  };
  const rollup = await startNode(env, initHome(env).home);

  const hash = await submit(env, transfer(0, addressOfKey(testKey(1), PREFIX), 7n, 0n).data);
  let tx: any;
  await until(rollup.node, async () => (tx = (await getJson(`${rollup.api.url}/v1/txs/${hash}`)).body).status === "firm", "the transfer to be firm");
  expect(tx.result.ok).toBe(true);
  expect(tampered.entry).toBeGreaterThanOrEqual(1);

  const metrics = await (await fetch(`${rollup.api.url}/metrics`)).text();
  const rejected = (reason: string) => Number(new RegExp(`metro_rollup_da_blobs_rejected_total\\{reason="${reason}"\\} (\\d+)`).exec(metrics)?.[1] ?? 0);
  expect(rejected("verification")).toBeGreaterThanOrEqual(2);
  expect(rejected("format")).toBeGreaterThanOrEqual(1);
  expect((await getJson(`${rollup.api.url}/v1/alarms`)).body.alarms).toEqual([]);

  // The DA location is the real blob: the rollup's batch holding the transfer.
  const da = new DaClient({ url: env.da.url });
  try {
    const blob = await da.get(tx.da.height, rollupNs, Buffer.from(tx.da.commitment, "base64"));
    const batch = openBatch([readBlobPart(blob.data)]);
    const hashes = batch.kind === "rollup" ? batch.records.flatMap((r) => r.entries.map((e) => Buffer.from(sha256(decodeEntry(e).data)).toString("hex").toUpperCase())) : [];
    expect(hashes).toContain(hash);
  } finally {
    await da.close();
  }
});

it("raises the equivocation alarm when Celestia holds a second committed block at a firm height", async () => {
  const env = await startEnv({ chainId: "metro-rollup-da-lie-2" });
  const rollup = await startNode(env, initHome(env).home);
  const hash = await submit(env, transfer(0, addressOfKey(testKey(1), PREFIX), 7n, 0n).data);
  let tx: any;
  await until(rollup.node, async () => (tx = (await getJson(`${rollup.api.url}/v1/txs/${hash}`)).body).status === "firm", "the transfer to be firm");

  // Another block at that height, without the transfer, signed by the (only) validator.
  const real = (await env.seq.node.store.block(tx.sequencer_height))!;
  const empty = collectRollupData([]);
  const header = { ...real.block.header, dataHash: txsHash([]), rollupTxsRoot: empty.rollupTxsRoot, rollupIdsRoot: empty.rollupIdsRoot };
  const blockId = { hash: blockHash(header), partSetHeader: real.blockId.partSetHeader };
  const commit = (await env.seq.node.store.commit(tx.sequencer_height))!;
  const key = env.seq.node.privval.key;
  const signatures = commit.signatures.map((sig) => ({ ...sig, signature: ed25519Sign(key, voteSignBytes({ chainId: header.chainId, type: PRECOMMIT, height: header.height, round: commit.round, blockId, timestamp: sig.timestamp })) }));
  const raw = joinRecords([encodeSequencerBlockMeta({ header, commit: { ...commit, blockId, signatures }, rollupIds: [] })]);
  const data = encodeBlobPart({ kind: "sequencer", compression: COMPRESSION.none, batchSize: raw.length, batchHash: sha256(raw), part: 0, parts: 1, data: raw });
  const da = new DaClient({ url: env.da.url });
  try {
    await da.submit([{ namespace: namespaceFromSecondaryChainId(env.seq.node.chainId), data, shareVersion: 0 }]);
  } finally {
    await da.close();
  }
  await until(rollup.node, () => rollup.node.alarms.count > 0, "the equivocation alarm");
  const [alarm] = (await getJson(`${rollup.api.url}/v1/alarms`)).body.alarms;
  expect(alarm).toMatchObject({ kind: "equivocation", height: tx.rollup_height, details: { firmBlockHash: toHexUpper(real.blockId.hash), otherBlockHash: toHexUpper(blockId.hash) } });
  // The firm state stands.
  expect((await getJson(`${rollup.api.url}/v1/txs/${hash}`)).body).toMatchObject({ status: "firm", result: { ok: true } });
});
