// WebAssembly SIMD kernels for the Leopard codec (celestia/leopard.ts).
//
// The module is assembled here, byte by byte, so the project needs no WebAssembly toolchain.
// It multiplies by a constant in GF(2^8) or GF(2^16) with the nibble-table method (the same idea
// as the PSHUFB/AVX2 code of klauspost/reedsolomon): a product is the XOR of one 16-entry table
// lookup per 4-bit nibble of the input, and `i8x16.swizzle` does 16 such lookups at once.
//
// Exports (all arguments are byte offsets or byte counts in the module's memory; counts are
// positive multiples of 16 for GF(2^8), of 64 for GF(2^16); `t` points at the multiplier's
// nibble tables):
//   xor(dst, src, n)              dst ^= src
//   f8(x, y, n, t) / f16          FFT butterfly:  x ^= y * c; y ^= x
//   i8(x, y, n, t) / i16          IFFT butterfly: y ^= x; x ^= y * c
//   m8(dst, src, n, t) / m16      dst = src * c
// GF(2^8) tables are 32 bytes: products of the low nibble (16), then of the high nibble (16).
// GF(2^16) tables are 128 bytes: for nibbles 0..3 of the 16-bit element (low byte's low and high
// nibble, then the high byte's), the low bytes of the products (4 x 16), then the high bytes
// (4 x 16). A GF(2^16) element i of a 64-byte block has its low byte at i, its high byte at i+32.

const I32 = 0x7f;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const name = (s: string): number[] => [...uleb(s.length), ...Array.from(s, (c) => c.charCodeAt(0))];

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const i32add = [0x6a];
const i32ltu = [0x49];
const loop = [0x03, 0x40];
const end = [0x0b];
const brIf = (depth: number) => [0x0d, ...uleb(depth)];
const load = (offset = 0) => [0xfd, 0x00, 4, ...uleb(offset)];
const store = (offset = 0) => [0xfd, 0x0b, 4, ...uleb(offset)];
const swizzle = [0xfd, 0x0e];
const splat8 = [0xfd, 0x0f];
const vand = [0xfd, 0x4e];
const vxor = [0xfd, 0x51];
const shr8 = [0xfd, 0x6d];

interface Fn {
  name: string;
  params: number; // all i32
  locals: number[]; // types of the extra locals
  code: number[];
}

/** A do-while loop: run `bodyCode`, add `step` to each pointer local, repeat while ptrs[0] < end. */
function loopOver(ptrs: number[], endLocal: number, step: number, bodyCode: number[]): number[] {
  const advance = ptrs.flatMap((p) => [...get(p), ...i32c(step), ...i32add, ...set(p)]);
  return [...loop, ...bodyCode, ...advance, ...get(ptrs[0]), ...get(endLocal), ...i32ltu, ...brIf(0), ...end];
}

// GF(2^8): product of the v128 in local `v` by the tables in locals tlo, thi; mask in local `mask`.
const mul8 = (v: number, tlo: number, thi: number, mask: number) => [
  ...get(tlo), ...get(v), ...get(mask), ...vand, ...swizzle,
  ...get(thi), ...get(v), ...i32c(4), ...shr8, ...swizzle,
  ...vxor,
];

function gf8Functions(): Fn[] {
  // params: 0 x/dst, 1 y/src, 2 n, 3 t; locals: 4 end, 5 tlo, 6 thi, 7 mask, 8 a, 9 b
  const prologue = [
    ...get(0), ...get(2), ...i32add, ...set(4),
    ...get(3), ...load(0), ...set(5),
    ...get(3), ...load(16), ...set(6),
    ...i32c(15), ...splat8, ...set(7),
  ];
  const locals = [I32, V128, V128, V128, V128, V128];
  const fft = [
    ...get(1), ...load(), ...set(8), // a = y
    ...get(0), ...load(), ...mul8(8, 5, 6, 7), ...vxor, ...set(9), // b = x ^ a*c
    ...get(0), ...get(9), ...store(),
    ...get(1), ...get(8), ...get(9), ...vxor, ...store(),
  ];
  const ifft = [
    ...get(0), ...load(), ...set(9), // b = x
    ...get(1), ...load(), ...get(9), ...vxor, ...set(8), // a = y ^ x
    ...get(1), ...get(8), ...store(),
    ...get(0), ...get(9), ...mul8(8, 5, 6, 7), ...vxor, ...store(),
  ];
  const mul = [...get(1), ...load(), ...set(8), ...get(0), ...mul8(8, 5, 6, 7), ...store()];
  return [
    { name: "f8", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 16, fft)] },
    { name: "i8", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 16, ifft)] },
    { name: "m8", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 16, mul)] },
  ];
}

