// The standalone relayer's block source against a stalled sequencer RPC (stalled-rpc.ts): after the
// stall timeout it drops the silent stream and subscribes again, rather than waiting forever on a
// socket that stays open.
import { afterAll, expect, it } from "vitest";
import { rpcSource } from "../../sequencer/relayer/rpc-source.ts";
import { logger, startSequencer, stopAll } from "./harness.ts";
import { startStalledRpc } from "./stalled-rpc.ts";

afterAll(stopAll);

it("re-subscribes when the stream sends no block within the stall timeout", async () => {
  const seq = await startSequencer({ chainId: "metro-stall-1", blockTimeMs: 200 });
  const stalled = await startStalledRpc();
  const source = rpcSource({ url: stalled.url, genesis: seq.node.genesis, logger, stallTimeoutMs: 200, reconnect: { baseDelayMs: 10, maxDelayMs: 20 }, statusPollMs: 60_000 });
  const stop = new AbortController();
  const reading = (async () => {
    for await (const block of source.blocks(1, stop.signal)) throw new Error(`a stalled server gave block ${block.height}`);
  })();
  try {
    await stalled.untilSubscriptions(3);
    expect(stalled.subscriptions()).toBeGreaterThanOrEqual(3);
  } finally {
    stop.abort();
    await reading;
    await source.close();
  }
});
