// The node key (config/node_key.json, CometBFT's format): an ed25519 key that identifies a validator
// on the network, separate from the key that signs votes. Its libp2p PeerId can be derived from the
// file alone, so a devnet writes every validator's peer id into every config before any node starts.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { dirname } from "node:path";
import { privateKeyFromRaw } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import type { PrivateKey } from "@libp2p/interface";
import { ed25519FromSeed, ed25519Generate } from "../../cometbft/ed25519.ts";
import { fromBase64, toBase64 } from "../../cometbft/hash.ts";
import { writeFileDurably } from "../../cometbft/key-file.ts";

export interface NodeKeyJson {
  priv_key: { type: "tendermint/PrivKeyEd25519"; value: string };
}

/** A fresh node key in file form. */
export function generateNodeKeyJson(): NodeKeyJson {
  const key = ed25519Generate();
  return { priv_key: { type: "tendermint/PrivKeyEd25519", value: toBase64(new Uint8Array([...key.seed, ...key.publicKey])) } };
}

/**
 * The libp2p key in a node_key.json. libp2p's raw ed25519 private key is CometBFT's seed || public
 * key; the public half is checked against the seed, since libp2p would trust it and a corrupt file
 * would then claim a peer id whose key it does not hold.
 */
export function nodeKeyFromJson(json: NodeKeyJson): PrivateKey {
  if (json?.priv_key?.type !== "tendermint/PrivKeyEd25519") throw new Error(`node key: unsupported key type ${JSON.stringify(json?.priv_key?.type)}`);
  const raw = fromBase64(json.priv_key.value);
  if (raw.length !== 64) throw new Error(`node key: priv_key must be 64 bytes (seed and public key), got ${raw.length}`);
  const derived = ed25519FromSeed(raw.subarray(0, 32)).publicKey;
  if (Buffer.compare(derived, raw.subarray(32)) !== 0) throw new Error("node key: public key does not match the seed");
  return privateKeyFromRaw(raw);
}

export function readNodeKey(path: string): PrivateKey {
  return nodeKeyFromJson(JSON.parse(readFileSync(path, "utf8")) as NodeKeyJson);
}

/** The key in `path`, created (owner-only, written durably) if the file does not exist. */
export function loadOrCreateNodeKey(path: string): PrivateKey {
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileDurably(path, JSON.stringify(generateNodeKeyJson(), null, 2) + "\n");
  }
  return readNodeKey(path);
}

export function peerIdOf(key: PrivateKey): string {
  return peerIdFromPrivateKey(key).toString();
}

/** The peer id of the node whose key is in `path`, for writing into other validators' configs. */
export function peerIdOfNodeKeyFile(path: string): string {
  return peerIdOf(readNodeKey(path));
}
