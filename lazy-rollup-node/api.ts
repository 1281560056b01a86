// The rollup node's API: HTTP JSON, a WebSocket for headers and transaction status, and Prometheus
// metrics, on one server (127.0.0.1 unless told otherwise). Read-only: transactions are submitted to
// the sequencer, not here. Routes and message shapes are in README.md.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { WebSocketServer, type WebSocket } from "ws";
import { toHexUpper } from "../cometbft/hash.ts";
import { parseListen } from "../sequencer/config.ts";
import { accountJson, bundleProofJson, headerJson, signedHeaderJson, txJson, txViews, type TxView } from "./api-json.ts";
import type { RollupNode } from "./node.ts";
import { proveAccount } from "./token/account-proof.ts";

export interface ApiOptions {
  node: RollupNode<any>;
  /** host:port; port 0 picks a free one. */
  listen: string;
  registry: Registry;
  /** The token rollup's address prefix: enables GET /v1/token/accounts/{address}. */
  tokenAddressPrefix?: string;
  /** More fields for GET /v1/status (the header gossip's peers, say). */
  status?: () => Record<string, unknown>;
  logger: Logger;
}

export interface ApiServer {
  /** http://host:port */
  url: string;
  /** ws://host:port/v1/ws */
  wsUrl: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const MAX_WS_SUBSCRIPTIONS = 1_000;
const MAX_WS_BUFFERED_BYTES = 16 * 1024 * 1024;

function hash32(text: string, what: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new HttpError(400, `${what} must be 64 hex characters, got ${JSON.stringify(text)}`);
  return Uint8Array.from(Buffer.from(text, "hex"));
}

async function status(o: ApiOptions) {
  const { node } = o;
  const head = node.store.head!;
  const latest = node.headers.latest;
  return {
    chain_id: node.chain.chainId,
    sequencer_start_height: Number(node.chain.sequencerStartHeight),
    soft: { height: Number(head.height), sequencer_height: Number(head.sequencerHeight), state_root: toHexUpper(head.stateRoot), time_ms: head.timeMs, paused: node.softAhead },
    firm: { height: Number(node.firmHeight), da_height: node.firm.daCursor },
    latest_header: latest ? headerJson(latest) : null,
    header_signer: toHexUpper(node.headerSigner),
    alarms: node.alarms.count,
    ...(o.tokenAddressPrefix !== undefined ? { token: { address_prefix: o.tokenAddressPrefix } } : {}),
    ...o.status?.(),
  };
}

async function route(o: ApiOptions, path: string): Promise<unknown> {
  const { node } = o;
  if (path === "/v1/status") return status(o);
  if (path === "/v1/alarms") return { alarms: await node.alarms.list() };
  let m = /^\/v1\/txs\/([^/]+)$/.exec(path);
  if (m) {
    const views = await txViews(node, hash32(m[1], "tx hash"));
    if (views.length === 0) throw new HttpError(404, `transaction ${m[1].toUpperCase()} is not in any block this node executed`);
    return txJson(views);
  }
  m = /^\/v1\/headers\/([^/]+)$/.exec(path);
  if (m) {
    if (m[1] !== "latest" && !/^[1-9]\d{0,18}$/.test(m[1])) throw new HttpError(400, `header height must be a positive number or "latest", got ${JSON.stringify(m[1])}`);
    const height = m[1] === "latest" ? node.headers.latest?.height : BigInt(m[1]);
    const signed = height === undefined ? undefined : await node.signedHeader(height);
    if (signed === undefined) throw new HttpError(404, m[1] === "latest" ? "no header yet: no block is firm" : `no header at height ${m[1]} yet (latest: ${node.headers.latest?.height ?? 0})`);
    return signedHeaderJson(signed, node.headerSigner);
  }
  m = /^\/v1\/bundles\/([^/]+)\/proof$/.exec(path);
  if (m) {
    const proof = await node.bundles.proof(hash32(m[1], "bundle id"));
    if (proof === undefined) throw new HttpError(404, `no bundle ${m[1].toUpperCase()} with a member in this rollup`);
    return bundleProofJson(proof);
  }
  m = /^\/v1\/token\/accounts\/([^/]+)$/.exec(path);
  if (m && o.tokenAddressPrefix !== undefined) {
    const address = decodeURIComponent(m[1]);
    let proof;
    try {
      proof = await proveAccount(node.store, address, o.tokenAddressPrefix);
    } catch (error) {
      if ((error as Error).message.startsWith("invalid address")) throw new HttpError(400, (error as Error).message);
      throw error;
    }
    return accountJson(proof, node.firmHeight);
  }
  throw new HttpError(404, `no route ${path}; see GET /v1/status, /v1/txs/{hash}, /v1/headers/{height|latest}, /v1/bundles/{id}/proof, /v1/token/accounts/{address}, /v1/alarms, /metrics, WebSocket /v1/ws`);
}

/** One WebSocket client: its header subscription and its transaction subscriptions, each remembering which events it was sent. */
class WsClient {
  readonly #socket: WebSocket;
  readonly #node: RollupNode<any>;
  headers = false;
  /** hash hex -> events sent ("soft", "firm", "header"), and the queue keeping its updates in order. */
  readonly txs = new Map<string, { sent: Set<string>; queue: Promise<void> }>();

  constructor(socket: WebSocket, node: RollupNode<any>) {
    this.#socket = socket;
    this.#node = node;
  }

