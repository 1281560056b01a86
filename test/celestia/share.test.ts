import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { NamespaceError, PRIMARY_RESERVED_PADDING_NAMESPACE, TAIL_PADDING_NAMESPACE, TX_NAMESPACE, namespaceV0 } from "../../celestia/namespace.ts";
import {
  BlobError,
  CONTINUATION_SPARSE_SHARE_CONTENT_SIZE,
  FIRST_SPARSE_SHARE_CONTENT_SIZE,
  FIRST_SPARSE_SHARE_CONTENT_SIZE_WITH_SIGNER,
  SHARE_SIZE,
  infoByte,
  namespacePaddingShare,
  parseSparseShares,
  primaryReservedPaddingShare,
  shareAt,
  shareCount,
  sparseSharesNeeded,
  splitBlob,
  tailPaddingShare,
  type CelestiaBlob,
} from "../../celestia/share.ts";
import { bigBlockBlobs } from "./helpers/celestia-vectors.ts";

const SEED = 20260522;
console.log(`share.test.ts: fast-check seed ${SEED}`);

const ns = namespaceV0(Uint8Array.of(0xaa, 0xbb, 0xcc, 1, 2, 3, 4, 5, 6, 7));
const signer = new Uint8Array(20).map((_, i) => 100 + i);
const bytes = (length: number, seed = 1) => new Uint8Array(length).map((_, i) => (i * 31 + seed) & 0xff);
const u32 = (share: Uint8Array, at: number) => new DataView(share.buffer, share.byteOffset).getUint32(at);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe("share constants and the info byte", () => {
  it("match go-square", () => {
    expect([SHARE_SIZE, FIRST_SPARSE_SHARE_CONTENT_SIZE, FIRST_SPARSE_SHARE_CONTENT_SIZE_WITH_SIGNER, CONTINUATION_SPARSE_SHARE_CONTENT_SIZE]).toEqual([512, 478, 458, 482]);
    expect([infoByte(0, true), infoByte(0, false), infoByte(1, true), infoByte(1, false), infoByte(127, true)]).toEqual([1, 0, 3, 2, 255]);
    expect(() => infoByte(128, false)).toThrow("version 128 must be less than or equal to 127");
  });
});

describe("splitBlob", () => {
  it("lays out a version-0 sequence", () => {
    const data = bytes(1000);
    const shares = splitBlob({ namespace: ns, data, shareVersion: 0 });
    expect(shareCount(shares)).toBe(3);
    const [first, second, third] = [0, 1, 2].map((i) => shareAt(shares, i));
    for (const share of [first, second, third]) expect(share.subarray(0, 29)).toEqual(ns);
    expect([first[29], second[29], third[29]]).toEqual([1, 0, 0]);
    expect(u32(first, 30)).toBe(1000);
    expect(first.subarray(34)).toEqual(data.subarray(0, 478));
    expect(second.subarray(30)).toEqual(data.subarray(478, 960));
    expect(third.subarray(30, 70)).toEqual(data.subarray(960));
    expect(third.subarray(70).every((b) => b === 0)).toBe(true);
  });

  it("puts a version-1 signer after the sequence length", () => {
    const data = bytes(500);
    const shares = splitBlob({ namespace: ns, data, shareVersion: 1, signer });
    expect(shareCount(shares)).toBe(2);
    const [first, second] = [shareAt(shares, 0), shareAt(shares, 1)];
    expect([first[29], second[29]]).toEqual([3, 2]);
    expect(u32(first, 30)).toBe(500);
    expect(first.subarray(34, 54)).toEqual(signer);
    expect(first.subarray(54)).toEqual(data.subarray(0, 458));
    expect(second.subarray(30, 72)).toEqual(data.subarray(458));
  });

  it("fills shares exactly at the boundaries", () => {
    const count = (length: number, shareVersion = 0) => shareCount(splitBlob({ namespace: ns, data: bytes(length), shareVersion, signer: shareVersion === 1 ? signer : undefined }));
    expect([count(1), count(478), count(479), count(478 + 482), count(478 + 482 + 1)]).toEqual([1, 1, 2, 2, 3]);
    expect([count(458, 1), count(459, 1)]).toEqual([1, 2]);
  });

  it("needs as many shares as sparseSharesNeeded says", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20_000 }), fc.boolean(), (length, signed) => {
        const blob: CelestiaBlob = signed ? { namespace: ns, data: bytes(length), shareVersion: 1, signer } : { namespace: ns, data: bytes(length), shareVersion: 0 };
        expect(shareCount(splitBlob(blob))).toBe(sparseSharesNeeded(length, signed));
      }),
      { seed: SEED, numRuns: 200 },
    );
    expect(sparseSharesNeeded(0, false)).toBe(0);
  });

  it("rejects what celestia-node rejects, with its texts", () => {
    const split = (blob: CelestiaBlob) => () => splitBlob(blob);
    expect(split({ namespace: ns, data: new Uint8Array(0), shareVersion: 0 })).toThrow(new BlobError("data can not be empty"));
    expect(split({ namespace: ns, data: bytes(5), shareVersion: 1 })).toThrow(new BlobError("share version 1 requires signer of size 20 bytes"));
    expect(split({ namespace: ns, data: bytes(5), shareVersion: 1, signer: signer.subarray(1) })).toThrow("share version 1 requires signer of size 20 bytes");
    expect(split({ namespace: ns, data: bytes(5), shareVersion: 0, signer })).toThrow("share version 0 does not support signer");
    expect(split({ namespace: ns, data: bytes(5), shareVersion: 2, signer })).toThrow("share version 2 not supported. Please use 0 or 1");
    expect(split({ namespace: TX_NAMESPACE, data: bytes(5), shareVersion: 0 })).toThrow(NamespaceError);
    // celestia-node checks the namespace before the data.
    expect(split({ namespace: TX_NAMESPACE, data: new Uint8Array(0), shareVersion: 0 })).toThrow(/reserved data is forbidden/);
  });
});

