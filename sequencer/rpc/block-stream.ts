// metro_subscribe_blocks: every committed block from `from_height` on, in order and exactly once,
// for rollup nodes. The stream reads each block from the store when it is its turn (catch-up and
// live are the same loop), so a client's backlog is bounded by the socket's high-water mark, not by
// how far behind it is. A client that does not keep up is dropped: once live, when it falls more than
// maxLagBlocks behind the head while its backlog is full; at any time, when its backlog does not drain
// within stallTimeoutMs. The error says which height to resume from.
import { toBase64 } from "../../cometbft/hash.ts";
import { blockIdJson, type BlockIdJson } from "../../cometbft/header.ts";
import { encodeCommit } from "../block/block.ts";
import type { SequencerNode } from "../node.ts";
import type { ChainView } from "./chain-view.ts";
import { internalError, invalidParams, method, serverError, success, type JsonRpcId, type RpcMethod } from "./json-rpc.ts";
import type { WsConnection } from "./ws-connection.ts";

export interface BlockStreamLimits {
  /** Socket backlog (bytes) above which the stream waits for the client to read. */
  highWaterBytes: number;
  /** How far behind the head a live stream may fall while waiting before the client is dropped. */
  maxLagBlocks: number;
  /** How long a full backlog may take to drain before the client is dropped. */
  stallTimeoutMs: number;
}

export const DEFAULT_BLOCK_STREAM_LIMITS: BlockStreamLimits = { highWaterBytes: 8 * 1024 * 1024, maxLagBlocks: 100, stallTimeoutMs: 60_000 };

export interface StreamedBlockJson {
  height: string;
  block_id: BlockIdJson;
  /** The encoded block (metro.sequencer.v1.Block), base64: decodeBlock reads it. */
  block: string;
  /** The block's commit (metro.sequencer.v1.Commit), base64: decodeCommit reads it. */
  commit: string;
}

async function streamedBlock(view: ChainView, height: number): Promise<StreamedBlockJson> {
  const committed = await view.block(height);
  const commit = await view.node.store.commit(height);
  if (!commit) throw internalError(`commit for height ${height} not found`);
  return { height: String(height), block_id: blockIdJson(committed.blockId), block: toBase64(committed.encoded), commit: toBase64(encodeCommit(commit)) };
}

/** Resolves at the next commit, or when `signal` aborts. */
function nextCommit(node: SequencerNode, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      off();
      signal.removeEventListener("abort", done);
      resolve();
    };
    const off = node.onCommitted(done);
    signal.addEventListener("abort", done);
  });
}

type WaitOutcome = "flushed" | "lagging" | "stalled" | "aborted";

/** Waits until `flushed` (the socket took what was queued), or the client is judged too slow. */
function waitForClient(node: SequencerNode, flushed: Promise<void>, isLagging: () => boolean, limits: BlockStreamLimits, signal: AbortSignal): Promise<WaitOutcome> {
  return new Promise((resolve) => {
    const finish = (outcome: WaitOutcome) => {
      clearTimeout(timer);
      off();
      signal.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish("aborted");
    const timer = setTimeout(() => finish("stalled"), limits.stallTimeoutMs);
    const off = node.onCommitted(() => isLagging() && finish("lagging"));
    signal.addEventListener("abort", onAbort);
    void flushed.then(() => finish("flushed"));
  });
}

async function pump(view: ChainView, conn: WsConnection, id: JsonRpcId, fromHeight: number, limits: BlockStreamLimits, signal: AbortSignal): Promise<void> {
  let next = fromHeight;
  let live = false;
  while (!signal.aborted) {
    if (next > view.height) {
      live = true;
      await nextCommit(view.node, signal);
      continue;
    }
    const flushed = conn.send(success(id, await streamedBlock(view, next)));
    next++;
    if (conn.bufferedAmount <= limits.highWaterBytes) continue;
    const behind = () => view.height - (next - 1);
    const outcome = await waitForClient(view.node, flushed, () => live && behind() > limits.maxLagBlocks, limits, signal);
    if (outcome === "lagging") {
      conn.drop(id, serverError(`block stream canceled: the client fell ${behind()} blocks behind the chain head (limit ${limits.maxLagBlocks}); resume with from_height=${next}`), "block stream: client too slow");
      return;
    }
    if (outcome === "stalled") {
      conn.drop(id, serverError(`block stream canceled: the client's backlog did not drain within ${limits.stallTimeoutMs} ms; resume with from_height=${next}`), "block stream: client stalled");
      return;
    }
  }
}

export function blockStreamMethod(view: ChainView, limits: BlockStreamLimits, onError: (error: unknown) => void): RpcMethod {
  return method(
    { from_height: "int" },
    ({ from_height: fromHeight = view.height + 1 }, ctx) => {
      const conn = ctx.connection;
      if (!conn) throw internalError("metro_subscribe_blocks needs a WebSocket connection");
      if (fromHeight < 1) throw invalidParams(`from_height: must be at least 1, got ${fromHeight}`);
      const key = `blocks:${JSON.stringify(ctx.id)}`;
      if (conn.hasSubscription(key)) throw internalError(`a block stream already uses request id ${JSON.stringify(ctx.id)}`);
      const stop = new AbortController();
      conn.addSubscription(key, () => stop.abort());
      const signal = AbortSignal.any([stop.signal, conn.closed.signal]);
      ctx.afterReply(() => {
        pump(view, conn, ctx.id, fromHeight, limits, signal).catch((error) => {
          onError(error);
          conn.drop(ctx.id, serverError(`block stream failed: ${(error as Error).message}`), "block stream failed");
        });
      });
      return {};
    },
    { websocketOnly: true },
  );
}
