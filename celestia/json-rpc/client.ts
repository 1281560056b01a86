// A JSON-RPC client for celestia-node's API (and this project's server, which speaks the same):
// calls over HTTP POST (or over one shared WebSocket), subscriptions over WebSocket using
// go-jsonrpc's channel protocol, typed errors, per-attempt timeouts, and retries with exponential
// backoff + jitter for transient failures only.

import { WebSocket } from "ws";
import type { RawData } from "ws";

import { AuthError, RpcError, TimeoutError, TransportError } from "./errors.ts";
import { CANCEL, CH_CLOSE, CH_VALUE, silentLogger, sleep } from "./protocol.ts";
import type { Logger } from "./protocol.ts";

export interface RetryPolicy {
  /** Attempts in all, the first included (1 = no retry). */
  maxAttempts: number;
  /** Delay before the first retry; doubles each retry, up to maxDelayMs, with jitter (50-100%). */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 5000 };
export const DEFAULT_TIMEOUT_MS = 30_000;

export interface JsonRpcClientOptions {
  /** `http(s)://host:port[/path]` or `ws(s)://...`; the other scheme is derived for the other transport. */
  url: string;
  /** Sent as `Authorization: Bearer <token>`. */
  token?: string;
  /** Per attempt (default 30 s). */
  timeoutMs?: number;
  /** Retry policy for transient failures (default 4 attempts, 250 ms .. 5 s); false: never retry. */
  retry?: Partial<RetryPolicy> | false;
  /** Transport for `call` (default http). `subscribe` always uses the WebSocket. */
  transport?: "http" | "ws";
  /** Extra request headers. */
  headers?: Record<string, string>;
  logger?: Logger;
  /** Largest WebSocket message accepted from the server (default 512 MiB). */
  maxMessageBytes?: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  /** Overrides the client's per-attempt timeout. */
  timeoutMs?: number;
  /** false: a single attempt even for transient failures (e.g. for non-idempotent calls). */
  retry?: boolean;
}

/** An open server stream. Iterate it; it ends when the server closes the channel. */
export interface RpcSubscription<T = unknown> extends AsyncIterableIterator<T> {
  readonly method: string;
  readonly channelId: number;
  /** Stops the stream: sends `xrpc.cancel` and ends the iterator. */
  return(): Promise<IteratorResult<T, undefined>>;
  /** Same as return(). */
  cancel(): Promise<void>;
}

export interface JsonRpcClient {
  readonly httpUrl: string;
  readonly wsUrl: string;
  call<T = unknown>(method: string, params?: readonly unknown[], opts?: CallOptions): Promise<T>;
  subscribe<T = unknown>(method: string, params?: readonly unknown[], opts?: CallOptions): Promise<RpcSubscription<T>>;
  /** Closes the WebSocket (ending subscriptions); later calls fail. */
  close(): Promise<void>;
}

const TRANSIENT_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** Error codes found along an error's cause chain (undici wraps them in "fetch failed"). */
function errorCodes(e: unknown, depth = 0): string[] {
  if (depth > 5 || e === null || typeof e !== "object") return [];
  const out: string[] = [];
  const code = (e as { code?: unknown }).code;
  if (typeof code === "string") out.push(code);
  out.push(...errorCodes((e as { cause?: unknown }).cause, depth + 1));
  const errors = (e as { errors?: unknown }).errors;
  if (Array.isArray(errors)) for (const x of errors) out.push(...errorCodes(x, depth + 1));
  return out;
}

function describe(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const codes = errorCodes(e);
  const cause = (e as { cause?: unknown }).cause;
  const inner = cause instanceof Error && cause.message && cause.message !== e.message ? `: ${cause.message}` : "";
  return `${e.message}${inner}${codes.length ? ` (${[...new Set(codes)].join(", ")})` : ""}`;
}

function networkError(method: string, url: string, e: unknown): TransportError {
  const retryable = errorCodes(e).some((c) => TRANSIENT_CODES.has(c));
  return new TransportError(`${method}: request to ${url} failed: ${describe(e)}`, { method, retryable, cause: e });
}

function deriveUrls(url: string): { httpUrl: string; wsUrl: string } {
  const u = new URL(url);
  const other = new URL(url);
  switch (u.protocol) {
    case "http:":
    case "https:":
      other.protocol = u.protocol === "http:" ? "ws:" : "wss:";
      return { httpUrl: u.toString(), wsUrl: other.toString() };
    case "ws:":
    case "wss:":
      other.protocol = u.protocol === "ws:" ? "http:" : "https:";
      return { httpUrl: other.toString(), wsUrl: u.toString() };
    default:
      throw new TypeError(`unsupported URL scheme ${u.protocol} (use http, https, ws or wss)`);
  }
}