  send(message: unknown): void {
    if (this.#socket.readyState !== this.#socket.OPEN) return;
    if (this.#socket.bufferedAmount > MAX_WS_BUFFERED_BYTES) {
      this.#socket.close(1008, "too slow: the backlog is over 16 MiB");
      return;
    }
    this.#socket.send(JSON.stringify(message));
  }

  /** Reads the transaction's state and sends the events it has reached and this client was not sent yet, in order. */
  refresh(hashHex: string): void {
    const sub = this.txs.get(hashHex);
    if (sub === undefined) return;
    sub.queue = sub.queue.then(async () => {
      const [first] = (await txViews(this.#node, Uint8Array.from(Buffer.from(hashHex, "hex")))) as (TxView | undefined)[];
      if (first === undefined) {
        // Executed soft, then rolled back: the firm data did not have it (yet).
        if (sub.sent.size > 0) this.send({ event: "rolled_back", hash: hashHex });
        sub.sent.clear();
        return;
      }
      const stages: [string, boolean][] = [["soft", true], ["firm", first.status === "firm"], ["header", first.hasHeader]];
      for (const [stage, reached] of stages) {
        if (!reached || sub.sent.has(stage)) continue;
        sub.sent.add(stage);
        if (stage === "header") {
          const signed = await this.#node.signedHeader(first.height);
          this.send({ event: "header", hash: hashHex, header: signedHeaderJson(signed!, this.#node.headerSigner) });
        } else this.send({ event: stage, hash: hashHex, tx: first.json });
      }
    }).catch(() => {});
  }

  /** The soft block the transaction was in was rolled back: its soft result no longer holds (it may come again from the firm data). */
  rolledBack(hashHex: string): void {
    const sub = this.txs.get(hashHex);
    if (sub === undefined || !sub.sent.has("soft") || sub.sent.has("firm")) return;
    sub.queue = sub.queue.then(() => {
      this.send({ event: "rolled_back", hash: hashHex });
      sub.sent.clear();
    });
    this.refresh(hashHex);
  }

  onMessage(text: string): void {
    let request: { subscribe?: string; hash?: string };
    try {
      request = JSON.parse(text);
    } catch {
      this.send({ error: "messages must be JSON" });
      return;
    }
    if (request.subscribe === "headers") {
      this.headers = true;
      this.send({ subscribed: "headers" });
    } else if (request.subscribe === "tx" && typeof request.hash === "string" && /^[0-9a-fA-F]{64}$/.test(request.hash)) {
      const hashHex = request.hash.toUpperCase();
      if (!this.txs.has(hashHex)) {
        if (this.txs.size >= MAX_WS_SUBSCRIPTIONS) return this.send({ error: `at most ${MAX_WS_SUBSCRIPTIONS} transaction subscriptions per connection` });
        this.txs.set(hashHex, { sent: new Set(), queue: Promise.resolve() });
      }
      this.send({ subscribed: "tx", hash: hashHex });
      this.refresh(hashHex);
    } else {
      this.send({ error: 'expected {"subscribe":"headers"} or {"subscribe":"tx","hash":"<64 hex>"}' });
    }
  }
}

export async function startApi(o: ApiOptions): Promise<ApiServer> {
  const { node, logger } = o;
  const clients = new Set<WsClient>();
  const server = http.createServer((req, res) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    const reply = (code: number, body: unknown) => res.writeHead(code, { "Content-Type": "application/json" }).end(JSON.stringify(body) + "\n");
    if (req.method !== "GET") return reply(405, { error: "the API is read-only: GET" });
    if (path === "/metrics") {
      o.registry.metrics().then(
        (text) => res.writeHead(200, { "Content-Type": o.registry.contentType }).end(text),
        (error: Error) => reply(500, { error: `collecting metrics failed: ${error.message}` }),
      );
      return;
    }
    route(o, path).then(
      (body) => reply(200, body),
      (error: Error) => {
        if (error instanceof HttpError) return reply(error.status, { error: error.message });
        logger.error({ err: error, path }, "API request failed");
        reply(500, { error: error.message });
      },
    );
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  server.on("upgrade", (req, socket, head) => {
    if (new URL(req.url ?? "/", "http://localhost").pathname !== "/v1/ws") {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      const client = new WsClient(ws, node);
      clients.add(client);
      ws.on("message", (data) => client.onMessage(data.toString()));
      ws.on("close", () => clients.delete(client));
      ws.on("error", () => clients.delete(client));
    });
  });

  const refreshWhere = (wanted: (c: WsClient, hashHex: string) => boolean) => {
    for (const client of clients) for (const hashHex of client.txs.keys()) if (wanted(client, hashHex)) client.refresh(hashHex);
  };
  const offs = [
    node.on("executed", ({ results }) => {
      // Hex-encoding every result's hash is the cost here; without subscribers there is nothing to refresh.
      if (clients.size === 0) return;
      const hashes = new Set(results.map((r) => toHexUpper(r.hash)));
      refreshWhere((_, h) => hashes.has(h));
    }),
    // Few subscriptions wait at a time; each refresh is one index read.
    node.on("firm", () => refreshWhere((c, h) => !c.txs.get(h)!.sent.has("firm"))),
    node.on("rollback", () => {
      for (const client of clients) for (const hashHex of client.txs.keys()) client.rolledBack(hashHex);
    }),
    node.on("header", (signed) => {
      const message = { event: "header", header: signedHeaderJson(signed, node.headerSigner) };
      for (const client of clients) if (client.headers) client.send(message);
      refreshWhere((c, h) => c.txs.get(h)!.sent.has("firm") && !c.txs.get(h)!.sent.has("header"));
    }),
  ];

  const { host, port } = parseListen(o.listen);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostPart = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  const url = `http://${hostPart}:${bound.port}`;
  logger.info({ url }, "rollup API listening");
  return {
    url,
    wsUrl: `ws://${hostPart}:${bound.port}/v1/ws`,
    async close() {
      for (const off of offs) off();
      for (const ws of wss.clients) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
