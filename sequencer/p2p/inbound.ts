// Checks on one gossip frame from a peer, before rate limiting: is it well formed, for a topic we
// handle, within that topic's size limit.
import { decodeGossip, FramingError } from "./framing.ts";
import { channelLimits, type NetworkLimits } from "./limits.ts";

export type DropReason = "throttled" | "oversize" | "unknown_topic" | "malformed";

export type GossipCheck = { ok: true; topic: string; payload: Uint8Array } | { ok: false; topic: string; reason: DropReason };

/** Label for frames whose topic could not be read or is not registered: keeps label values bounded. */
export const UNKNOWN_TOPIC = "unknown";

export function checkGossip(body: Uint8Array, topics: ReadonlySet<string>, limits: NetworkLimits): GossipCheck {
  let message: { topic: string; payload: Uint8Array };
  try {
    message = decodeGossip(body);
  } catch (error) {
    if (error instanceof FramingError) return { ok: false, topic: UNKNOWN_TOPIC, reason: "malformed" };
    throw error;
  }
  const { topic, payload } = message;
  if (!topics.has(topic)) return { ok: false, topic: UNKNOWN_TOPIC, reason: "unknown_topic" };
  if (payload.length > channelLimits(limits, topic).maxMessageBytes) return { ok: false, topic, reason: "oversize" };
  return { ok: true, topic, payload };
}
