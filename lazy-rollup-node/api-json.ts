// What the API says, as JSON: headers, transaction status, accounts with proofs, bundle proofs. Hashes
// and roots are upper-case hex (as the sequencer's RPC writes them); DA commitments and namespaces are
// base64 (as blob.Get takes them); heights are numbers; balances and nonces, which are uint64, are
// decimal strings.
import { namespaceFromSecondaryChainId } from "../celestia/namespace.ts";
import { toBase64, toHexUpper } from "../cometbft/hash.ts";
import type { Proof } from "../merkle-store/index.ts";
import type { BundleProof } from "./bundle-proof.ts";
import { encodeBundleProof } from "./bundle-proof.ts";
import { headerHash, type RollupHeader } from "./header.ts";
import type { SignedHeader } from "./header-signature.ts";
import type { RollupNode } from "./node.ts";
import type { AccountProof } from "./token/account-proof.ts";
import type { TxRecord } from "./tx-index.ts";

const hex = toHexUpper;

export function headerJson(h: RollupHeader) {
  return {
    chain_id: h.chainId,
    height: Number(h.height),
    hash: hex(headerHash(h)),
    parent_hash: hex(h.parentHash),
    time_ms: h.timeMs,
    state_root: hex(h.stateRoot),
    txs_root: hex(h.txsRoot),
    sequencer_height: Number(h.sequencerHeight),
    sequencer_block_hash: hex(h.sequencerBlockHash),
    da_height: Number(h.daHeight),
    da_commitment: toBase64(h.daCommitment),
  };
}

export function signedHeaderJson(s: SignedHeader, signer: Uint8Array) {
  return { header: headerJson(s.header), signature: hex(s.signature), signer: hex(signer) };
}

export type TxStatus = "soft" | "firm";

/** One landing of a transaction, with how far it got: executed (soft), confirmed on Celestia (firm), under a header. */
export interface TxView {
  status: TxStatus;
  json: ReturnType<typeof txLandingJson>;
  /** Rollup height, and whether its header is derived. */
  height: bigint;
  hasHeader: boolean;
}

function txLandingJson(r: TxRecord, sequencerHeight: bigint, status: TxStatus, da: { height: bigint; commitment: Uint8Array } | undefined, rollupId: string, header: RollupHeader | undefined) {
  return {
    hash: hex(r.hash),
    status,
    result: r.ok ? { ok: true, events: r.events } : { ok: false, reason: r.reason },
    rollup_height: Number(r.height),
    index: r.index,
    sequencer_height: Number(sequencerHeight),
    ...(r.bundle ? { bundle: { bundle_id: hex(r.bundle.bundleId), member_chain_ids: r.bundle.memberChainIds } } : {}),
    ...(da ? { da: { height: Number(da.height), commitment: toBase64(da.commitment), namespace: toBase64(namespaceFromSecondaryChainId(rollupId)) } } : {}),
    ...(header ? { header_hash: hex(headerHash(header)) } : {}),
  };
}

/** Every landing of the transaction with this hash, first first (empty when the node has not seen it). */
export async function txViews(node: RollupNode<any>, hash: Uint8Array): Promise<TxView[]> {
  const records = await node.txs.lookup(hash);
  return Promise.all(
    records.map(async (r) => {
      const firm = r.height <= node.firmHeight;
      const [da, header] = firm ? await Promise.all([node.firm.location(r.height), node.headers.header(r.height)]) : [undefined, undefined];
      const status: TxStatus = firm ? "firm" : "soft";
      const sequencerHeight = node.chain.sequencerStartHeight + r.height - 1n;
      return { status, height: r.height, hasHeader: header !== undefined, json: txLandingJson(r, sequencerHeight, status, da, node.chain.chainId, header) };
    }),
  );
}

/** The response of GET /v1/txs/{hash}: the first landing, and any later ones (the same bytes submitted again). */
export function txJson(views: readonly TxView[]) {
  const [first, ...later] = views;
  return { ...first.json, ...(later.length > 0 ? { later: later.map((v) => v.json) } : {}) };
}

export function proofJson(p: Proof) {
  return {
    siblings: p.siblings.map(hex),
    ...(p.leaf ? { leaf: { key_hash: hex(p.leaf.keyHash), value_hash: hex(p.leaf.valueHash) } } : {}),
  };
}

export function accountJson(a: AccountProof, firmHeight: bigint) {
  return {
    address: a.address,
    balance: String(a.balance),
    nonce: String(a.nonce),
    height: Number(a.height),
    state_root: hex(a.stateRoot),
    firm: a.height <= firmHeight,
    proof: proofJson(a.proof),
  };
}

export function bundleProofJson(p: BundleProof) {
  return {
    bundle_id: hex(p.bundle.bundleId),
    member_chain_ids: p.bundle.memberChainIds,
    sequencer_chain_id: p.sequencerHeader.chainId,
    sequencer_height: Number(p.sequencerHeader.height),
    sequencer_block_hash: hex(p.commit.blockId.hash),
    members: p.members.map((m) => ({ secondary_chain_id: m.secondaryChainId, entries: m.entries.length })),
    /** metro.rollup.v1.BundleProof, for verifyBundleProof. */
    proof: toBase64(encodeBundleProof(p)),
  };
}
