// Who may hold a connection to this validator: the allowlisted committee, minus peers banned for
// flooding. Enforced in libp2p's connection gater in both directions, as soon as the remote peer id
// is known (before dialing when we know whom we dial, right after the Noise handshake otherwise),
// so a stranger never reaches the muxer, let alone a stream handler.
import type { ConnectionGater, PeerId } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";

export type Refusal = "not_allowlisted" | "banned";
export type Direction = "inbound" | "outbound";

export class PeerAdmission {
  readonly #allowlist: ReadonlySet<string>;
  readonly #bannedUntil = new Map<string, number>();

  constructor(allowlist: Iterable<string>) {
    this.#allowlist = new Set(allowlist);
  }

  isAllowlisted(peerId: string): boolean {
    return this.#allowlist.has(peerId);
  }

  /** Why `peerId` may not connect at `nowMs`, or undefined if it may. */
  refusal(peerId: string, nowMs: number): Refusal | undefined {
    if (!this.#allowlist.has(peerId)) return "not_allowlisted";
    const until = this.#bannedUntil.get(peerId);
    if (until === undefined) return undefined;
    if (nowMs < until) return "banned";
    this.#bannedUntil.delete(peerId);
    return undefined;
  }

  /** Only allowlisted peers are ever banned, so the map is bounded by the committee. */
  ban(peerId: string, untilMs: number): void {
    if (this.#allowlist.has(peerId)) this.#bannedUntil.set(peerId, Math.max(untilMs, this.#bannedUntil.get(peerId) ?? 0));
  }
}

/** The peer id a multiaddr names in its last /p2p component, if any. */
export function multiaddrPeerId(address: Multiaddr): string | undefined {
  return address.getComponents().findLast((c) => c.name === "p2p")?.value;
}

export function validatorGater(
  admission: PeerAdmission,
  now: () => number,
  onRefused: (peerId: string, direction: Direction, reason: Refusal) => void,
): ConnectionGater {
  const deny = (peerId: string, direction: Direction): boolean => {
    const reason = admission.refusal(peerId, now());
    if (reason === undefined) return false;
    onRefused(peerId, direction, reason);
    return true;
  };
  return {
    denyDialPeer: (peerId: PeerId) => deny(peerId.toString(), "outbound"),
    denyDialMultiaddr: (address: Multiaddr) => {
      const peerId = multiaddrPeerId(address);
      return peerId !== undefined && deny(peerId, "outbound");
    },
    denyInboundEncryptedConnection: (peerId: PeerId) => deny(peerId.toString(), "inbound"),
    // Catches a dial to an address without /p2p/, where the remote's identity is learned only now.
    denyOutboundEncryptedConnection: (peerId: PeerId) => deny(peerId.toString(), "outbound"),
  };
}
