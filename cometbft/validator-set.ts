// CometBFT validators: addresses, the validator set hash headers commit to, and their JSON.
import { SimpleValidator } from "cosmjs-types/tendermint/types/validator";
import { merkleRoot } from "../celestia/merkle.ts";
import { fromBase64, sha256, toBase64, toHexUpper } from "./hash.ts";

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

/** Throws unless `json` is an ed25519 validator as validatorJson writes it (the address must be its key's). */
export function validatorFromJson(json: ValidatorJson): Validator {
  if (json?.pub_key?.type !== "tendermint/PubKeyEd25519") throw new Error(`validator key type ${JSON.stringify(json?.pub_key?.type)}, expected tendermint/PubKeyEd25519`);
  const pubKey = fromBase64(json.pub_key.value);
  if (pubKey.length !== 32) throw new Error(`ed25519 validator key of ${pubKey.length} bytes`);
  if (!/^[0-9]+$/.test(json.voting_power)) throw new Error(`voting power ${JSON.stringify(json.voting_power)} is not a non-negative integer`);
  if (json.address !== undefined && json.address.toUpperCase() !== toHexUpper(validatorAddress(pubKey))) throw new Error(`validator address ${json.address} is not that of its key`);
  return { pubKey, votingPower: BigInt(json.voting_power) };
}
