// Signed headers among a rollup's known full nodes, over the validator network's transport (libp2p,
// TCP + Noise, a full mesh, allowlisted peers) on one topic per rollup. Each node announces every
// header it derives, and its latest to a peer that connects. A header received from a configured
// header signer is compared with the node's own at that height (at once, or when the node derives
// it): a validly signed header whose state root differs raises the alarm and its evidence is kept;
// other differences are kept as evidence and logged. Headers signed by anyone else are dropped.
import type { Logger } from "pino";
import type { PrivateKey } from "@libp2p/interface";
import { multiaddr } from "@multiformats/multiaddr";
import type { Registry } from "prom-client";
import { toHexUpper } from "../cometbft/hash.ts";
import { multiaddrPeerId } from "../sequencer/p2p/gater.ts";
import { createValidatorNetwork, type ValidatorNetwork } from "../sequencer/p2p/network.ts";
import { headerJson } from "./api-json.ts";
import { compareHeaders } from "./header-compare.ts";
import { decodeSignedHeader, encodeSignedHeader, verifySignedHeader, type SignedHeader } from "./header-signature.ts";
import { HeaderFormatError, headerHash } from "./header.ts";
import type { RollupNode } from "./node.ts";

export interface HeaderGossipOptions {
  node: RollupNode<any>;
  /** The node key (libp2p identity). */
  privateKey: PrivateKey;
  /** Multiaddrs to listen on. Default /ip4/127.0.0.1/tcp/0. */
  listen?: string[];
  /** The rollup's other full nodes: multiaddrs ending in /p2p/<peer id>, dialed and redialed. */
  peers: string[];
  /** Peer ids also accepted when they connect (nodes whose address is not known here). */
  allowPeers?: string[];
  /** secp256k1 public keys (33 bytes) whose signed headers are compared with this node's. */
  trustedSigners: Uint8Array[];
  registry: Registry;
  logger: Logger;
}

export interface HeaderGossip {
  readonly peerId: string;
  readonly addresses: string[];
  status(): { peer_id: string; addresses: string[]; peers: string[]; headers_received: Record<string, number> };
  stop(): Promise<void>;
}

/** Headers received from trusted signers ahead of this node's own, kept for comparison when it catches up. */
const MAX_PENDING_HEADERS = 10_000;

export function headerTopic(chainId: string): string {
  return `rollup-headers/${chainId}`;
}

export async function startHeaderGossip(o: HeaderGossipOptions): Promise<HeaderGossip> {
  const { node, logger } = o;
  const log = logger.child({ module: "header-gossip" });
  const topic = headerTopic(node.chain.chainId);
  const allowlist = [...new Set([...o.peers.map((address) => multiaddrPeerId(multiaddr(address)) ?? ""), ...(o.allowPeers ?? [])])].filter((id) => id !== "");
  const net: ValidatorNetwork = createValidatorNetwork({
    privateKey: o.privateKey,
    listen: o.listen,
    persistentPeers: o.peers,
    allowlist,
    topics: [topic],
    // A node catching up derives (and announces) headers as fast as it confirms blocks.
    limits: { channels: { [topic]: { maxMessageBytes: 64 * 1024, messagesPerSecond: 10_000, bytesPerSecond: 16 * 1024 * 1024, burstSeconds: 4 } } },
    registry: o.registry,
    logger,
  });
  const counts: Record<string, number> = {};
  const count = (result: string) => {
    counts[result] = (counts[result] ?? 0) + 1;
    node.metrics.headersReceived.inc({ result });
  };
  /** Height -> the trusted headers received for it before this node derived its own. */
  const pending = new Map<bigint, { signed: SignedHeader; signer: Uint8Array }[]>();
  const alarmed = new Set<string>();
  let queue = Promise.resolve();

  const compare = async (signed: SignedHeader, signer: Uint8Array) => {
    const local = await node.headers.header(signed.header.height);
    if (local === undefined) {
      if (pending.size >= MAX_PENDING_HEADERS && !pending.has(signed.header.height)) pending.delete(pending.keys().next().value!);
      pending.set(signed.header.height, [...(pending.get(signed.header.height) ?? []), { signed, signer }]);
      count("pending");
      return;
    }
    const outcome = compareHeaders(local, signed, signer);
    if (outcome.kind === "match") return count("match");
    if (outcome.kind === "invalid-signature") return count("invalid_signature");
    count("conflict");
    await node.headers.putEvidence(outcome.evidence);
    const key = `${signed.header.height}/${toHexUpper(headerHash(signed.header))}/${toHexUpper(signer)}`;
    const details = { signer: toHexUpper(signer), fields: outcome.evidence.fields, local: headerJson(local), received: headerJson(signed.header), signature: toHexUpper(signed.signature) };
    if (!outcome.stateRootDiffers) {
      log.warn({ height: Number(local.height), ...details }, "a trusted signer's header differs from ours (not in its state root); evidence kept");
      return;
    }
    if (alarmed.has(key)) return;
    alarmed.add(key);
    await node.raiseAlarm("header-conflict", `header signer ${toHexUpper(signer)} signed rollup header ${local.height} with state root ${toHexUpper(signed.header.stateRoot)}; this node has ${toHexUpper(local.stateRoot)}`, details, local.height);
  };

  const receive = (from: string, payload: Uint8Array) => {
    let signed: SignedHeader;
    try {
      signed = decodeSignedHeader(payload);
    } catch (error) {
      if (!(error instanceof HeaderFormatError)) throw error;
      count("malformed");
      log.debug({ peer: from, err: error.message }, "dropped a gossiped header that does not decode");
      return;
    }
    if (signed.header.chainId !== node.chain.chainId || signed.header.height < 1n) return count("wrong_chain");
    const signer = o.trustedSigners.find((key) => verifySignedHeader(signed, key));
    if (signer === undefined) return count("untrusted");
    queue = queue.then(() => compare(signed, signer)).catch((error: unknown) => log.error({ err: error }, "comparing a gossiped header failed"));
  };

  net.onMessage(topic, receive);
  const offs = [
    node.on("header", (signed) => {
      net.broadcast(topic, encodeSignedHeader(signed));
      const waiting = pending.get(signed.header.height);
      if (waiting === undefined) return;
      pending.delete(signed.header.height);
      for (const w of waiting) queue = queue.then(() => compare(w.signed, w.signer)).catch((error: unknown) => log.error({ err: error }, "comparing a gossiped header failed"));
    }),
    // A peer that was away missed our announcements: tell it where we are.
    net.onPeer(({ peerId, type }) => {
      const latest = node.headers.latest;
      if (type !== "connect" || latest === undefined) return;
      void node.signedHeader(latest.height).then((signed) => signed && net.sendTo(peerId, topic, encodeSignedHeader(signed)));
    }),
  ];
  await net.start();
  return {
    peerId: net.peerId,
    get addresses() {
      return net.addresses;
    },
    status: () => ({ peer_id: net.peerId, addresses: net.addresses, peers: net.connectedPeers(), headers_received: { ...counts } }),
    async stop() {
      for (const off of offs) off();
      await net.stop();
      await queue;
    },
  };
}
