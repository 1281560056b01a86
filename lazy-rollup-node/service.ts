// A running token rollup node: its home's stores opened, the soft follower on the sequencer RPC
// endpoints, the firm follower on Celestia, header gossip among the rollup's known full nodes, and
// the API. What `metro rollup start` runs, and what the tests start in-process.
import type { Logger } from "pino";
import { Level } from "level";
import { DaClient } from "../celestia/da-client.ts";
import type { Db } from "../merkle-store/index.ts";
import { startApi, type ApiServer } from "./api.ts";
import { readBundleMembers } from "./bundle-members.ts";
import { loadRollupHome, type RollupHome } from "./config.ts";
import { followFirm } from "./firm-follower.ts";
import { startHeaderGossip, type HeaderGossip, type HeaderGossipOptions } from "./header-gossip.ts";
import { rollupMetrics } from "./metrics.ts";
import { RollupNode } from "./node.ts";
import { sequencerFeed } from "./sequencer-feed.ts";
import { followSoft } from "./soft-follower.ts";
import { validatorSetFetcher } from "./validator-set-rpc.ts";
import { tokenRollup } from "./token/machine.ts";
import type { TokenGenesis } from "./token/genesis.ts";

export interface RollupServiceOptions {
  home: string;
  /** Sequencer RPC endpoints, in order of preference (failover to the next on error). */
  sequencerRpc: string[];
  da: { url: string; token?: string };
  /** API host:port. Default 127.0.0.1:26670; port 0 picks a free one. */
  api?: string;
  /** Header gossip; none when omitted. */
  p2p?: Omit<HeaderGossipOptions, "node" | "privateKey" | "registry" | "logger">;
  maxSoftAheadBlocks?: number;
  /** Leave a sequencer endpoint that sends no block for this long. Default 15 s. */
  sequencerStallTimeoutMs?: number;
  /** The first DA height to read on a fresh node. Default 1. */
  daStartHeight?: number;
  daPollIntervalMs?: number;
  logger: Logger;
}

export interface RollupService {
  node: RollupNode<TokenGenesis>;
  home: RollupHome;
  api: ApiServer;
  gossip?: HeaderGossip;
  /** Stops everything and closes the database. */
  close(): Promise<void>;
}

export const DEFAULT_API_LISTEN = "127.0.0.1:26670";

export async function startRollupService(o: RollupServiceOptions): Promise<RollupService> {
  const home = loadRollupHome(o.home);
  const { genesis, sequencerGenesis } = home;
  const logger = o.logger.child({ rollup: genesis.chain.chainId });
  const metrics = rollupMetrics();
  const db = new Level<Uint8Array, Uint8Array>(home.dbPath, { keyEncoding: "view", valueEncoding: "view" });
  await db.open();
  const stop = new AbortController();
  const running: Promise<void>[] = [];
  let node: RollupNode<TokenGenesis> | undefined;
  let api: ApiServer | undefined;
  let gossip: HeaderGossip | undefined;
  const da = new DaClient({ url: o.da.url, token: o.da.token });

  const close = async () => {
    stop.abort();
    await Promise.allSettled(running);
    await node?.idle();
    await api?.close();
    await gossip?.stop();
    await da.close();
    await db.close();
  };

  try {
    node = await RollupNode.open({
      db: db as unknown as Db,
      machine: tokenRollup({ chainId: genesis.chain.chainId, addressPrefix: genesis.addressPrefix }),
      chain: genesis.chain,
      genesis: genesis.state,
      sequencer: sequencerGenesis,
      fetchValidatorSet: validatorSetFetcher({ endpoints: o.sequencerRpc, logger, metrics }),
      headerKey: home.headerKey,
      maxSoftAheadBlocks: o.maxSoftAheadBlocks,
      logger,
      metrics,
    });
    if (o.p2p) gossip = await startHeaderGossip({ ...o.p2p, node, privateKey: home.nodeKey, registry: metrics.registry, logger });
    api = await startApi({
      node,
      listen: o.api ?? DEFAULT_API_LISTEN,
      registry: metrics.registry,
      tokenAddressPrefix: genesis.addressPrefix,
      status: () => (gossip ? { p2p: gossip.status() } : {}),
      logger,
    });
    const run = (name: string, loop: Promise<void>) =>
      running.push(
        loop.catch((error: unknown) => {
          if (!stop.signal.aborted) logger.fatal({ err: error }, `${name} stopped`);
        }),
      );
    const started = node;
    run("soft follower", followSoft({ node: started, feed: sequencerFeed({ endpoints: o.sequencerRpc, genesis: sequencerGenesis, validatorSets: started.validatorSets, logger, metrics, stallTimeoutMs: o.sequencerStallTimeoutMs }), logger, metrics }, stop.signal));
    run(
      "firm follower",
      followFirm(
        { da, node: started, sequencerChainId: sequencerGenesis.chainId, startDaHeight: o.daStartHeight, pollIntervalMs: o.daPollIntervalMs, bundleMembers: (firm) => readBundleMembers(da, firm, logger), logger, metrics },
        stop.signal,
      ),
    );
    return { node: started, home, api, gossip, close };
  } catch (error) {
    await close();
    throw error;
  }
}