describe("padding shares", () => {
  it("are a sequence start of length 0 in the given namespace and version, then zeros", () => {
    const share = namespacePaddingShare(ns, 1);
    expect(share).toHaveLength(512);
    expect(share.subarray(0, 29)).toEqual(ns);
    expect(share[29]).toBe(3);
    expect(share.subarray(30).every((b) => b === 0)).toBe(true);
  });

  it("pad the reserved namespaces and the square's tail in version 0", () => {
    const expected = (namespace: Uint8Array) => concat(namespace, Uint8Array.of(1), new Uint8Array(482));
    expect(primaryReservedPaddingShare()).toEqual(expected(PRIMARY_RESERVED_PADDING_NAMESPACE));
    expect(tailPaddingShare()).toEqual(expected(TAIL_PADDING_NAMESPACE));
  });
});

describe("share views", () => {
  it("shareAt is a view and shareCount checks the size", () => {
    const shares = new Uint8Array(3 * 512);
    shareAt(shares, 2)[0] = 9;
    expect(shares[1024]).toBe(9);
    expect(() => shareCount(new Uint8Array(513))).toThrow("multiple of 512");
  });
});

describe("parseSparseShares", () => {
  const namespaces = [1, 2, 3].map((i) => namespaceV0(Uint8Array.of(i, 0, 0, 0, 0, 0, 0, 0, 0, 1)));
  const blobArb: fc.Arbitrary<CelestiaBlob> = fc
    .record({
      namespace: fc.constantFrom(...namespaces),
      data: fc.uint8Array({ minLength: 1, maxLength: 3000 }),
      signed: fc.boolean(),
      signer: fc.uint8Array({ minLength: 20, maxLength: 20 }),
    })
    .map(({ namespace, data, signed, signer }) => (signed ? { namespace, data, shareVersion: 1, signer } : { namespace, data, shareVersion: 0 }));

  it("rebuilds split blobs, skipping padding shares", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(blobArb, fc.nat(2)), { minLength: 1, maxLength: 6 }), fc.nat(3), (entries, tail) => {
        const parts: Uint8Array[] = [primaryReservedPaddingShare()];
        for (const [blob, padding] of entries) {
          parts.push(splitBlob(blob));
          for (let i = 0; i < padding; i++) parts.push(namespacePaddingShare(blob.namespace, blob.shareVersion));
        }
        for (let i = 0; i < tail; i++) parts.push(tailPaddingShare());
        expect(parseSparseShares(concat(...parts))).toEqual(entries.map(([blob]) => blob));
      }),
      { seed: SEED, numRuns: 150 },
    );
  });

  it("rebuilds the big block's blobs", () => {
    for (const { blob } of bigBlockBlobs()) {
      const [parsed, ...rest] = parseSparseShares(splitBlob(blob));
      expect(rest).toHaveLength(0);
      expect(Buffer.compare(parsed.data, blob.data)).toBe(0);
      expect(Buffer.compare(parsed.namespace, blob.namespace)).toBe(0);
      expect(parsed.shareVersion).toBe(blob.shareVersion);
    }
  });

  it("refuses malformed runs", () => {
    const shares = splitBlob({ namespace: ns, data: bytes(1200), shareVersion: 0 });
    expect(() => parseSparseShares(shares.subarray(512))).toThrow("continuation share without a sequence start");
    const mixed = shares.slice();
    mixed[512 + 28] ^= 1;
    expect(() => parseSparseShares(mixed)).toThrow("continuation share in another namespace");
    expect(() => parseSparseShares(shares.subarray(0, 1024))).toThrow("sequence length 1200 is greater than the 960 bytes in the sequence");
    const v3 = shares.slice();
    v3[29] = (3 << 1) | 1;
    expect(() => parseSparseShares(v3)).toThrow("unsupported share version 3");
  });
});
