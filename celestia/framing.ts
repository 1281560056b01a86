// Cutting a byte string into fixed-size leaves that each begin with a header: the layout of a sparse
// share sequence, stated once so that splitting (share.ts) and the hashers' hashFramedLeaves, which hash
// the same leaves without building them, cannot disagree.

export interface Framing {
  /** Header of the first leaf. */
  firstHeader: Uint8Array;
  /** Header of every following leaf. */
  header: Uint8Array;
  leafSize: number;
}

/**
 * Number of leaves: the first holds `leafSize - firstHeader.length` data bytes, the others
 * `leafSize - header.length`; always at least one.
 */
export function framedLeafCount(framing: Framing, dataLength: number): number {
  const first = framing.leafSize - framing.firstHeader.length;
  const rest = framing.leafSize - framing.header.length;
  if (first < 0 || rest <= 0) throw new RangeError("framing: headers leave no room for data");
  return 1 + Math.ceil(Math.max(0, dataLength - first) / rest);
}

/** The leaves, contiguous (count * leafSize bytes): header, next data bytes, zero padding at the end. */
export function frameLeaves(framing: Framing, data: Uint8Array): Uint8Array {
  const { firstHeader, header, leafSize } = framing;
  const count = framedLeafCount(framing, data.length);
  const out = new Uint8Array(count * leafSize);
  let read = 0;
  for (let i = 0, at = 0; i < count; i++, at += leafSize) {
    const head = i === 0 ? firstHeader : header;
    out.set(head, at);
    const take = Math.min(leafSize - head.length, data.length - read);
    out.set(data.subarray(read, read + take), at + head.length);
    read += take;
  }
  return out;
}
