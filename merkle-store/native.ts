// The native node hasher and page encoder: jmtHashLeaves, jmtHashInternals, jmtEncodePages and
// sha256Packed of the addon built from celestia/native on npm install (jmt_hash.c). node:crypto's hash costs about 1 µs
// per call, and a commit hashes ~10 nodes per updated key; the addon hashes a commit's new nodes in
// one call, ~0.06 µs of SHA-256 each, and encodes its new pages in another (a byte at a time in
// JavaScript, that took as long as the rest of the tree work). The tree falls back to node:crypto
// and its own encoder, same hashes and bytes, when the addon is missing or METRO_NO_NATIVE=1.
import { loadNativeAddon } from "../celestia/native/addon.ts";

/** See Tree in tree.ts for the arrays. */
export interface NativeJmtHasher {
  /** Hashes leaves `ids`: from their key and value hashes (64 bytes per leaf id in `kv`) into `leafHashes` (32 bytes per id). */
  jmtHashLeaves(kv: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): void;
  /** Hashes internal nodes `ids` in order (children first) into their 64-byte records in `nodes`. */
  jmtHashInternals(nodes: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): void;
  /**
   * Encodes the pages rooted at `pages` ([id, depth] pairs) one after another from out[0], as
   * codec.ts lays a page out; ends[i] is the offset where page i ends. Throws if `out` is too small.
   * leafValues[2 id] and [2 id + 1]: the offset and length of leaf id's inline value in `heap`, or
   * length -1 for a value stored apart.
   */
  jmtEncodePages(nodes: Uint8Array, kv: Uint8Array, leafValues: Int32Array, heap: Uint8Array, pages: Int32Array, out: Uint8Array, ends: Int32Array): void;
  /** The SHA-256 of each item of `data` (item i ends at ends[i], and starts where item i - 1 ends) at out[32 i]. */
  sha256Packed(data: Uint8Array, ends: Int32Array, out: Uint8Array): void;
}

function complete(functions: Record<string, unknown> | undefined): NativeJmtHasher | undefined {
  // An addon built before these functions existed lacks them (or takes other arguments: jmtEncodePages took 5).
  const names = ["jmtHashLeaves", "jmtHashInternals", "jmtEncodePages", "sha256Packed"];
  return functions !== undefined && names.every((name) => typeof functions[name] === "function") ? (functions as unknown as NativeJmtHasher) : undefined;
}

const addon = loadNativeAddon();
/** Undefined when the addon is not built (or predates these functions) or METRO_NO_NATIVE=1. */
export const nativeJmtHasher: NativeJmtHasher | undefined = complete(addon);
/** The same on OpenSSL's SHA-256 alone, as on CPUs without the SHA extensions (for tests). */
export const nativeOpenSslJmtHasher: NativeJmtHasher | undefined = complete(addon?.openssl as Record<string, unknown> | undefined);
/** "native sha-ni", "native openssl" or "js". */
export const jmtHasherKind: string = nativeJmtHasher === undefined ? "js" : `native ${typeof addon?.engine === "string" ? addon.engine : "?"}`;
