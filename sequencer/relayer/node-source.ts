// Blocks from the relayer's own sequencer node: read from its chain store when the relayer asks for
// them (catch-up and live are the same loop), woken by the node's commits. The node's store is the
// queue, so a relayer that falls behind holds no more than its next batch in memory.
import type { SequencerNode } from "../node.ts";
import { sourceBlock, type BlockSource, type ChainTip, type SourceBlock } from "./source.ts";

/** Resolves once the node has committed `height`, or when `signal` aborts. */
function committed(node: SequencerNode, height: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      off();
      signal.removeEventListener("abort", done);
      resolve();
    };
    // Listen before looking at the head, so a commit in between is not missed.
    const off = node.onCommitted(({ head }) => head.height >= height && done());
    signal.addEventListener("abort", done, { once: true });
    if (node.head.height >= height || signal.aborted) done();
  });
}

async function* blocksFrom(node: SequencerNode, fromHeight: number, signal: AbortSignal): AsyncGenerator<SourceBlock> {
  for (let height = fromHeight; ; height++) {
    await committed(node, height, signal);
    if (signal.aborted) return;
    const found = await node.store.block(height);
    const commit = await node.store.commit(height);
    if (!found || !commit) throw new Error(`block ${height} is committed but not in the store`);
    yield sourceBlock(found.block, found.blockId, commit, node.genesis.params);
  }
}

export function nodeSource(node: SequencerNode): BlockSource {
  const tip = (): ChainTip => ({ height: node.head.height, timeMs: node.head.timeMs });
  return {
    chainId: node.chainId,
    tip,
    onTip: (listener) => node.onCommitted(() => listener(tip())),
    blocks: (fromHeight, signal) => blocksFrom(node, fromHeight, signal),
    txHeight: async (hash) => (await node.store.txLocation(hash))?.height,
    close: async () => {},
  };
}
