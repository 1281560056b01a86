// uint64 proto fields arrive as Long (protobufjs --force-long); the rollup node works in bigint.
import Long from "long";

export const MAX_UINT64 = 2n ** 64n - 1n;

export function toLong(value: bigint): Long {
  if (value < 0n || value > MAX_UINT64) throw new RangeError(`${value} is not a uint64`);
  return new Long(Number(value & 0xffffffffn) | 0, Number(value >> 32n) | 0, true);
}

/** An absent field decodes as undefined/0: both are 0n. */
export function fromLong(value: Long | number | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  if (typeof value === "number") return BigInt(value);
  return (BigInt(value.high >>> 0) << 32n) | BigInt(value.low >>> 0);
}

/** A LevelDB key: `value` as 8 big-endian bytes (so keys sort by it), then `suffix`. */
export function uint64Key(value: bigint | number, suffix: Uint8Array = new Uint8Array()): Uint8Array {
  const key = new Uint8Array(8 + suffix.length);
  new DataView(key.buffer).setBigUint64(0, BigInt(value));
  key.set(suffix, 8);
  return key;
}
