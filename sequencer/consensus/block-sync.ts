// Block sync over the validator network: serving committed blocks with their commits from the store,
// and catching up when the engine says it is behind. Every synced block's commit is checked by the
// engine (applySyncedBlock verifies it against the validator set), so a lying peer costs a retry.
import Long from "long";
import type { Logger } from "pino";
import { metro } from "../../proto/index.ts";
import { decodeCommit, encodeCommit } from "../block/block.ts";
import type { ChainStore } from "../store/chain-store.ts";
import { BLOCKSYNC_PROTOCOL } from "../p2p/protocols.ts";
import type { ValidatorNetwork } from "../p2p/network.ts";
import type { ConsensusEngine } from "./engine.ts";

const pb = metro.consensus.v1;
/** Blocks per response, and the byte budget that keeps a response under the request limit. */
const MAX_BLOCKS = 32;
const MAX_RESPONSE_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 10_000;

export async function serveBlockSync(network: ValidatorNetwork, store: ChainStore): Promise<void> {
  await network.handle(BLOCKSYNC_PROTOCOL, async (_from, bytes) => {
    const request = pb.BlockSyncRequest.decode(bytes);
    const head = store.head?.height ?? 0;
    const blocks: { block: Uint8Array; commit: Uint8Array }[] = [];
    let size = 0;
    const max = Math.min(MAX_BLOCKS, request.maxBlocks || MAX_BLOCKS);
    for (let h = Number(request.fromHeight); h <= head && blocks.length < max; h++) {
      const committed = await store.block(h);
      const commit = await store.commit(h);
      if (!committed || !commit) break;
      const encodedCommit = encodeCommit(commit);
      size += committed.encoded.length + encodedCommit.length;
      if (blocks.length > 0 && size > MAX_RESPONSE_BYTES) break;
      blocks.push({ block: committed.encoded, commit: encodedCommit });
    }
    return pb.BlockSyncResponse.encode({ blocks, head: Long.fromNumber(head, true) }).finish();
  });
}

/**
 * Catches up from `fromHeight`, asking connected peers in turn until one has nothing newer. Runs one
 * catch-up at a time; the engine's onBehind may fire repeatedly.
 */
export function blockSyncer(network: ValidatorNetwork, engine: ConsensusEngine, store: ChainStore, logger: Logger): (fromHeight: bigint) => void {
  let running = false;
  return (fromHeight) => {
    if (running) return;
    running = true;
    void (async () => {
      let next = Math.max(Number(fromHeight), (store.head?.height ?? 0) + 1);
      for (const peer of network.connectedPeers()) {
        for (;;) {
          let response;
          try {
            const bytes = await network.request(peer, BLOCKSYNC_PROTOCOL, pb.BlockSyncRequest.encode({ fromHeight: Long.fromNumber(next, true), maxBlocks: MAX_BLOCKS }).finish(), { timeoutMs: REQUEST_TIMEOUT_MS });
            response = pb.BlockSyncResponse.decode(bytes);
          } catch (error) {
            logger.warn({ peer, err: error }, "block sync request failed; trying another peer");
            break;
          }
          if (response.blocks.length === 0) break;
          try {
            for (const b of response.blocks) {
              await engine.applySyncedBlock(b.block ?? new Uint8Array(), decodeCommit(b.commit ?? new Uint8Array()));
              next++;
            }
          } catch (error) {
            logger.warn({ peer, err: error }, "a peer sent a block that does not verify; trying another peer");
            break;
          }
          logger.info({ peer, height: next - 1 }, "caught up by block sync");
          if (next > Number(response.head)) break;
        }
      }
    })()
      .catch((error) => logger.error({ err: error }, "block sync failed"))
      .finally(() => (running = false));
  };
}
