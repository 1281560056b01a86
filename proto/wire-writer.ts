// Hand-written protobuf encoding for the few messages written on hot paths (the SignDoc a signature
// covers, a rollup block's undo log), where protobufjs's object per message and growing writer cost
// more than the work. Fields are written in the order given, so callers write canonical encodings.

/** Bytes of the varint of `n` (a non-negative number below 2^53, or a bigint below 2^64). */
export function varintLength(n: number | bigint): number {
  let length = 1;
  if (typeof n === "number") {
    for (; n >= 0x80; n = Math.floor(n / 128)) length++;
    return length;
  }
  for (; n >= 0x80n; n >>= 7n) length++;
  return length;
}

/** Writes the varint of `n` at `at`; returns where it ends. */
export function writeVarint(out: Uint8Array, at: number, n: number | bigint): number {
  if (typeof n === "number") {
    for (; n >= 0x80; n = Math.floor(n / 128)) out[at++] = (n % 128) | 0x80;
    out[at++] = n;
    return at;
  }
  for (; n >= 0x80n; n >>= 7n) out[at++] = Number(n & 0x7fn) | 0x80;
  out[at++] = Number(n);
  return at;
}

/** Bytes of a length-delimited field (one-byte tag) holding `value`; proto3 omits an empty one. */
export function bytesFieldLength(value: Uint8Array): number {
  return value.length === 0 ? 0 : 1 + varintLength(value.length) + value.length;
}

/** Writes a length-delimited field with the one-byte `tag`, nothing when `value` is empty; returns where it ends. */
export function writeBytesField(out: Uint8Array, at: number, tag: number, value: Uint8Array): number {
  if (value.length === 0) return at;
  out[at++] = tag;
  at = writeVarint(out, at, value.length);
  out.set(value, at);
  return at + value.length;
}
