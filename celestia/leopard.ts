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
// Two interchangeable sets of kernels run the butterflies: WebAssembly SIMD (celestia/leopard-wasm.ts,
// nibble tables and i8x16.swizzle, the default) and plain TypeScript on 32-bit words with
// 256-entry product tables (the fallback, and a cross-check in the tests). Every operation is per
// byte position, so the platform's endianness does not matter.

import { leopardWasm, type LeopardWasm } from "./leopard-wasm.ts";

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
// Engines: where the work buffer lives and who runs the butterflies. Offsets and lengths are in
// bytes; a butterfly call covers `n` bytes of x and of y (several whole shards at once when a
// transform group spans them, since the shards of a work buffer are contiguous).

interface Engine {
  readonly kind: "wasm" | "js";
  readonly field: Field;
  /** Makes room for `bytes` of work and returns its byte offset; invalidates earlier `memory()` views. */
  reserve(bytes: number): number;
  /** A view of the memory that holds the work buffer. */
  memory(): Uint8Array;
  /** y ^= x */
  xor(y: number, x: number, n: number): void;
  /** x ^= y * exp(logM); y ^= x */
  fft2(x: number, y: number, n: number, logM: number): void;
  /** y ^= x; x ^= y * exp(logM) */
  ifft2(x: number, y: number, n: number, logM: number): void;
  /** dst = src * exp(logM) */
  mul(dst: number, src: number, n: number, logM: number): void;
}

// --- pure JS: 32-bit words, 256-entry product tables -------------------------------------------

class JsMemory {
  words = new Int32Array(0);
  bytes = new Uint8Array(0);
  reserve(n: number): number {
    if (this.bytes.length < n) {
      this.words = new Int32Array(Math.ceil(n / 4));
      this.bytes = new Uint8Array(this.words.buffer);
    }
    return 0;
  }
}

function mul8Word(t: Uint8Array, base: number, v: number): number {
  return (
    t[base + (v & 255)] |
    (t[base + ((v >>> 8) & 255)] << 8) |
    (t[base + ((v >>> 16) & 255)] << 16) |
    (t[base + (v >>> 24)] << 24)
  );
}

function jsEngine8(mem: JsMemory): Engine {
  const f = getGF8();
  const t = mul8!;
  return {
    kind: "js",
    field: f,
    reserve: (n) => mem.reserve(n),
    memory: () => mem.bytes,
    xor(y, x, n) {
      const w = mem.words;
      for (let i = x >>> 2, j = y >>> 2, e = (x + n) >>> 2; i < e; i++, j++) w[j] ^= w[i];
    },
    fft2(x, y, n, logM) {
      const w = mem.words;
      const base = logM << 8;
      for (let i = x >>> 2, j = y >>> 2, e = (x + n) >>> 2; i < e; i++, j++) {
        const yv = w[j];
        const xv = w[i] ^ mul8Word(t, base, yv);
        w[i] = xv;
        w[j] = yv ^ xv;
      }
    },
    ifft2(x, y, n, logM) {
      const w = mem.words;
      const base = logM << 8;
      for (let i = x >>> 2, j = y >>> 2, e = (x + n) >>> 2; i < e; i++, j++) {
        const xv = w[i];
        const yv = w[j] ^ xv;
        w[j] = yv;
        w[i] = xv ^ mul8Word(t, base, yv);
      }
    },
    mul(dst, src, n, logM) {
      const w = mem.words;
      const base = logM << 8;
      for (let i = src >>> 2, j = dst >>> 2, e = (src + n) >>> 2; i < e; i++, j++) w[j] = mul8Word(t, base, w[i]);
    },
  };
}

// GF(2^16): in each 16-word (64-byte) block, words 0..7 are low bytes, words 8..15 the high bytes.
function mul16Words(t: Uint16Array, lo: number, hi: number, out: Int32Array): void {
  let plo = 0;
  let phi = 0;
  for (let s = 0; s < 32; s += 8) {
    const p = t[(lo >>> s) & 255] ^ t[256 + ((hi >>> s) & 255)];
    plo |= (p & 255) << s;
    phi |= (p >>> 8) << s;
  }
  out[0] = plo;
  out[1] = phi;
}

