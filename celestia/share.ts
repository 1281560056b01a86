// Sparse shares (512 bytes) as go-square v4 lays them out: splitting a blob into shares, padding shares,
// and parsing a run of shares back into blobs. Shares travel as one contiguous Uint8Array (n * 512).
import { frameLeaves, type Framing } from "./framing.ts";
import {
  NAMESPACE_SIZE,
  PRIMARY_RESERVED_PADDING_NAMESPACE,
  TAIL_PADDING_NAMESPACE,
  namespacesEqual,
  validateBlobNamespace,
  type Namespace,
} from "./namespace.ts";

export const SHARE_SIZE = 512;
export const SHARE_INFO_BYTES = 1;
export const SEQUENCE_LEN_BYTES = 4;
export const SIGNER_SIZE = 20;
export const MAX_SHARE_VERSION = 127;
export const SHARE_VERSION_ZERO = 0;
/** Share version 1 carries the blob's 20-byte signer in its first share. */
export const SHARE_VERSION_ONE = 1;
export const FIRST_SPARSE_SHARE_CONTENT_SIZE = SHARE_SIZE - NAMESPACE_SIZE - SHARE_INFO_BYTES - SEQUENCE_LEN_BYTES;
export const FIRST_SPARSE_SHARE_CONTENT_SIZE_WITH_SIGNER = FIRST_SPARSE_SHARE_CONTENT_SIZE - SIGNER_SIZE;
export const CONTINUATION_SPARSE_SHARE_CONTENT_SIZE = SHARE_SIZE - NAMESPACE_SIZE - SHARE_INFO_BYTES;

const INFO_BYTE_INDEX = NAMESPACE_SIZE;
const SEQUENCE_LEN_INDEX = INFO_BYTE_INDEX + SHARE_INFO_BYTES;
const SIGNER_INDEX = SEQUENCE_LEN_INDEX + SEQUENCE_LEN_BYTES;

export interface CelestiaBlob {
  namespace: Namespace;
  data: Uint8Array;
  /** 0, or 1 with a signer. */
  shareVersion: number;
  /** 20 bytes, share version 1 only. */
  signer?: Uint8Array;
}

/** Blob validation and share parsing failures; validation texts are celestia-node's. */
export class BlobError extends Error {
  override name = "BlobError";
}

/** `(version << 1) | sequenceStart`. */
export function infoByte(shareVersion: number, sequenceStart: boolean): number {
  if (!Number.isInteger(shareVersion) || shareVersion < 0 || shareVersion > MAX_SHARE_VERSION) {
    throw new BlobError(`version ${shareVersion} must be less than or equal to ${MAX_SHARE_VERSION}`);
  }
  return (shareVersion << 1) | (sequenceStart ? 1 : 0);
}

/** The checks celestia-node's blob.NewBlob makes, in its order, with its texts. */
export function validateBlob(blob: CelestiaBlob): void {
  validateBlobNamespace(blob.namespace);
  if (blob.data.length === 0) throw new BlobError("data can not be empty");
  if (blob.shareVersion === SHARE_VERSION_ZERO) {
    if (blob.signer !== undefined) throw new BlobError("share version 0 does not support signer");
  } else if (blob.shareVersion === SHARE_VERSION_ONE) {
    if (blob.signer?.length !== SIGNER_SIZE) throw new BlobError(`share version 1 requires signer of size ${SIGNER_SIZE} bytes`);
  } else {
    throw new BlobError(`share version ${blob.shareVersion} not supported. Please use 0 or 1`);
  }
}

/** Shares a sequence of `sequenceLen` bytes occupies (0 for 0 bytes). */
export function sparseSharesNeeded(sequenceLen: number, containsSigner: boolean): number {
  if (sequenceLen === 0) return 0;
  const first = containsSigner ? FIRST_SPARSE_SHARE_CONTENT_SIZE_WITH_SIGNER : FIRST_SPARSE_SHARE_CONTENT_SIZE;
  return 1 + Math.ceil(Math.max(0, sequenceLen - first) / CONTINUATION_SPARSE_SHARE_CONTENT_SIZE);
}

/**
 * How a sparse share sequence frames its data: the first share's header is
 * `ns | info(start) | sequence length | signer?`, every other one's `ns | info`.
 */
export function sparseShareFraming(namespace: Namespace, shareVersion: number, sequenceLen: number, signer?: Uint8Array): Framing {
  const signerSize = signer?.length ?? 0;
  const firstHeader = new Uint8Array(SIGNER_INDEX + signerSize);
  firstHeader.set(namespace);
  firstHeader[INFO_BYTE_INDEX] = infoByte(shareVersion, true);
  new DataView(firstHeader.buffer).setUint32(SEQUENCE_LEN_INDEX, sequenceLen);
  if (signer !== undefined) firstHeader.set(signer, SIGNER_INDEX);
  const header = new Uint8Array(SEQUENCE_LEN_INDEX);
  header.set(namespace);
  header[INFO_BYTE_INDEX] = infoByte(shareVersion, false);
  return { firstHeader, header, leafSize: SHARE_SIZE };
}

/** The framing of a blob's shares (validating the blob first). */
export function blobFraming(blob: CelestiaBlob): Framing {
  validateBlob(blob);
  return sparseShareFraming(blob.namespace, blob.shareVersion, blob.data.length, blob.signer);
}

