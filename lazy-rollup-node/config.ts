// A token rollup node's home directory: what `metro rollup init` writes and `metro rollup start`
// reads. The rollup's genesis fixes the chain (its secondary chain id, address prefix, the sequencer
// chain and height it starts from, the funded accounts); the sequencer's genesis is copied in, since
// its validator set is all the node trusts; the header key signs this node's headers; the node key
// is its libp2p identity for header gossip.
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import secp256k1 from "secp256k1";
import type { PrivateKey } from "@libp2p/interface";
import { writeFileDurably } from "../cometbft/key-file.ts";
import { genesisFromJson, type Genesis, type GenesisJson } from "../sequencer/genesis.ts";
import { loadOrCreateNodeKey, peerIdOf } from "../sequencer/p2p/node-key.ts";
import { validateSecondaryChainId } from "../sequencer/tx/messages.ts";
import type { RollupChain } from "./rollup-store.ts";
import { publicKeyOf } from "./secp256k1-key.ts";
import type { TokenGenesis } from "./token/genesis.ts";
import { parseRollupAddress } from "./token/address.ts";

export function rollupHomePaths(home: string) {
  return {
    genesis: join(home, "config", "rollup-genesis.json"),
    sequencerGenesis: join(home, "config", "sequencer-genesis.json"),
    headerKey: join(home, "config", "header_key.json"),
    nodeKey: join(home, "config", "node_key.json"),
    db: join(home, "data", "rollup"),
  };
}

/** config/rollup-genesis.json */
export interface RollupGenesisJson {
  chain_id: string;
  address_prefix: string;
  sequencer_chain_id: string;
  /** The sequencer height of rollup block 1. */
  sequencer_start_height: string;
  accounts: { address: string; balance: string }[];
}

export interface TokenRollupGenesis {
  chain: RollupChain;
  addressPrefix: string;
  sequencerChainId: string;
  state: TokenGenesis;
}

/** config/header_key.json: the secp256k1 key this node signs its headers with. */
interface HeaderKeyJson {
  type: "secp256k1";
  pub_key: string;
  priv_key: string;
}

export function rollupGenesisFromJson(json: RollupGenesisJson): TokenRollupGenesis {
  validateSecondaryChainId(json.chain_id);
  if (!/^[a-z][a-z0-9]{0,82}$/.test(json.address_prefix ?? "")) throw new Error(`address prefix ${JSON.stringify(json.address_prefix)} must be lowercase letters and digits, starting with a letter`);
  const start = BigInt(json.sequencer_start_height ?? "1");
  if (start < 1n) throw new Error("sequencer_start_height must be at least 1");
  const accounts = (json.accounts ?? []).map(({ address, balance }) => {
    const parsed = parseRollupAddress(address, json.address_prefix);
    if (typeof parsed === "string") throw new Error(`genesis account: ${parsed}`);
    if (!/^\d+$/.test(balance)) throw new Error(`genesis account ${address}: balance ${JSON.stringify(balance)} is not a whole number`);
    return { address, balance: BigInt(balance) };
  });
  return {
    chain: { chainId: json.chain_id, sequencerStartHeight: start },
    addressPrefix: json.address_prefix,
    sequencerChainId: json.sequencer_chain_id,
    state: { accounts },
  };
}

export interface InitRollupHomeOptions {
  home: string;
  chainId: string;
  addressPrefix: string;
  accounts: { address: string; balance: bigint }[];
  /** Path of the sequencer's genesis.json. */
  sequencerGenesis: string;
  sequencerStartHeight?: bigint;
}

function writeJson(path: string, value: unknown): void {
  writeFileDurably(path, JSON.stringify(value, null, 2) + "\n");
}

/** Writes a new home; refuses to overwrite one. Returns what a peer needs to know of this node. */
export function initRollupHome(o: InitRollupHomeOptions): { headerSigner: Uint8Array; peerId: string } {
  const paths = rollupHomePaths(o.home);
  if (existsSync(paths.genesis)) throw new Error(`${paths.genesis} already exists; choose another --home or remove it`);
  const sequencerJson = JSON.parse(readFileSync(o.sequencerGenesis, "utf8")) as GenesisJson;
  const sequencer = genesisFromJson(sequencerJson);
  const genesis: RollupGenesisJson = {
    chain_id: o.chainId,
    address_prefix: o.addressPrefix,
    sequencer_chain_id: sequencer.chainId,
    sequencer_start_height: String(o.sequencerStartHeight ?? 1n),
    accounts: o.accounts.map((a) => ({ address: a.address, balance: String(a.balance) })),
  };
  rollupGenesisFromJson(genesis);
  mkdirSync(join(o.home, "config"), { recursive: true });
  mkdirSync(join(o.home, "data"), { recursive: true });
  writeJson(paths.sequencerGenesis, sequencerJson);
  // Kept if present: an init that failed half-way is run again without changing the node's identity.
  if (!existsSync(paths.headerKey)) writeJson(paths.headerKey, newHeaderKey());
  const nodeKey = loadOrCreateNodeKey(paths.nodeKey);
  writeJson(paths.genesis, genesis);
  return { headerSigner: publicKeyOf(readHeaderKey(paths.headerKey)), peerId: peerIdOf(nodeKey) };
}

function newHeaderKey(): HeaderKeyJson {
  let privateKey: Uint8Array;
  do privateKey = randomBytes(32);
  while (!secp256k1.privateKeyVerify(privateKey));
  return { type: "secp256k1", pub_key: Buffer.from(publicKeyOf(privateKey)).toString("hex"), priv_key: Buffer.from(privateKey).toString("hex") };
}

function readHeaderKey(path: string): Uint8Array {
  const json = JSON.parse(readFileSync(path, "utf8")) as HeaderKeyJson;
  const key = Uint8Array.from(Buffer.from(json.priv_key ?? "", "hex"));
  if (json.type !== "secp256k1" || !secp256k1.privateKeyVerify(key)) throw new Error(`${path}: not a secp256k1 private key`);
  if (Buffer.from(publicKeyOf(key)).toString("hex") !== json.pub_key) throw new Error(`${path}: pub_key does not match priv_key`);
  return key;
}

export interface RollupHome {
  home: string;
  genesis: TokenRollupGenesis;
  sequencerGenesis: Genesis;
  headerKey: Uint8Array;
  nodeKey: PrivateKey;
  dbPath: string;
}

export function loadRollupHome(home: string): RollupHome {
  const paths = rollupHomePaths(home);
  if (!existsSync(paths.genesis)) throw new Error(`no rollup genesis at ${paths.genesis}; run \`metro rollup init --home ${home} ...\` first`);
  const genesis = rollupGenesisFromJson(JSON.parse(readFileSync(paths.genesis, "utf8")) as RollupGenesisJson);
  const sequencerGenesis = genesisFromJson(JSON.parse(readFileSync(paths.sequencerGenesis, "utf8")) as GenesisJson);
  if (sequencerGenesis.chainId !== genesis.sequencerChainId) {
    throw new Error(`${paths.sequencerGenesis} is of chain ${sequencerGenesis.chainId}, the rollup follows ${genesis.sequencerChainId}`);
  }
  return { home, genesis, sequencerGenesis, headerKey: readHeaderKey(paths.headerKey), nodeKey: loadOrCreateNodeKey(paths.nodeKey), dbPath: paths.db };
}
