// genesis.json: CometBFT's genesis document with Metro's app state (params and funded accounts).
import { readFileSync } from "node:fs";
import { fromBase64, toBase64, toHexUpper } from "../cometbft/hash.ts";
import { parseRfc3339, type Timestamp } from "../cometbft/time.ts";
import { validatorAddress, type Validator } from "../cometbft/validator-set.ts";
import { DEFAULT_PARAMS, validateParams, type ChainParams } from "./params.ts";
import { parseAddress } from "./tx/address.ts";

export interface GenesisValidator extends Validator {
  name: string;
}

export interface GenesisAccount {
  address: string;
  balance: bigint;
}

export interface Genesis {
  chainId: string;
  genesisTime: Timestamp;
  initialHeight: bigint;
  validators: GenesisValidator[];
  params: ChainParams;
  accounts: GenesisAccount[];
}

export interface GenesisJson {
  genesis_time: string;
  chain_id: string;
  initial_height: string;
  validators: { address: string; pub_key: { type: "tendermint/PubKeyEd25519"; value: string }; power: string; name: string }[];
  app_hash: string;
  app_state: {
    params: { gas_base: number; gas_per_byte: number; min_gas_price: string; max_tx_bytes: number; max_rollup_data_bytes: number; max_bundle_txs: number; max_memo_chars: number; max_block_bytes: number };
    accounts: { address: string; balance: string }[];
  };
}

export function genesisToJson(g: Genesis, genesisTimeText: string): GenesisJson {
  const p = g.params;
  return {
    genesis_time: genesisTimeText,
    chain_id: g.chainId,
    initial_height: String(g.initialHeight),
    validators: g.validators.map((v) => ({
      address: toHexUpper(validatorAddress(v.pubKey)),
      pub_key: { type: "tendermint/PubKeyEd25519", value: toBase64(v.pubKey) },
      power: String(v.votingPower),
      name: v.name,
    })),
    app_hash: "",
    app_state: {
      params: {
        gas_base: p.gasBase,
        gas_per_byte: p.gasPerByte,
        min_gas_price: p.minGasPrice,
        max_tx_bytes: p.maxTxBytes,
        max_rollup_data_bytes: p.maxRollupDataBytes,
        max_bundle_txs: p.maxBundleTxs,
        max_memo_chars: p.maxMemoChars,
        max_block_bytes: p.maxBlockBytes,
      },
      accounts: g.accounts.map((a) => ({ address: a.address, balance: String(a.balance) })),
    },
  };
}

function fail(message: string): never {
  throw new Error(`invalid genesis: ${message}`);
}

export function genesisFromJson(json: GenesisJson): Genesis {
  if (!json.chain_id || !/^[a-zA-Z0-9_.-]{1,50}$/.test(json.chain_id)) fail(`chain_id ${JSON.stringify(json.chain_id)} must be 1 to 50 characters of [a-zA-Z0-9_.-]`);
  const validators = (json.validators ?? []).map((v, i) => {
    if (v.pub_key?.type !== "tendermint/PubKeyEd25519") fail(`validator ${i}: only ed25519 keys are supported`);
    const pubKey = fromBase64(v.pub_key.value);
    if (pubKey.length !== 32) fail(`validator ${i}: ed25519 key must be 32 bytes`);
    const votingPower = BigInt(v.power);
    if (votingPower <= 0n) fail(`validator ${i}: power must be positive`);
    return { name: v.name ?? `validator-${i}`, pubKey, votingPower };
  });
  if (validators.length === 0) fail("at least one validator is needed");
  const p = json.app_state?.params ?? {};
  const params: ChainParams = {
    gasBase: p.gas_base ?? DEFAULT_PARAMS.gasBase,
    gasPerByte: p.gas_per_byte ?? DEFAULT_PARAMS.gasPerByte,
    minGasPrice: p.min_gas_price ?? DEFAULT_PARAMS.minGasPrice,
    maxTxBytes: p.max_tx_bytes ?? DEFAULT_PARAMS.maxTxBytes,
    maxRollupDataBytes: p.max_rollup_data_bytes ?? DEFAULT_PARAMS.maxRollupDataBytes,
    maxBundleTxs: p.max_bundle_txs ?? DEFAULT_PARAMS.maxBundleTxs,
    maxMemoChars: p.max_memo_chars ?? DEFAULT_PARAMS.maxMemoChars,
    maxBlockBytes: p.max_block_bytes ?? DEFAULT_PARAMS.maxBlockBytes,
  };
  validateParams(params);
  const seen = new Set<string>();
  const accounts = (json.app_state?.accounts ?? []).map((a) => {
    try {
      parseAddress(a.address);
    } catch (error) {
      fail((error as Error).message);
    }
    if (seen.has(a.address)) fail(`account ${a.address} appears twice`);
    seen.add(a.address);
    if (!/^\d+$/.test(a.balance)) fail(`account ${a.address}: balance must be a non-negative integer string`);
    return { address: a.address, balance: BigInt(a.balance) };
  });
  return {
    chainId: json.chain_id,
    genesisTime: parseRfc3339(json.genesis_time),
    initialHeight: BigInt(json.initial_height ?? "1"),
    validators,
    params,
    accounts,
  };
}

export function loadGenesis(path: string): { genesis: Genesis; json: GenesisJson } {
  const json = JSON.parse(readFileSync(path, "utf8")) as GenesisJson;
  return { genesis: genesisFromJson(json), json };
}
