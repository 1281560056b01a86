// Test-only: a slow, independent Reed-Solomon reference for the Leopard code.
//
// It does not use the codec's tables or FFTs. It takes only the definition: a codeword is the
// evaluation of one polynomial of degree < m (m = k rounded up to a power of two) at the points
// 0..m-1 (parity) and m..2m-1 (data, zero past k), where a point's integer value is its
// coordinates in Leopard's Cantor basis. Field products are computed in the ordinary polynomial
// basis (reduction polynomial 0x11D or 0x1002D) after mapping Cantor coordinates to it, and the
// parity is Lagrange interpolation. If the FFT codec agrees with this on random data, the FFT,
// the skew tables and the byte layout are all right.

export interface RefField {
  bits: 8 | 16;
  mul(a: number, b: number): number;
  inv(a: number): number;
}

const CANTOR: Record<8 | 16, number[]> = {
  8: [1, 214, 152, 146, 86, 200, 88, 230],
  16: [0x0001, 0xacca, 0x3c0e, 0x163e, 0xc582, 0xed2e, 0x914c, 0x4012, 0x6c98, 0x10d8, 0x6a72, 0xb900, 0xfdb8, 0xfb34, 0xff38, 0x991e],
};
const POLY: Record<8 | 16, number> = { 8: 0x11d, 16: 0x1002d };

const cache = new Map<number, RefField>();

export function refField(bits: 8 | 16): RefField {
  const hit = cache.get(bits);
  if (hit) return hit;
  const order = 1 << bits;
  const basis = CANTOR[bits];
  const toPoly = new Uint32Array(order);
  for (let x = 1; x < order; x++) {
    let v = 0;
    for (let b = 0; b < bits; b++) if (x & (1 << b)) v ^= basis[b];
    toPoly[x] = v;
  }
  const fromPoly = new Uint32Array(order).fill(0xffffffff);
  for (let x = 0; x < order; x++) {
    if (fromPoly[toPoly[x]] !== 0xffffffff) throw new Error("Cantor basis is not a basis");
    fromPoly[toPoly[x]] = x;
  }
  // Polynomial-basis logs with generator x (the reduction polynomials are primitive).
  const pexp = new Uint32Array(2 * order);
  const plog = new Uint32Array(order);
  let v = 1;
  for (let i = 0; i < order - 1; i++) {
    pexp[i] = v;
    plog[v] = i;
    v <<= 1;
    if (v & order) v ^= POLY[bits];
  }
  if (v !== 1) throw new Error("reduction polynomial is not primitive");
  for (let i = order - 1; i < 2 * order; i++) pexp[i] = pexp[i - (order - 1)];
  const f: RefField = {
    bits,
    mul(a, b) {
      if (a === 0 || b === 0) return 0;
      return fromPoly[pexp[plog[toPoly[a]] + plog[toPoly[b]]]];
    },
    inv(a) {
      if (a === 0) throw new Error("inverse of 0");
      return fromPoly[pexp[(order - 1 - plog[toPoly[a]]) % (order - 1)]];
    },
  };
  cache.set(bits, f);
  return f;
}

function ceilPow2(n: number): number {
  let p = 1;
  while (p < n) p <<= 1;
  return p;
}

/** Parity shards for k data shards by Lagrange interpolation (slow: O(k^2 * shard size)). */
export function referenceEncode(data: Uint8Array[]): Uint8Array[] {
  const k = data.length;
  const bits: 8 | 16 = 2 * k <= 256 ? 8 : 16;
  const f = refField(bits);
  const m = ceilPow2(k);
  const size = data[0].length;
  const xData = (i: number) => m + i;
  // denom_i = prod_{l != i, l < m} (x_i - x_l)
  const denom: number[] = [];
  for (let i = 0; i < k; i++) {
    let d = 1;
    for (let l = 0; l < m; l++) if (l !== i) d = f.mul(d, xData(i) ^ xData(l));
    denom.push(d);
  }
  const parity: Uint8Array[] = [];
  for (let j = 0; j < k; j++) {
    let num = 1;
    for (let l = 0; l < m; l++) num = f.mul(num, j ^ xData(l));
    const coef: number[] = [];
    for (let i = 0; i < k; i++) coef.push(f.mul(num, f.inv(f.mul(j ^ xData(i), denom[i]))));
    const out = new Uint8Array(size);
    if (bits === 8) {
      for (let i = 0; i < k; i++) {
        const c = coef[i];
        const src = data[i];
        for (let e = 0; e < size; e++) out[e] ^= f.mul(c, src[e]);
      }
    } else {
      for (let i = 0; i < k; i++) {
        const c = coef[i];
        const src = data[i];
        for (let b = 0; b < size; b += 64) {
          for (let t = 0; t < 32; t++) {
            const p = f.mul(c, src[b + t] | (src[b + 32 + t] << 8));
            out[b + t] ^= p & 255;
            out[b + 32 + t] ^= p >>> 8;
          }
        }
      }
    }
    parity.push(out);
  }
  return parity;
}