function gf16Functions(): Fn[] {
  // params: 0 x/dst, 1 y/src, 2 n, 3 t
  // locals: 4 end, 5..8 low-byte tables (nibbles 0..3), 9..12 high-byte tables, 13 mask,
  //         14 lo, 15 hi (input halves), 16 plo, 17 phi (products), 18 xlo, 19 xhi
  const locals = [I32, ...Array(9).fill(V128), V128, V128, V128, V128, V128, V128];
  const prologue = [...get(0), ...get(2), ...i32add, ...set(4)];
  for (let j = 0; j < 8; j++) prologue.push(...get(3), ...load(16 * j), ...set(5 + j));
  prologue.push(...i32c(15), ...splat8, ...set(13));
  // nibble vectors of lo (local 14) and hi (local 15), looked up in table locals base..base+3
  const product = (base: number) => [
    ...get(base), ...get(14), ...get(13), ...vand, ...swizzle,
    ...get(base + 1), ...get(14), ...i32c(4), ...shr8, ...swizzle, ...vxor,
    ...get(base + 2), ...get(15), ...get(13), ...vand, ...swizzle, ...vxor,
    ...get(base + 3), ...get(15), ...i32c(4), ...shr8, ...swizzle, ...vxor,
  ];
  const products = [...product(5), ...set(16), ...product(9), ...set(17)];
  // c = 0 or 16: the two 16-element halves of a 64-byte block
  const fftHalf = (c: number) => [
    ...get(1), ...load(c), ...set(14),
    ...get(1), ...load(c + 32), ...set(15),
    ...products,
    ...get(0), ...load(c), ...get(16), ...vxor, ...set(18),
    ...get(0), ...load(c + 32), ...get(17), ...vxor, ...set(19),
    ...get(0), ...get(18), ...store(c),
    ...get(0), ...get(19), ...store(c + 32),
    ...get(1), ...get(14), ...get(18), ...vxor, ...store(c),
    ...get(1), ...get(15), ...get(19), ...vxor, ...store(c + 32),
  ];
  const ifftHalf = (c: number) => [
    ...get(0), ...load(c), ...set(18),
    ...get(0), ...load(c + 32), ...set(19),
    ...get(1), ...load(c), ...get(18), ...vxor, ...set(14),
    ...get(1), ...load(c + 32), ...get(19), ...vxor, ...set(15),
    ...get(1), ...get(14), ...store(c),
    ...get(1), ...get(15), ...store(c + 32),
    ...products,
    ...get(0), ...get(18), ...get(16), ...vxor, ...store(c),
    ...get(0), ...get(19), ...get(17), ...vxor, ...store(c + 32),
  ];
  const mulHalf = (c: number) => [
    ...get(1), ...load(c), ...set(14),
    ...get(1), ...load(c + 32), ...set(15),
    ...products,
    ...get(0), ...get(16), ...store(c),
    ...get(0), ...get(17), ...store(c + 32),
  ];
  return [
    { name: "f16", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 64, [...fftHalf(0), ...fftHalf(16)])] },
    { name: "i16", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 64, [...ifftHalf(0), ...ifftHalf(16)])] },
    { name: "m16", params: 4, locals, code: [...prologue, ...loopOver([0, 1], 4, 64, [...mulHalf(0), ...mulHalf(16)])] },
  ];
}

function xorFunction(): Fn {
  // params: 0 dst, 1 src, 2 n; locals: 3 end
  const body = [...get(0), ...get(0), ...load(), ...get(1), ...load(), ...vxor, ...store()];
  return { name: "xor", params: 3, locals: [I32], code: [...get(0), ...get(2), ...i32add, ...set(3), ...loopOver([0, 1], 3, 16, body)] };
}

function assemble(fns: Fn[]): Uint8Array {
  const types = [3, 4].map((p) => [0x60, ...vec(Array.from({ length: p }, () => [I32])), 0]);
  const typeIndex = (params: number) => (params === 3 ? 0 : 1);
  const bodies = fns.map((f) => {
    // group consecutive locals of the same type
    const groups: number[][] = [];
    for (const t of f.locals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    const body = [...vec(groups.map(([n, t]) => [...uleb(n), t])), ...f.code, ...end];
    return [...uleb(body.length), ...body];
  });
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(3, vec(fns.map((f) => uleb(typeIndex(f.params))))),
    ...section(5, vec([[0x00, ...uleb(1)]])), // one memory, min 1 page, no max
    ...section(7, vec([[...name("mem"), 0x02, 0x00], ...fns.map((f, i) => [...name(f.name), 0x00, ...uleb(i)])])),
    ...section(10, vec(bodies)),
  ];
  return new Uint8Array(bytes);
}

/** The parts of the WebAssembly API used here (the project's TS lib settings do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
}

export interface LeopardWasm {
  memory: WasmMemory;
  xor(dst: number, src: number, n: number): void;
  f8(x: number, y: number, n: number, t: number): void;
  i8(x: number, y: number, n: number, t: number): void;
  m8(dst: number, src: number, n: number, t: number): void;
  f16(x: number, y: number, n: number, t: number): void;
  i16(x: number, y: number, n: number, t: number): void;
  m16(dst: number, src: number, n: number, t: number): void;
}

let instance: LeopardWasm | null | undefined;

/** The kernels, or null where WebAssembly SIMD is not available. */
export function leopardWasm(): LeopardWasm | null {
  if (instance !== undefined) return instance;
  try {
    const api = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
    const bytes = assemble([xorFunction(), ...gf8Functions(), ...gf16Functions()]);
    if (api === undefined || !api.validate(bytes)) {
      instance = null;
    } else {
      const exports = new api.Instance(new api.Module(bytes), {}).exports;
      instance = { ...(exports as unknown as Omit<LeopardWasm, "memory">), memory: exports.mem as WasmMemory };
    }
  } catch {
    instance = null;
  }
  return instance;
}
