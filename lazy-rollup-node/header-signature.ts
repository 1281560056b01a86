// Signed rollup headers: secp256k1 (low-S, 64-byte r||s) over the header hash, sha256 of the header's
// canonical encoding. Use a key for headers only: the token rollup's transactions are signed the same
// way (sha256 of a proto3 message), and a dedicated key keeps the two kinds of signature apart.
import { metro } from "../proto/index.ts";
import { HeaderFormatError, headerFromProto, headerHash, headerToProto, type RollupHeader } from "./header.ts";
import { plainBytes } from "./plain-bytes.ts";
import { signDigest, verifyDigest, type SigningKey } from "./secp256k1-key.ts";

const pb = metro.rollup.v1;

export interface SignedHeader {
  header: RollupHeader;
  signature: Uint8Array;
}

export function signHeader(header: RollupHeader, key: SigningKey): SignedHeader {
  return { header, signature: signDigest(key, headerHash(header)) };
}

/** True iff `signed.signature` is `signerPubKey`'s signature of the header. Never throws. */
export function verifySignedHeader(signed: SignedHeader, signerPubKey: Uint8Array): boolean {
  try {
    return verifyDigest(signed.signature, headerHash(signed.header), signerPubKey);
  } catch {
    return false; // fields that do not encode (e.g. a height beyond uint64)
  }
}

export function encodeSignedHeader(s: SignedHeader): Uint8Array {
  return pb.SignedHeader.encode({ header: headerToProto(s.header), signature: s.signature }).finish();
}

/** Throws HeaderFormatError on bytes that are not a canonically encoded signed header. */
export function decodeSignedHeader(bytes: Uint8Array): SignedHeader {
  let decoded;
  try {
    decoded = pb.SignedHeader.decode(bytes);
  } catch (error) {
    throw new HeaderFormatError(`not a signed rollup header: ${(error as Error).message}`);
  }
  if (!decoded.header) throw new HeaderFormatError("signed rollup header has no header");
  const signed = { header: headerFromProto(decoded.header), signature: plainBytes(decoded.signature) };
  const canonical = !Object.hasOwn(decoded, "$unknowns") && !Object.hasOwn(decoded.header, "$unknowns");
  if (!canonical || Buffer.compare(encodeSignedHeader(signed), bytes) !== 0) throw new HeaderFormatError("signed rollup header is not in canonical encoding");
  return signed;
}