/** The blob's shares, contiguous. */
export function splitBlob(blob: CelestiaBlob): Uint8Array {
  return frameLeaves(blobFraming(blob), blob.data);
}

export function shareCount(shares: Uint8Array): number {
  if (shares.length % SHARE_SIZE !== 0) throw new RangeError(`shares must be a multiple of ${SHARE_SIZE} bytes, got ${shares.length}`);
  return shares.length / SHARE_SIZE;
}

/** Share `index` of a contiguous run, as a view (no copy). */
export function shareAt(shares: Uint8Array, index: number): Uint8Array {
  return shares.subarray(index * SHARE_SIZE, (index + 1) * SHARE_SIZE);
}

/**
 * Fills the gap after a blob so the next one starts where the commitment rules want it: the blob's
 * namespace and share version, a sequence start with length 0, zeros (no signer, even for version 1).
 */
export function namespacePaddingShare(namespace: Namespace, shareVersion: number): Uint8Array {
  return frameLeaves(sparseShareFraming(namespace, shareVersion, 0), new Uint8Array(0));
}

/** Pads the reserved namespaces so that the first blob starts where the commitment rules want it. */
export function primaryReservedPaddingShare(): Uint8Array {
  return namespacePaddingShare(PRIMARY_RESERVED_PADDING_NAMESPACE, SHARE_VERSION_ZERO);
}

/** Fills the square after the last blob. */
export function tailPaddingShare(): Uint8Array {
  return namespacePaddingShare(TAIL_PADDING_NAMESPACE, SHARE_VERSION_ZERO);
}

interface Sequence {
  namespace: Namespace;
  shareVersion: number;
  sequenceLen: number;
  signer?: Uint8Array;
  chunks: Uint8Array[];
  collected: number;
}

function isPadding(share: Uint8Array, sequenceStart: boolean, sequenceLen: number): boolean {
  const namespace = share.subarray(0, NAMESPACE_SIZE);
  return (
    (sequenceStart && sequenceLen === 0) ||
    namespacesEqual(namespace, TAIL_PADDING_NAMESPACE) ||
    namespacesEqual(namespace, PRIMARY_RESERVED_PADDING_NAMESPACE)
  );
}

function readSequenceLen(share: Uint8Array): number {
  return new DataView(share.buffer, share.byteOffset + SEQUENCE_LEN_INDEX, SEQUENCE_LEN_BYTES).getUint32(0);
}

/**
 * Rebuilds the blobs in a run of sparse shares (contiguous n * 512 bytes), skipping padding shares,
 * as go-square's parser does; each rebuilt blob must pass validateBlob. Lets a reader turn proven
 * shares back into the blob they carry.
 */
export function parseSparseShares(shares: Uint8Array): CelestiaBlob[] {
  const sequences: Sequence[] = [];
  const count = shareCount(shares);
  for (let i = 0; i < count; i++) {
    const share = shareAt(shares, i);
    const info = share[INFO_BYTE_INDEX];
    const shareVersion = info >> 1;
    const sequenceStart = (info & 1) === 1;
    if (shareVersion !== SHARE_VERSION_ZERO && shareVersion !== SHARE_VERSION_ONE) {
      throw new BlobError(`share ${i}: unsupported share version ${shareVersion}`);
    }
    const sequenceLen = sequenceStart ? readSequenceLen(share) : 0;
    if (isPadding(share, sequenceStart, sequenceLen)) continue;
    const namespace = share.subarray(0, NAMESPACE_SIZE);
    if (sequenceStart) {
      const signed = shareVersion === SHARE_VERSION_ONE;
      const dataStart = SIGNER_INDEX + (signed ? SIGNER_SIZE : 0);
      sequences.push({
        namespace: namespace.slice(),
        shareVersion,
        sequenceLen,
        signer: signed ? share.slice(SIGNER_INDEX, dataStart) : undefined,
        chunks: [share.subarray(dataStart)],
        collected: SHARE_SIZE - dataStart,
      });
      continue;
    }
    const current = sequences.at(-1);
    if (current === undefined) throw new BlobError(`share ${i}: continuation share without a sequence start`);
    if (!namespacesEqual(namespace, current.namespace)) {
      throw new BlobError(`share ${i}: continuation share in another namespace than its sequence`);
    }
    current.chunks.push(share.subarray(SEQUENCE_LEN_INDEX));
    current.collected += CONTINUATION_SPARSE_SHARE_CONTENT_SIZE;
  }
  return sequences.map(toBlob);
}

function toBlob(sequence: Sequence): CelestiaBlob {
  if (sequence.sequenceLen > sequence.collected) {
    throw new BlobError(`sequence length ${sequence.sequenceLen} is greater than the ${sequence.collected} bytes in the sequence`);
  }
  const data = new Uint8Array(sequence.sequenceLen);
  let at = 0;
  for (const chunk of sequence.chunks) {
    if (at === data.length) break;
    const take = Math.min(chunk.length, data.length - at);
    data.set(chunk.subarray(0, take), at);
    at += take;
  }
  const blob: CelestiaBlob = { namespace: sequence.namespace, data, shareVersion: sequence.shareVersion };
  if (sequence.signer !== undefined) blob.signer = sequence.signer;
  validateBlob(blob);
  return blob;
}