function jsEngine16(mem: JsMemory): Engine {
  const f = getGF16();
  const p = new Int32Array(2);
  return {
    kind: "js",
    field: f,
    reserve: (n) => mem.reserve(n),
    memory: () => mem.bytes,
    xor(y, x, n) {
      const w = mem.words;
      for (let i = x >>> 2, j = y >>> 2, e = (x + n) >>> 2; i < e; i++, j++) w[j] ^= w[i];
    },
    fft2(x, y, n, logM) {
      const w = mem.words;
      const t = mul16Table(logM);
      for (let b = 0; b < n >>> 2; b += 16) {
        for (let q = 0; q < 8; q++) {
          const xi = (x >>> 2) + b + q;
          const yi = (y >>> 2) + b + q;
          const ylo = w[yi];
          const yhi = w[yi + 8];
          mul16Words(t, ylo, yhi, p);
          const xlo = w[xi] ^ p[0];
          const xhi = w[xi + 8] ^ p[1];
          w[xi] = xlo;
          w[xi + 8] = xhi;
          w[yi] = ylo ^ xlo;
          w[yi + 8] = yhi ^ xhi;
        }
      }
    },
    ifft2(x, y, n, logM) {
      const w = mem.words;
      const t = mul16Table(logM);
      for (let b = 0; b < n >>> 2; b += 16) {
        for (let q = 0; q < 8; q++) {
          const xi = (x >>> 2) + b + q;
          const yi = (y >>> 2) + b + q;
          const xlo = w[xi];
          const xhi = w[xi + 8];
          const ylo = w[yi] ^ xlo;
          const yhi = w[yi + 8] ^ xhi;
          w[yi] = ylo;
          w[yi + 8] = yhi;
          mul16Words(t, ylo, yhi, p);
          w[xi] = xlo ^ p[0];
          w[xi + 8] = xhi ^ p[1];
        }
      }
    },
    mul(dst, src, n, logM) {
      const w = mem.words;
      const t = mul16Table(logM);
      for (let b = 0; b < n >>> 2; b += 16) {
        for (let q = 0; q < 8; q++) {
          const si = (src >>> 2) + b + q;
          const di = (dst >>> 2) + b + q;
          mul16Words(t, w[si], w[si + 8], p);
          w[di] = p[0];
          w[di + 8] = p[1];
        }
      }
    },
  };
}

// --- WebAssembly SIMD (celestia/leopard-wasm.ts) -------------------------------------------------

const WASM_GF8_TABLES = 0; // 256 multipliers x 32 bytes
const WASM_GF16_TABLES = 256 * 32; // 65536 multipliers x 128 bytes, filled on first use
const WASM_WORK = WASM_GF16_TABLES + 65536 * 128;
const PAGE = 65536;

class WasmMemory {
  readonly k: LeopardWasm;
  private view: Uint8Array;
  private gf8Ready = false;
  private gf16Ready: Uint8Array | undefined;
  constructor(k: LeopardWasm) {
    this.k = k;
    this.view = new Uint8Array(k.memory.buffer);
  }
  reserve(n: number): number {
    const need = WASM_WORK + n;
    const have = this.k.memory.buffer.byteLength;
    if (have < need) this.k.memory.grow(Math.ceil((need - have) / PAGE));
    if (this.view.buffer !== this.k.memory.buffer || this.view.length !== this.k.memory.buffer.byteLength) {
      this.view = new Uint8Array(this.k.memory.buffer);
    }
    return WASM_WORK;
  }
  memory(): Uint8Array {
    if (this.view.buffer !== this.k.memory.buffer) this.view = new Uint8Array(this.k.memory.buffer);
    return this.view;
  }
  gf8Tables(): void {
    if (this.gf8Ready) return;
    this.reserve(0);
    const t = mul8!;
    const m = this.memory();
    for (let logM = 0; logM < 256; logM++) {
      const o = WASM_GF8_TABLES + logM * 32;
      for (let x = 0; x < 16; x++) {
        m[o + x] = t[logM * 256 + x];
        m[o + 16 + x] = t[logM * 256 + (x << 4)];
      }
    }
    this.gf8Ready = true;
  }
  gf16Table(logM: number): number {
    const o = WASM_GF16_TABLES + logM * 128;
    if (this.gf16Ready === undefined) this.gf16Ready = new Uint8Array(65536);
    if (this.gf16Ready[logM] === 0) {
      const f = gf16!;
      const m = this.memory();
      for (let nib = 0; nib < 4; nib++) {
        for (let x = 0; x < 16; x++) {
          const p = mulLog(f, x << (4 * nib), logM);
          m[o + nib * 16 + x] = p & 255;
          m[o + 64 + nib * 16 + x] = p >>> 8;
        }
      }
      this.gf16Ready[logM] = 1;
    }
    return o;
  }
}

