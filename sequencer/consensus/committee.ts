// A validator in a BFT committee: the libp2p validator network, the Tendermint engine with its WAL
// and double-sign guard, block sync for a node that fell behind, and mempool gossip so a
// transaction sent to any validator reaches the proposer.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Commit } from "../../cometbft/vote.ts";
import type { ExecutedBlock, SequencerApp } from "../app.ts";
import { createValidatorNetwork, type ValidatorNetwork } from "../p2p/network.ts";
import { loadOrCreateNodeKey } from "../p2p/node-key.ts";
import { TOPIC_CONSENSUS, TOPIC_MEMPOOL } from "../p2p/protocols.ts";
import type { ChainHead } from "../store/chain-store.ts";
import { blockSyncer, serveBlockSync } from "./block-sync.ts";
import { ConsensusEngine } from "./engine.ts";
import type { PrivValidator } from "./privval.ts";
import { sequencerConsensusApp } from "./sequencer-app.ts";
import type { TimeoutConfig } from "./timeouts.ts";
import { fileWalStorage, Wal } from "./wal.ts";

export interface P2pConfig {
  /** libp2p listen multiaddr; loopback unless an operator says otherwise. */
  listen: string;
  /** The other validators: /ip4/.../tcp/.../p2p/<peer id>. */
  persistentPeers: string[];
  /** Peer ids allowed to connect (the committee's). */
  allowlist: string[];
}

export interface CommitteeOptions {
  app: SequencerApp;
  privval: PrivValidator;
  nodeKeyPath: string;
  walPath: string;
  p2p: P2pConfig;
  /** The pause after a commit before the next height (CometBFT's timeout_commit): the block time. */
  blockTimeMs: number;
  timeouts?: Partial<TimeoutConfig>;
  registry: Registry;
  logger: Logger;
  onCommit: (head: ChainHead, executed: ExecutedBlock, commit: Commit) => void;
  /** A transaction gossiped by another validator, to admit locally (not gossiped again). */
  admit: (tx: Uint8Array) => Promise<void>;
}

export interface Committee {
  readonly network: ValidatorNetwork;
  readonly engine: ConsensusEngine;
  /** Tells the other validators about a transaction this node admitted. */
  gossipTx(tx: Uint8Array): void;
  stop(): Promise<void>;
}

export async function startCommittee(o: CommitteeOptions): Promise<Committee> {
  const network = createValidatorNetwork({
    privateKey: loadOrCreateNodeKey(o.nodeKeyPath),
    listen: o.p2p.listen,
    persistentPeers: o.p2p.persistentPeers,
    allowlist: o.p2p.allowlist,
    registry: o.registry,
    logger: o.logger.child({ module: "p2p" }),
  });
  const walStorage = fileWalStorage(o.walPath);
  let sync: (fromHeight: bigint) => void = () => {};
  const engine = new ConsensusEngine({
    app: sequencerConsensusApp(o.app, { onCommit: o.onCommit }),
    privval: o.privval,
    wal: new Wal(walStorage),
    transport: {
      broadcast: (m) => void network.broadcast(TOPIC_CONSENSUS, m),
      onMessage: (handler) => void network.onMessage(TOPIC_CONSENSUS, handler),
      onPeerConnected: (handler) => void network.onPeer((e) => e.type === "connect" && handler(e.peerId)),
    },
    timeouts: { ...o.timeouts, commitMs: o.blockTimeMs },
    onBehind: (height) => sync(height),
    onEvidence: (evidence) => o.logger.warn({ evidence }, "a validator double-signed"),
    onError: (error) => o.logger.error({ err: error }, "consensus error"),
  });
  sync = blockSyncer(network, engine, o.app.store, o.logger.child({ module: "blocksync" }));
  network.onMessage(TOPIC_MEMPOOL, (_from, tx) => {
    o.admit(tx).catch((error) => o.logger.debug({ err: error }, "gossiped transaction not admitted"));
  });
  await serveBlockSync(network, o.app.store);
  await network.start();
  await engine.start();
  o.logger.info({ peerId: network.peerId, addresses: network.addresses, peers: o.p2p.persistentPeers.length }, "validator network started");
  return {
    network,
    engine,
    gossipTx: (tx) => void network.broadcast(TOPIC_MEMPOOL, tx),
    async stop() {
      await engine.stop();
      await network.stop();
      walStorage.close();
    },
  };
}
