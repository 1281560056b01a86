// A node's "disk" in the simulator: the WAL bytes and the double-sign guard's state, which survive
// a crash the way a real disk does. Bytes appended to the log but not yet synced may be lost in a
// crash, partly: the cut can fall inside a record, which the restarted node must find torn.
import type { LastSignState, SignStateStore } from "../../sequencer/consensus/privval.ts";
import type { WalStorage } from "../../sequencer/consensus/wal.ts";
import type { Prng } from "./prng.ts";

export class MemoryWalStorage implements WalStorage {
  #bytes = new Uint8Array(4096);
  #length = 0;
  #synced = 0;

  read(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }

  append(bytes: Uint8Array): void {
    if (this.#length + bytes.length > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(this.#bytes.length * 2, this.#length + bytes.length));
      grown.set(this.#bytes.subarray(0, this.#length));
      this.#bytes = grown;
    }
    this.#bytes.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  sync(): void {
    this.#synced = this.#length;
  }

  truncate(length: number): void {
    this.#length = Math.min(length, this.#length);
    this.#synced = Math.min(this.#synced, this.#length);
  }

  replace(bytes: Uint8Array): void {
    this.#bytes = new Uint8Array(Math.max(4096, bytes.length));
    this.#bytes.set(bytes);
    this.#length = this.#synced = bytes.length;
  }

  /**
   * A crash: a process crash keeps what was written (the OS has it); a power loss keeps what was
   * synced and a random prefix of the rest. Returns how many unsynced bytes were lost.
   */
  crash(prng: Prng, powerLoss: boolean): number {
    if (!powerLoss || this.#length === this.#synced) return 0;
    const kept = this.#synced + prng.int(0, this.#length - this.#synced);
    const lost = this.#length - kept;
    this.#length = kept;
    return lost;
  }
}

/** The double-sign guard's state; saving is atomic and durable, as the file version's rename is. */
export class MemorySignStateStore implements SignStateStore {
  #state: LastSignState | undefined;

  load(): LastSignState | undefined {
    return this.#state && { ...this.#state };
  }

  save(state: LastSignState): void {
    this.#state = { ...state };
  }
}
