// Metro's two messages for cosmjs, written with published packages only (cosmjs-types' BinaryWriter and
// BinaryReader), the way any third-party app would define them: no Metro code needed to use Metro.
import { Registry, type GeneratedType } from "@cosmjs/proto-signing";
import { defaultRegistryTypes } from "@cosmjs/stargate";
import { BinaryReader, BinaryWriter } from "cosmjs-types/binary";

export interface RollupTx {
  secondaryChainId: string;
  data: Uint8Array;
}

export interface MsgSubmitRollupTx extends RollupTx {
  signer: string;
}

export interface MsgSubmitBundle {
  signer: string;
  txs: RollupTx[];
}

const readerOf = (input: BinaryReader | Uint8Array) => (input instanceof BinaryReader ? input : new BinaryReader(input));

// metro.sequencer.v1.RollupTx { string secondary_chain_id = 1; bytes data = 2; }
const RollupTxType = {
  encode(m: RollupTx, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.secondaryChainId !== "") w.uint32(10).string(m.secondaryChainId);
    if (m.data.length > 0) w.uint32(18).bytes(m.data);
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): RollupTx {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: RollupTx = { secondaryChainId: "", data: new Uint8Array() };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.secondaryChainId = r.string();
      else if (tag >>> 3 === 2) m.data = r.bytes();
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<RollupTx>): RollupTx => ({ secondaryChainId: o.secondaryChainId ?? "", data: o.data ?? new Uint8Array() }),
};

// metro.sequencer.v1.MsgSubmitRollupTx { string signer = 1; string secondary_chain_id = 2; bytes data = 3; }
const MsgSubmitRollupTxType = {
  encode(m: MsgSubmitRollupTx, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.signer !== "") w.uint32(10).string(m.signer);
    if (m.secondaryChainId !== "") w.uint32(18).string(m.secondaryChainId);
    if (m.data.length > 0) w.uint32(26).bytes(m.data);
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): MsgSubmitRollupTx {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: MsgSubmitRollupTx = { signer: "", secondaryChainId: "", data: new Uint8Array() };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.signer = r.string();
      else if (tag >>> 3 === 2) m.secondaryChainId = r.string();
      else if (tag >>> 3 === 3) m.data = r.bytes();
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<MsgSubmitRollupTx>): MsgSubmitRollupTx => ({ signer: o.signer ?? "", ...RollupTxType.fromPartial(o) }),
};

// metro.sequencer.v1.MsgSubmitBundle { string signer = 1; repeated RollupTx txs = 2; }: all or nothing, in one block.
const MsgSubmitBundleType = {
  encode(m: MsgSubmitBundle, w: BinaryWriter = BinaryWriter.create()): BinaryWriter {
    if (m.signer !== "") w.uint32(10).string(m.signer);
    for (const tx of m.txs) RollupTxType.encode(tx, w.uint32(18).fork()).ldelim();
    return w;
  },
  decode(input: BinaryReader | Uint8Array, length?: number): MsgSubmitBundle {
    const r = readerOf(input);
    const end = length === undefined ? r.len : r.pos + length;
    const m: MsgSubmitBundle = { signer: "", txs: [] };
    while (r.pos < end) {
      const tag = r.uint32();
      if (tag >>> 3 === 1) m.signer = r.string();
      else if (tag >>> 3 === 2) m.txs.push(RollupTxType.decode(r, r.uint32()));
      else r.skipType(tag & 7);
    }
    return m;
  },
  fromPartial: (o: Partial<MsgSubmitBundle>): MsgSubmitBundle => ({ signer: o.signer ?? "", txs: (o.txs ?? []).map(RollupTxType.fromPartial) }),
};

export const MSG_SUBMIT_ROLLUP_TX = "/metro.sequencer.v1.MsgSubmitRollupTx";
export const MSG_SUBMIT_BUNDLE = "/metro.sequencer.v1.MsgSubmitBundle";

/** A cosmjs Registry with the default Cosmos types and Metro's two messages. */
export const metroRegistry = () =>
  new Registry([...defaultRegistryTypes, [MSG_SUBMIT_ROLLUP_TX, MsgSubmitRollupTxType as GeneratedType], [MSG_SUBMIT_BUNDLE, MsgSubmitBundleType as GeneratedType]]);

/** MsgSubmitRollupTxResponse { bytes rollup_tx_hash = 1 } and MsgSubmitBundleResponse { repeated bytes rollup_tx_hashes = 1 }, as hex. */
export function responseHashes(value: Uint8Array): string[] {
  const r = new BinaryReader(value);
  const hashes: string[] = [];
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) hashes.push(Buffer.from(r.bytes()).toString("hex"));
    else r.skipType(tag & 7);
  }
  return hashes;
}
