// Blocks from any sequencer node's RPC, for a relayer that runs on its own: the metro_subscribe_blocks
// WebSocket stream (catch-up, then live), with every block checked before it is posted: its commit
// must carry +2/3 of the genesis validator set's signatures, and its transactions must give the
// rollup roots in its header. Trusting one RPC for sequencer commits is the weak spot other shared
// sequencers had; this source trusts only the genesis.
//
// Flow control: the socket is paused while the relayer has not taken what arrived, so the server's
// stream backs up and, if the relayer stays behind, drops it saying where to resume; the source then
// reconnects from the next height it needs.
import { once } from "node:events";
import { setTimeout as sleep } from "node:timers/promises";
import type { Logger } from "pino";
import { WebSocket } from "ws";
import { fromBase64, toHexUpper } from "../../cometbft/hash.ts";
import { parseRfc3339, timestampToMs } from "../../cometbft/time.ts";
import type { Validator } from "../../cometbft/validator-set.ts";
import { CommitVerificationError, verifyCommit } from "../../cometbft/verify-commit.ts";
import type { Commit } from "../../cometbft/vote.ts";
import { blockIdOf, decodeBlock, decodeCommit, type Block } from "../block/block.ts";
import type { Genesis } from "../genesis.ts";
import type { StreamedBlockJson } from "../rpc/block-stream.ts";
import { sourceBlock, SourceBlockError, type BlockSource, type ChainTip, type SourceBlock } from "./source.ts";
import { backoffDelay, type Backoff } from "./submitter.ts";

export interface RpcSourceOptions {
  /** The node's RPC: ws://host:port/websocket, or http://host:port (the WebSocket path is added). */
  url: string;
  genesis: Genesis;
  logger: Logger;
  /** How often to ask the node for its head (for lag). */
  statusPollMs?: number;
  reconnect?: Backoff;
  /** Reconnect after waiting this long for the next block. Default DEFAULT_STALL_TIMEOUT_MS. */
  stallTimeoutMs?: number;
}

/** The sequencer makes a block every second or so, empty or not: 15 s without one is a stuck stream. */
export const DEFAULT_STALL_TIMEOUT_MS = 15_000;

const QUEUE_HIGH = 32;
const QUEUE_LOW = 8;
/** A sequencer block is at most 8 MiB, about 11 MB as base64 in JSON. */
const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
const STREAM_REQUEST_ID = 1;

export function rpcUrls(url: string): { wsUrl: string; httpUrl: string } {
  const u = new URL(url);
  const secure = u.protocol === "https:" || u.protocol === "wss:";
  if (!["http:", "https:", "ws:", "wss:"].includes(u.protocol)) throw new Error(`sequencer RPC URL must be ws(s):// or http(s)://, got ${url}`);
  const base = `${u.host}${u.pathname.replace(/\/websocket\/?$/, "").replace(/\/$/, "")}`;
  return { wsUrl: `${secure ? "wss" : "ws"}://${base}/websocket`, httpUrl: `${secure ? "https" : "http"}://${base}/` };
}

/** A streamed block -> a source block, or a SourceBlockError saying why it cannot be trusted. `validators`: the set of the block's height. */
export function verifyStreamedBlock(json: StreamedBlockJson, genesis: Pick<Genesis, "chainId" | "params"> & { validators: readonly Validator[] }): SourceBlock {
  const height = Number(json.height);
  let encoded: Uint8Array;
  let block: Block;
  let commit: Commit;
  try {
    encoded = fromBase64(json.block);
    block = decodeBlock(encoded);
    commit = decodeCommit(fromBase64(json.commit));
  } catch (error) {
    throw new SourceBlockError(`block ${height}: ${(error as Error).message}`, "malformed");
  }
  const blockId = blockIdOf(block, encoded);
  if (block.header.chainId !== genesis.chainId) throw new SourceBlockError(`block ${height}: chain id ${JSON.stringify(block.header.chainId)}, expected ${JSON.stringify(genesis.chainId)}`, "header");
  if (Number(block.header.height) !== height) throw new SourceBlockError(`block ${height}: the block says height ${block.header.height}`, "header");
  if (json.block_id?.hash !== toHexUpper(blockId.hash)) throw new SourceBlockError(`block ${height}: the stream names block ${json.block_id?.hash}, the block hashes to ${toHexUpper(blockId.hash)}`, "header");
  try {
    verifyCommit(genesis.chainId, genesis.validators, block.header.height, blockId, commit);
  } catch (error) {
    if (error instanceof CommitVerificationError) throw new SourceBlockError(`block ${height}: ${error.message}`, "commit");
    throw error;
  }
  return sourceBlock(block, blockId, commit, genesis.params);
}

