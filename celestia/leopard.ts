// Leopard Reed-Solomon erasure coding, byte-compatible with Celestia.
//
// Celestia extends its data square with rsmt2d's "Leopard" codec, which is klauspost/reedsolomon
// created with WithLeopardGF(true): the GF(2^8) Leopard code when data + parity <= 256 shards,
// the GF(2^16) Leopard code above that. Both are the O(n log n) code of Lin, Chung and Han
// ("Novel Polynomial Basis with Fast Fourier Transform and Its Application to Reed-Solomon
// Erasure Codes", 2016) with field elements written in a Cantor basis:
//
// - A codeword of k data and k parity shards is the evaluation of one polynomial of degree < m
//   (m = k rounded up to a power of two) at the points 0..m-1 (parity) and m..2m-1 (data, the
//   points past k carrying zero data). Points are field elements in Leopard's representation.
// - Encoding = inverse FFT of the data (skew base m) followed by a forward FFT (skew base 0),
//   truncated to k outputs.
// - Decoding multiplies the received symbols by an error locator polynomial evaluated with a
//   fast Walsh-Hadamard transform, then IFFT, formal derivative, FFT and division by the locator.
//
// Shards are any multiple of 64 bytes. In GF(2^8) every byte is a field element. In GF(2^16)
// every 64-byte block holds 32 elements: the low bytes in its first 32 bytes and the high bytes
// in its last 32 (element i = block[i] | block[i + 32] << 8), as klauspost lays them out.
//
// The hot loops work on 32-bit words (an Int32Array over a word-aligned work buffer) and do the
// GF multiplication with a 256-entry table per multiplier (GF(2^8)) or a pair of them
// (GF(2^16), low and high byte). Every operation is per byte position, so the platform's
// endianness does not matter.

/** Shards must be a multiple of this many bytes. */
export const SHARD_SIZE_MULTIPLE = 64;
/** The largest number of data shards the GF(2^8) code serves (2k <= 256 shards in total). */
export const MAX_GF8_DATA_SHARDS = 128;
/** The largest number of data shards supported (k + k <= 65536 shards in total). */
export const MAX_DATA_SHARDS = 32768;

// ---------------------------------------------------------------------------------------------
// Field tables

interface Field {
  readonly bits: number;
  readonly order: number;
  /** order - 1; also the log value that stands for "no multiplication" in the FFT skews. */
  readonly modulus: number;
  /** log of each element (Cantor-basis representation); log[0] = modulus. */
  readonly log: Uint16Array;
  /** exp[log[x]] = x; exp[modulus] = exp[0]. */
  readonly exp: Uint16Array;
  /** The FFT skew factors, as logarithms; modulus means zero. */
  readonly fftSkew: Uint16Array;
  /** FWHT of the log table, for the error locator. */
  readonly logWalsh: Uint16Array;
}

const CANTOR_BASIS_8 = [1, 214, 152, 146, 86, 200, 88, 230];
const CANTOR_BASIS_16 = [
  0x0001, 0xacca, 0x3c0e, 0x163e, 0xc582, 0xed2e, 0x914c, 0x4012, 0x6c98, 0x10d8, 0x6a72, 0xb900, 0xfdb8, 0xfb34, 0xff38,
  0x991e,
];

function addMod(f: Field, a: number, b: number): number {
  const sum = a + b;
  // Partial reduction, as Leopard does it: may return modulus (which stands for 0).
  return (sum + (sum >>> f.bits)) & f.modulus;
}

function subMod(f: Field, a: number, b: number): number {
  const dif = a - b;
  return dif < 0 ? dif + f.modulus : dif;
}

/** a * exp(logB), with a in the Cantor representation and logB already a logarithm. */
function mulLog(f: Field, a: number, logB: number): number {
  if (a === 0) return 0;
  return f.exp[addMod(f, f.log[a], logB)];
}

