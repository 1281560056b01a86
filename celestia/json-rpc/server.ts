// A JSON-RPC 2.0 server that behaves like celestia-node's API endpoint (go-jsonrpc behind
// celestia-node's auth middleware): HTTP POST and WebSocket on the same path, positional params,
// bearer-token permissions, go-jsonrpc's error codes, texts and HTTP statuses, and go-jsonrpc's
// channel protocol (xrpc.ch.val / xrpc.ch.close / xrpc.cancel) for streaming methods over WebSocket.
//
// Generic over methods: the DA methods (blob.*, header.*, ...) are registered by their own module.

import http from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { createHash, timingSafeEqual } from "node:crypto";
import { WebSocketServer, WebSocket } from "ws";
import type { RawData } from "ws";

import { INVALID_PARAMS, INVALID_REQUEST, METHOD_ERROR_CODE, METHOD_NOT_FOUND, PARSE_ERROR, ParamsDecodeError, RpcError } from "./errors.ts";
import {
  ALL_PERMS,
  CANCEL,
  CH_CLOSE,
  CH_VALUE,
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_PERMS,
  DEFAULT_STREAM_BUFFER,
  goDynamicType,
  goJsonKind,
  idKey,
  isAsyncIterable,
  silentLogger,
} from "./protocol.ts";
import type { JsonRpcId, Logger, Permission } from "./protocol.ts";

export type { Permission, Logger, JsonRpcId } from "./protocol.ts";

// ---------------------------------------------------------------------------------------------
// Public types

export interface MethodContext {
  /** The full method name, e.g. `blob.Get`. */
  readonly method: string;
  /**
   * Aborted when the call is cancelled: the HTTP client went away, the WebSocket closed, the client
   * sent `xrpc.cancel`, the stream ended (lag, end, error) or the server is shutting down.
   * Long waits inside handlers and stream producers must honour it.
   */
  readonly signal: AbortSignal;
  /** The caller's permissions (from its token; `["public"]` without one; all when auth is off). */
  readonly permissions: readonly Permission[];
  readonly transport: "http" | "ws";
  readonly remoteAddress: string | undefined;
}

/** What a streaming method may return besides a plain async iterable. */
export interface StreamSubscription<T = unknown> {
  values: AsyncIterable<T>;
  /** Called once when the stream ends for any reason (client cancel, lag, disconnect, shutdown, end). */
  close?(): void | Promise<void>;
}

export type StreamSource = AsyncIterable<unknown> | StreamSubscription;

interface MethodBase {
  /** The permission celestia-node tags the method with. */
  perm: Permission;
  /** Exact number of positional params (go-jsonrpc answers -32602 otherwise). */
  arity: number;
  /**
   * Optional decoding step that runs before the permission check, as go-jsonrpc decodes params
   * before celestia-node's permission proxy runs. Throw `ParamsDecodeError` for -32700. Its result is
   * what the handler receives.
   */
  decode?: (params: unknown[]) => unknown[] | Promise<unknown[]>;
}

export interface UnaryMethod extends MethodBase {
  stream?: false;
  handler: (params: unknown[], ctx: MethodContext) => unknown;
}

export interface StreamMethod extends MethodBase {
  /** Streaming methods work only over WebSocket (over HTTP they answer -32601, like go-jsonrpc). */
  stream: true;
  handler: (params: unknown[], ctx: MethodContext) => StreamSource | Promise<StreamSource>;
}

export type MethodSpec = UnaryMethod | StreamMethod;
/** Methods keyed by `"module.Method"`. */
export type MethodTable = Record<string, MethodSpec>;

/** Returns the token's permissions, or undefined to reject it (HTTP 401). */
export type TokenVerifier = (token: string) => readonly Permission[] | undefined | Promise<readonly Permission[] | undefined>;

export type StreamEndReason = "end" | "cancel" | "lag" | "error" | "disconnect" | "shutdown";

export interface StreamEndInfo {
  method: string;
  channelId: number;
  requestId: string | number;
  reason: StreamEndReason;
  /** Values handed to the socket for this stream. */
  sent: number;
  error?: unknown;
}

