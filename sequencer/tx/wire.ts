// A small protobuf wire-format reader for the few messages a transaction is made of. It reads in
// place (bytes come back as views of the input, nested messages are read by narrowing `end`), keeps
// 64-bit integers exact, and follows Go's protowire limits: varints of at most 10 bytes that fit in
// 64 bits, field number 0 refused. Group wire types (3, 4), deprecated since proto2, are refused too.
//
// The message decoders in decode.ts and messages.ts are written against it by hand, so that they can
// do what the Cosmos SDK's decoder does and generated code does not: refuse unknown fields, wire types
// that do not match the field, and (stricter than the SDK) a singular field given twice.

export class WireError extends Error {}

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_BYTES = 2;
export const WIRE_FIXED32 = 5;

/** Field numbers with this bit set are non-critical: a TxBody may carry unknown ones (ADR-020). */
export const NON_CRITICAL_BIT = 1 << 10;

const utf8Slice = (Buffer.prototype as unknown as { utf8Slice(this: Uint8Array, start: number, end: number): string }).utf8Slice;
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function truncated(): WireError {
  return new WireError("unexpected end of data");
}

export class WireReader {
  readonly buf: Uint8Array;
  pos: number;
  /** End of the message being read; nested messages narrow it. */
  end: number;

  constructor(buf: Uint8Array, pos = 0, end = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = end;
  }

  /** Reads the length-delimited message at `pos` with `parse`, `end` narrowed to it meanwhile. */
  nested<T>(parse: (r: WireReader) => T): T {
    const outer = this.end;
    this.end = this.lengthDelimited();
    const value = parse(this);
    this.end = outer;
    return value;
  }

  // Any varint, as Go's protowire.ConsumeVarint reads it.
  #varint64(): bigint {
    let result = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw truncated();
      const b = this.buf[this.pos++];
      if (i === 9 && b > 1) throw new WireError("varint overflows 64 bits");
      result |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return result;
      shift += 7n;
    }
    throw new WireError("varint overflows 64 bits");
  }

  // A varint of at most 4 bytes (below 2^28), or -1 with `pos` unchanged if it is longer.
  #short(): number {
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    let value = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      if (pos >= end) throw truncated();
      const b = buf[pos++];
      value |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.pos = pos;
        return value;
      }
    }
    return -1;
  }

  /** A varint that must be below 2^32 (tags, lengths, uint32 fields). */
  uint32(): number {
    const value = this.#short();
    if (value >= 0) return value;
    const long = this.#varint64();
    if (long > 0xffffffffn) throw new WireError("varint overflows 32 bits");
    return Number(long);
  }

  /** A uint64 field. */
  uint64(): bigint {
    const value = this.#short();
    return value >= 0 ? smallBigInt(value) : this.#varint64();
  }

  /** An int32 or enum field: the low 32 bits of the varint, signed (as Go and protobufjs read it). */
  int32(): number {
    const value = this.#short();
    return value >= 0 ? value : Number(BigInt.asIntN(32, this.#varint64()));
  }

  bool(): boolean {
    const value = this.#short();
    return value >= 0 ? value !== 0 : this.#varint64() !== 0n;
  }

  /** Reads a field key; returns (field number << 3) | wire type. */
  tag(): number {
    const tag = this.uint32();
    if (tag >>> 3 === 0) throw new WireError("invalid field number 0");
    return tag;
  }

  /**
   * Reads a length prefix; returns where the value ends, with `pos` at its start. Reading a nested
   * message: `const outer = r.end; r.end = r.lengthDelimited(); ...; r.end = outer`.
   */
  lengthDelimited(): number {
    const length = this.uint32();
    if (length > this.end - this.pos) throw truncated();
    return this.pos + length;
  }

  bytes(): Uint8Array {
    const end = this.lengthDelimited();
    const value = this.buf.subarray(this.pos, end);
    this.pos = end;
    return value;
  }

  /** A proto3 string: invalid UTF-8 is refused, as Go's protobuf does. */
  string(): string {
    const end = this.lengthDelimited();
    const value = utf8String(this.buf, this.pos, end);
    this.pos = end;
    return value;
  }

  /** Skips a string field's value after checking it is valid UTF-8; returns where the value starts. */
  skipString(): number {
    const end = this.lengthDelimited();
    const start = this.pos;
    checkUtf8(this.buf, start, end);
    this.pos = end;
    return start;
  }

  /** Skips a field's value of the given wire type. */
  skipValue(wireType: number): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.#varint64();
        return;
      case WIRE_FIXED64:
        if (this.end - this.pos < 8) throw truncated();
        this.pos += 8;
        return;
      case WIRE_BYTES:
        this.pos = this.lengthDelimited();
        return;
      case WIRE_FIXED32:
        if (this.end - this.pos < 4) throw truncated();
        this.pos += 4;
        return;
      default:
        throw new WireError(`unsupported wire type ${wireType}`);
    }
  }

  /**
   * A field a message decoder did not expect: a known field with the wrong wire type, or an unknown
   * field, which is skipped only if `allowNonCritical` and its number has the non-critical bit.
   */
  unexpected(tag: number, message: string, knownFields: readonly number[], allowNonCritical: boolean): void {
    const field = tag >>> 3;
    const wireType = tag & 7;
    if (knownFields.includes(field)) throw new WireError(`${message}: field ${field} has the wrong wire type ${wireType}`);
    if (!allowNonCritical || (field & NON_CRITICAL_BIT) === 0) throw new WireError(`${message}: unknown field ${field} (wire type ${wireType})`);
    this.skipValue(wireType);
  }
}

