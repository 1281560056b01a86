// `metro sequencer ...`: create and run a sequencer node.
import { Command, InvalidArgumentError } from "commander";
import { existsSync } from "node:fs";
import { initHome } from "../sequencer/init.ts";
import { homePaths } from "../sequencer/config.ts";
import { SequencerNode } from "../sequencer/node.ts";
import { startRpcServer } from "../sequencer/rpc/server.ts";
import { startMetricsServer } from "../sequencer/rpc/metrics-server.ts";
import { startRelayer } from "../sequencer/relayer/relayer.ts";
import { nodeSource } from "../sequencer/relayer/node-source.ts";
import { Registry } from "prom-client";
import { parseAddress } from "../sequencer/tx/address.ts";
import { cliLogger, untilSignal } from "./logger.ts";
import { integer } from "./options.ts";

function account(value: string, previous: { address: string; balance: bigint }[] = []) {
  const [address, amount] = value.split(":");
  try {
    parseAddress(address);
  } catch (error) {
    throw new InvalidArgumentError(`${(error as Error).message}; use --account metro1...:AMOUNT`);
  }
  if (!/^\d+$/.test(amount ?? "")) throw new InvalidArgumentError(`missing or bad amount in ${JSON.stringify(value)}; use --account metro1...:AMOUNT (umetro)`);
  return [...previous, { address, balance: BigInt(amount) }];
}

export function sequencerCommand(): Command {
  const cmd = new Command("sequencer").description("the sequencer chain: orders rollup transactions and charges gas");

  cmd
    .command("init")
    .description("create a home directory: validator key, config and a single-validator genesis")
    .requiredOption("--home <dir>", "home directory to create")
    .option("--chain-id <id>", "chain id", "metro-local-1")
    .option("--moniker <name>", "this node's name", "validator-0")
    .option("--account <address:amount>", "fund an account in genesis (repeatable)", account, [])
    .option("--block-time <ms>", "block time in milliseconds", integer(10), 1000)
    .action((o: { home: string; chainId: string; moniker: string; account: { address: string; balance: bigint }[]; blockTime: number }) => {
      const genesis = initHome({ home: o.home, chainId: o.chainId, moniker: o.moniker, accounts: o.account, config: { blockTimeMs: o.blockTime } });
      console.log(JSON.stringify({ event: "initialized", home: o.home, chainId: genesis.chainId, genesis: homePaths(o.home).genesis }));
    });

  cmd
    .command("start")
    .description("run the node in --home: block production, the CometBFT-compatible RPC and metrics")
    .requiredOption("--home <dir>", "home directory made by `metro sequencer init`")
    .option("--rpc <host:port>", "RPC listen address (default from config, 127.0.0.1:26657)")
    .option("--metrics <host:port>", "Prometheus listen address, or 'off' (default from config)")
    .option("--block-time <ms>", "override the configured block time", integer(10))
    .option("--da-url <url>", "also run the relayer in this node, posting to this celestia-node (or `metro da serve`) endpoint")
    .option("--da-token <token>", "auth token for --da-url")
    .option("--log-level <level>", "trace, debug, info, warn or error")
    .action(async (o: { home: string; rpc?: string; metrics?: string; blockTime?: number; daUrl?: string; daToken?: string; logLevel?: string }) => {
      if (!existsSync(homePaths(o.home).genesis)) {
        throw new InvalidArgumentError(`no genesis in ${o.home}; create one with: metro sequencer init --home ${o.home}`);
      }
      const logger = cliLogger("sequencer", o.logLevel);
      const node = await SequencerNode.open(o.home, { logger, config: o.blockTime ? { blockTimeMs: o.blockTime } : {} });
      await node.start();
      const relayer = o.daUrl
        ? await startRelayer({
            source: nodeSource(node),
            da: { url: o.daUrl, token: o.daToken },
            home: o.home,
            logger: logger.child({ module: "relayer" }),
            onBackPressure: (event) => logger.warn(event, "posting to the DA layer is falling behind"),
          })
        : undefined;
      const rpc = await startRpcServer(node, { listen: o.rpc, daStatus: relayer });
      const metricsListen = o.metrics ?? node.config.metricsListen;
      const registry = relayer ? Registry.merge([node.metrics.registry, relayer.metrics.registry]) : node.metrics.registry;
      const metrics = metricsListen && metricsListen !== "off" ? await startMetricsServer(registry, metricsListen) : undefined;
      console.log(JSON.stringify({ event: "listening", url: rpc.url, websocket: rpc.websocketUrl, metrics: metrics?.url, chainId: node.chainId, height: node.head.height, relayer: relayer !== undefined }));
      const signal = await untilSignal();
      logger.info({ signal }, "shutting down");
      await rpc.close();
      await metrics?.close();
      // The relayer reads the node's store: it stops first.
      await relayer?.close();
      await node.stop();
    });

  return cmd;
}
