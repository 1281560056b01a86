// Test-only: Celestia conformance data, decoded from celestia-node's JSON encoding. Copied from the
// team's shared vectors: celestia-vectors.json (reference blobs from lumina and celestia-node's docs,
// go-square's subtree width and mountain range tables, celestia-app's minimum DAH) and
// go-square-big-block-blobs.json (84 blobs of a real block, go-square internal/testdata/big_block.json,
// with the commitments signed on chain).
import { readFileSync } from "node:fs";
import type { CelestiaBlob } from "../../../celestia/share.ts";

const dir = new URL("../vectors/", import.meta.url);
const read = (name: string): unknown => JSON.parse(readFileSync(new URL(name, dir), "utf8"));

export const fromB64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, "base64"));
export const toB64 = (bytes: Uint8Array): string => Buffer.from(bytes).toString("base64");

interface BlobJson {
  namespace: string;
  data: string;
  share_version: number;
  signer?: string;
  commitment: string;
  source?: string;
}

export interface BlobVector {
  name: string;
  blob: CelestiaBlob;
  commitment: string;
}

function decodeBlob(json: BlobJson, name: string): BlobVector {
  const blob: CelestiaBlob = { namespace: fromB64(json.namespace), data: fromB64(json.data), shareVersion: json.share_version };
  if (json.signer !== undefined) blob.signer = fromB64(json.signer);
  return { name, blob, commitment: json.commitment };
}

interface Vectors {
  blobs: BlobJson[];
  subtree_width_threshold_64: [number, number][];
  merkle_mountain_range_sizes: { total: number; max: number; sizes: number[] }[];
  empty_square: { row_roots: string[]; column_roots_equal_row_roots: boolean; data_hash_hex: string };
}

export const vectors = read("celestia-vectors.json") as Vectors;

export const referenceBlobs: BlobVector[] = vectors.blobs.map((json, i) => decodeBlob(json, `#${i} v${json.share_version} ${json.source ?? ""}`));

export const bigBlockBlobs: BlobVector[] = (read("go-square-big-block-blobs.json") as BlobJson[]).map((json, i) => decodeBlob(json, `big block #${i}`));