/** In-place fast Walsh-Hadamard transform mod `modulus`; entries at and past `mtrunc` are zero. */
function fwht(f: Field, data: Uint16Array, mtrunc: number): void {
  const order = f.order;
  for (let dist = 1, dist4 = 4; dist4 <= order; dist = dist4, dist4 <<= 2) {
    for (let r = 0; r < mtrunc; r += dist4) {
      for (let i = r; i < r + dist; i++) {
        let t0 = data[i];
        let t1 = data[i + dist];
        let t2 = data[i + dist * 2];
        let t3 = data[i + dist * 3];
        let s = addMod(f, t0, t1);
        t1 = subMod(f, t0, t1);
        t0 = s;
        s = addMod(f, t2, t3);
        t3 = subMod(f, t2, t3);
        t2 = s;
        s = addMod(f, t0, t2);
        t2 = subMod(f, t0, t2);
        t0 = s;
        s = addMod(f, t1, t3);
        t3 = subMod(f, t1, t3);
        t1 = s;
        data[i] = t0;
        data[i + dist] = t1;
        data[i + dist * 2] = t2;
        data[i + dist * 3] = t3;
      }
    }
  }
}

function buildField(bits: number, polynomial: number, cantorBasis: number[]): Field {
  const order = 1 << bits;
  const modulus = order - 1;
  const log = new Uint16Array(order);
  const exp = new Uint16Array(order);
  const f: Field = { bits, order, modulus, log, exp, fftSkew: new Uint16Array(modulus), logWalsh: new Uint16Array(order) };

  // Discrete logs in the polynomial basis (generator x), written into `exp` for a moment.
  let state = 1;
  for (let i = 0; i < modulus; i++) {
    exp[state] = i;
    state <<= 1;
    if (state >= order) state ^= polynomial;
  }
  exp[0] = modulus;
  // The Cantor-basis element with bits b_i stands for XOR of cantorBasis[i]; its log is the
  // polynomial-basis log of that sum.
  log[0] = 0;
  for (let i = 0; i < bits; i++) {
    const width = 1 << i;
    for (let j = 0; j < width; j++) log[j + width] = log[j] ^ cantorBasis[i];
  }
  for (let i = 0; i < order; i++) log[i] = exp[log[i]];
  for (let i = 0; i < order; i++) exp[log[i]] = i;
  exp[modulus] = exp[0];

  // FFT skew factors (Lin-Chung-Han's subspace polynomial normalisers), as logs.
  const fftSkew = f.fftSkew;
  const temp = new Uint16Array(bits - 1);
  for (let i = 1; i < bits; i++) temp[i - 1] = 1 << i;
  for (let m = 0; m < bits - 1; m++) {
    const step = 1 << (m + 1);
    fftSkew[(1 << m) - 1] = 0;
    for (let i = m; i < bits - 1; i++) {
      const s = 1 << (i + 1);
      for (let j = (1 << m) - 1; j < s; j += step) fftSkew[j + s] = fftSkew[j] ^ temp[i];
    }
    temp[m] = modulus - log[mulLog(f, temp[m], log[temp[m] ^ 1])];
    for (let i = m + 1; i < bits - 1; i++) {
      const sum = addMod(f, log[temp[i] ^ 1], temp[m]);
      temp[i] = mulLog(f, temp[i], sum);
    }
  }
  for (let i = 0; i < modulus; i++) fftSkew[i] = log[fftSkew[i]];

  const logWalsh = f.logWalsh;
  logWalsh.set(log);
  logWalsh[0] = 0;
  fwht(f, logWalsh, order);
  return f;
}

let gf8: Field | undefined;
let mul8: Uint8Array | undefined; // mul8[logM * 256 + x] = x * exp(logM)

function getGF8(): Field {
  if (gf8 === undefined) {
    const f = buildField(8, 0x11d, CANTOR_BASIS_8);
    const table = new Uint8Array(256 * 256);
    for (let logM = 0; logM < 256; logM++) {
      for (let x = 0; x < 256; x++) table[logM * 256 + x] = mulLog(f, x, logM);
    }
    mul8 = table;
    gf8 = f;
  }
  return gf8;
}

