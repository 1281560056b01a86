// Read-your-writes layers over the rollup state: a block's layer over the committed state, and a
// transaction's layer over its block's. A transaction's writes reach its block only if it applies, so
// a revert leaves the state exactly as it was, whatever the state machine wrote before reverting.
import type { StateAccess, StateReader } from "./state-machine.ts";

export interface StateWrite {
  key: Uint8Array;
  /** undefined: the key is deleted. */
  value: Uint8Array | undefined;
}

const latin1Slice = (Buffer.prototype as unknown as { latin1Slice(this: Uint8Array, start: number, end: number): string }).latin1Slice;

/** A Map key for bytes: one character per byte, no copy and no hex. */
export function keyId(key: Uint8Array): string {
  return latin1Slice.call(key, 0, key.length);
}

export class StateLayer implements StateAccess {
  readonly #parent: StateReader;
  readonly #writes = new Map<string, StateWrite>();

  constructor(parent: StateReader) {
    this.#parent = parent;
  }

  get(key: Uint8Array): Promise<Uint8Array | undefined> {
    const write = this.#writes.get(keyId(key));
    return write === undefined ? this.#parent.get(key) : Promise.resolve(write.value);
  }

  // Copies (new Uint8Array copies a Buffer too, where slice() would not): the caller may reuse its
  // buffers once set() returns.
  set(key: Uint8Array, value: Uint8Array): void {
    this.#writes.set(keyId(key), { key: new Uint8Array(key), value: new Uint8Array(value) });
  }

  delete(key: Uint8Array): void {
    this.#writes.set(keyId(key), { key: new Uint8Array(key), value: undefined });
  }

  /** Moves this layer's writes into `target`, the layer below it (a transaction's into its block's). */
  mergeInto(target: StateLayer): void {
    for (const [id, write] of this.#writes) target.#writes.set(id, write);
    this.#writes.clear();
  }

  /** The net writes, last write per key. */
  writes(): StateWrite[] {
    return [...this.#writes.values()];
  }
}
