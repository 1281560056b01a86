// CometBFT validators: addresses, the validator set hash headers commit to, and their JSON.
import { SimpleValidator } from "cosmjs-types/tendermint/types/validator";
import { merkleRoot } from "../celestia/merkle.ts";
import { sha256, toBase64, toHexUpper } from "./hash.ts";

export interface Validator {
  /** ed25519 public key, 32 bytes. */
  pubKey: Uint8Array;
  votingPower: bigint;
}

/** sha256(pubkey)[:20], as CometBFT derives an ed25519 validator's address. */
export function validatorAddress(pubKey: Uint8Array): Uint8Array {
  return sha256(pubKey).subarray(0, 20);
}

export function validatorSetHash(validators: readonly Validator[]): Uint8Array {
  return merkleRoot(validators.map((v) => SimpleValidator.encode({ pubKey: { ed25519: v.pubKey }, votingPower: v.votingPower }).finish()));
}

export interface ValidatorJson {
  address: string;
  pub_key: { type: "tendermint/PubKeyEd25519"; value: string };
  voting_power: string;
  proposer_priority: string;
}

export function validatorJson(v: Validator, proposerPriority = 0n): ValidatorJson {
  return {
    address: toHexUpper(validatorAddress(v.pubKey)),
    pub_key: { type: "tendermint/PubKeyEd25519", value: toBase64(v.pubKey) },
    voting_power: String(v.votingPower),
    proposer_priority: String(proposerPriority),
  };
}