let gf16: Field | undefined;
// Per multiplier log: 512 entries, [0..256) = product of the low byte, [256..512) = of the high byte.
let mul16Cache: (Uint16Array | undefined)[] = [];

function getGF16(): Field {
  if (gf16 === undefined) {
    gf16 = buildField(16, 0x1002d, CANTOR_BASIS_16);
    mul16Cache = new Array<Uint16Array | undefined>(65536);
  }
  return gf16;
}

function mul16Table(logM: number): Uint16Array {
  let t = mul16Cache[logM];
  if (t === undefined) {
    const f = gf16!;
    t = new Uint16Array(512);
    for (let x = 0; x < 256; x++) {
      t[x] = mulLog(f, x, logM);
      t[256 + x] = mulLog(f, x << 8, logM);
    }
    mul16Cache[logM] = t;
  }
  return t;
}

// ---------------------------------------------------------------------------------------------
// Word kernels. A "shard" inside a work buffer is `W` consecutive 32-bit words starting at a word
// offset. x, y are word offsets.

function xorInto(w: Int32Array, dst: number, src: number, W: number): void {
  for (let i = 0; i < W; i++) w[dst + i] ^= w[src + i];
}

// GF(2^8): t = mul8, base = logM * 256.
function mul8Word(t: Uint8Array, base: number, v: number): number {
  return (
    t[base + (v & 255)] |
    (t[base + ((v >>> 8) & 255)] << 8) |
    (t[base + ((v >>> 16) & 255)] << 16) |
    (t[base + (v >>> 24)] << 24)
  );
}

/** FFT butterfly: x ^= y * m; y ^= x. */
function fft2gf8(w: Int32Array, x: number, y: number, W: number, logM: number): void {
  const t = mul8!;
  const base = logM << 8;
  for (let i = 0; i < W; i++) {
    const yv = w[y + i];
    const xv = w[x + i] ^ mul8Word(t, base, yv);
    w[x + i] = xv;
    w[y + i] = yv ^ xv;
  }
}

/** IFFT butterfly: y ^= x; x ^= y * m. */
function ifft2gf8(w: Int32Array, x: number, y: number, W: number, logM: number): void {
  const t = mul8!;
  const base = logM << 8;
  for (let i = 0; i < W; i++) {
    const xv = w[x + i];
    const yv = w[y + i] ^ xv;
    w[y + i] = yv;
    w[x + i] = xv ^ mul8Word(t, base, yv);
  }
}

/** dst = src * m (dst, src in possibly different buffers). */
function mulgf8(dst: Int32Array, d: number, src: Int32Array, s: number, W: number, logM: number): void {
  const t = mul8!;
  const base = logM << 8;
  for (let i = 0; i < W; i++) dst[d + i] = mul8Word(t, base, src[s + i]);
}

// GF(2^16): in each 16-word block, words 0..7 are low bytes, words 8..15 the matching high bytes.
function fft2gf16(w: Int32Array, x: number, y: number, W: number, logM: number): void {
  const t = mul16Table(logM);
  for (let b = 0; b < W; b += 16) {
    for (let j = 0; j < 8; j++) {
      const ylo = w[y + b + j];
      const yhi = w[y + b + j + 8];
      let plo = 0;
      let phi = 0;
      for (let s = 0; s < 32; s += 8) {
        const p = t[(ylo >>> s) & 255] ^ t[256 + ((yhi >>> s) & 255)];
        plo |= (p & 255) << s;
        phi |= (p >>> 8) << s;
      }
      const xlo = w[x + b + j] ^ plo;
      const xhi = w[x + b + j + 8] ^ phi;
      w[x + b + j] = xlo;
      w[x + b + j + 8] = xhi;
      w[y + b + j] = ylo ^ xlo;
      w[y + b + j + 8] = yhi ^ xhi;
    }
  }
}