interface PendingCall {
  method: string;
  resolve(v: unknown): void;
  reject(e: unknown): void;
  /** For subscriptions: turns the channel id answer into a registered subscription, synchronously. */
  onChannel?: (channelId: number) => unknown;
}

/** One WebSocket and what was sent over it. */
interface Link {
  sock: WebSocket;
  pending: Map<number, PendingCall>;
  channels: Map<number, Subscription<unknown>>;
  closedByUs: boolean;
  closed: Promise<void>;
}

class Subscription<T> implements RpcSubscription<T> {
  readonly method: string;
  readonly channelId: number;
  readonly #requestId: number;
  readonly #link: Link;
  readonly #queue: T[] = [];
  readonly #waiters: { resolve(r: IteratorResult<T, undefined>): void; reject(e: unknown): void }[] = [];
  #done = false;
  #error: unknown = undefined;

  constructor(method: string, channelId: number, requestId: number, link: Link) {
    this.method = method;
    this.channelId = channelId;
    this.#requestId = requestId;
    this.#link = link;
  }

  /** A value from the server. */
  push(v: T): void {
    if (this.#done) return;
    const w = this.#waiters.shift();
    if (w) w.resolve({ value: v, done: false });
    else this.#queue.push(v);
  }

  /** The channel ended: normally (no error) or because the connection dropped. */
  end(error?: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    for (const w of this.#waiters.splice(0)) {
      if (error !== undefined) {
        this.#error = undefined;
        w.reject(error);
        error = undefined;
      } else w.resolve({ value: undefined, done: true });
    }
  }

  next(): Promise<IteratorResult<T, undefined>> {
    if (this.#queue.length > 0) return Promise.resolve({ value: this.#queue.shift() as T, done: false });
    if (this.#done) {
      if (this.#error !== undefined) {
        const e = this.#error;
        this.#error = undefined;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  async return(): Promise<IteratorResult<T, undefined>> {
    if (!this.#done) {
      this.#link.channels.delete(this.channelId);
      if (this.#link.sock.readyState === WebSocket.OPEN) {
        this.#link.sock.send(JSON.stringify({ jsonrpc: "2.0", method: CANCEL, params: [this.#requestId] }));
      }
      this.end();
    }
    this.#queue.length = 0;
    this.#error = undefined;
    return { value: undefined, done: true };
  }

  async cancel(): Promise<void> {
    await this.return();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

export function createJsonRpcClient(opts: JsonRpcClientOptions): JsonRpcClient {
  const { httpUrl, wsUrl } = deriveUrls(opts.url);
  const log = opts.logger ?? silentLogger;
  const defaultTimeout = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const policy: RetryPolicy | undefined = opts.retry === false ? undefined : { ...DEFAULT_RETRY, ...(opts.retry ?? {}) };
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (opts.token !== undefined) headers.Authorization = `Bearer ${opts.token}`;

  let nextId = 1;
  let link: Link | undefined;
  let connecting: Promise<Link> | undefined;
  let closed = false;

  function authError(method: string, status: number, url: string): AuthError {
    const why =
      opts.token === undefined
        ? "the node requires an auth token and none was configured"
        : "the node rejected the auth token (it must be valid, unexpired, and sent as 'Authorization: Bearer <token>')";
    return new AuthError(`${method}: HTTP ${status} from ${url}: ${why}`, { status, method });
  }

  // -- retry / timeout ---------------------------------------------------------------------------

  async function withRetry<T>(method: string, co: CallOptions, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const max = policy && co.retry !== false ? Math.max(1, policy.maxAttempts) : 1;
    const timeoutMs = co.timeoutMs ?? defaultTimeout;
    for (let n = 1; ; n++) {
      if (closed) throw new TransportError(`${method}: client is closed`, { method, retryable: false });
      try {
        return await runAttempt(method, timeoutMs, co.signal, attempt);
      } catch (e) {
        if (e instanceof TransportError) e.attempts = n;
        const retry = e instanceof TransportError && e.retryable && n < max && !co.signal?.aborted && !closed;
        if (!retry || !policy) throw e;
        const exp = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
        const delay = exp / 2 + (Math.random() * exp) / 2;
        log.debug({ method, attempt: n, delayMs: Math.round(delay), err: (e as Error).message }, "retrying after transient failure");
        await sleep(delay, co.signal);
      }
    }
  }

  async function runAttempt<T>(method: string, timeoutMs: number, user: AbortSignal | undefined, attempt: (signal: AbortSignal) => Promise<T>): Promise<T> {
    user?.throwIfAborted();
    const timer = new AbortController();
    const t = setTimeout(() => timer.abort(new TimeoutError(`${method}: no answer within ${timeoutMs} ms`, { method, timeoutMs })), timeoutMs);
    const signal = user ? AbortSignal.any([user, timer.signal]) : timer.signal;
    try {
      return await attempt(signal);
    } catch (e) {
      if (timer.signal.aborted && !user?.aborted) throw timer.signal.reason;
      if (user?.aborted) throw user.reason;
      throw e;
    } finally {
      clearTimeout(t);
    }
  }

  // -- HTTP --------------------------------------------------------------------------------------

  async function httpAttempt(method: string, params: readonly unknown[], signal: AbortSignal): Promise<unknown> {
    const id = nextId++;
    const body = JSON.stringify({ jsonrpc: "2.0", id, method, params });
    let res: Response;
    let text: string;
    try {
      res = await fetch(httpUrl, { method: "POST", headers: { "Content-Type": "application/json", ...headers }, body, signal });
      text = await res.text();
    } catch (e) {
      if (signal.aborted) throw signal.reason;
      throw networkError(method, httpUrl, e);
    }
    if (res.status === 401 || res.status === 403) throw authError(method, res.status, httpUrl);
    if (res.status === 502 || res.status === 503 || res.status === 504 || res.status === 429) {
      throw new TransportError(`${method}: HTTP ${res.status} ${res.statusText} from ${httpUrl}`, { method, retryable: true, status: res.status });
    }
    let parsed: unknown;
    try {
      parsed = text === "" ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const obj = parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
    if (obj && obj.error !== undefined && obj.error !== null) {
      const err = obj.error as { code?: unknown; message?: unknown; data?: unknown };
      throw new RpcError(typeof err.code === "number" ? err.code : 0, typeof err.message === "string" ? err.message : JSON.stringify(err), {
        method,
        data: err.data,
        httpStatus: res.status,
      });
    }
    if (obj && "result" in obj && res.status === 200) {
      if (obj.id !== id) throw new TransportError(`${method}: response id ${JSON.stringify(obj.id)} does not match request id ${id}`, { method, retryable: false });
      return obj.result;
    }
    const snippet = text.length > 200 ? `${text.slice(0, 200)}...` : text;
    if (res.status >= 500) {
      throw new TransportError(`${method}: HTTP ${res.status} ${res.statusText} from ${httpUrl} without a JSON-RPC answer${snippet ? `: ${snippet}` : ""}`, {
        method,
        retryable: true,
        status: res.status,
      });
    }
    throw new TransportError(`${method}: unexpected answer from ${httpUrl} (HTTP ${res.status})${snippet ? `: ${snippet}` : ""}`, {
      method,
      retryable: false,
      status: res.status,
    });
  }

  // -- WebSocket ---------------------------------------------------------------------------------

  function connect(method: string, signal: AbortSignal): Promise<Link> {
    if (link && link.sock.readyState === WebSocket.OPEN) return Promise.resolve(link);
    connecting ??= openLink(method).finally(() => {
      connecting = undefined;
    });
    const p = connecting;
    return new Promise<Link>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      if (signal.aborted) return onAbort();
      signal.addEventListener("abort", onAbort, { once: true });
      p.then(
        (l) => {
          signal.removeEventListener("abort", onAbort);
          resolve(l);
        },
        (e: unknown) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      );
    });
  }

  function openLink(method: string): Promise<Link> {
    return new Promise<Link>((resolve, reject) => {
      const sock = new WebSocket(wsUrl, {
        headers,
        perMessageDeflate: false,
        maxPayload: opts.maxMessageBytes ?? 512 * 1024 * 1024,
        handshakeTimeout: defaultTimeout,
      });
      let settled = false;
      let markClosed!: () => void;
      const l: Link = { sock, pending: new Map(), channels: new Map(), closedByUs: false, closed: new Promise<void>((r) => (markClosed = r)) };
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      sock.on("unexpected-response", (_req, res) => {
        const status = res.statusCode ?? 0;
        res.resume();
        if (status === 401 || status === 403) fail(authError(method, status, wsUrl));
        else {
          fail(
            new TransportError(`${method}: websocket upgrade to ${wsUrl} answered HTTP ${status}`, {
              method,
              retryable: status >= 500 || status === 429,
              status,
            }),
          );
        }
        sock.terminate();
      });
      sock.on("open", () => {
        if (settled) return;
        settled = true;
        if (closed) {
          sock.close(1000);
          reject(new TransportError(`${method}: client is closed`, { method, retryable: false }));
          return;
        }
        link = l;
        log.debug({ url: wsUrl }, "websocket connected");
        resolve(l);
      });
      sock.on("error", (e) => {
        log.debug({ url: wsUrl, err: describe(e) }, "websocket error");
        fail(networkError(method, wsUrl, e));
      });
      sock.on("message", (data: RawData) => onMessage(l, data));
      sock.on("close", (code, reason) => {
        if (link === l) link = undefined;
        const why = `websocket connection to ${wsUrl} closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`;
        fail(new TransportError(why, { method, retryable: true }));
        for (const [, call] of l.pending) call.reject(new TransportError(`${call.method}: ${why}`, { method: call.method, retryable: true }));
        l.pending.clear();
        for (const [, sub] of l.channels) {
          sub.end(l.closedByUs ? undefined : new TransportError(`${sub.method}: subscription lost: ${why}`, { method: sub.method, retryable: true }));
        }
        l.channels.clear();
        markClosed();
      });
    });
  }

  function onMessage(l: Link, data: RawData): void {
    const text = Array.isArray(data) ? Buffer.concat(data).toString("utf8") : Buffer.isBuffer(data) ? data.toString("utf8") : Buffer.from(data).toString("utf8");
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      log.warn({ url: wsUrl }, "unparseable websocket frame from server");
      return;
    }
    if (msg === null || typeof msg !== "object" || Array.isArray(msg)) return;
    const m = msg as { id?: unknown; method?: unknown; params?: unknown; result?: unknown; error?: { code?: unknown; message?: unknown; data?: unknown } | null };
    if (typeof m.method === "string" && m.method !== "") {
      const params = Array.isArray(m.params) ? m.params : [];
      const chan = typeof params[0] === "number" ? l.channels.get(params[0]) : undefined;
      if (m.method === CH_VALUE) chan?.push(params[1]);
      else if (m.method === CH_CLOSE && chan) {
        l.channels.delete(chan.channelId);
        chan.end();
      }
      return; // server-to-client calls are not used by celestia-node
    }
    if (typeof m.id !== "number") return;
    const call = l.pending.get(m.id);
    if (!call) return;
    l.pending.delete(m.id);
    if (m.error !== undefined && m.error !== null) {
      const err = m.error;
      call.reject(
        new RpcError(typeof err.code === "number" ? err.code : 0, typeof err.message === "string" ? err.message : JSON.stringify(err), {
          method: call.method,
          data: err.data,
        }),
      );
      return;
    }
    if (call.onChannel) {
      if (typeof m.result !== "number") {
        call.reject(new TransportError(`${call.method}: expected a channel id, got ${JSON.stringify(m.result)}`, { method: call.method, retryable: false }));
        return;
      }
      call.resolve(call.onChannel(m.result));
      return;
    }
    call.resolve(m.result);
  }

  async function wsAttempt(method: string, params: readonly unknown[], signal: AbortSignal, stream: boolean): Promise<unknown> {
    const l = await connect(method, signal);
    const id = nextId++;
    return new Promise<unknown>((resolve, reject) => {
      const onAbort = () => {
        if (!l.pending.delete(id)) return;
        // Tell the server to stop working on it (go-jsonrpc's client does the same on context cancel).
        if (l.sock.readyState === WebSocket.OPEN) l.sock.send(JSON.stringify({ jsonrpc: "2.0", method: CANCEL, params: [id] }));
        reject(signal.reason);
      };
      const call: PendingCall = {
        method,
        resolve: (v) => {
          signal.removeEventListener("abort", onAbort);
          resolve(v);
        },
        reject: (e) => {
          signal.removeEventListener("abort", onAbort);
          reject(e);
        },
      };
      if (stream) {
        call.onChannel = (channelId) => {
          const sub = new Subscription<unknown>(method, channelId, id, l);
          l.channels.set(channelId, sub);
          return sub;
        };
      }
      l.pending.set(id, call);
      signal.addEventListener("abort", onAbort, { once: true });
      l.sock.send(JSON.stringify({ jsonrpc: "2.0", id, method, params }), (err) => {
        if (!err || !l.pending.delete(id)) return;
        call.reject(new TransportError(`${method}: websocket send failed: ${err.message}`, { method, retryable: true, cause: err }));
      });
    });
  }

  return {
    httpUrl,
    wsUrl,
    async call<T = unknown>(method: string, params: readonly unknown[] = [], co: CallOptions = {}): Promise<T> {
      const viaWs = opts.transport === "ws";
      return (await withRetry(method, co, (signal) => (viaWs ? wsAttempt(method, params, signal, false) : httpAttempt(method, params, signal)))) as T;
    },
    async subscribe<T = unknown>(method: string, params: readonly unknown[] = [], co: CallOptions = {}): Promise<RpcSubscription<T>> {
      return (await withRetry(method, co, (signal) => wsAttempt(method, params, signal, true))) as RpcSubscription<T>;
    },
    async close(): Promise<void> {
      closed = true;
      const l = link ?? (connecting ? await connecting.catch(() => undefined) : undefined);
      if (!l) return;
      l.closedByUs = true;
      if (l.sock.readyState === WebSocket.OPEN || l.sock.readyState === WebSocket.CONNECTING) l.sock.close(1000);
      const t = setTimeout(() => l.sock.terminate(), 2000);
      await l.closed;
      clearTimeout(t);
    },
  };
}
