// The sequencer's RPC server, transported as CometBFT's: JSON-RPC 2.0 by HTTP POST at `/` (named or
// positional params, batches), the GET URI form (`/block?height=5`), and WebSocket at `/websocket`
// for subscriptions and block streams.
//
// Limits answer as JSON-RPC errors with HTTP 200, because cosmjs turns any HTTP status >= 400 into a
// bare "Bad status on response" and drops the body: a body over maxBodyBytes is -32600 saying so, and a
// client address over its rate is -32005 saying when to retry. Subscriptions are capped per client
// address, and slow WebSocket clients are dropped (see events.ts and block-stream.ts).
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import type { Logger } from "pino";
import { parseListen } from "../config.ts";
import type { SequencerNode } from "../node.ts";
import { blockStreamMethod, DEFAULT_BLOCK_STREAM_LIMITS, type BlockStreamLimits } from "./block-stream.ts";
import { ChainView } from "./chain-view.ts";
import { cometMethods, COMETBFT_VERSION } from "./cometbft-methods.ts";
import { EventHub, eventMethods } from "./events.ts";
import {
  execute,
  failure,
  internalError,
  invalidRequest,
  methodNotFound,
  parseError,
  rateLimited,
  readRequest,
  type CallContext,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type MethodTable,
} from "./json-rpc.ts";
import { metroMethods, type DaStatusSource } from "./metro-methods.ts";
import { RateLimiter } from "./rate-limit.ts";
import { SubscriptionCounter, WsConnection } from "./ws-connection.ts";

export interface RpcServerOptions {
  /** host:port; port 0 picks a free one. Defaults to the node's config.rpc.listen. */
  listen?: string;
  maxBodyBytes?: number;
  rateLimitPerSecond?: number;
  maxSubscriptionsPerClient?: number;
  /** How long broadcast_tx_commit waits for the block (CometBFT's timeout_broadcast_tx_commit). */
  broadcastTxCommitTimeoutMs?: number;
  /** WebSocket backlog past which an event subscriber is dropped as a slow client. */
  maxWsBufferedBytes?: number;
  blockStream?: Partial<BlockStreamLimits>;
  /** Where `metro_da_status` gets its answers: the relayer running in this node, if any. */
  daStatus?: DaStatusSource;
}

export interface RpcServer {
  /** http://host:port, the URL cosmjs connects to. */
  url: string;
  /** ws://host:port/websocket. */
  websocketUrl: string;
  close(): Promise<void>;
}

const DEFAULT_BROADCAST_COMMIT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024;
const WEBSOCKET_PATH = "/websocket";
const DISCARD_BYTES = 64 * 1024 * 1024;

type Reply = JsonRpcResponse | JsonRpcResponse[] | undefined;

