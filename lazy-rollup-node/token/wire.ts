// The protobuf wire format of the token rollup's three small messages and its account value, read
// and written by hand. Reading accepts only the canonical proto3 encoding: fields in increasing
// order, each at most once, with the wire type its number requires, minimal varints, no zero or empty
// scalar fields (proto3 omits them), no unknown fields. So one message has one encoding, and one
// transfer one hash. (protobufjs accepts all of those variants, and allocates a writer per message on
// the hot path; its encodings of these messages are exactly the canonical ones, which the tests check.)

/** varint: uint64; bytes: non-empty bytes or string; message: a sub-message, possibly empty. */
export type FieldKind = "varint" | "bytes" | "message";

/** A field's value: bigint for varints, a view of the input for the others; undefined when absent. */
export type FieldValue = bigint | Uint8Array | undefined;

const WIRE_VARINT = 0;
const WIRE_LEN = 2;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Where the varint readVarint last read ends: a module variable rather than a tuple per varint. */
let varintEnd = 0;

/**
 * Reads a varint at `at`: its value, a number below 2^49 (exact in a double) and a bigint above,
 * with `varintEnd` set after it; or a reason.
 */
function readVarint(buf: Uint8Array, at: number, end: number): number | bigint | string {
  let small = 0;
  for (let i = 0; i < 10; i++) {
    if (at + i >= end) return "truncated varint";
    const byte = buf[at + i];
    if (i === 7) return readLongVarint(buf, at, end);
    small += (byte & 0x7f) * 2 ** (7 * i);
    if (byte < 0x80) {
      if (i > 0 && byte === 0) return "varint not minimally encoded";
      varintEnd = at + i + 1;
      return small;
    }
  }
  return "varint longer than 10 bytes";
}

function readLongVarint(buf: Uint8Array, at: number, end: number): bigint | string {
  let value = 0n;
  for (let i = 0; i < 10; i++) {
    if (at + i >= end) return "truncated varint";
    const byte = buf[at + i];
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) {
      if (byte === 0) return "varint not minimally encoded";
      if (value >= 1n << 64n) return "varint exceeds 64 bits";
      varintEnd = at + i + 1;
      return value;
    }
  }
  return "varint longer than 10 bytes";
}

/**
 * The fields of the canonical message in `buf` whose field n has kind `kinds[n - 1]`, as values[n - 1],
 * or the reason it is not one.
 */
export function readCanonical(buf: Uint8Array, kinds: readonly FieldKind[]): FieldValue[] | string {
  const values: FieldValue[] = new Array(kinds.length).fill(undefined);
  let at = 0;
  let last = 0;
  while (at < buf.length) {
    const tag = readVarint(buf, at, buf.length);
    if (typeof tag === "string") return tag;
    at = varintEnd;
    const field = Math.floor(Number(tag) / 8);
    const wireType = Number(tag) % 8;
    const kind = kinds[field - 1];
    if (field < 1 || kind === undefined) return `unknown field ${field}`;
    if (field <= last) return `field ${field} out of order or repeated`;
    last = field;
    if (wireType !== (kind === "varint" ? WIRE_VARINT : WIRE_LEN)) return `field ${field} has wire type ${wireType}`;
    const value = readVarint(buf, at, buf.length);
    if (typeof value === "string") return `field ${field}: ${value}`;
    at = varintEnd;
    if (kind === "varint") {
      if (value === 0) return `field ${field} is zero (proto3 omits it)`;
      values[field - 1] = BigInt(value);
      continue;
    }
    if (value > buf.length - at) return `field ${field} is truncated`;
    const length = Number(value);
    if (length === 0 && kind === "bytes") return `field ${field} is empty (proto3 omits it)`;
    values[field - 1] = buf.subarray(at, at + length);
    at += length;
  }
  return values;
}

/** A string field: "" when absent, undefined when not valid UTF-8 (proto3 strings must be). */
export function utf8(bytes: Uint8Array | undefined): string | undefined {
  if (bytes === undefined) return "";
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return undefined;
  }
}

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

// Both below switch to number arithmetic once the value is exact as a double: BigInt shifts cost
// several times more, and balances and nonces are nearly always small.
function varintSize(value: bigint): number {
  let size = 1;
  for (; value > MAX_SAFE; value >>= 7n) size++;
  for (let rest = Number(value); rest >= 0x80; rest = Math.floor(rest / 128)) size++;
  return size;
}

function writeVarint(out: Uint8Array, at: number, value: bigint): number {
  for (; value > MAX_SAFE; value >>= 7n) out[at++] = Number(value & 0x7fn) | 0x80;
  let rest = Number(value);
  for (; rest >= 0x80; rest = Math.floor(rest / 128)) out[at++] = (rest % 128) | 0x80;
  out[at++] = rest;
  return at;
}

/** The canonical encoding of a message of varint fields only (field n = values[n - 1]; zeros omitted). */
export function writeVarintFields(values: readonly bigint[]): Uint8Array {
  let size = 0;
  values.forEach((v, i) => {
    if (v !== 0n) size += varintSize(BigInt((i + 1) << 3)) + varintSize(v);
  });
  const out = new Uint8Array(size);
  let at = 0;
  values.forEach((v, i) => {
    if (v === 0n) return;
    at = writeVarint(out, at, BigInt((i + 1) << 3));
    at = writeVarint(out, at, v);
  });
  return out;
}
