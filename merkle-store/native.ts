// The native node hasher: jmtHashLeaves and jmtHashInternals of the addon built from celestia/native
// on npm install (jmt_hash.c). node:crypto's hash costs about 1 µs per call, and a commit hashes
// ~10 nodes per updated key; the addon hashes a commit's new nodes in one call, ~0.06 µs of SHA-256 each.
// The tree falls back to node:crypto, same hashes, when the addon is missing or METRO_NO_NATIVE=1.
import { createRequire } from "node:module";

/** See Tree in tree.ts for the arrays. */
export interface NativeJmtHasher {
  /** Hashes leaves `ids`: from their key and value hashes (64 bytes per leaf id in `kv`) into `leafHashes` (32 bytes per id). */
  jmtHashLeaves(kv: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): void;
  /** Hashes internal nodes `ids` in order (children first) into their 64-byte records in `nodes`. */
  jmtHashInternals(nodes: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): void;
}

interface Addon extends Partial<NativeJmtHasher> {
  engine?: string;
  openssl?: Partial<NativeJmtHasher>;
}

function load(): Addon | undefined {
  if (process.env.METRO_NO_NATIVE === "1") return undefined;
  try {
    return createRequire(import.meta.url)("../celestia/native/build/Release/nmt_hash.node") as Addon;
  } catch {
    return undefined;
  }
}

function complete(functions: Partial<NativeJmtHasher> | undefined): NativeJmtHasher | undefined {
  // An addon built before jmt_hash.c existed lacks them.
  return typeof functions?.jmtHashLeaves === "function" && typeof functions.jmtHashInternals === "function" ? (functions as NativeJmtHasher) : undefined;
}

const addon = load();
/** Undefined when the addon is not built (or predates these functions) or METRO_NO_NATIVE=1. */
export const nativeJmtHasher: NativeJmtHasher | undefined = complete(addon);
/** The same on OpenSSL's SHA-256 alone, as on CPUs without the SHA extensions (for tests). */
export const nativeOpenSslJmtHasher: NativeJmtHasher | undefined = complete(addon?.openssl);
/** "native sha-ni", "native openssl" or "js". */
export const jmtHasherKind: string = nativeJmtHasher === undefined ? "js" : `native ${addon?.engine ?? "?"}`;
