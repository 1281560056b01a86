// A small Metro network of real processes for the user commands: the local DA (`metro da serve`), one
// sequencer validator running the relayer in-node (`metro sequencer start --da-url`) and one token
// rollup node (`metro rollup start`), with a devnet.json describing them in <dir>/.metro/devnet, so
// `metro ...` run with cwd <dir> needs no flags. runMetro() drives the CLI as a child process.
import { spawn } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { toBech32, fromBech32 } from "@cosmjs/encoding";
import { DirectSecp256k1HdWallet } from "@cosmjs/proto-signing";
import type { DevnetFile } from "../../cli/context.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";
import { onStop, tempDir } from "../relayer/harness.ts";

export { onStop, stopAll } from "../relayer/harness.ts";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));

export const ROLLUP = "tokens-1";
export const PREFIX = "tok";

export interface Account {
  name: string;
  mnemonic: string;
  address: string;
  rollupAddress: string;
}

export interface Network {
  /** The working directory: its .metro/devnet/devnet.json describes the network. */
  dir: string;
  devnet: DevnetFile;
  accounts: Record<string, Account>;
}

export interface Funding {
  name: string;
  /** umetro on the sequencer. */
  sequencer: bigint;
  /** Tokens on the rollup (0: not in its genesis). */
  rollup: bigint;
}

async function account(name: string): Promise<Account> {
  const wallet = await DirectSecp256k1HdWallet.generate(12, { prefix: "metro" });
  const [{ address }] = await wallet.getAccounts();
  return { name, mnemonic: wallet.mnemonic, address, rollupAddress: toBech32(PREFIX, fromBech32(address, 90).data) };
}

function started(process: MetroProcess): MetroProcess {
  onStop(() => process.kill());
  return process;
}

export async function startNetwork(funding: Funding[]): Promise<Network> {
  const dir = tempDir("metro-cli-");
  const accounts = Object.fromEntries(await Promise.all(funding.map(async (f) => [f.name, await account(f.name)] as const)));
  const da = started(await startMetro(["da", "serve", "--port", "0", "--home", join(dir, "da"), "--block-time", "200"]));

  const seqHome = join(dir, "sequencer");
  const seqFunding = funding.flatMap((f) => ["--account", `${accounts[f.name].address}:${f.sequencer}`]);
  await (await startMetro(["sequencer", "init", "--home", seqHome, "--chain-id", "metro-cli-1", "--block-time", "200", ...seqFunding], "initialized")).exited;
  const seq = started(await startMetro(["sequencer", "start", "--home", seqHome, "--rpc", "127.0.0.1:0", "--metrics", "off", "--da-url", String(da.ready.url)]));

  const rollupHome = join(dir, "rollup");
  const rollupFunding = funding.filter((f) => f.rollup > 0n).flatMap((f) => ["--account", `${accounts[f.name].rollupAddress}:${f.rollup}`]);
  const genesis = join(seqHome, "config", "genesis.json");
  await (await startMetro(["rollup", "init", "--home", rollupHome, "--chain-id", ROLLUP, "--prefix", PREFIX, "--sequencer-genesis", genesis, ...rollupFunding], "initialized")).exited;
  const rollup = started(
    await startMetro(["rollup", "start", "--home", rollupHome, "--sequencer-rpc", String(seq.ready.websocket), "--da-url", String(da.ready.url), "--api", "127.0.0.1:0", "--da-poll-interval", "300"]),
  );

  const devnet: DevnetFile = {
    home: dir,
    da: { url: String(da.ready.url) },
    sequencer: { chainId: "metro-cli-1", minGasPrice: "0.025", rpc: [String(seq.ready.url)], websocket: [String(seq.ready.websocket)], metrics: [] },
    rollups: [{ secondaryChainId: ROLLUP, addressPrefix: PREFIX, nodes: [String(rollup.ready.api)] }],
    accounts: Object.values(accounts).map(({ name, mnemonic, address }) => ({ name, mnemonic, address })),
  };
  mkdirSync(join(dir, ".metro", "devnet"), { recursive: true });
  writeFileSync(join(dir, ".metro", "devnet", "devnet.json"), JSON.stringify(devnet, null, 2));
  return { dir, devnet, accounts };
}

export interface MetroRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout's lines that are JSON (with --json: all of them). */
  json: Record<string, any>[];
}

/** Runs `metro <args>` in the network's directory to its exit (killed after `timeoutMs`). */
export function runMetro(net: Network, args: string[], timeoutMs = 40_000): Promise<MetroRun> {
  const child = spawn(process.execPath, [METRO, ...args], { cwd: net.dir, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  return new Promise((resolve) =>
    child.on("close", (code) => {
      clearTimeout(timer);
      const json = stdout.split("\n").flatMap((line) => {
        try {
          return line.startsWith("{") ? [JSON.parse(line)] : [];
        } catch {
          return [];
        }
      });
      resolve({ code, stdout, stderr, json });
    }),
  );
}

/** A local port with nothing listening on it. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