export interface JsonRpcServerOptions {
  methods: MethodTable;
  /**
   * Without it, auth is off: every method is allowed and tokens are ignored (celestia-node's
   * `--rpc.skip-auth`). A string: that bearer token grants every permission. A function: maps a
   * token to its permissions (e.g. a JWT verifier), undefined rejects it.
   */
  authToken?: string | TokenVerifier;
  /** Request body limit (default 16 MiB, celestia-node's). */
  maxBodyBytes?: number;
  logger?: Logger;
  /** A stream whose unsent messages reach this count is closed (default 16). */
  streamBufferLimit?: number;
  /**
   * When a stream's buffer is full, how long the socket gets to make progress (accept any pending
   * message) before the client counts as lagging and the stream is closed (default 1000 ms).
   */
  lagGraceMs?: number;
  /** WebSocket ping interval (default 5000 ms, go-jsonrpc's); 0 disables. */
  pingIntervalMs?: number;
  /** Called once for every stream that ends, with why. */
  onStreamEnd?: (info: StreamEndInfo) => void;
}

export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 26658 (celestia-node's); 0 for an ephemeral port. */
  port?: number;
}

export interface JsonRpcListener {
  readonly server: http.Server;
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  /** `ws://host:port` */
  readonly wsUrl: string;
  /** Shuts the JSON-RPC server down (streams closed, sockets closed) and stops listening. */
  close(): Promise<void>;
}

