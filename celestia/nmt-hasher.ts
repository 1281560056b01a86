// The NMT's hashing, a tree level at a time. Node's crypto.hash costs about a microsecond per call, more
// than hashing one 542-byte leaf, so the native addon (celestia/native, built on npm install) hashes whole
// levels per call; the JavaScript hasher has the same semantics and stands in when the addon is missing
// or METRO_NO_NATIVE=1.
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
}

interface NativeAddon {
  hashLeaves(namespaces: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array;
  hashFramedLeaves(namespace: Uint8Array, firstHeader: Uint8Array, header: Uint8Array, data: Uint8Array, leafSize: number): Uint8Array;
  hashLevel(nodes: Uint8Array): Uint8Array;
}

function loadNative(): NmtHasher | undefined {
  if (process.env.METRO_NO_NATIVE === "1") return undefined;
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)("./native/build/Release/nmt_hash.node") as NativeAddon;
  } catch {
    return undefined;
  }
  return {
    hashLeaves: addon.hashLeaves,
    hashFramedLeaves: (namespace, framing, data) => addon.hashFramedLeaves(namespace, framing.firstHeader, framing.header, data, framing.leafSize),
    hashLevel: addon.hashLevel,
  };
}

export const jsNmtHasher: NmtHasher = js;
/** Undefined when the addon is not built or METRO_NO_NATIVE=1. */
export const nativeNmtHasher: NmtHasher | undefined = loadNative();
export const nmtHasher: NmtHasher = nativeNmtHasher ?? jsNmtHasher;
export const nmtHasherKind: "native" | "js" = nativeNmtHasher === undefined ? "js" : "native";
