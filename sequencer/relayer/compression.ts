// How a batch is stored in its blobs: zstd, Brotli or raw, flagged per batch. The relayer compresses
// with one codec (zstd level 3 by default; the measurements behind that are in README.md) and keeps
// the raw bytes whenever compression does not make them smaller, as with random data.
import { brotliCompressSync, brotliDecompressSync, constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { RelayerFormatError } from "./errors.ts";

/** The flag in RelayerBlob.compression. */
export const COMPRESSION = { none: 0, zstd: 1, brotli: 2 } as const;
export type CompressionFlag = (typeof COMPRESSION)[keyof typeof COMPRESSION];

export type Codec = "zstd" | "brotli" | "none";

export interface CompressionChoice {
  codec: Codec;
  /** zstd 1..22, Brotli 0..11. */
  level: number;
}

export const DEFAULT_COMPRESSION: CompressionChoice = { codec: "zstd", level: 3 };

export interface Stored {
  compression: CompressionFlag;
  bytes: Uint8Array;
}

function run(choice: CompressionChoice, raw: Uint8Array): Uint8Array {
  if (choice.codec === "zstd") {
    return zstdCompressSync(raw, { params: { [constants.ZSTD_c_compressionLevel]: choice.level } });
  }
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: choice.level,
      // A 16 MiB window covers any batch the DA accepts, so matches may reach back to its start.
      [constants.BROTLI_PARAM_LGWIN]: 24,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
    },
  });
}

/** The batch as it goes into blobs: compressed when that is smaller, raw otherwise. */
export function compressBatch(raw: Uint8Array, choice: CompressionChoice): Stored {
  if (choice.codec === "none") return { compression: COMPRESSION.none, bytes: raw };
  const packed = run(choice, raw);
  if (packed.length >= raw.length) return { compression: COMPRESSION.none, bytes: raw };
  return { compression: COMPRESSION[choice.codec], bytes: new Uint8Array(packed.buffer, packed.byteOffset, packed.length) };
}

/**
 * The batch's encoding from its stored bytes. `size` is what the blob says the result is; the codec
 * may produce no more than that (a reader never inflates a small blob into unbounded memory), and
 * exactly that.
 */
export function decompressBatch(stored: Uint8Array, compression: number, size: number): Uint8Array {
  let raw: Uint8Array;
  try {
    if (compression === COMPRESSION.none) raw = stored;
    else if (compression === COMPRESSION.zstd) raw = zstdDecompressSync(stored, { maxOutputLength: Math.max(1, size) });
    else if (compression === COMPRESSION.brotli) raw = brotliDecompressSync(stored, { maxOutputLength: Math.max(1, size) });
    else throw new RelayerFormatError(`unknown compression ${compression}`);
  } catch (error) {
    if (error instanceof RelayerFormatError) throw error;
    throw new RelayerFormatError(`batch does not decompress: ${(error as Error).message}`);
  }
  if (raw.length !== size) throw new RelayerFormatError(`batch decompresses to ${raw.length} bytes, the blob says ${size}`);
  return new Uint8Array(raw.buffer, raw.byteOffset, raw.length);
}
