// A validator in a BFT committee: the libp2p validator network, the Tendermint engine with its WAL
// and double-sign guard, block sync for a node that fell behind, and mempool gossip so a
// transaction sent to any validator reaches the proposer.
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { Commit } from "../../cometbft/vote.ts";
import type { ExecutedBlock, SequencerApp } from "../app.ts";
import { decodeTxBatch, DEFAULT_GOSSIP_BATCH_BYTES, DEFAULT_GOSSIP_FLUSH_MS, TxGossip } from "../mempool/gossip.ts";
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
  /** The interval between heights (the commit timeout, shortened by the time the height took; see engine.ts). */
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
  /** Tells the other validators about a transaction this node admitted (in the next batch). */
  gossipTx(tx: Uint8Array): void;
  stop(): Promise<void>;
}

export async function startCommittee(o: CommitteeOptions): Promise<Committee> {
  // Each part names its module once, on the node's logger: pino repeats a key bound twice.
  const log = o.logger.child({ module: "consensus" });
  const network = createValidatorNetwork({
    privateKey: loadOrCreateNodeKey(o.nodeKeyPath),
    listen: o.p2p.listen,
    persistentPeers: o.p2p.persistentPeers,
    allowlist: o.p2p.allowlist,
    registry: o.registry,
    logger: o.logger,
  });
  const walStorage = fileWalStorage(o.walPath);
  let sync: (fromHeight: bigint) => void = () => {};
  const engine = new ConsensusEngine({
    app: sequencerConsensusApp(o.app, { onCommit: o.onCommit }),
    privval: o.privval,
    wal: new Wal(walStorage),
    transport: {
      broadcast: (m) => void network.broadcast(TOPIC_CONSENSUS, m),
      sendTo: (peer, m) => void network.sendTo(peer, TOPIC_CONSENSUS, m),
      onMessage: (handler) => void network.onMessage(TOPIC_CONSENSUS, handler),
      onPeerConnected: (handler) => void network.onPeer((e) => e.type === "connect" && handler(e.peerId)),
    },
    timeouts: { ...o.timeouts, commitMs: o.blockTimeMs },
    onBehind: (height) => sync(height),
    onEvidence: (evidence) => log.warn({ evidence }, "a validator double-signed"),
    onError: (error) => log.error({ err: error }, "consensus error"),
  });
  sync = blockSyncer(network, engine, o.app.store, o.logger.child({ module: "blocksync" }));
  const gossip = new TxGossip({
    send: (batch) => {
      try {
        network.broadcast(TOPIC_MEMPOOL, batch);
      } catch (error) {
        log.error({ err: error, bytes: batch.length }, "could not gossip transactions");
      }
    },
    maxBatchBytes: DEFAULT_GOSSIP_BATCH_BYTES,
    flushMs: DEFAULT_GOSSIP_FLUSH_MS,
  });
  // Gossiped batches are admitted in the order they arrived, one transaction at a time (so a
  // sender's sequence run arrives in order even when batches from several peers overlap), and one
  // batch per turn of the event loop: a backlog admitted in one go, a chain of microtasks, held off
  // RPC requests and consensus messages for up to half a second.
  const received: Uint8Array[][] = [];
  let admitting = false;
  const admitReceived = async () => {
    while (received.length > 0) {
      for (const tx of received.shift()!) await o.admit(tx).catch((error) => log.debug({ err: error }, "gossiped transaction not admitted"));
      await new Promise((resolve) => setImmediate(resolve));
    }
    admitting = false;
  };
  network.onMessage(TOPIC_MEMPOOL, (from, batch) => {
    try {
      received.push(decodeTxBatch(batch, o.app.genesis.params.maxTxBytes));
    } catch (error) {
      log.warn({ err: error, peer: from }, "malformed transaction batch");
      return;
    }
    if (!admitting) {
      admitting = true;
      void admitReceived();
    }
  });
  await serveBlockSync(network, o.app.store);
  await network.start();
  await engine.start();
  log.info({ peerId: network.peerId, addresses: network.addresses, peers: o.p2p.persistentPeers.length }, "validator network started");
  return {
    network,
    engine,
    gossipTx: (tx) => gossip.add(tx),
    async stop() {
      gossip.stop();
      await engine.stop();
      await network.stop();
      walStorage.close();
    },
  };
}
