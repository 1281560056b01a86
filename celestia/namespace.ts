// Celestia namespaces: a version byte and a 28-byte id (29 bytes), as go-square v4 defines them.
// Blob namespaces are version 0, whose id is 18 zero bytes followed by 10 user bytes.
import { sha256 } from "./sha256.ts";

/** 29 bytes: version || id. Treat values (and the constants below) as immutable. */
export type Namespace = Uint8Array;

export const NAMESPACE_SIZE = 29;
export const NAMESPACE_ID_SIZE = 28;
export const NAMESPACE_VERSION_ZERO = 0;
export const NAMESPACE_VERSION_MAX = 255;
/** Leading zero bytes of a version-0 id. */
export const NAMESPACE_VERSION_ZERO_PREFIX_SIZE = 18;
/** Bytes of a version-0 id a user chooses. */
export const NAMESPACE_VERSION_ZERO_ID_SIZE = NAMESPACE_ID_SIZE - NAMESPACE_VERSION_ZERO_PREFIX_SIZE;

/** The message is exactly what celestia-node answers for the same namespace. */
export class NamespaceError extends Error {
  override name = "NamespaceError";
}

function reserved(version: number, fill: number, lastByte: number): Namespace {
  const ns = new Uint8Array(NAMESPACE_SIZE).fill(fill);
  ns[0] = version;
  ns[NAMESPACE_SIZE - 1] = lastByte;
  return ns;
}

// Everything <= MAX_PRIMARY_RESERVED and >= MIN_SECONDARY_RESERVED belongs to the protocol.
export const TX_NAMESPACE = reserved(NAMESPACE_VERSION_ZERO, 0x00, 0x01);
export const INTERMEDIATE_STATE_ROOTS_NAMESPACE = reserved(NAMESPACE_VERSION_ZERO, 0x00, 0x02);
export const PAY_FOR_BLOB_NAMESPACE = reserved(NAMESPACE_VERSION_ZERO, 0x00, 0x04);
export const PRIMARY_RESERVED_PADDING_NAMESPACE = reserved(NAMESPACE_VERSION_ZERO, 0x00, 0xff);
export const MAX_PRIMARY_RESERVED_NAMESPACE = PRIMARY_RESERVED_PADDING_NAMESPACE;
export const MIN_SECONDARY_RESERVED_NAMESPACE = reserved(NAMESPACE_VERSION_MAX, 0xff, 0x00);
export const TAIL_PADDING_NAMESPACE = reserved(NAMESPACE_VERSION_MAX, 0xff, 0xfe);
/** 29 x 0xFF: the namespace of erasure-coded shares, and the one the NMT's ignore-max rule ignores. */
export const PARITY_SHARES_NAMESPACE = reserved(NAMESPACE_VERSION_MAX, 0xff, 0xff);

/** Lexicographic byte order, -1 / 0 / 1. */
export function compareNamespaces(a: Namespace, b: Namespace): number {
  return Buffer.compare(a, b);
}

export function namespacesEqual(a: Namespace, b: Namespace): boolean {
  return compareNamespaces(a, b) === 0;
}

export function isReservedNamespace(ns: Namespace): boolean {
  return compareNamespaces(ns, MAX_PRIMARY_RESERVED_NAMESPACE) <= 0 || compareNamespaces(ns, MIN_SECONDARY_RESERVED_NAMESPACE) >= 0;
}

/** A version-0 namespace whose user bytes are `subId` (at most 10 bytes), left-padded with zeros. */
export function namespaceV0(subId: Uint8Array): Namespace {
  if (subId.length > NAMESPACE_VERSION_ZERO_ID_SIZE) {
    throw new NamespaceError(`subID must be <= ${NAMESPACE_VERSION_ZERO_ID_SIZE}, but it was ${subId.length} bytes`);
  }
  const ns = new Uint8Array(NAMESPACE_SIZE);
  ns.set(subId, NAMESPACE_SIZE - subId.length);
  return ns;
}

/** The blob namespace of a secondary chain: version 0, user bytes = the first 10 bytes of sha256(utf8 id). */
export function namespaceFromSecondaryChainId(id: string): Namespace {
  const digest = sha256(new TextEncoder().encode(id));
  const ns = namespaceV0(digest.subarray(0, NAMESPACE_VERSION_ZERO_ID_SIZE));
  validateBlobNamespace(ns);
  return ns;
}

// Go's %v of a byte slice, e.g. [0 0 1].
function goBytes(bytes: Uint8Array): string {
  return `[${Array.from(bytes).join(" ")}]`;
}

/**
 * Checks what go-square's NewNamespaceFromBytes checks: size, a known version, and the 18 leading zero
 * bytes of a version-0 id. Returns the bytes (a 29-byte namespace) or throws a NamespaceError.
 */
export function namespaceFromBytes(bytes: Uint8Array): Namespace {
  if (bytes.length !== NAMESPACE_SIZE) {
    throw new NamespaceError(`invalid namespace length: ${bytes.length}. Must be ${NAMESPACE_SIZE} bytes`);
  }
  const version = bytes[0];
  if (version !== NAMESPACE_VERSION_ZERO && version !== NAMESPACE_VERSION_MAX) {
    throw new NamespaceError(`unsupported namespace version ${version}`);
  }
  const id = bytes.subarray(1);
  if (version === NAMESPACE_VERSION_ZERO && id.subarray(0, NAMESPACE_VERSION_ZERO_PREFIX_SIZE).some((b) => b !== 0)) {
    throw new NamespaceError(
      `unsupported namespace id with version ${version}. ID ${goBytes(id)} must start with ${NAMESPACE_VERSION_ZERO_PREFIX_SIZE} leading zeros`,
    );
  }
  return bytes;
}

/**
 * Throws a NamespaceError unless `ns` may carry a blob. Texts follow celestia-node: a malformed namespace
 * fails while being decoded (no prefix); a well-formed but reserved one fails in blob.NewBlob, which
 * prefixes go-square's ValidateForBlob text with "invalid user namespace: ".
 */
export function validateBlobNamespace(ns: Uint8Array): void {
  namespaceFromBytes(ns);
  const reason = blobNamespaceRejection(ns);
  if (reason !== undefined) throw new NamespaceError(`invalid user namespace: ${reason}`);
}

function blobNamespaceRejection(ns: Namespace): string | undefined {
  const hex = () => Buffer.from(ns).toString("hex");
  if (namespacesEqual(ns, PARITY_SHARES_NAMESPACE) || namespacesEqual(ns, TAIL_PADDING_NAMESPACE)) {
    return `invalid data namespace(${hex()}): parity and tail padding namespace are forbidden`;
  }
  if (isReservedNamespace(ns)) return `invalid data namespace(${hex()}): reserved data is forbidden`;
  if (ns[0] !== NAMESPACE_VERSION_ZERO) return `blob version ${ns[0]} is not supported`;
  return undefined;
}
