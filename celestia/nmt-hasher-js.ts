// The NmtHasher in JavaScript: one crypto.hash per node. Reference semantics for the native addon.
import { hash } from "node:crypto";
import { frameLeaves, framedLeafCount, type Framing } from "./framing.ts";
import { merkleRoot as merkleRootOfItems } from "./merkle.ts";
import { NAMESPACE_SIZE } from "./namespace.ts";

const NS = NAMESPACE_SIZE;
const NODE = 2 * NS + 32; // min namespace || max namespace || sha256

export const ERR_NODE_RANGE = "nmt: node max namespace below its min namespace";
export const ERR_SIBLING_ORDER = "nmt: sibling nodes out of namespace order";

export function hashLeaves(namespaces: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array {
  const count = namespaces.length / NS;
  if (!Number.isInteger(count) || data.length !== count * leafSize) {
    throw new Error("hashLeaves: namespaces and data do not describe the same number of leaves");
  }
  const out = new Uint8Array(count * NODE);
  const input = new Uint8Array(1 + NS + leafSize); // input[0] = 0x00, the leaf prefix
  for (let i = 0; i < count; i++) {
    const namespace = namespaces.subarray(i * NS, (i + 1) * NS);
    input.set(namespace, 1);
    input.set(data.subarray(i * leafSize, (i + 1) * leafSize), 1 + NS);
    out.set(namespace, i * NODE);
    out.set(namespace, i * NODE + NS);
    out.set(hash("sha256", input, "buffer"), i * NODE + 2 * NS);
  }
  return out;
}

export function hashFramedLeaves(namespace: Uint8Array, framing: Framing, data: Uint8Array): Uint8Array {
  const count = framedLeafCount(framing, data.length);
  const namespaces = new Uint8Array(count * NS);
  for (let i = 0; i < count; i++) namespaces.set(namespace, i * NS);
  return hashLeaves(namespaces, frameLeaves(framing, data), framing.leafSize);
}

function isParity(bytes: Buffer, at: number): boolean {
  for (let i = at; i < at + NS; i++) if (bytes[i] !== 0xff) return false;
  return true;
}

export function hashLevel(nodes: Uint8Array): Uint8Array {
  if (nodes.length % (2 * NODE) !== 0) throw new Error("hashLevel: nodes must be an even number of 90-byte hashes");
  const count = nodes.length / (2 * NODE);
  const bytes = Buffer.from(nodes.buffer, nodes.byteOffset, nodes.length);
  const out = new Uint8Array(count * NODE);
  const input = new Uint8Array(1 + 2 * NODE);
  input[0] = 0x01; // inner node prefix
  for (let i = 0; i < count; i++) {
    const left = 2 * i * NODE;
    const right = left + NODE;
    if (bytes.compare(bytes, left, left + NS, left + NS, left + 2 * NS) < 0 || bytes.compare(bytes, right, right + NS, right + NS, right + 2 * NS) < 0) {
      throw new Error(ERR_NODE_RANGE);
    }
    if (bytes.compare(bytes, left + NS, left + 2 * NS, right, right + NS) < 0) throw new Error(ERR_SIBLING_ORDER);
    const max = isParity(bytes, right) ? left + NS : right + NS;
    out.set(nodes.subarray(left, left + NS), i * NODE);
    out.set(nodes.subarray(max, max + NS), i * NODE + NS);
    input.set(nodes.subarray(left, right + NODE), 1);
    out.set(hash("sha256", input, "buffer"), i * NODE + 2 * NS);
  }
  return out;
}

export function merkleRoot(items: Uint8Array, itemSize: number): Uint8Array {
  const count = items.length / itemSize;
  if (!(itemSize > 0) || !Number.isInteger(count)) throw new Error("merkleRoot: items must be a whole number of positive-size items");
  return merkleRootOfItems(Array.from({ length: count }, (_, i) => items.subarray(i * itemSize, (i + 1) * itemSize)));
}
