// The hashing of Celestia's trees, a level at a time. Node's crypto.hash costs about a microsecond per
// call, more than hashing one 542-byte leaf, so the native addon (celestia/native, built on npm
// install) hashes whole levels per call; the JavaScript hasher has the same semantics and stands in
// when the addon is missing or METRO_NO_NATIVE=1.
import { createRequire } from "node:module";
import type { Framing } from "./framing.ts";
import * as js from "./nmt-hasher-js.ts";

/** Node hashes are 90 bytes: min namespace (29) || max namespace (29) || sha256 (32). */
export interface NmtHasher {
  /** Leaf i = ns_i || ns_i || sha256(0x00 || ns_i || data_i), for namespaces n*29 and data n*leafSize bytes. */
  hashLeaves(namespaces: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array;
  /** The leaf hashes of frameLeaves(framing, data), every leaf in `namespace`, without building the leaves. */
  hashFramedLeaves(namespace: Uint8Array, framing: Framing, data: Uint8Array): Uint8Array;
  /**
   * Parents of nodes (2i, 2i+1), for 2m nodes: min = left.min, max = right.max unless right.min is the
   * parity namespace (then left.max), sha256(0x01 || left || right). Throws on a node whose max is below
   * its min or on siblings out of namespace order, as nmt's HashNode does.
   */
  hashLevel(nodes: Uint8Array): Uint8Array;
  /** merkle.ts's RFC 6962 merkleRoot over n items of itemSize bytes given contiguously (the commitment's last step). */
  merkleRoot(items: Uint8Array, itemSize: number): Uint8Array;
}

interface NativeFunctions {
  hashLeaves(namespaces: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array;
  hashFramedLeaves(namespace: Uint8Array, firstHeader: Uint8Array, header: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array;
  hashLevel(nodes: Uint8Array): Uint8Array;
  merkleRoot(items: Uint8Array, itemSize: number): Uint8Array;
}

interface NativeAddon extends NativeFunctions {
  /** The SHA-256 behind the top-level functions: "sha-ni" (two messages at once) or "openssl". */
  engine: string;
  /** The same functions on OpenSSL's SHA-256 alone. */
  openssl: NativeFunctions;
}

function loadAddon(): NativeAddon | undefined {
  if (process.env.METRO_NO_NATIVE === "1") return undefined;
  try {
    return createRequire(import.meta.url)("./native/build/Release/nmt_hash.node") as NativeAddon;
  } catch {
    return undefined;
  }
}

function adapt(functions: NativeFunctions): NmtHasher {
  return {
    hashLeaves: functions.hashLeaves,
    hashFramedLeaves: (namespace, framing, data) => functions.hashFramedLeaves(namespace, framing.firstHeader, framing.header, data, framing.leafSize),
    hashLevel: functions.hashLevel,
    merkleRoot: functions.merkleRoot,
  };
}

const addon = loadAddon();
export const jsNmtHasher: NmtHasher = js;
/** Undefined when the addon is not built or METRO_NO_NATIVE=1. */
export const nativeNmtHasher: NmtHasher | undefined = addon && adapt(addon);
/** The addon on OpenSSL's SHA-256 only, as it runs on CPUs without the SHA extensions (for tests and benchmarks). */
export const nativeOpenSslNmtHasher: NmtHasher | undefined = addon && adapt(addon.openssl);
export const nmtHasher: NmtHasher = nativeNmtHasher ?? jsNmtHasher;
/** "native sha-ni", "native openssl" or "js". */
export const nmtHasherKind: string = addon === undefined ? "js" : `native ${addon.engine}`;
