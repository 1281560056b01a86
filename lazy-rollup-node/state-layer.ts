// A read-your-writes layer over the rollup state: a block's writes over the committed state. A
// transaction runs on its block's layer between beginTx() and endTx(): the layer journals what each
// of its writes replaced, and a transaction that reverts is undone from the journal, so the state is
// exactly as it was, whatever the state machine wrote before reverting. (A layer per transaction,
// merged into the block's, did the same with a map, two lookups per read and a merge per transaction.)
import type { StateAccess, StateReader } from "./state-machine.ts";

export interface StateWrite {
  /** keyId(key), computed once: the store keys its cache by it. */
  id: string;
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
  /** While a transaction runs: [keyId, the write it replaced (undefined: none)] for each of its writes, in order. One array, emptied per transaction. */
  readonly #journal: (string | StateWrite | undefined)[] = [];
  #inTx = false;

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
    const id = keyId(key);
    this.#put(id, { id, key: new Uint8Array(key), value: new Uint8Array(value) });
  }

  delete(key: Uint8Array): void {
    const id = keyId(key);
    this.#put(id, { id, key: new Uint8Array(key), value: undefined });
  }

  #put(id: string, write: StateWrite): void {
    if (this.#inTx) this.#journal.push(id, this.#writes.get(id));
    this.#writes.set(id, write);
  }

  /** Starts a transaction: the writes until endTx() are kept or undone together. */
  beginTx(): void {
    if (this.#inTx) throw new Error("a transaction is already running on this state layer");
    this.#inTx = true;
    this.#journal.length = 0;
  }

  /** Ends the transaction: keeps its writes, or puts back what they replaced (newest first). */
  endTx(keep: boolean): void {
    const journal = this.#journal;
    if (!this.#inTx) throw new Error("no transaction is running on this state layer");
    this.#inTx = false;
    if (keep) return;
    for (let i = journal.length - 2; i >= 0; i -= 2) {
      const id = journal[i] as string;
      const replaced = journal[i + 1] as StateWrite | undefined;
      // Deleting a key the transaction added, and setting one it overwrote, leaves the map's order
      // (the order writes() lists) as if the transaction had never run.
      if (replaced === undefined) this.#writes.delete(id);
      else this.#writes.set(id, replaced);
    }
  }

  /** The net writes, last write per key. */
  writes(): StateWrite[] {
    return [...this.#writes.values()];
  }
}
