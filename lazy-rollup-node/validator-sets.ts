// The sequencer's validator set at each height, tracked the way a CometBFT light client verifies
// sequentially: block h is verified against the set S_h; its header, once verified, names S_{h+1} by
// next_validators_hash. When that is S_h's hash the set carries on; otherwise the set whose hash it is
// must be obtained (from any source: the +2/3-signed header authenticates the hash) before block h+1
// can be verified. No I/O here: sequencer-validator-sets.ts fetches and persists.
import { toHexUpper } from "../cometbft/hash.ts";
import { validatorSetHash, type Validator } from "../cometbft/validator-set.ts";

/** The set that signs from `height` on, until the next change. */
export interface ValidatorSetChange {
  height: number;
  validators: readonly Validator[];
}

/** A set that must be obtained before `height` can be verified: the one whose hash is `hash`. */
export interface NeededValidatorSet {
  height: number;
  hash: Uint8Array;
}

/** The validator set of a sequencer height, or undefined when it is not known (yet). */
export interface ValidatorSetLookup {
  at(height: number): readonly Validator[] | undefined;
}

/** Two committed headers at one height name different next sets: +2/3 of the set signed both. */
export class ValidatorSetConflictError extends Error {
  override name = "ValidatorSetConflictError";
}

interface Entry extends ValidatorSetChange {
  hash: Uint8Array;
}

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

export class ValidatorSetHistory implements ValidatorSetLookup {
  /** Ascending by height; the first is the genesis set, from height 1. */
  #entries: Entry[];
  #knownThrough: number;

  /**
   * `changes` in any order, after the genesis set. `knownThrough`: the highest height whose set is
   * known (every header below it was followed); raised to the last change's height.
   */
  constructor(genesis: readonly Validator[], changes: readonly ValidatorSetChange[], knownThrough: number) {
    this.#entries = [{ height: 1, validators: genesis, hash: validatorSetHash(genesis) }];
    for (const c of [...changes].sort((a, b) => a.height - b.height)) {
      if (c.height <= this.#last.height) throw new RangeError(`validator set change at height ${c.height} does not follow the one at ${this.#last.height}`);
      this.#entries.push({ ...c, hash: validatorSetHash(c.validators) });
    }
    this.#knownThrough = Math.max(knownThrough, this.#last.height);
  }

  get knownThrough(): number {
    return this.#knownThrough;
  }

  /** Every change after genesis, oldest first. */
  get changes(): ValidatorSetChange[] {
    return this.#entries.slice(1).map(({ height, validators }) => ({ height, validators }));
  }

  at(height: number): readonly Validator[] | undefined {
    return this.#entry(height)?.validators;
  }

  hashAt(height: number): Uint8Array | undefined {
    return this.#entry(height)?.hash;
  }

  /**
   * A header verified against at(header.height): what it says of the next height's set. Returns the
   * set to obtain when it hands over to one not known yet; otherwise the next height is known after.
   * Throws ValidatorSetConflictError if another set is already known for the next height.
   */
  follow(header: { height: bigint; nextValidatorsHash: Uint8Array }): NeededValidatorSet | undefined {
    const height = Number(header.height);
    const current = this.#entry(height);
    if (current === undefined) throw new RangeError(`the validator set of height ${height} is not known: headers are followed in order`);
    const next = height + 1;
    if (next <= this.#knownThrough) {
      const known = this.#entry(next)!.hash;
      if (sameBytes(known, header.nextValidatorsHash)) return undefined;
      throw new ValidatorSetConflictError(`sequencer header ${height} names next validator set ${toHexUpper(header.nextValidatorsHash)}, but ${toHexUpper(known)} is the set of height ${next}`);
    }
    if (sameBytes(current.hash, header.nextValidatorsHash)) {
      this.#knownThrough = next;
      return undefined;
    }
    return { height: next, hash: header.nextValidatorsHash };
  }

  /** The set `needed` names, once obtained: from its height on, the tracked set. Throws if its hash is not the one named. */
  accept(needed: NeededValidatorSet, validators: readonly Validator[]): void {
    if (needed.height !== this.#knownThrough + 1) throw new RangeError(`a validator set for height ${needed.height}, but the sets are known through ${this.#knownThrough}`);
    const hash = validatorSetHash(validators);
    if (!sameBytes(hash, needed.hash)) throw new Error(`validator set ${toHexUpper(hash)} is not the named set ${toHexUpper(needed.hash)}`);
    this.#entries.push({ height: needed.height, validators, hash });
    this.#knownThrough = needed.height;
  }

  /**
   * Forgets what the headers from `height` on said: the sets of the heights above it. For when Celestia
   * has another header at `height` than the one followed (it wins). Returns the changes forgotten.
   */
  forgetHeadersFrom(height: number): ValidatorSetChange[] {
    const dropped = this.#entries.filter((e) => e.height > height && e.height > 1);
    this.#entries = this.#entries.filter((e) => e.height <= height || e.height === 1);
    this.#knownThrough = Math.min(this.#knownThrough, Math.max(height, 1));
    return dropped.map(({ height: h, validators }) => ({ height: h, validators }));
  }

  get #last(): Entry {
    return this.#entries[this.#entries.length - 1];
  }

  #entry(height: number): Entry | undefined {
    if (height < 1 || height > this.#knownThrough) return undefined;
    for (let i = this.#entries.length - 1; i >= 0; i--) if (this.#entries[i].height <= height) return this.#entries[i];
    return undefined;
  }
}