function wasmEngine8(mem: WasmMemory): Engine {
  const f = getGF8();
  mem.gf8Tables();
  const k = mem.k;
  return {
    kind: "wasm",
    field: f,
    reserve: (n) => mem.reserve(n),
    memory: () => mem.memory(),
    xor: (y, x, n) => k.xor(y, x, n),
    fft2: (x, y, n, logM) => k.f8(x, y, n, WASM_GF8_TABLES + logM * 32),
    ifft2: (x, y, n, logM) => k.i8(x, y, n, WASM_GF8_TABLES + logM * 32),
    mul: (dst, src, n, logM) => k.m8(dst, src, n, WASM_GF8_TABLES + logM * 32),
  };
}

function wasmEngine16(mem: WasmMemory): Engine {
  const f = getGF16();
  mem.reserve(0);
  const k = mem.k;
  return {
    kind: "wasm",
    field: f,
    reserve: (n) => mem.reserve(n),
    memory: () => mem.memory(),
    xor: (y, x, n) => k.xor(y, x, n),
    fft2: (x, y, n, logM) => k.f16(x, y, n, mem.gf16Table(logM)),
    ifft2: (x, y, n, logM) => k.i16(x, y, n, mem.gf16Table(logM)),
    mul: (dst, src, n, logM) => k.m16(dst, src, n, mem.gf16Table(logM)),
  };
}

// --- choosing ----------------------------------------------------------------------------------

export type EngineKind = "wasm" | "js";

let preferred: EngineKind | "auto" = process.env.METRO_LEOPARD_ENGINE === "js" ? "js" : "auto";
const engines = new Map<string, Engine>();
let jsMemory: JsMemory | undefined;
let wasmMemory: WasmMemory | undefined;

/**
 * Chooses the kernels: "wasm" (WebAssembly SIMD, the default where available), "js" (plain
 * TypeScript), or "auto". Both give identical bytes; "js" is the fallback and a cross-check.
 * The environment variable METRO_LEOPARD_ENGINE=js selects "js" at start-up.
 */
export function setEngine(kind: EngineKind | "auto"): void {
  if (kind === "wasm" && leopardWasm() === null) throw new Error("leopard: WebAssembly SIMD is not available here");
  preferred = kind;
}

/** The kernels in use. */
export function engineKind(): EngineKind {
  return preferred === "js" || leopardWasm() === null ? "js" : "wasm";
}

function engineFor(totalShards: number): Engine {
  const bits = totalShards <= 256 ? 8 : 16;
  const kind = engineKind();
  const key = `${kind}${bits}`;
  let e = engines.get(key);
  if (e === undefined) {
    if (kind === "wasm") {
      wasmMemory ??= new WasmMemory(leopardWasm()!);
      e = bits === 8 ? wasmEngine8(wasmMemory) : wasmEngine16(wasmMemory);
    } else {
      jsMemory ??= new JsMemory();
      e = bits === 8 ? jsEngine8(jsMemory) : jsEngine16(jsMemory);
    }
    engines.set(key, e);
  }
  return e;
}

// ---------------------------------------------------------------------------------------------
// Transforms over a work buffer of shards of S bytes at byte offset `base`.

