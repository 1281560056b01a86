// Where user commands find the network and keys: explicit flags first, else the devnet file that
// `metro devnet` writes (default .metro/devnet/devnet.json), so `metro send` just works locally.
import { existsSync, readFileSync } from "node:fs";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import { GasPrice, SigningStargateClient, StargateClient } from "@cosmjs/stargate";
import { ADDRESS_PREFIX, FEE_DENOM } from "../sequencer/params.ts";
import { metroRegistry } from "../sequencer/client/registry.ts";

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
  relayer?: { metrics?: string };
  rollups: DevnetRollup[];
  accounts: DevnetAccount[];
  /** How `metro devnet` made this network; a restart uses the same. */
  settings?: { basePort: number; blockTimeMs: number; daBlockTimeMs: number };
}

export interface NetworkOptions {
  node?: string;
  devnet?: string;
  from?: string;
  gasPrice?: string;
}

export function readDevnet(path = DEFAULT_DEVNET_FILE): DevnetFile | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, "utf8")) as DevnetFile;
}

function devnetOrFail(o: NetworkOptions, what: string): DevnetFile {
  const devnet = readDevnet(o.devnet);
  if (!devnet) throw new Error(`no ${what} given and no devnet file at ${o.devnet ?? DEFAULT_DEVNET_FILE}; start one with \`npm start\` or pass ${what}`);
  return devnet;
}

export function sequencerRpc(o: NetworkOptions): string {
  return o.node ?? devnetOrFail(o, "--node <rpc url>").sequencer.rpc[0];
}

/** A key from a devnet account name, a mnemonic in --from, or METRO_MNEMONIC. */
export async function wallet(o: NetworkOptions): Promise<{ wallet: DirectSecp256k1HdWallet; address: string; name: string }> {
  const from = o.from ?? process.env.METRO_MNEMONIC;
  if (!from) throw new Error("say who signs: --from <devnet account name or mnemonic>, or set METRO_MNEMONIC");
  let mnemonic = from;
  let name = "(mnemonic)";
  if (from.trim().split(/\s+/).length < 12) {
    const account = devnetOrFail(o, "--from <mnemonic>").accounts.find((a) => a.name === from);
    if (!account) throw new Error(`no devnet account named ${JSON.stringify(from)}; known: ${devnetOrFail(o, "").accounts.map((a) => a.name).join(", ")}`);
    mnemonic = account.mnemonic;
    name = account.name;
  }
  const w = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: ADDRESS_PREFIX });
  const [{ address }] = await w.getAccounts();
  return { wallet: w, address, name };
}

export async function signingClient(o: NetworkOptions) {
  const signer = await wallet(o);
  const gasPrice = o.gasPrice ?? `${readDevnet(o.devnet)?.sequencer.minGasPrice ?? "0.025"}${FEE_DENOM}`;
  const client = await SigningStargateClient.connectWithSigner(sequencerRpc(o), signer.wallet, {
    registry: metroRegistry(),
    gasPrice: GasPrice.fromString(gasPrice),
    broadcastPollIntervalMs: 250,
  });
  return { client, ...signer };
}

export async function queryClient(o: NetworkOptions): Promise<StargateClient> {
  return StargateClient.connect(sequencerRpc(o));
}

/** Resolves a devnet account name to its address; anything else is taken as an address. */
export function addressOf(nameOrAddress: string, o: NetworkOptions): string {
  return readDevnet(o.devnet)?.accounts.find((a) => a.name === nameOrAddress)?.address ?? nameOrAddress;
}
