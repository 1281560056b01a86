// Hash and hex conventions shared by CometBFT structures.
import { hash } from "node:crypto";

export function sha256(data: Uint8Array): Uint8Array {
  return hash("sha256", data, "buffer");
}

/** CometBFT writes hashes and addresses as upper-case hex. */
export function toHexUpper(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex").toUpperCase();
}

export function fromHex(text: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2})*$/.test(text)) throw new Error(`invalid hex: ${JSON.stringify(text)}`);
  return new Uint8Array(Buffer.from(text, "hex"));
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}

export function fromBase64(text: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) throw new Error(`invalid base64: ${JSON.stringify(text)}`);
  return new Uint8Array(Buffer.from(text, "base64"));
}