/** Inverse FFT (decimation in time) of shards [0, m), points skewed by `skewBase`; shards from `mtrunc` on are zero. */
function ifft(e: Engine, base: number, S: number, mtrunc: number, m: number, skewBase: number): void {
  const skew = e.field.fftSkew;
  const modulus = e.field.modulus;
  for (let d = 1; d < m; d <<= 1) {
    for (let r = 0; r < mtrunc; r += 2 * d) {
      const logM = skew[skewBase + r + d - 1];
      const x = base + r * S;
      if (logM === modulus) e.xor(x + d * S, x, d * S);
      else e.ifft2(x, x + d * S, d * S, logM);
    }
  }
}

/** Forward FFT of shards [0, m); only outputs below `mtrunc` are needed. */
function fft(e: Engine, base: number, S: number, mtrunc: number, m: number): void {
  const skew = e.field.fftSkew;
  const modulus = e.field.modulus;
  for (let d = m >> 1; d >= 1; d >>= 1) {
    for (let r = 0; r < mtrunc; r += 2 * d) {
      const logM = skew[r + d - 1];
      const x = base + r * S;
      if (logM === modulus) e.xor(x + d * S, x, d * S);
      else e.fft2(x, x + d * S, d * S, logM);
    }
  }
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

function checkCounts(k: number, shardSize: number): void {
  if (!Number.isInteger(k) || k < 1) throw new Error(`leopard: need at least one data shard, got ${k}`);
  if (k > MAX_DATA_SHARDS) throw new Error(`leopard: at most ${MAX_DATA_SHARDS} data shards, got ${k}`);
  if (!Number.isInteger(shardSize) || shardSize <= 0 || shardSize % SHARD_SIZE_MULTIPLE !== 0) {
    throw new Error(`leopard: shard size must be a positive multiple of ${SHARD_SIZE_MULTIPLE} bytes, got ${shardSize}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoder

/**
 * Encoding of k data shards of `shardSize` bytes into k parity shards. Cheap to create (the
 * field tables and kernels are shared); the work buffer is shared too, so calls must not
 * interleave, which they cannot within one JS thread.
 */
export class LeopardEncoder {
  readonly k: number;
  readonly shardSize: number;
  private readonly m: number;

  constructor(k: number, shardSize: number) {
    checkCounts(k, shardSize);
    this.k = k;
    this.shardSize = shardSize;
    this.m = ceilPow2(k);
  }

  /**
   * Encodes the data shards at byte offsets `srcStart + i * srcStride` of `src` (i < k) and
   * writes parity shard i at `dstStart + i * dstStride` of `dst` (which may be `src`).
   * `width` (default: the shard size; any multiple of 64) is how many bytes of each shard to
   * take: the code works on each 64-byte column independently, so a slice of a set of shards
   * encodes to the same slice of their parity.
   */
  encodeStrided(src: Uint8Array, srcStart: number, srcStride: number, dst: Uint8Array, dstStart: number, dstStride: number, width: number = this.shardSize): void {
    const { k, m } = this;
    if (width <= 0 || width % SHARD_SIZE_MULTIPLE !== 0) throw new Error(`leopard: width ${width} is not a positive multiple of ${SHARD_SIZE_MULTIPLE}`);
    const e = engineFor(2 * k);
    const base = e.reserve(m * width);
    const mem = e.memory();
    if (srcStride === width) {
      mem.set(src.subarray(srcStart, srcStart + k * width), base);
    } else {
      for (let i = 0; i < k; i++) {
        const s = srcStart + i * srcStride;
        mem.set(src.subarray(s, s + width), base + i * width);
      }
    }
    if (k < m) mem.fill(0, base + k * width, base + m * width);
    ifft(e, base, width, k, m, m);
    fft(e, base, width, k, m);
    if (dstStride === width) {
      dst.set(mem.subarray(base, base + k * width), dstStart);
    } else {
      for (let i = 0; i < k; i++) dst.set(mem.subarray(base + i * width, base + (i + 1) * width), dstStart + i * dstStride);
    }
  }

  /** Encodes byte shards and returns new parity shards. */
  encode(data: readonly Uint8Array[]): Uint8Array[] {
    const { k, shardSize: S } = this;
    if (data.length !== k) throw new Error(`leopard: expected ${k} data shards, got ${data.length}`);
    const joined = new Uint8Array(k * S);
    for (let i = 0; i < k; i++) {
      if (data[i].length !== S) throw new Error(`leopard: shard ${i} has ${data[i].length} bytes, expected ${S}`);
      joined.set(data[i], i * S);
    }
    const parity = new Uint8Array(k * S);
    this.encodeStrided(joined, 0, S, parity, 0, S);
    return Array.from({ length: k }, (_, i) => parity.subarray(i * S, (i + 1) * S));
  }
}

/**
 * Reed-Solomon parity for `dataShards` (k shards of equal length, a multiple of 64 bytes):
 * returns k parity shards, byte-identical to rsmt2d's Leopard codec (klauspost/reedsolomon with
 * WithLeopardGF(true), k data + k parity shards).
 */
export function encode(dataShards: readonly Uint8Array[]): Uint8Array[] {
  if (dataShards.length === 0) throw new Error("leopard: need at least one data shard");
  return new LeopardEncoder(dataShards.length, dataShards[0].length).encode(dataShards);
}

// ---------------------------------------------------------------------------------------------
// Decoder

/**
 * Recovers missing shards of a k + k codeword. `shards` has 2k entries: data shards then parity
 * shards, `null` (or empty) where missing; at least k must be present. Returns all 2k shards
 * (present ones as given, missing ones new). Same algorithm as klauspost's Leopard Reconstruct,
 * so it recovers exactly what Celestia's rsmt2d would.
 */
export function reconstruct(shards: readonly (Uint8Array | null | undefined)[]): Uint8Array[] {
  const total = shards.length;
  if (total < 2 || total % 2 !== 0) throw new Error(`leopard: need an even number (2k) of shards, got ${total}`);
  const k = total / 2;
  let S = -1;
  let present = 0;
  for (const s of shards) {
    if (s != null && s.length > 0) {
      if (S === -1) S = s.length;
      else if (s.length !== S) throw new Error("leopard: shards differ in size");
      present++;
    }
  }
  if (present < k) throw new Error(`leopard: too few shards to reconstruct: ${present} of ${total}, need ${k}`);
  checkCounts(k, S);
  if (present === total) return shards.map((s) => s!);

  const e = engineFor(total);
  const f = e.field;
  const m = ceilPow2(k); // parity count rounded up
  const n = ceilPow2(m + k);
  const missing = (i: number): boolean => shards[i] == null || shards[i]!.length === 0;

  // Error locator: 1 at every erased position (parity at [0, m), data at [m, m + k)).
  const errLocs = new Uint16Array(f.order);
  for (let i = 0; i < k; i++) if (missing(i + k)) errLocs[i] = 1;
  for (let i = k; i < m; i++) errLocs[i] = 1;
  for (let i = 0; i < k; i++) if (missing(i)) errLocs[i + m] = 1;
  fwht(f, errLocs, m + k);
  for (let i = 0; i < f.order; i++) errLocs[i] = (errLocs[i] * f.logWalsh[i]) % f.modulus;
  fwht(f, errLocs, f.order);

  // Work: n shards, then one staging shard for inputs.
  const base = e.reserve((n + 1) * S);
  const stage = base + n * S;
  let mem = e.memory();
  mem.fill(0, base, base + n * S);
  const put = (pos: number, shard: Uint8Array) => {
    mem.set(shard, stage);
    e.mul(base + pos * S, stage, S, errLocs[pos]);
  };
  for (let i = 0; i < k; i++) if (!missing(i + k)) put(i, shards[i + k]!);
  for (let i = 0; i < k; i++) if (!missing(i)) put(m + i, shards[i]!);

  ifft(e, base, S, m + k, n, 0);
  // Formal derivative.
  for (let i = 1; i < n; i++) {
    const width = ((i ^ (i - 1)) + 1) >>> 1;
    e.xor(base + (i - width) * S, base + i * S, width * S);
  }
  fft(e, base, S, m + k, n);

  mem = e.memory();
  const out: Uint8Array[] = [];
  for (let i = 0; i < total; i++) {
    if (!missing(i)) {
      out.push(shards[i]!);
      continue;
    }
    const pos = i < k ? i + m : i - k;
    e.mul(stage, base + pos * S, S, f.modulus - errLocs[pos]);
    out.push(mem.slice(stage, stage + S));
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
