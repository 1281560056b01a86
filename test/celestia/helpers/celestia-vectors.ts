// Test-only: Celestia conformance data, decoded from celestia-node's JSON encoding. Data files taken
// from public repositories are not committed to this repo: they are the team's shared vectors, read
// from shared/celestia-vectors/ beside the repo (<repo>/../shared/celestia-vectors/, see its README.md):
// vectors.json (reference blobs from lumina and celestia-node's docs, go-square's table tests,
// celestia-app's minimum DAH) and go-square-big-block-blobs.json (84 blobs of a real block, go-square
// internal/testdata/big_block.json, with the commitments signed on chain).
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { CelestiaBlob } from "../../../celestia/share.ts";

/** <repo>/../shared/celestia-vectors/ (this file is <repo>/test/celestia/helpers/celestia-vectors.ts). */
const dir = new URL("../../../../shared/celestia-vectors/", import.meta.url);
export const sharedVectorsDir = fileURLToPath(dir);

function read(name: string): unknown {
  const file = new URL(name, dir);
  if (!existsSync(file)) {
    const missing = existsSync(dir) ? fileURLToPath(file) : sharedVectorsDir;
    throw new Error(
      `Celestia test vectors not found: ${missing} does not exist. The team's shared test data ` +
        `(shared/celestia-vectors/) must be checked out beside the repo; it is not committed to the repo.`,
    );
  }
  return JSON.parse(readFileSync(file, "utf8"));
}

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
  blob_shares_used_non_interactive_defaults: { cursor: number; blob_share_lens: number[]; shares_used: number; start_indexes: number[] }[];
  empty_square: { row_roots: string[]; column_roots_equal_row_roots: boolean; data_hash_hex: string };
}

export const vectors = read("vectors.json") as Vectors;

export const referenceBlobs: BlobVector[] = vectors.blobs.map((json, i) => decodeBlob(json, `#${i} v${json.share_version} ${json.source ?? ""}`));

let bigBlock: BlobVector[] | undefined;
/** The 84 blobs of go-square's big block (2.5 MB of JSON, read on first use). */
export function bigBlockBlobs(): BlobVector[] {
  bigBlock ??= (read("go-square-big-block-blobs.json") as BlobJson[]).map((json, i) => decodeBlob(json, `big block #${i}`));
  return bigBlock;
}
