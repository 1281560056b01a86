// Why a reader refused a blob. Anyone can post to any Celestia namespace, so a reader meets blobs it
// must refuse in the normal course of things: these errors say why, and the reader moves on.

/** The bytes are not a relayer blob of a version this code reads, or not in canonical form. */
export class RelayerFormatError extends Error {
  override name = "RelayerFormatError";
}

/** Well-formed, but it does not check out against the sequencer's signatures or roots. */
export class RelayerVerificationError extends Error {
  override name = "RelayerVerificationError";
}