function ifft2gf16(w: Int32Array, x: number, y: number, W: number, logM: number): void {
  const t = mul16Table(logM);
  for (let b = 0; b < W; b += 16) {
    for (let j = 0; j < 8; j++) {
      const xlo = w[x + b + j];
      const xhi = w[x + b + j + 8];
      const ylo = w[y + b + j] ^ xlo;
      const yhi = w[y + b + j + 8] ^ xhi;
      w[y + b + j] = ylo;
      w[y + b + j + 8] = yhi;
      let plo = 0;
      let phi = 0;
      for (let s = 0; s < 32; s += 8) {
        const p = t[(ylo >>> s) & 255] ^ t[256 + ((yhi >>> s) & 255)];
        plo |= (p & 255) << s;
        phi |= (p >>> 8) << s;
      }
      w[x + b + j] = xlo ^ plo;
      w[x + b + j + 8] = xhi ^ phi;
    }
  }
}

function mulgf16(dst: Int32Array, d: number, src: Int32Array, s0: number, W: number, logM: number): void {
  const t = mul16Table(logM);
  for (let b = 0; b < W; b += 16) {
    for (let j = 0; j < 8; j++) {
      const lo = src[s0 + b + j];
      const hi = src[s0 + b + j + 8];
      let plo = 0;
      let phi = 0;
      for (let s = 0; s < 32; s += 8) {
        const p = t[(lo >>> s) & 255] ^ t[256 + ((hi >>> s) & 255)];
        plo |= (p & 255) << s;
        phi |= (p >>> 8) << s;
      }
      dst[d + b + j] = plo;
      dst[d + b + j + 8] = phi;
    }
  }
}

interface Kernels {
  field: Field;
  fft2: (w: Int32Array, x: number, y: number, W: number, logM: number) => void;
  ifft2: (w: Int32Array, x: number, y: number, W: number, logM: number) => void;
  mul: (dst: Int32Array, d: number, src: Int32Array, s: number, W: number, logM: number) => void;
}

function kernelsFor(totalShards: number): Kernels {
  if (totalShards <= 256) return { field: getGF8(), fft2: fft2gf8, ifft2: ifft2gf8, mul: mulgf8 };
  return { field: getGF16(), fft2: fft2gf16, ifft2: ifft2gf16, mul: mulgf16 };
}

/**
 * Inverse FFT (decimation in time) over shards [0, m) of `w`, evaluation points skewed by
 * `skewBase`; shards at and past `mtrunc` are zero on entry.
 */
function ifft(kn: Kernels, w: Int32Array, W: number, mtrunc: number, m: number, skewBase: number): void {
  const skew = kn.field.fftSkew;
  const modulus = kn.field.modulus;
  for (let d = 1; d < m; d <<= 1) {
    for (let r = 0; r < mtrunc; r += 2 * d) {
      const logM = skew[skewBase + r + d - 1];
      if (logM === modulus) {
        for (let i = r; i < r + d; i++) xorInto(w, (i + d) * W, i * W, W);
      } else {
        for (let i = r; i < r + d; i++) kn.ifft2(w, i * W, (i + d) * W, W, logM);
      }
    }
  }
}

