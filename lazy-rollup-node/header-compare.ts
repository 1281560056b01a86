// The stage-0 full node's duty: derive every header itself, compare it with the headers the rollup's
// signer publishes, and keep the evidence when they differ. A validly signed header that differs from
// the one this node derived at the same height (above all in its state root) is evidence against
// the signer; a header whose signature does not verify is evidence of nothing and is dropped.
import { metro } from "../proto/index.ts";
import { headerFromProto, headerToProto, type RollupHeader } from "./header.ts";
import { plainBytes } from "./plain-bytes.ts";
import { verifySignedHeader, type SignedHeader } from "./header-signature.ts";

const pb = metro.rollup.v1;

export interface HeaderEvidence {
  /** The header this node derived. */
  local: RollupHeader;
  received: SignedHeader;
  signerPubKey: Uint8Array;
  /** The RollupHeader fields that differ, in field order. */
  fields: (keyof RollupHeader)[];
}

export type HeaderComparison =
  | { kind: "match" }
  | { kind: "invalid-signature" }
  /** `stateRootDiffers`: the signer vouches for a state this node did not reach: raise the alarm. */
  | { kind: "conflict"; stateRootDiffers: boolean; evidence: HeaderEvidence };

const FIELDS: (keyof RollupHeader)[] = ["chainId", "height", "parentHash", "timeMs", "stateRoot", "txsRoot", "sequencerHeight", "sequencerBlockHash", "daHeight", "daCommitment"];

function sameValue(a: RollupHeader[keyof RollupHeader], b: RollupHeader[keyof RollupHeader]): boolean {
  return a instanceof Uint8Array && b instanceof Uint8Array ? Buffer.compare(a, b) === 0 : a === b;
}

/** Compares a received signed header with this node's own header of the same chain and height. */
export function compareHeaders(local: RollupHeader, received: SignedHeader, signerPubKey: Uint8Array): HeaderComparison {
  if (received.header.chainId !== local.chainId || received.header.height !== local.height) {
    throw new RangeError(`cannot compare header ${received.header.chainId}@${received.header.height} with ${local.chainId}@${local.height}`);
  }
  if (!verifySignedHeader(received, signerPubKey)) return { kind: "invalid-signature" };
  const fields = FIELDS.filter((field) => !sameValue(local[field], received.header[field]));
  if (fields.length === 0) return { kind: "match" };
  return { kind: "conflict", stateRootDiffers: fields.includes("stateRoot"), evidence: { local, received, signerPubKey, fields } };
}

export function encodeEvidence(e: HeaderEvidence): Uint8Array {
  return pb.HeaderEvidence.encode({
    local: headerToProto(e.local),
    received: { header: headerToProto(e.received.header), signature: e.received.signature },
    signerPubKey: e.signerPubKey,
    fields: e.fields,
  }).finish();
}

export function decodeEvidence(bytes: Uint8Array): HeaderEvidence {
  const e = pb.HeaderEvidence.decode(bytes);
  if (!e.local || !e.received?.header) throw new Error("header evidence without its headers");
  return {
    local: headerFromProto(e.local),
    received: { header: headerFromProto(e.received.header), signature: plainBytes(e.received.signature) },
    signerPubKey: plainBytes(e.signerPubKey),
    fields: (e.fields ?? []).filter((f): f is keyof RollupHeader => (FIELDS as string[]).includes(f)),
  };
}
