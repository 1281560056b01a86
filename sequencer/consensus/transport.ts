// What the consensus engine needs from the network: broadcast bytes to the committee's consensus
// topic, and hear what others broadcast. Delivery may be late, duplicated, reordered or lost; the
// engine verifies everything and re-gossips what peers may lack. Messages are one encoded
// metro.consensus.v1.ConsensusMessage each; a proposal carries its whole block, so a message can be
// as large as the chain's maximum block plus a few hundred bytes.
export type PeerId = string;

export interface ConsensusTransport {
  broadcast(message: Uint8Array): void;
  /** Optional: to one peer (a peer id as onMessage reports it); without it the engine broadcasts instead. */
  sendTo?(peer: PeerId, message: Uint8Array): void;
  onMessage(handler: (from: PeerId, message: Uint8Array) => void): void;
  /** Optional: a peer (re)connected, so it may lack anything sent meanwhile; the engine re-sends its state. */
  onPeerConnected?(handler: (peer: PeerId) => void): void;
}