/** Client address for limits: IPv4 clients of a dual-stack socket appear as ::ffff:a.b.c.d. */
function clientAddress(remote: string | undefined): string {
  return (remote ?? "unknown").replace(/^::ffff:/, "");
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/**
 * The body, or undefined once it passes `limit`. The rest of an oversized body is read and dropped
 * (up to DISCARD_BYTES, beyond which the connection is cut) so the client gets to read the answer.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number(req.headers["content-length"] ?? 0) > limit;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (!tooLarge) chunks.push(chunk);
      else if (size > limit + DISCARD_BYTES) req.destroy();
    });
    // Answering only after the whole upload lets the client read the answer instead of a reset.
    req.on("end", () => resolve(tooLarge ? undefined : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export async function startRpcServer(node: SequencerNode, options: RpcServerOptions = {}): Promise<RpcServer> {
  const config = node.config.rpc;
  const maxBodyBytes = options.maxBodyBytes ?? config.maxBodyBytes;
  const logger: Logger = node.logger.child({ module: "rpc" });
  const limiter = new RateLimiter(options.rateLimitPerSecond ?? config.rateLimitPerSecond);
  const counter = new SubscriptionCounter(options.maxSubscriptionsPerClient ?? config.maxSubscriptionsPerClient);
  const closing = new AbortController();
  const view = new ChainView(node);
  const hub = new EventHub(node);
  const { host, port } = parseListen(options.listen ?? config.listen);
  let boundAddress = `${host}:${port}`;
  const onUnexpected = (error: unknown, method: string) => logger.error({ err: error, method }, "rpc method failed");

  const methods: MethodTable = new Map([
    ...cometMethods(node, view, {
      listen: () => boundAddress,
      broadcastTxCommitTimeoutMs: options.broadcastTxCommitTimeoutMs ?? DEFAULT_BROADCAST_COMMIT_TIMEOUT_MS,
      onBackgroundError: (error) => logger.error({ err: error }, "broadcast_tx_async check failed"),
    }),
    ...eventMethods(hub, { maxBufferedBytes: options.maxWsBufferedBytes ?? DEFAULT_MAX_WS_BUFFERED_BYTES }),
    ["metro_subscribe_blocks", blockStreamMethod(view, { ...DEFAULT_BLOCK_STREAM_LIMITS, ...options.blockStream }, (error) => logger.error({ err: error }, "block stream failed"))],
    ...metroMethods(view, options.daStatus),
  ]);

  /** One call, after the caller's rate limit. */
  async function call(request: JsonRpcRequest, ctx: CallContext, uri?: URLSearchParams): Promise<JsonRpcResponse> {
    const allowed = limiter.take(ctx.remoteAddress);
    if (!allowed.ok) {
      return failure(request.id, rateLimited(`more than ${limiter.ratePerSecond} requests per second from ${ctx.remoteAddress}; retry in ${allowed.retryAfterMs} ms`));
    }
    return execute(methods, request, ctx, { uri, onUnexpected });
  }

  /** A JSON-RPC body: one request or a batch. Notifications (no id) are skipped, as CometBFT does. */
  async function handleBody(body: string, context: (id: JsonRpcId) => CallContext): Promise<Reply> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch (error) {
      return failure(null, parseError(`error unmarshaling request: ${(error as Error).message}`));
    }
    const batch = Array.isArray(parsed);
    const items: unknown[] = batch ? (parsed as unknown[]) : [parsed];
    if (items.length === 0) return failure(null, invalidRequest("empty batch"));
    const replies: JsonRpcResponse[] = [];
    for (const item of items) {
      const read = readRequest(item);
      if ("error" in read) replies.push(failure(read.id, read.error));
      else if (read.request.hasId) replies.push(await call(read.request, context(read.request.id)));
    }
    return batch ? (replies.length > 0 ? replies : undefined) : replies[0];
  }

  function httpContext(req: http.IncomingMessage, res: http.ServerResponse): (id: JsonRpcId) => CallContext {
    let signal: AbortSignal | undefined;
    return (id) => ({
      id,
      remoteAddress: clientAddress(req.socket.remoteAddress),
      // Made on first use: few calls wait on it (broadcast_tx_commit does), and for every request an
      // AbortSignal.any plus an abort (a DOMException with its stack) when the response closes cost
      // more than broadcast_tx_sync's own JSON handling.
      get signal() {
        if (!signal) {
          const gone = new AbortController();
          res.once("close", () => gone.abort());
          signal = AbortSignal.any([gone.signal, closing.signal]);
        }
        return signal;
      },
      connection: undefined,
      // Over HTTP the reply is the end of the call.
      afterReply: () => {},
    });
  }

  function listMethods(res: http.ServerResponse): void {
    const lines = [...methods].map(([name, m]) => `/${name}${m.paramNames.length > 0 ? "?" + m.paramNames.map((p) => `${p}=_`).join("&") : ""}${m.websocketOnly ? "  (WebSocket only)" : ""}`);
    res.writeHead(200, { "Content-Type": "text/plain; charset=utf-8" });
    res.end(`Metro sequencer RPC (CometBFT ${COMETBFT_VERSION} compatible). JSON-RPC 2.0 by POST at /, WebSocket at ${WEBSOCKET_PATH}.\nMethods:\n${lines.join("\n")}\n`);
  }

  async function handleHttp(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://localhost");
    if (req.method !== "GET" && req.method !== "POST") {
      res.writeHead(405, { Allow: "GET, POST" }).end();
      return;
    }
    if (url.pathname === WEBSOCKET_PATH) {
      sendJson(res, 426, failure(-1, invalidRequest(`${WEBSOCKET_PATH} takes WebSocket connections only`)), { Upgrade: "websocket" });
      return;
    }
    if (url.pathname !== "/") {
      // URI form: /method?name=value; CometBFT answers it with id -1.
      const request = { id: -1, hasId: true, method: url.pathname.slice(1), params: undefined };
      if (!methods.has(request.method)) {
        sendJson(res, 404, failure(-1, methodNotFound(`no method ${JSON.stringify(request.method)}; GET / lists the methods`)));
        return;
      }
      req.resume();
      sendJson(res, 200, await call(request, httpContext(req, res)(-1), url.searchParams));
      return;
    }
    if (req.method === "GET") return listMethods(res);
    const body = await readBody(req, maxBodyBytes);
    if (!body) {
      sendJson(res, 200, failure(null, invalidRequest(`request body exceeds the limit of ${maxBodyBytes} bytes`)));
      return;
    }
    if (body.length === 0) return listMethods(res);
    const reply = await handleBody(body.toString("utf8"), httpContext(req, res));
    if (reply === undefined) res.writeHead(200).end();
    else sendJson(res, 200, reply);
  }

  function onConnection(socket: WebSocket, req: http.IncomingMessage): void {
    const conn = new WsConnection(socket, clientAddress(req.socket.remoteAddress), counter, logger);
    const signal = AbortSignal.any([conn.closed.signal, closing.signal]);
    socket.on("error", (error) => logger.debug({ err: error }, "websocket error"));
    socket.on("message", (data, isBinary) => {
      if (isBinary) return void conn.send(failure(null, invalidRequest("send JSON-RPC requests as text frames")));
      const after: (() => void)[] = [];
      const base = { remoteAddress: conn.remoteAddress, signal, connection: conn, afterReply: (task: () => void) => after.push(task) };
      handleBody(data.toString(), (id) => ({ ...base, id }))
        .then(async (reply) => {
          if (reply !== undefined) await conn.send(reply);
          for (const task of after) task();
        })
        .catch((error) => logger.error({ err: error }, "websocket request failed"));
    });
  }

  const server = http.createServer((req, res) => {
    handleHttp(req, res).catch((error) => {
      logger.error({ err: error }, "rpc request failed");
      if (!res.headersSent) sendJson(res, 200, failure(null, internalError((error as Error).message)));
      else res.destroy();
    });
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBodyBytes });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== WEBSOCKET_PATH) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req));
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostPart = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  boundAddress = `${hostPart}:${bound.port}`;
  logger.info({ address: boundAddress }, "rpc listening");

  return {
    url: `http://${boundAddress}`,
    websocketUrl: `ws://${boundAddress}${WEBSOCKET_PATH}`,
    async close() {
      closing.abort();
      hub.close();
      view.close();
      for (const client of wss.clients) client.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
