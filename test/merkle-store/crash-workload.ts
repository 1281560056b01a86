// The deterministic workload of the crash test, shared by the process that gets killed and the
// test that checks what it left: version v sets and deletes accounts chosen by a PRNG seeded by v.
export const ACCOUNTS = 2_000;
const WRITES_PER_VERSION = 300;

export function accountKey(n: number): Uint8Array {
  return new TextEncoder().encode(`account-${n}`);
}

/** The writes of version `version`: [account, value], or [account, undefined] to delete it. */
export function writesFor(version: number): [number, Uint8Array | undefined][] {
  const random = mulberry32(version);
  const writes: [number, Uint8Array | undefined][] = [];
  for (let i = 0; i < WRITES_PER_VERSION; i++) {
    const account = Math.floor(random() * ACCOUNTS);
    const value = new TextEncoder().encode(`balance of ${account} at version ${version}: ${"0".repeat(40)}`);
    writes.push([account, random() < 0.1 ? undefined : value]);
  }
  return writes;
}

/** The store's contents after versions 1..`version`. */
export function contentsAt(version: number): Map<number, Uint8Array> {
  const contents = new Map<number, Uint8Array>();
  for (let v = 1; v <= version; v++) {
    for (const [account, value] of writesFor(v)) {
      if (value === undefined) contents.delete(account);
      else contents.set(account, value);
    }
  }
  return contents;
}

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