/** Forward FFT over shards [0, m) of `w`; only outputs below `mtrunc` are needed. */
function fft(kn: Kernels, w: Int32Array, W: number, mtrunc: number, m: number): void {
  const skew = kn.field.fftSkew;
  const modulus = kn.field.modulus;
  for (let d = m >> 1; d >= 1; d >>= 1) {
    for (let r = 0; r < mtrunc; r += 2 * d) {
      const logM = skew[r + d - 1];
      if (logM === modulus) {
        for (let i = r; i < r + d; i++) xorInto(w, (i + d) * W, i * W, W);
      } else {
        for (let i = r; i < r + d; i++) kn.fft2(w, i * W, (i + d) * W, W, logM);
      }
    }
  }
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

// ---------------------------------------------------------------------------------------------
// Encoder

/**
 * A reusable encoder for k data shards of `shardSize` bytes (k parity shards out). Keeps its
 * work buffer between calls; not safe to share between concurrent users (there are none in one
 * JS thread).
 */
export class LeopardEncoder {
  readonly k: number;
  readonly shardSize: number;
  private readonly m: number;
  private readonly words: number;
  private readonly kernels: Kernels;
  /** m shards of work; after `run`, shards [0, k) are the parity. */
  readonly work: Int32Array;
  private readonly workBytes: Uint8Array;

  constructor(k: number, shardSize: number) {
    checkCounts(k, shardSize);
    this.k = k;
    this.shardSize = shardSize;
    this.m = ceilPow2(k);
    this.words = shardSize >>> 2;
    this.kernels = kernelsFor(2 * k);
    this.work = new Int32Array(this.m * this.words);
    this.workBytes = new Uint8Array(this.work.buffer);
  }

  /**
   * Encodes data shards read from `src` (word offsets `srcStart + i * srcStride`, i < k) and
   * writes parity shard i at word offset `dstStart + i * dstStride` of `dst`.
   */
  encodeWords(src: Int32Array, srcStart: number, srcStride: number, dst: Int32Array, dstStart: number, dstStride: number): void {
    const { k, words: W, work } = this;
    for (let i = 0; i < k; i++) {
      const s = srcStart + i * srcStride;
      work.set(src.subarray(s, s + W), i * W);
    }
    this.run();
    for (let i = 0; i < k; i++) {
      const d = dstStart + i * dstStride;
      dst.set(work.subarray(i * W, i * W + W), d);
    }
  }

  /** Encodes byte shards (any alignment) and returns new parity shards. */
  encode(data: readonly Uint8Array[]): Uint8Array[] {
    const { k, shardSize } = this;
    if (data.length !== k) throw new Error(`leopard: expected ${k} data shards, got ${data.length}`);
    for (let i = 0; i < k; i++) {
      if (data[i].length !== shardSize) throw new Error(`leopard: shard ${i} has ${data[i].length} bytes, expected ${shardSize}`);
      this.workBytes.set(data[i], i * shardSize);
    }
    this.run();
    const out: Uint8Array[] = [];
    for (let i = 0; i < k; i++) out.push(this.workBytes.slice(i * shardSize, (i + 1) * shardSize));
    return out;
  }

  /** Runs the transform on work shards [0, k) (data in, parity out). */
  private run(): void {
    const { k, m, words: W, work, kernels } = this;
    work.fill(0, k * W, m * W);
    ifft(kernels, work, W, k, m, m);
    fft(kernels, work, W, k, m);
  }
}

function checkCounts(k: number, shardSize: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`leopard: need at least one data shard, got ${k}`);
  if (k > MAX_DATA_SHARDS) throw new Error(`leopard: at most ${MAX_DATA_SHARDS} data shards, got ${k}`);
  if (!Number.isInteger(shardSize) || shardSize <= 0 || shardSize % SHARD_SIZE_MULTIPLE !== 0) {
    throw new Error(`leopard: shard size must be a positive multiple of ${SHARD_SIZE_MULTIPLE} bytes, got ${shardSize}`);
  }
}

const encoderCache = new Map<string, LeopardEncoder>();

/** A cached encoder for (k, shardSize). */
export function encoderFor(k: number, shardSize: number): LeopardEncoder {
  const key = `${k}/${shardSize}`;
  let enc = encoderCache.get(key);
  if (enc === undefined) {
    enc = new LeopardEncoder(k, shardSize);
    encoderCache.set(key, enc);
  }
  return enc;
}

/**
 * Reed-Solomon parity for `dataShards` (k shards of equal length, a multiple of 64 bytes):
 * returns k parity shards, byte-identical to rsmt2d's Leopard codec (klauspost/reedsolomon with
 * WithLeopardGF(true), k data + k parity shards).
 */
export function encode(dataShards: readonly Uint8Array[]): Uint8Array[] {
  if (dataShards.length === 0) throw new Error("leopard: need at least one data shard");
  return encoderFor(dataShards.length, dataShards[0].length).encode(dataShards);
}

// ---------------------------------------------------------------------------------------------
// Decoder

/**
 * Recovers missing shards of a k + k codeword. `shards` has 2k entries: data shards then parity
 * shards, `null` (or empty) where missing; at least k must be present. Returns all 2k shards
 * (present ones as given, missing ones new). Same algorithm as klauspost's Leopard Reconstruct,
 * so it also recovers what Celestia's rsmt2d would.
 */
