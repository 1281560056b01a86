// protobufjs decodes bytes fields as Buffers on Node; the rollup node hands out plain Uint8Arrays, as
// merkle-store does: Buffer#slice returns a view where Uint8Array#slice copies, and equality checks
// (and test assertions) tell the two apart.

/** The same memory as a plain Uint8Array; absent fields as empty bytes. */
export function plainBytes(bytes: Uint8Array | null | undefined): Uint8Array {
  return bytes == null ? new Uint8Array() : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
