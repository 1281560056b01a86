// The validator's signing key and its double-sign guard, in CometBFT's file formats
// (priv_validator_key.json, priv_validator_state.json). Before any signature leaves, the last
// signed (height, round, step) is written and fsynced, so a validator killed at any point and
// restarted never signs two different things for one (height, round, step).
import { existsSync, readFileSync } from "node:fs";
import { ed25519Sign, type Ed25519Key } from "../../cometbft/ed25519.ts";
import { fromBase64, toBase64 } from "../../cometbft/hash.ts";
import { keyFromJson, writeFileDurably, type PrivValidatorKeyJson } from "../../cometbft/key-file.ts";
import { validatorAddress } from "../../cometbft/validator-set.ts";

export const STEP_PROPOSE = 1;
export const STEP_PREVOTE = 2;
export const STEP_PRECOMMIT = 3;

interface LastSignState {
  height: string;
  round: number;
  step: number;
  signature?: string;
  signbytes?: string;
}

export class DoubleSignError extends Error {
  override name = "DoubleSignError";
}

export class PrivValidator {
  readonly key: Ed25519Key;
  readonly address: Uint8Array;
  readonly #statePath: string;
  #last: { height: bigint; round: number; step: number; signBytes?: Uint8Array; signature?: Uint8Array };

  constructor(keyPath: string, statePath: string) {
    this.key = keyFromJson(JSON.parse(readFileSync(keyPath, "utf8")) as PrivValidatorKeyJson);
    this.address = validatorAddress(this.key.publicKey);
    this.#statePath = statePath;
    if (existsSync(statePath)) {
      const s = JSON.parse(readFileSync(statePath, "utf8")) as LastSignState;
      this.#last = {
        height: BigInt(s.height),
        round: s.round,
        step: s.step,
        signBytes: s.signbytes ? fromBase64(s.signbytes) : undefined,
        signature: s.signature ? fromBase64(s.signature) : undefined,
      };
    } else {
      this.#last = { height: 0n, round: 0, step: 0 };
      this.#persist();
    }
  }

  get lastSigned(): { height: bigint; round: number; step: number } {
    return { height: this.#last.height, round: this.#last.round, step: this.#last.step };
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
    this.#persist();
    return signature;
  }

  #persist(): void {
    const s: LastSignState = {
      height: String(this.#last.height),
      round: this.#last.round,
      step: this.#last.step,
      signature: this.#last.signature ? toBase64(this.#last.signature) : undefined,
      signbytes: this.#last.signBytes ? toBase64(this.#last.signBytes) : undefined,
    };
    writeFileDurably(this.#statePath, JSON.stringify(s) + "\n");
  }
}

