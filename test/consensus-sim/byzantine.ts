// Byzantine validators: an honest engine behind a lying transport that holds the validator's key.
// An equivocating proposer sends its real proposal to some peers and a different block (sometimes an
// invalid one) for the same (height, round) to the others; a double signer sends some peers a second
// vote for another block (the colluding proposer's other block when there is one) in the same
// (height, round, type); a mute one sends nothing. Each lie is fixed per (height, round), so the
// engine's re-gossip repeats it consistently.
import { ed25519Sign, ed25519Verify, type Ed25519Key } from "../../cometbft/ed25519.ts";
import type { BlockID } from "../../cometbft/header.ts";
import { decodeMessage, encodeMessage, NIL_BLOCK_ID, proposalBytesToSign, voteBytesToSign, blockKey, type ConsensusMessage } from "../../sequencer/consensus/messages.ts";
import type { ConsensusTransport } from "../../sequencer/consensus/transport.ts";
import { decodeFakeBlock, encodeFakeBlock, fakeBlockId } from "./fake-app.ts";
import type { SimNetwork } from "./network.ts";
import type { Prng } from "./prng.ts";

export type ByzantineKind = "equivocating-proposer" | "double-signer" | "mute";

export interface ByzantineStats {
  equivocatedProposals: number;
  invalidAlternatives: number;
  doubleSignedVotes: number;
  mutedMessages: number;
}

/** What colluding Byzantine validators share: the other block of each equivocated round. */
export interface Collusion {
  alternatives: Map<string, BlockID>;
}

interface Split {
  /** Peers that get the lie. */
  liars: Set<number>;
  bytes: Uint8Array | undefined;
}

export interface ByzantineOptions {
  node: number;
  kinds: ReadonlySet<ByzantineKind>;
  key: Ed25519Key;
  chainId: string;
  network: SimNetwork;
  prng: Prng;
  collusion: Collusion;
  stats: ByzantineStats;
  alive: () => boolean;
}

const roundKey = (height: bigint, round: number) => `${height}/${round}`;

export function byzantineTransport(o: ByzantineOptions): ConsensusTransport {
  const honest = o.network.transport(o.node, o.alive);
  const splits = new Map<string, Split>();
  /** Whether each proposal passing through is this node's own (it also relays others'). */
  const own = new Map<string, boolean>();
  const isOwn = (p: { signature: Uint8Array } & Parameters<typeof proposalBytesToSign>[1]) => {
    const id = Buffer.from(p.signature).toString("hex");
    let mine = own.get(id);
    if (mine === undefined) own.set(id, (mine = ed25519Verify(o.key.publicKey, proposalBytesToSign(o.chainId, p), p.signature)));
    return mine;
  };
  const peers = [...Array(o.network.nodeCount).keys()].filter((i) => i !== o.node);

  const chooseLiars = (): Set<number> => {
    const shuffled = o.prng.shuffle(peers);
    return new Set(shuffled.slice(0, o.prng.int(1, peers.length - 1)));
  };

  const sendSplit = (original: Uint8Array, split: Split) => {
    for (const peer of peers) o.network.send(o.node, peer, split.bytes && split.liars.has(peer) ? split.bytes : original);
  };

  const lieAboutProposal = (m: Extract<ConsensusMessage, { kind: "proposal" }>, original: Uint8Array): boolean => {
    const p = m.proposal;
    if (!o.kinds.has("equivocating-proposer") || !isOwn(p)) return false;
    const key = `p/${roundKey(p.height, p.round)}`;
    let split = splits.get(key);
    if (!split) {
      const block = decodeFakeBlock(p.block);
      if (!block) return false;
      const valid = !o.prng.chance(0.3);
      const alternative = encodeFakeBlock({ ...block, valid, payload: o.prng.bytes(block.payload.length + 1) });
      const blockId = fakeBlockId(alternative)!;
      const lie = { ...p, blockId, block: alternative };
      lie.signature = ed25519Sign(o.key, proposalBytesToSign(o.chainId, lie));
      split = { liars: chooseLiars(), bytes: encodeMessage({ kind: "proposal", proposal: lie }) };
      splits.set(key, split);
      o.collusion.alternatives.set(roundKey(p.height, p.round), blockId);
      o.stats.equivocatedProposals++;
      if (!valid) o.stats.invalidAlternatives++;
    }
    sendSplit(original, split);
    return true;
  };

  const lieAboutVote = (m: Extract<ConsensusMessage, { kind: "vote" }>, original: Uint8Array): boolean => {
    const v = m.vote;
    if (!o.kinds.has("double-signer") || v.validatorIndex !== o.node) return false;
    const key = `v/${v.type}/${roundKey(v.height, v.round)}`;
    let split = splits.get(key);
    if (!split) {
      const alternative = o.collusion.alternatives.get(roundKey(v.height, v.round));
      const other = alternative && blockKey(alternative) !== blockKey(v.blockId) ? alternative : blockKey(v.blockId) === "" ? undefined : NIL_BLOCK_ID;
      if (!other || !o.prng.chance(0.7)) {
        split = { liars: new Set(), bytes: undefined };
      } else {
        const lie = { ...v, blockId: other };
        lie.signature = ed25519Sign(o.key, voteBytesToSign(o.chainId, lie));
        split = { liars: chooseLiars(), bytes: encodeMessage({ kind: "vote", vote: lie }) };
        o.stats.doubleSignedVotes++;
      }
      splits.set(key, split);
    }
    sendSplit(original, split);
    return true;
  };

  return {
    onMessage: (handler) => honest.onMessage(handler),
    onPeerConnected: (handler) => honest.onPeerConnected!(handler),
    broadcast(bytes) {
      if (!o.alive()) return;
      if (o.kinds.has("mute")) {
        o.stats.mutedMessages++;
        return;
      }
      const m = decodeMessage(bytes);
      if (m.kind === "proposal" && lieAboutProposal(m, bytes)) return;
      if (m.kind === "vote" && lieAboutVote(m, bytes)) return;
      honest.broadcast(bytes);
    },
  };
}
