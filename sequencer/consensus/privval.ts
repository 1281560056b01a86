// The validator's signing key and its double-sign guard, in CometBFT's file formats
// (priv_validator_key.json, priv_validator_state.json). Before any signature leaves, the last
// signed (height, round, step) is written and fsynced, so a validator killed at any point and
// restarted never signs two different things for one (height, round, step).
//
// The guard's state lives behind SignStateStore: the JSON file in a node, memory in the consensus
// simulator (which crashes and restarts validators thousands of times and must run the same guard).
import { existsSync, readFileSync } from "node:fs";
import { ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { fromBase64, toBase64 } from "../../cometbft/hash.ts";
import { keyFromJson, writeFileDurably, type PrivValidatorKeyJson } from "../../cometbft/key-file.ts";
import { validatorAddress } from "../../cometbft/validator-set.ts";

export const STEP_PROPOSE = 1;
export const STEP_PREVOTE = 2;
export const STEP_PRECOMMIT = 3;

interface LastSignStateJson {
  height: string;
  round: number;
  step: number;
  signature?: string;
  signbytes?: string;
}

export interface LastSignState {
  height: bigint;
  round: number;
  step: number;
  signBytes?: Uint8Array;
  signature?: Uint8Array;
}

/** Where the last signed (height, round, step) is kept; `save` returns only once it is durable. */
export interface SignStateStore {
  load(): LastSignState | undefined;
  save(state: LastSignState): void;
}

/** CometBFT's priv_validator_state.json, rewritten durably on every signature. */
function fileSignStateStore(path: string): SignStateStore {
  return {
    load() {
      if (!existsSync(path)) return undefined;
      const s = JSON.parse(readFileSync(path, "utf8")) as LastSignStateJson;
      return {
        height: BigInt(s.height),
        round: s.round,
        step: s.step,
        signBytes: s.signbytes ? fromBase64(s.signbytes) : undefined,
        signature: s.signature ? fromBase64(s.signature) : undefined,
      };
    },
    save(state) {
      const s: LastSignStateJson = {
        height: String(state.height),
        round: state.round,
        step: state.step,
        signature: state.signature ? toBase64(state.signature) : undefined,
        signbytes: state.signBytes ? toBase64(state.signBytes) : undefined,
      };
      writeFileDurably(path, JSON.stringify(s) + "\n");
    },
  };
}

export class DoubleSignError extends Error {
  override name = "DoubleSignError";
}

export class PrivValidator {
  readonly key: Ed25519Key;
  readonly address: Uint8Array;
  readonly #store: SignStateStore;
  #last: LastSignState;

  /** From priv_validator_key.json and priv_validator_state.json paths, or a key and a state store. */
  constructor(key: string | Ed25519Key, state: string | SignStateStore) {
    this.key = typeof key === "string" ? keyFromJson(JSON.parse(readFileSync(key, "utf8")) as PrivValidatorKeyJson) : key;
    this.address = validatorAddress(this.key.publicKey);
    this.#store = typeof state === "string" ? fileSignStateStore(state) : state;
    const loaded = this.#store.load();
    if (loaded) {
      this.#last = loaded;
    } else {
      this.#last = { height: 0n, round: 0, step: 0 };
      this.#store.save(this.#last);
    }
  }

  get lastSigned(): { height: bigint; round: number; step: number } {
    return { height: this.#last.height, round: this.#last.round, step: this.#last.step };
  }

  /**
   * The bytes last signed and their signature. A restarted engine that must sign a vote again for
   * the same (height, round, step) uses them when only the timestamp would differ, as CometBFT's
   * file signer does, instead of being refused.
   */
  get lastSignature(): { signBytes: Uint8Array; signature: Uint8Array } | undefined {
    const { signBytes, signature } = this.#last;
    return signBytes && signature ? { signBytes, signature } : undefined;
  }

  /**
   * Signs `signBytes` for (height, round, step) if that does not go backwards. Signing the same
   * bytes again (a restart re-sending its vote) returns the stored signature.
   */
  sign(height: bigint, round: number, step: number, signBytes: Uint8Array): Uint8Array {
    const last = this.#last;
    const cmp = height !== last.height ? (height > last.height ? 1 : -1) : round !== last.round ? Math.sign(round - last.round) : Math.sign(step - last.step);
    if (cmp < 0) throw new DoubleSignError(`refusing to sign ${height}/${round}/${step}: already signed ${last.height}/${last.round}/${last.step}`);
    if (cmp === 0) {
      // A restarted validator re-sending the exact vote it signed gets the same signature back.
      if (last.signBytes && last.signature && Buffer.compare(last.signBytes, signBytes) === 0) return last.signature;
      throw new DoubleSignError(`refusing to sign different bytes for ${height}/${round}/${step}`);
    }
    const signature = ed25519Sign(this.key, signBytes);
    this.#last = { height, round, step, signBytes, signature };
    this.#store.save(this.#last);
    return signature;
  }
}
