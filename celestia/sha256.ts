// One-shot SHA-256 through Node's crypto (OpenSSL), returning plain Uint8Arrays rather than Buffers.
import { hash } from "node:crypto";

export const SHA256_SIZE = 32;

/** sha256 of the concatenation of `parts`. */
export function sha256(...parts: Uint8Array[]): Uint8Array {
  const digest = hash("sha256", parts.length === 1 ? parts[0] : Buffer.concat(parts), "buffer");
  return new Uint8Array(digest.buffer, digest.byteOffset, digest.length);
}
