// Where user commands find the network and keys: explicit flags first, else the devnet file that
// `metro devnet` writes (default .metro/devnet/devnet.json), so `metro send` just works locally.
import { existsSync, readFileSync } from "node:fs";
import { Bip39, EnglishMnemonic, Slip10, Slip10Curve } from "@cosmjs/crypto";
import { fromBech32, toBech32 } from "@cosmjs/encoding";
import { DirectSecp256k1Wallet, makeCosmoshubPath } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { ADDRESS_PREFIX, FEE_DENOM } from "../sequencer/params.ts";
import { metroRegistry } from "../sequencer/client/registry.ts";
import { unreachableSequencer } from "./sequencer-rpc.ts";

export const DEFAULT_DEVNET_FILE = ".metro/devnet/devnet.json";

export interface DevnetAccount {
  name: string;
  mnemonic: string;
  address: string;
  /** The same key's address on each rollup, by secondary chain id. */
  rollupAddresses?: Record<string, string>;
}

export interface DevnetRollup {
  secondaryChainId: string;
  addressPrefix: string;
  /** API URLs of the rollup's nodes. */
  nodes: string[];
}

/** What `metro devnet` writes to <home>/devnet.json. */
export interface DevnetFile {
  home: string;
  da: { url: string; token?: string };
  sequencer: { chainId: string; minGasPrice: string; rpc: string[]; websocket: string[]; metrics: string[] };
  /** `status`: GET <status>?height=N|hash=H answers as metro_da_status does. */
  relayer?: { metrics?: string; status?: string };
  rollups: DevnetRollup[];
  accounts: DevnetAccount[];
  /** How `metro devnet` made this network; a restart uses the same. */
  settings?: { basePort: number; blockTimeMs: number; daBlockTimeMs: number; localDa: boolean };
}

export interface NetworkOptions {
  node?: string;
  devnet?: string;
  from?: string;
  gasPrice?: string;
}

export function readDevnet(path = DEFAULT_DEVNET_FILE): DevnetFile | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, "utf8")) as DevnetFile;
  } catch (error) {
    throw new Error(`the devnet file ${path} is not valid JSON (${(error as Error).message}); restart the devnet with \`npm start -- --reset\` or pass --devnet <file>`);
  }
}

function devnetOrFail(o: NetworkOptions, what: string): DevnetFile {
  const devnet = readDevnet(o.devnet);
  if (!devnet) throw new Error(`no ${what} given and no devnet file at ${o.devnet ?? DEFAULT_DEVNET_FILE}; start one with \`npm start\` or pass ${what}`);
  return devnet;
}

export function sequencerRpc(o: NetworkOptions): string {
  return sequencerRpcs(o)[0];
}

/** Every sequencer RPC endpoint known: --node, else the devnet's validators (C0 receipts are kept by the node that admitted the tx). */
export function sequencerRpcs(o: NetworkOptions): string[] {
  return o.node ? [o.node] : devnetOrFail(o, "--node <rpc url>").sequencer.rpc;
}

export interface Signer {
  /** The cosmjs signer (SIGN_MODE_DIRECT) of the Metro account. */
  wallet: DirectSecp256k1Wallet;
  address: string;
  /** The devnet account name, or "(mnemonic)". */
  name: string;
  /** The secp256k1 private key: the same key signs the user's rollup transactions. */
  privateKey: Uint8Array;
  /** 33 bytes, compressed. */
  publicKey: Uint8Array;
}

/** A mnemonic's key on the Cosmos Hub path (m/44'/118'/0'/0/0), as cosmjs and Keplr derive it. */
async function keyFromMnemonic(mnemonic: string): Promise<Uint8Array> {
  let checked: EnglishMnemonic;
  try {
    checked = new EnglishMnemonic(mnemonic.trim().split(/\s+/).join(" "));
  } catch (error) {
    throw new Error(`--from is not a valid BIP-39 mnemonic (${(error as Error).message}); give a devnet account name (\`metro keys list\`) or the 12 or 24 words`);
  }
  return Slip10.derivePath(Slip10Curve.Secp256k1, await Bip39.mnemonicToSeed(checked), makeCosmoshubPath(0)).privkey;
}

function devnetAccount(o: NetworkOptions, name: string): DevnetAccount {
  const devnet = devnetOrFail(o, "--from <mnemonic>");
  const account = devnet.accounts.find((a) => a.name === name);
  if (!account) throw new Error(`no devnet account named ${JSON.stringify(name)}; known: ${devnet.accounts.map((a) => a.name).join(", ")} (or give a mnemonic)`);
  return account;
}

/** A key from a devnet account name, a mnemonic in --from, or METRO_MNEMONIC. */
export async function wallet(o: NetworkOptions): Promise<Signer> {
  const from = o.from ?? process.env.METRO_MNEMONIC;
  if (!from) throw new Error("say who signs: --from <devnet account name or mnemonic>, or set METRO_MNEMONIC");
  const isMnemonic = from.trim().split(/\s+/).length >= 12;
  const name = isMnemonic ? "(mnemonic)" : from;
  const privateKey = await keyFromMnemonic(isMnemonic ? from : devnetAccount(o, from).mnemonic);
  const w = await DirectSecp256k1Wallet.fromKey(privateKey, ADDRESS_PREFIX);
  const [{ address, pubkey }] = await w.getAccounts();
  return { wallet: w, address, name, privateKey, publicKey: pubkey };
}

export async function signingClient(o: NetworkOptions, known?: Signer) {
  const signer = known ?? (await wallet(o));
  const gasPriceText = o.gasPrice ?? `${readDevnet(o.devnet)?.sequencer.minGasPrice ?? "0.025"}${FEE_DENOM}`;
  let gasPrice: GasPrice;
  try {
    gasPrice = GasPrice.fromString(gasPriceText);
  } catch {
    throw new Error(`--gas-price must be an amount and a denom, such as 0.025${FEE_DENOM}; got ${JSON.stringify(gasPriceText)}`);
  }
  const url = sequencerRpc(o);
  let client: SigningStargateClient;
  try {
    client = await SigningStargateClient.connectWithSigner(url, signer.wallet, { registry: metroRegistry(), gasPrice, broadcastPollIntervalMs: 250 });
  } catch (error) {
    throw unreachableSequencer(url, error);
  }
  return { client, url, ...signer };
}

export async function queryClient(o: NetworkOptions): Promise<StargateClient> {
  const url = sequencerRpc(o);
  try {
    return await StargateClient.connect(url);
  } catch (error) {
    throw unreachableSequencer(url, error);
  }
}

/** The 20 bytes of a bech32 account address with any prefix (the same key is one account on every layer), or undefined. */
export function addressBytesOf(address: string): Uint8Array | undefined {
  try {
    const { data } = fromBech32(address, 90);
    return data.length === 20 ? data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A devnet account name or any bech32 address (metro1…, or a rollup's tok1…), as the address with
 * `prefix` (default: Metro's). Says what to give instead when it is neither.
 */
export function addressOf(nameOrAddress: string, o: NetworkOptions, prefix = ADDRESS_PREFIX): string {
  const named = readDevnet(o.devnet)?.accounts.find((a) => a.name === nameOrAddress)?.address;
  const bytes = addressBytesOf(named ?? nameOrAddress);
  if (bytes === undefined) {
    const names = readDevnet(o.devnet)?.accounts.map((a) => a.name);
    throw new Error(`${JSON.stringify(nameOrAddress)} is neither an address (bech32, 20 bytes) nor a devnet account name${names ? ` (known: ${names.join(", ")})` : ""}`);
  }
  return toBech32(prefix, bytes);
}