// Sequences, gas limits and fees repeat from one transaction to the next, and every transaction in
// the mempool holds a few of them: one BigInt per recent value rather than one per transaction.
const BIGINT_CACHE_SIZE = 256;
const cachedNumbers = new Float64Array(BIGINT_CACHE_SIZE).fill(-1);
const cachedBigInts: bigint[] = new Array<bigint>(BIGINT_CACHE_SIZE).fill(0n);

/** BigInt(n) for a non-negative safe integer, shared with earlier calls for the same n. */
export function smallBigInt(n: number): bigint {
  const slot = n % BIGINT_CACHE_SIZE;
  if (cachedNumbers[slot] === n) return cachedBigInts[slot];
  const big = BigInt(n);
  cachedNumbers[slot] = n;
  cachedBigInts[slot] = big;
  return big;
}

export function duplicate(message: string, field: number): WireError {
  return new WireError(`${message}: field ${field} appears more than once`);
}

/** `seen` (a bit per field number) with `field` added; throws if it was there: a singular field must appear once. */
export function once(seen: number, message: string, field: number): number {
  const bit = 1 << field;
  if (seen & bit) throw duplicate(message, field);
  return seen | bit;
}

function isAscii(buf: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (buf[i] >= 0x80) return false;
  return true;
}

export function checkUtf8(buf: Uint8Array, start: number, end: number): void {
  if (!isAscii(buf, start, end)) utf8String(buf, start, end);
}

export function utf8String(buf: Uint8Array, start: number, end: number): string {
  if (start === end) return "";
  if (isAscii(buf, start, end)) return utf8Slice.call(buf, start, end);
  try {
    return strictUtf8.decode(buf.subarray(start, end));
  } catch {
    throw new WireError("string field contains invalid UTF-8");
  }
}

/** Whether buf[start, end) holds exactly the bytes of `expected`. */
export function bytesEqual(buf: Uint8Array, start: number, end: number, expected: Uint8Array): boolean {
  if (end - start !== expected.length) return false;
  for (let i = 0; i < expected.length; i++) if (buf[start + i] !== expected[i]) return false;
  return true;
}

/** The number of bytes the shortest varint encoding of `n` takes. */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}
