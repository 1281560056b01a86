// CometBFT's priv_validator_key.json, and writing such files so a crash leaves the old or the new
// content, never a torn one.
import { closeSync, fsyncSync, openSync, renameSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ed25519FromSeed, ed25519Generate, type Ed25519Key } from "./ed25519.ts";
import { fromBase64, toBase64, toHexUpper } from "./hash.ts";
import { validatorAddress } from "./validator-set.ts";

export interface PrivValidatorKeyJson {
  address: string;
  pub_key: { type: "tendermint/PubKeyEd25519"; value: string };
  priv_key: { type: "tendermint/PrivKeyEd25519"; value: string };
}


export function keyToJson(key: Ed25519Key): PrivValidatorKeyJson {
  return {
    address: toHexUpper(validatorAddress(key.publicKey)),
    pub_key: { type: "tendermint/PubKeyEd25519", value: toBase64(key.publicKey) },
    priv_key: { type: "tendermint/PrivKeyEd25519", value: toBase64(new Uint8Array([...key.seed, ...key.publicKey])) },
  };
}

export function keyFromJson(json: PrivValidatorKeyJson): Ed25519Key {
  const raw = fromBase64(json.priv_key.value);
  if (raw.length !== 64) throw new Error("priv_validator_key.json: priv_key must be 64 bytes (seed and public key)");
  return ed25519FromSeed(raw.subarray(0, 32));
}

/** Writes a file so that it is either the old or the new content after a crash. */
export function writeFileDurably(path: string, content: string | Uint8Array): void {
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeFileSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(dirname(path), "r");
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export function generateKeyFile(path: string): Ed25519Key {
  const key = ed25519Generate();
  writeFileDurably(path, JSON.stringify(keyToJson(key), null, 2) + "\n");
  return key;
}