/** The stream gave no block for `stallTimeoutMs` while its reader waited for one. */
export class StreamStalledError extends Error {
  override name = "StreamStalledError";
}

/**
 * The raw block stream from one connection, from `fromHeight` until it fails or `signal` aborts.
 * Unverified: pass each block to verifyStreamedBlock (the rollup node's failover feed uses this too).
 * With `stallTimeoutMs`, waiting that long for the next block (the reader's own pauses do not count)
 * ends the stream with StreamStalledError: a node cut off from its peers keeps its socket open and
 * sends nothing, and only a deadline tells it from a quiet one.
 */
export async function* streamFrom(wsUrl: string, fromHeight: number, signal: AbortSignal, stallTimeoutMs?: number): AsyncGenerator<StreamedBlockJson> {
  const socket = new WebSocket(wsUrl, { maxPayload: MAX_MESSAGE_BYTES });
  const queue: { id?: unknown; result?: unknown; error?: { message?: string; data?: string } }[] = [];
  let ended: Error | undefined;
  let wake: (() => void) | undefined;
  const poke = () => {
    wake?.();
    wake = undefined;
  };
  socket.on("message", (data) => {
    try {
      queue.push(JSON.parse(data.toString()));
    } catch {
      ended ??= new Error("the block stream sent a message that is not JSON");
      socket.terminate();
    }
    if (queue.length >= QUEUE_HIGH) socket.pause();
    poke();
  });
  socket.on("close", (code) => {
    ended ??= new Error(`the block stream's socket closed (${code})`);
    poke();
  });
  socket.on("error", (error) => {
    ended ??= error;
    poke();
  });
  const onAbort = () => {
    socket.terminate();
    poke();
  };
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    // A frozen node's kernel still accepts the connection; only the handshake tells.
    const opening = stallTimeoutMs === undefined ? signal : AbortSignal.any([signal, AbortSignal.timeout(stallTimeoutMs)]);
    try {
      await once(socket, "open", { signal: opening });
    } catch (error) {
      if (signal.aborted || !opening.aborted) throw error;
      throw new StreamStalledError(`no WebSocket handshake within ${stallTimeoutMs} ms from ${wsUrl}`);
    }
    socket.send(JSON.stringify({ jsonrpc: "2.0", id: STREAM_REQUEST_ID, method: "metro_subscribe_blocks", params: { from_height: String(fromHeight) } }));
    // Set when the reader starts waiting for a block; other messages do not move it.
    let deadline: number | undefined;
    let next = fromHeight;
    for (;;) {
      while (queue.length === 0) {
        if (signal.aborted) return;
        if (ended) throw ended;
        if (stallTimeoutMs === undefined) {
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        deadline ??= Date.now() + stallTimeoutMs;
        const left = deadline - Date.now();
        if (left <= 0) throw new StreamStalledError(`no block for ${stallTimeoutMs} ms from ${wsUrl} while waiting for height ${next}`);
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          wake = resolve;
          timer = setTimeout(resolve, left);
        });
        clearTimeout(timer);
      }
      const message = queue.shift()!;
      if (queue.length <= QUEUE_LOW && socket.isPaused) socket.resume();
      if (message.id !== STREAM_REQUEST_ID) continue;
      if (message.error) throw new Error(`block stream: ${message.error.data ?? message.error.message}`);
      const result = message.result as Partial<StreamedBlockJson> | undefined;
      // The first answer ({}) confirms the subscription; blocks follow under the same id.
      if (result?.height !== undefined) {
        deadline = undefined;
        next = Number(result.height) + 1;
        yield result as StreamedBlockJson;
      }
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
    socket.terminate();
  }
}