export function reconstruct(shards: readonly (Uint8Array | null | undefined)[]): Uint8Array[] {
  const total = shards.length;
  if (total < 2 || total % 2 !== 0) throw new Error(`leopard: need an even number (2k) of shards, got ${total}`);
  const k = total / 2;
  let shardSize = -1;
  let present = 0;
  for (const s of shards) {
    if (s != null && s.length > 0) {
      if (shardSize === -1) shardSize = s.length;
      else if (s.length !== shardSize) throw new Error("leopard: shards differ in size");
      present++;
    }
  }
  if (present < k) throw new Error(`leopard: too few shards to reconstruct: ${present} of ${total}, need ${k}`);
  checkCounts(k, shardSize);
  if (present === total) return shards.map((s) => s!);

  const kn = kernelsFor(total);
  const f = kn.field;
  const dataShards = k;
  const parityShards = k;
  const m = ceilPow2(parityShards);
  const n = ceilPow2(m + dataShards);
  const W = shardSize >>> 2;
  const isMissing = (i: number): boolean => shards[i] == null || shards[i]!.length === 0;

  // Error locator: 1 at every erased position (parity at [0, m), data at [m, m + k)).
  const errLocs = new Uint16Array(f.order);
  for (let i = 0; i < parityShards; i++) if (isMissing(i + dataShards)) errLocs[i] = 1;
  for (let i = parityShards; i < m; i++) errLocs[i] = 1;
  for (let i = 0; i < dataShards; i++) if (isMissing(i)) errLocs[i + m] = 1;
  fwht(f, errLocs, m + dataShards);
  for (let i = 0; i < f.order; i++) errLocs[i] = (errLocs[i] * f.logWalsh[i]) % f.modulus;
  fwht(f, errLocs, f.order);

  const work = new Int32Array(n * W);
  const scratch = new Int32Array(W);
  const scratchBytes = new Uint8Array(scratch.buffer);
  const load = (s: Uint8Array): Int32Array => {
    if (s.byteOffset % 4 === 0) return new Int32Array(s.buffer, s.byteOffset, W);
    scratchBytes.set(s);
    return scratch;
  };
  for (let i = 0; i < parityShards; i++) {
    if (!isMissing(i + dataShards)) kn.mul(work, i * W, load(shards[i + dataShards]!), 0, W, errLocs[i]);
  }
  for (let i = 0; i < dataShards; i++) {
    if (!isMissing(i)) kn.mul(work, (m + i) * W, load(shards[i]!), 0, W, errLocs[m + i]);
  }

  ifft(kn, work, W, m + dataShards, n, 0);
  // Formal derivative.
  for (let i = 1; i < n; i++) {
    const width = ((i ^ (i - 1)) + 1) >>> 1;
    for (let j = 0; j < width; j++) xorInto(work, (i - width + j) * W, (i + j) * W, W);
  }
  fft(kn, work, W, m + dataShards, n);

  const out: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    if (!isMissing(i)) {
      out.push(shards[i]!);
      continue;
    }
    const pos = i < dataShards ? i + m : i - dataShards;
    const res = new Int32Array(W);
    kn.mul(res, 0, work, pos * W, W, f.modulus - errLocs[pos]);
    out.push(new Uint8Array(res.buffer));
  }
  return out;
}

/** Which finite field the codec uses for k data + k parity shards. */
export function fieldBits(k: number): 8 | 16 {
  return 2 * k <= 256 ? 8 : 16;
}

/** Exposed for tests: the field tables (Cantor-basis logs, exps, FFT skews, log-Walsh). */
export function fieldTables(bits: 8 | 16): { log: Uint16Array; exp: Uint16Array; fftSkew: Uint16Array; logWalsh: Uint16Array } {
  const f = bits === 8 ? getGF8() : getGF16();
  return { log: f.log, exp: f.exp, fftSkew: f.fftSkew, logWalsh: f.logWalsh };
}