export interface JsonRpcServer {
  /** A node:http `request` listener. */
  handleRequest(req: IncomingMessage, res: ServerResponse): void;
  /** A node:http `upgrade` listener (WebSocket on the same path). */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  /** Mounts both listeners on an existing http.Server. */
  attach(server: http.Server): void;
  /** Creates an http.Server for this RPC server and listens (default 127.0.0.1:26658). */
  listen(opts?: ListenOptions): Promise<JsonRpcListener>;
  /** Adds or replaces a method. */
  register(name: string, spec: MethodSpec): void;
  /** Open WebSocket connections and live streams (for tests and metrics). */
  stats(): { connections: number; streams: number; httpInFlight: number };
  /** Closes every stream (sending xrpc.ch.close), every WebSocket, and aborts in-flight calls. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Internals

const DRAIN_CAP_BYTES = 64 * 1024 * 1024;
const WS_CLOSE_GRACE_MS = 2000;
const SHORT_NAME = /^[^.]*\./;

type Outcome =
  | { kind: "result"; value: unknown }
  | { kind: "error"; code: number; message: string; data?: unknown; protocol: boolean }
  | { kind: "stream"; source: StreamSource };

interface ParsedRequest {
  id: JsonRpcId;
  method: string;
  params: unknown;
}

interface CallEnv {
  transport: "http" | "ws";
  permissions: readonly Permission[];
  remoteAddress: string | undefined;
  signal: AbortSignal;
}

interface OutStream {
  conn: Conn;
  channelId: number;
  requestId: string | number;
  reqKey: string;
  method: string;
  ctrl: AbortController;
  source: StreamSource;
  iterator: AsyncIterator<unknown> | undefined;
  pending: number;
  sent: number;
  closed: boolean;
  wake: (() => void) | undefined;
}

interface Conn {
  ws: WebSocket;
  permissions: readonly Permission[];
  remoteAddress: string | undefined;
  handling: Map<string, AbortController>;
  streams: Map<number, OutStream>;
  chanCtr: number;
  closed: boolean;
  closedPromise: Promise<void>;
  pingTimer: NodeJS.Timeout | undefined;
}

function protocolError(code: number, message: string): Outcome {
  return { kind: "error", code, message, protocol: true };
}

/** go-jsonrpc's HTTP status for a protocol error: 400 for invalid request, 500 for the rest. */
function protocolStatus(code: number): number {
  return code === INVALID_REQUEST ? 400 : 500;
}

/** Encodes a response like Go's json.Encoder over go-jsonrpc's response map (sorted keys, newline). */
function encodeResponse(id: JsonRpcId, outcome: Outcome): string {
  const idText = JSON.stringify(id);
  if (outcome.kind === "error") {
    const err: { code: number; message: string; data?: unknown } = { code: outcome.code, message: outcome.message };
    if (outcome.data !== undefined) err.data = outcome.data;
    return `{"error":${JSON.stringify(err)},"id":${idText},"jsonrpc":"2.0"}\n`;
  }
  if (outcome.kind === "result") {
    const value = outcome.value === undefined ? null : outcome.value;
    let text: string;
    try {
      text = JSON.stringify(value) ?? "null";
    } catch (e) {
      return encodeResponse(id, { kind: "error", code: METHOD_ERROR_CODE, message: `marshaling result: ${errText(e)}`, protocol: false });
    }
    return `{"id":${idText},"jsonrpc":"2.0","result":${text}}\n`;
  }
  throw new Error("stream outcomes have no direct response");
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

type Parsed = { ok: true; req: ParsedRequest } | { ok: false; code: number; message: string };

/** Validates one decoded request object the way go-jsonrpc's decoding would. */
function parseRequest(raw: unknown): Parsed {
  if (raw === null) return { ok: true, req: { id: null, method: "", params: undefined } };
  const parseError = { ok: false, code: PARSE_ERROR, message: "Parse error" } as const;
  if (typeof raw !== "object" || Array.isArray(raw)) return parseError;
  const r = raw as Record<string, unknown>;
  const m = r.method;
  if (m !== undefined && m !== null && typeof m !== "string") return parseError;
  const v = r.jsonrpc;
  if (v !== undefined && v !== null && typeof v !== "string") return parseError;
  const id = r.id === undefined ? null : r.id;
  if (id !== null && typeof id !== "string" && typeof id !== "number") {
    return { ok: false, code: PARSE_ERROR, message: `failed to parse ID: invalid id type: ${goDynamicType(id)}` };
  }
  return { ok: true, req: { id, method: typeof m === "string" ? m : "", params: r.params } };
}

function sha256(s: string): Buffer {
  return createHash("sha256").update(s).digest();
}

// ---------------------------------------------------------------------------------------------

export function createJsonRpcServer(opts: JsonRpcServerOptions): JsonRpcServer {
  const log = opts.logger ?? silentLogger;
  const maxBody = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const bufferLimit = Math.max(1, opts.streamBufferLimit ?? DEFAULT_STREAM_BUFFER);
  const lagGraceMs = opts.lagGraceMs ?? 1000;
  const pingIntervalMs = opts.pingIntervalMs ?? 5000;
  const methods = new Map<string, MethodSpec>(Object.entries(opts.methods));

  const conns = new Set<Conn>();
  const httpInFlight = new Set<AbortController>();
  let closing = false;
  let closePromise: Promise<void> | undefined;

  // Frames up to twice the limit are read and answered with the limit error (connection kept);
  // beyond that ws closes the connection with 1009.
  const wss = new WebSocketServer({ noServer: true, maxPayload: maxBody * 2, perMessageDeflate: false, clientTracking: false });

  // -- auth ------------------------------------------------------------------------------------

  const verify: TokenVerifier | undefined =
    typeof opts.authToken === "string"
      ? (() => {
          const want = sha256(opts.authToken);
          return (token: string) => (timingSafeEqual(sha256(token), want) ? ALL_PERMS : undefined);
        })()
      : opts.authToken;

  /** go-jsonrpc's auth.Handler + celestia-node's verifier. undefined = reject with 401. */
  async function authenticate(req: IncomingMessage): Promise<readonly Permission[] | undefined> {
    if (!verify) return ALL_PERMS;
    let token = req.headers.authorization ?? "";
    if (token === "") {
      const q = new URL(req.url ?? "/", "http://localhost").searchParams.get("token");
      if (q) token = `Bearer ${q}`;
    }
    if (token === "") return DEFAULT_PERMS;
    if (!token.startsWith("Bearer ")) {
      log.warn({ remote: req.socket.remoteAddress }, "missing Bearer prefix in auth header");
      return undefined;
    }
    try {
      const perms = await verify(token.slice("Bearer ".length));
      if (!perms) log.warn({ remote: req.socket.remoteAddress }, "token verification failed");
      return perms ?? undefined;
    } catch (e) {
      log.warn({ remote: req.socket.remoteAddress, err: errText(e) }, "token verification failed");
      return undefined;
    }
  }

  // -- method dispatch (shared by HTTP and WebSocket) -----------------------------------------

  async function dispatch(req: ParsedRequest, env: CallEnv): Promise<Outcome> {
    const name = req.method;
    const spec = methods.get(name);
    if (!spec) return protocolError(METHOD_NOT_FOUND, `method '${name}' not found`);
    if (spec.stream && env.transport === "http") {
      return protocolError(METHOD_NOT_FOUND, `method '${name}' not supported in this mode (no out channel support)`);
    }

    let params: unknown[];
    if (req.params === undefined || req.params === null) params = [];
    else if (Array.isArray(req.params)) params = req.params;
    else {
      return protocolError(PARSE_ERROR, `unmarshaling param array: json: cannot unmarshal ${goJsonKind(req.params)} into Go value of type []jsonrpc.param`);
    }
    if (params.length !== spec.arity) {
      return protocolError(INVALID_PARAMS, `wrong param count (method '${name}'): ${params.length} != ${spec.arity}`);
    }

    if (spec.decode) {
      try {
        params = await spec.decode(params);
      } catch (e) {
        return decodeFailure(name, e);
      }
    }

    if (!env.permissions.includes(spec.perm)) {
      const short = name.replace(SHORT_NAME, "");
      return { kind: "error", code: METHOD_ERROR_CODE, message: `missing permission to invoke '${short}' (need '${spec.perm}')`, protocol: false };
    }

    const ctx: MethodContext = {
      method: name,
      signal: env.signal,
      permissions: env.permissions,
      transport: env.transport,
      remoteAddress: env.remoteAddress,
    };
    try {
      const value = await spec.handler(params, ctx);
      if (spec.stream) {
        const v = value as unknown;
        const ok = isAsyncIterable(v) || (typeof v === "object" && v !== null && isAsyncIterable((v as StreamSubscription).values));
        if (!ok) return { kind: "error", code: METHOD_ERROR_CODE, message: `method '${name}' did not return a stream`, protocol: false };
        return { kind: "stream", source: v as StreamSource };
      }
      return { kind: "result", value };
    } catch (e) {
      if (e instanceof ParamsDecodeError) return decodeFailure(name, e);
      if (e instanceof RpcError) return { kind: "error", code: e.code, message: e.message, data: e.data, protocol: false };
      log.debug({ method: name, err: errText(e) }, "error in RPC call");
      return { kind: "error", code: METHOD_ERROR_CODE, message: errText(e), protocol: false };
    }
  }

  function decodeFailure(method: string, e: unknown): Outcome {
    const param = e instanceof ParamsDecodeError && e.param !== undefined ? ` (param: ${e.param})` : "";
    return protocolError(PARSE_ERROR, `unmarshaling params for '${method}'${param}: ${errText(e)}`);
  }

  // -- HTTP ------------------------------------------------------------------------------------

  function writeHttp(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
    if (res.headersSent || res.destroyed) return;
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": String(Buffer.byteLength(body)), ...extra });
    res.end(body);
  }

  /** Reads the body up to the limit; past it keeps draining (bounded) so the connection stays usable. */
  function readBody(req: IncomingMessage): Promise<{ body: Buffer } | { tooLarge: true; drained: boolean }> {
    return new Promise((resolve, reject) => {
      const declared = Number(req.headers["content-length"] ?? NaN);
      if (Number.isFinite(declared) && declared > maxBody + DRAIN_CAP_BYTES) {
        resolve({ tooLarge: true, drained: false });
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      let settled = false;
      const onData = (chunk: Buffer) => {
        size += chunk.length;
        if (tooLarge) {
          if (size > maxBody + DRAIN_CAP_BYTES && !settled) {
            settled = true;
            req.off("data", onData);
            resolve({ tooLarge: true, drained: false });
          }
          return;
        }
        if (size > maxBody) {
          tooLarge = true;
          chunks.length = 0;
          return;
        }
        chunks.push(chunk);
      };
      req.on("data", onData);
      req.on("end", () => {
        if (settled) return;
        settled = true;
        resolve(tooLarge ? { tooLarge: true, drained: true } : { body: Buffer.concat(chunks, size) });
      });
      req.on("error", (e) => {
        if (settled) return;
        settled = true;
        reject(e);
      });
    });
  }

  async function onHttpRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (closing) {
      res.writeHead(503, { "Content-Length": "0", Connection: "close" });
      res.end();
      return;
    }
    const permissions = await authenticate(req);
    if (!permissions) {
      // go-jsonrpc's auth handler: bare 401, empty body. Node discards the unread request body.
      res.writeHead(401, { "Content-Length": "0" });
      res.end();
      return;
    }

    const ctrl = new AbortController();
    httpInFlight.add(ctrl);
    res.on("close", () => {
      httpInFlight.delete(ctrl);
      if (!res.writableFinished) ctrl.abort(new Error("client disconnected"));
    });

    let read: Awaited<ReturnType<typeof readBody>>;
    try {
      read = await readBody(req);
    } catch (e) {
      log.debug({ err: errText(e) }, "reading request body failed");
      return;
    }
    if ("tooLarge" in read) {
      const body = encodeResponse(null, protocolError(PARSE_ERROR, `request bigger than maximum ${maxBody} allowed`));
      log.warn({ maxBody, remote: req.socket.remoteAddress }, "request body over the limit");
      if (read.drained) writeHttp(res, 500, body);
      else {
        writeHttp(res, 500, body, { Connection: "close" });
        res.once("finish", () => req.socket.destroySoon?.());
      }
      return;
    }

    const env: CallEnv = { transport: "http", permissions, remoteAddress: req.socket.remoteAddress, signal: ctrl.signal };
    const { status, body } = await processHttpBody(read.body, env);
    writeHttp(res, status, body);
  }

  async function processHttpBody(buf: Buffer, env: CallEnv): Promise<{ status: number; body: string }> {
    const text = buf.toString("utf8").trim();
    if (text === "") return { status: 400, body: encodeResponse(null, protocolError(INVALID_REQUEST, "Invalid request")) };

    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      return { status: 500, body: encodeResponse(null, protocolError(PARSE_ERROR, "Parse error")) };
    }

    if (text.startsWith("[") && text.endsWith("]") && Array.isArray(raw)) {
      // Batch: go-jsonrpc decodes every element first (any non-object fails the whole batch),
      // then runs them in order. Always HTTP 200, errors inline.
      if (raw.some((r) => r !== null && (typeof r !== "object" || Array.isArray(r)))) {
        return { status: 500, body: encodeResponse(null, protocolError(PARSE_ERROR, "Parse error")) };
      }
      if (raw.length === 0) return { status: 400, body: encodeResponse(null, protocolError(INVALID_REQUEST, "Invalid request")) };
      const parts: string[] = [];
      for (const r of raw) {
        const p = parseRequest(r);
        if (!p.ok) {
          parts.push(encodeResponse(null, protocolError(p.code, p.message)).trimEnd());
          continue;
        }
        const out = await dispatch(p.req, env);
        if (out.kind === "stream") continue; // unreachable over HTTP
        if (p.req.id === null && !(out.kind === "error" && out.protocol)) continue; // notification
        parts.push(encodeResponse(p.req.id, out).trimEnd());
      }
      return { status: 200, body: `[${parts.join(",")}]` };
    }

    const p = parseRequest(raw);
    if (!p.ok) return { status: protocolStatus(p.code), body: encodeResponse(null, protocolError(p.code, p.message)) };
    const out = await dispatch(p.req, env);
    if (out.kind === "stream") return { status: 500, body: "" }; // unreachable over HTTP
    if (out.kind === "error" && out.protocol) return { status: protocolStatus(out.code), body: encodeResponse(p.req.id, out) };
    if (p.req.id === null) return { status: 200, body: "" }; // notification: go-jsonrpc writes nothing
    return { status: 200, body: encodeResponse(p.req.id, out) };
  }

  // -- WebSocket -------------------------------------------------------------------------------

  function send(conn: Conn, text: string, cb?: (err?: Error) => void): boolean {
    if (conn.ws.readyState !== WebSocket.OPEN) {
      cb?.(new Error("websocket not open"));
      return false;
    }
    conn.ws.send(text, cb);
    return true;
  }

  async function onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on("error", (e) => log.debug({ err: errText(e) }, "upgrade socket error"));
    if (closing) {
      socket.end("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    const permissions = await authenticate(req);
    if (!permissions) {
      socket.end("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => onConnection(ws, req, permissions));
  }

  function onConnection(ws: WebSocket, req: IncomingMessage, permissions: readonly Permission[]): void {
    let markClosed!: () => void;
    const conn: Conn = {
      ws,
      permissions,
      remoteAddress: req.socket.remoteAddress,
      handling: new Map(),
      streams: new Map(),
      chanCtr: 0,
      closed: false,
      closedPromise: new Promise<void>((r) => (markClosed = r)),
      pingTimer: undefined,
    };
    conns.add(conn);
    log.debug({ remote: conn.remoteAddress }, "websocket connected");
    if (closing) ws.close(1001, "server shutting down");

    if (pingIntervalMs > 0) {
      conn.pingTimer = setInterval(() => {
        if (ws.readyState === WebSocket.OPEN) ws.ping();
      }, pingIntervalMs);
      conn.pingTimer.unref();
    }

    ws.on("message", (data: RawData) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      onFrame(conn, buf);
    });
    ws.on("error", (e) => log.debug({ err: errText(e), remote: conn.remoteAddress }, "websocket error"));
    ws.on("close", () => {
      conn.closed = true;
      if (conn.pingTimer) clearInterval(conn.pingTimer);
      for (const st of [...conn.streams.values()]) finishStream(st, closing ? "shutdown" : "disconnect");
      for (const c of conn.handling.values()) c.abort(new Error("websocket connection closed"));
      conn.handling.clear();
      conns.delete(conn);
      log.debug({ remote: conn.remoteAddress }, "websocket closed");
      markClosed();
    });
  }

  function onFrame(conn: Conn, buf: Buffer): void {
    if (buf.length > maxBody) {
      // Answer like the HTTP limit, with the request's id when it can be read, and keep the socket.
      let id: JsonRpcId = null;
      try {
        const raw = JSON.parse(buf.toString("utf8")) as { id?: unknown };
        if (typeof raw?.id === "string" || typeof raw?.id === "number") id = raw.id;
      } catch {
        // id stays null
      }
      send(conn, encodeResponse(id, protocolError(PARSE_ERROR, `request bigger than maximum ${maxBody} allowed`)));
      return;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(buf.toString("utf8"));
    } catch {
      // go-jsonrpc drops such frames silently; answering helps the client see its bug.
      send(conn, encodeResponse(null, protocolError(PARSE_ERROR, "Parse error")));
      return;
    }
    if (Array.isArray(raw)) {
      send(conn, encodeResponse(null, protocolError(INVALID_REQUEST, "Invalid request")));
      return;
    }
    const method = raw !== null && typeof raw === "object" ? (raw as { method?: unknown }).method : undefined;
    if (method === CANCEL) {
      onCancel(conn, (raw as { params?: unknown }).params);
      return;
    }
    if (method === undefined || method === "" || method === CH_VALUE || method === CH_CLOSE) {
      // Responses to server-initiated calls and client->server channels: not used by celestia-node.
      return;
    }
    void handleWsCall(conn, raw);
  }

  function onCancel(conn: Conn, params: unknown): void {
    if (!Array.isArray(params) || params.length < 1) return;
    const id = params[0];
    if (typeof id !== "string" && typeof id !== "number") return;
    const ctrl = conn.handling.get(idKey(id));
    log.debug({ id, found: ctrl !== undefined }, "xrpc.cancel");
    ctrl?.abort(new Error("cancelled by client"));
  }

  async function handleWsCall(conn: Conn, raw: unknown): Promise<void> {
    const p = parseRequest(raw);
    if (!p.ok) {
      send(conn, encodeResponse(null, protocolError(p.code, p.message)));
      return;
    }
    const { id } = p.req;
    const ctrl = new AbortController();
    const key = id === null ? undefined : idKey(id);
    if (key !== undefined) conn.handling.set(key, ctrl);
    if (conn.closed) ctrl.abort(new Error("websocket connection closed"));

    const out = await dispatch(p.req, { transport: "ws", permissions: conn.permissions, remoteAddress: conn.remoteAddress, signal: ctrl.signal });

    if (out.kind === "stream") {
      if (id === null || key === undefined || conn.closed) {
        stopSource(out.source, undefined);
        if (key !== undefined && conn.handling.get(key) === ctrl) conn.handling.delete(key);
        ctrl.abort(new Error("stream not delivered"));
        return;
      }
      const channelId = ++conn.chanCtr;
      // The channel id answer goes out before any value of the channel.
      send(conn, encodeResponse(id, { kind: "result", value: channelId }));
      startStream(conn, { channelId, requestId: id, reqKey: key, method: p.req.method, ctrl, source: out.source });
      return;
    }
    if (key !== undefined && conn.handling.get(key) === ctrl) conn.handling.delete(key);
    if (id === null) return; // notifications get no answer over WebSocket
    send(conn, encodeResponse(id, out));
  }

  // -- streams ---------------------------------------------------------------------------------

  function stopSource(source: StreamSource, iterator: AsyncIterator<unknown> | undefined): void {
    if (iterator?.return) {
      const it = iterator;
      Promise.resolve()
        .then(() => it.return!())
        .catch((e: unknown) => log.debug({ err: errText(e) }, "stream iterator return failed"));
    }
    if (!isAsyncIterable(source) && typeof source.close === "function") {
      const s = source;
      Promise.resolve()
        .then(() => s.close!())
        .catch((e: unknown) => log.debug({ err: errText(e) }, "stream close failed"));
    }
  }

  function startStream(
    conn: Conn,
    s: { channelId: number; requestId: string | number; reqKey: string; method: string; ctrl: AbortController; source: StreamSource },
  ): void {
    const st: OutStream = { conn, ...s, iterator: undefined, pending: 0, sent: 0, closed: false, wake: undefined };
    conn.streams.set(st.channelId, st);
    if (st.ctrl.signal.aborted) {
      finishStream(st, conn.closed ? "disconnect" : "cancel");
      return;
    }
    st.ctrl.signal.addEventListener("abort", () => finishStream(st, "cancel"), { once: true });
    void pump(st);
  }

  async function pump(st: OutStream): Promise<void> {
    try {
      const iterable = isAsyncIterable(st.source) ? st.source : st.source.values;
      const it = iterable[Symbol.asyncIterator]();
      st.iterator = it;
      while (!st.closed) {
        const r = await it.next();
        if (st.closed) return;
        if (r.done) {
          finishStream(st, "end");
          return;
        }
        if (st.pending >= bufferLimit) {
          // Buffer full: give the socket a chance to take a message before calling the client lagging.
          await waitForProgress(st);
          if (st.closed) return;
          if (st.pending >= bufferLimit) {
            finishStream(st, "lag");
            return;
          }
        }
        sendValue(st, r.value);
      }
    } catch (e) {
      finishStream(st, "error", e);
    }
  }

  function waitForProgress(st: OutStream): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        st.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, lagGraceMs);
      st.wake = done;
    });
  }

  function sendValue(st: OutStream, value: unknown): void {
    let text: string;
    try {
      text = `{"jsonrpc":"2.0","method":"${CH_VALUE}","params":[${st.channelId},${JSON.stringify(value === undefined ? null : value) ?? "null"}]}\n`;
    } catch (e) {
      finishStream(st, "error", e);
      return;
    }
    st.pending++;
    st.sent++;
    const ok = send(st.conn, text, () => {
      st.pending--;
      st.wake?.();
    });
    if (!ok) finishStream(st, "disconnect");
  }

  function finishStream(st: OutStream, reason: StreamEndReason, error?: unknown): void {
    if (st.closed) return;
    st.closed = true;
    const { conn } = st;
    conn.streams.delete(st.channelId);
    if (conn.handling.get(st.reqKey) === st.ctrl) conn.handling.delete(st.reqKey);
    st.wake?.();
    if (!st.ctrl.signal.aborted) st.ctrl.abort(new Error(`stream ended: ${reason}`));
    stopSource(st.source, st.iterator);
    if (reason !== "disconnect") {
      send(conn, `{"jsonrpc":"2.0","method":"${CH_CLOSE}","params":[${st.channelId}]}\n`);
    }
    const info: StreamEndInfo = { method: st.method, channelId: st.channelId, requestId: st.requestId, reason, sent: st.sent };
    if (error !== undefined) info.error = error;
    if (reason === "error") log.warn({ method: st.method, channelId: st.channelId, err: errText(error) }, "stream failed");
    else if (reason === "lag") log.warn({ method: st.method, channelId: st.channelId, buffered: st.pending }, "closing stream of a lagging client");
    else log.debug({ method: st.method, channelId: st.channelId, reason }, "stream closed");
    try {
      opts.onStreamEnd?.(info);
    } catch (e) {
      log.warn({ err: errText(e) }, "onStreamEnd hook threw");
    }
  }

  // -- lifecycle -------------------------------------------------------------------------------

  async function close(): Promise<void> {
    if (closePromise) return closePromise;
    closing = true;
    closePromise = (async () => {
      for (const c of httpInFlight) c.abort(new Error("server shutting down"));
      const waits: Promise<void>[] = [];
      for (const conn of [...conns]) {
        for (const st of [...conn.streams.values()]) finishStream(st, "shutdown");
        for (const c of conn.handling.values()) c.abort(new Error("server shutting down"));
        if (conn.ws.readyState === WebSocket.OPEN || conn.ws.readyState === WebSocket.CONNECTING) conn.ws.close(1001, "server shutting down");
        waits.push(
          Promise.race([
            conn.closedPromise,
            new Promise<void>((r) => setTimeout(r, WS_CLOSE_GRACE_MS).unref()).then(() => conn.ws.terminate()),
          ]),
        );
      }
      await Promise.all(waits);
      await Promise.all([...conns].map((c) => c.closedPromise));
    })();
    return closePromise;
  }

  const api: JsonRpcServer = {
    handleRequest(req, res) {
      onHttpRequest(req, res).catch((e: unknown) => {
        log.error({ err: errText(e) }, "http handler failed");
        if (!res.headersSent) {
          res.writeHead(500, { "Content-Length": "0" });
          res.end();
        }
      });
    },
    handleUpgrade(req, socket, head) {
      onUpgrade(req, socket, head).catch((e: unknown) => {
        log.error({ err: errText(e) }, "upgrade failed");
        socket.destroy();
      });
    },
    attach(server) {
      server.on("request", api.handleRequest);
      server.on("upgrade", api.handleUpgrade);
    },
    async listen(lo = {}) {
      const host = lo.host ?? "127.0.0.1";
      const server = http.createServer();
      api.attach(server);
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(lo.port ?? 26658, host, () => {
          server.off("error", reject);
          resolve();
        });
      });
      const addr = server.address();
      const port = typeof addr === "object" && addr ? addr.port : (lo.port ?? 26658);
      const hostForUrl = host.includes(":") ? `[${host}]` : host;
      let stopped: Promise<void> | undefined;
      return {
        server,
        host,
        port,
        url: `http://${hostForUrl}:${port}`,
        wsUrl: `ws://${hostForUrl}:${port}`,
        close() {
          stopped ??= (async () => {
            await api.close();
            const closed = new Promise<void>((r) => server.close(() => r()));
            server.closeIdleConnections();
            const t = setTimeout(() => server.closeAllConnections(), WS_CLOSE_GRACE_MS);
            await closed;
            clearTimeout(t);
          })();
          return stopped;
        },
      };
    },
    register(name, spec) {
      methods.set(name, spec);
    },
    stats() {
      let streams = 0;
      for (const c of conns) streams += c.streams.size;
      return { connections: conns.size, streams, httpInFlight: httpInFlight.size };
    },
    close,
  };
  return api;
}