/** Far above any answer these calls get (a page of 100 validators is ~20 KB): a lying server cannot fill memory. */
export const MAX_RPC_ANSWER_BYTES = 4 * 1024 * 1024;

/** The body of `res`, refused once it passes `maxBytes`. */
async function cappedText(res: Response, maxBytes: number): Promise<string> {
  const declared = Number(res.headers.get("content-length") ?? 0);
  if (declared > maxBytes) throw new Error(`an answer of ${declared} bytes, over the ${maxBytes}-byte limit`);
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of res.body ?? []) {
    total += chunk.length;
    if (total > maxBytes) throw new Error(`an answer of more than ${maxBytes} bytes, over the limit`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** A CometBFT JSON-RPC call over HTTP: its result, or an error with the server's message. */
export async function rpcCall(httpUrl: string, method: string, params: Record<string, unknown>, signal?: AbortSignal, maxBytes = MAX_RPC_ANSWER_BYTES): Promise<any> {
  const res = await fetch(httpUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }), signal });
  const body = JSON.parse(await cappedText(res, maxBytes)) as { result?: unknown; error?: { message: string; data?: string } };
  if (body.error) throw new Error(`${method}: ${body.error.data ?? body.error.message}`);
  return body.result;
}

export function rpcSource(o: RpcSourceOptions): BlockSource {
  const { wsUrl, httpUrl } = rpcUrls(o.url);
  const reconnect = o.reconnect ?? { baseDelayMs: 500, maxDelayMs: 10_000 };
  const listeners = new Set<(tip: ChainTip) => void>();
  const closing = new AbortController();
  let tip: ChainTip = { height: 0, timeMs: 0 };

  const observe = (next: ChainTip) => {
    if (next.height <= tip.height) return;
    tip = next;
    for (const listener of listeners) listener(tip);
  };

  const pollStatus = async () => {
    try {
      const status = await rpcCall(httpUrl, "status", {}, AbortSignal.any([closing.signal, AbortSignal.timeout(5_000)]));
      observe({ height: Number(status.sync_info.latest_block_height), timeMs: timestampToMs(parseRfc3339(status.sync_info.latest_block_time)) });
    } catch (error) {
      if (!closing.signal.aborted) o.logger.debug({ err: error }, "sequencer status poll failed");
    }
  };
  void pollStatus();
  const poller = setInterval(() => void pollStatus(), o.statusPollMs ?? 2_000);

  async function* blocks(fromHeight: number, signal: AbortSignal): AsyncGenerator<SourceBlock> {
    const stop = AbortSignal.any([signal, closing.signal]);
    let next = fromHeight;
    let failures = 0;
    while (!stop.aborted) {
      try {
        for await (const json of streamFrom(wsUrl, next, stop, o.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS)) {
          const height = Number(json.height);
          if (height < next) continue;
          if (height > next) throw new Error(`the block stream skipped from ${next} to ${height}`);
          const block = verifyStreamedBlock(json, o.genesis);
          observe({ height, timeMs: timestampToMs(block.block.header.time) });
          failures = 0;
          yield block;
          next++;
        }
      } catch (error) {
        if (stop.aborted) return;
        failures++;
        const delayMs = backoffDelay(failures, reconnect);
        const level = error instanceof SourceBlockError ? "error" : "warn";
        o.logger[level]({ err: (error as Error).message, fromHeight: next, delayMs }, "sequencer block stream failed; reconnecting");
        await sleep(delayMs, undefined, { signal: stop }).catch(() => {});
      }
    }
  }

  return {
    chainId: o.genesis.chainId,
    tip: () => tip,
    onTip: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    blocks,
    txHeight: async (hash) => {
      try {
        return Number((await rpcCall(httpUrl, "tx", { hash: toHexUpper(hash) })).height);
      } catch (error) {
        if (/not found/.test((error as Error).message)) return undefined;
        throw error;
      }
    },
    close: async () => {
      closing.abort();
      clearInterval(poller);
    },
  };
}
