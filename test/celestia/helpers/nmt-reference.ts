// Test-only: the NMT and RFC 6962 tree written plainly from ../../../../shared/reference/celestia.md
// (recursive, one createHash per node), to check the batched, native-backed implementation against.
import { createHash } from "node:crypto";

const NS = 29;
const PARITY = new Uint8Array(NS).fill(0xff);

export interface ReferenceLeaf {
  namespace: Uint8Array;
  data: Uint8Array;
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return new Uint8Array(h.digest());
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

export function referenceLeafHash(leaf: ReferenceLeaf): Uint8Array {
  return Uint8Array.from([...leaf.namespace, ...leaf.namespace, ...sha256(Uint8Array.of(0), leaf.namespace, leaf.data)]);
}

export function referenceNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const rightIsParity = Buffer.compare(right.subarray(0, NS), PARITY) === 0;
  const max = rightIsParity ? left.subarray(NS, 2 * NS) : right.subarray(NS, 2 * NS);
  return Uint8Array.from([...left.subarray(0, NS), ...max, ...sha256(Uint8Array.of(1), left, right)]);
}

export function referenceNmtRoot(leaves: readonly ReferenceLeaf[]): Uint8Array {
  if (leaves.length === 0) return Uint8Array.from([...new Uint8Array(2 * NS), ...sha256()]);
  if (leaves.length === 1) return referenceLeafHash(leaves[0]);
  const k = largestPowerOfTwoBelow(leaves.length);
  return referenceNodeHash(referenceNmtRoot(leaves.slice(0, k)), referenceNmtRoot(leaves.slice(k)));
}

export function referenceMerkleRoot(items: readonly Uint8Array[]): Uint8Array {
  if (items.length === 0) return sha256();
  if (items.length === 1) return sha256(Uint8Array.of(0), items[0]);
  const k = largestPowerOfTwoBelow(items.length);
  return sha256(Uint8Array.of(1), referenceMerkleRoot(items.slice(0, k)), referenceMerkleRoot(items.slice(k)));
}
