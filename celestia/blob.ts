// A blob as celestia-node's API carries it: the data, its namespace, share version and signer, the
// share commitment, and once included the index of its first share in the extended square.
import { fromBase64, toBase64 } from "../cometbft/hash.ts";
import { blobCommitment } from "./commitment.ts";
import { validateBlob, type CelestiaBlob } from "./share.ts";

export interface Blob extends CelestiaBlob {
  commitment: Uint8Array;
  /** row * 2k + column of the first share in the extended square; -1 before inclusion. */
  index: number;
}

export interface BlobJson {
  namespace: string;
  data: string;
  share_version: number;
  commitment: string;
  signer?: string;
  index: number;
}

/** Validates like celestia-node's NewBlob and computes the commitment. */
export function newBlob(blob: CelestiaBlob): Blob {
  validateBlob(blob);
  return { ...blob, commitment: blobCommitment(blob), index: -1 };
}

export function blobToJson(blob: Blob): BlobJson {
  const json: BlobJson = {
    namespace: toBase64(blob.namespace),
    data: toBase64(blob.data),
    share_version: blob.shareVersion,
    commitment: toBase64(blob.commitment),
    index: blob.index,
  };
  if (blob.signer) json.signer = toBase64(blob.signer);
  return json;
}

function field<T>(json: Record<string, unknown>, key: string, type: "string" | "number"): T {
  const value = json[key];
  if (typeof value !== type) throw new Error(`blob field ${key} must be a ${type}`);
  return value as T;
}

/**
 * Decodes and validates a blob from JSON. Like celestia-node it keeps the commitment as given;
 * `checkCommitment` is where a distrustful reader recomputes it.
 */
export function blobFromJson(value: unknown): Blob {
  if (typeof value !== "object" || value === null) throw new Error("blob must be a JSON object");
  const json = value as Record<string, unknown>;
  const shareVersion = typeof json.share_version === "number" ? json.share_version : 0;
  const signer = typeof json.signer === "string" && json.signer !== "" ? fromBase64(json.signer) : undefined;
  const blob: CelestiaBlob = {
    namespace: fromBase64(field<string>(json, "namespace", "string")),
    data: fromBase64(typeof json.data === "string" ? json.data : ""),
    shareVersion,
    signer,
  };
  validateBlob(blob);
  const commitment = typeof json.commitment === "string" ? fromBase64(json.commitment) : blobCommitment(blob);
  const index = typeof json.index === "number" ? json.index : -1;
  return { ...blob, commitment, index };
}

/** Throws unless the blob's commitment is the one its data produces. */
export function checkCommitment(blob: Blob): void {
  const computed = blobCommitment(blob);
  if (Buffer.compare(computed, blob.commitment) !== 0) {
    throw new Error(`blob commitment mismatch: the node sent ${toBase64(blob.commitment)} but the data commits to ${toBase64(computed)}`);
  }
}
