// Names on the wire. Topics ride one long-lived gossip stream per peer; each request/response
// protocol opens a fresh stream per request.

/** The stream that carries every topic's messages from one validator to another. */
export const GOSSIP_PROTOCOL = "/metro/gossip/1";

/** Block sync: the transport only; the caller defines the request and response messages. */
export const BLOCKSYNC_PROTOCOL = "/metro/blocksync/1";

/** Proposals, block parts and votes. */
export const TOPIC_CONSENSUS = "consensus";

/** Transactions. */
export const TOPIC_MEMPOOL = "mempool";

export const DEFAULT_TOPICS: readonly string[] = [TOPIC_CONSENSUS, TOPIC_MEMPOOL];
