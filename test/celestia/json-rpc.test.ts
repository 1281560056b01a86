// The celestia-node-compatible JSON-RPC transport, over real HTTP and WebSocket on 127.0.0.1.
import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { pino } from "pino";

import {
  AuthError,
  ParamsDecodeError,
  RpcError,
  TimeoutError,
  TransportError,
  createJsonRpcClient,
  createJsonRpcServer,
} from "../../celestia/json-rpc/index.ts";
import type {
  JsonRpcClient,
  JsonRpcClientOptions,
  JsonRpcListener,
  JsonRpcServer,
  JsonRpcServerOptions,
  MethodTable,
  Permission,
  StreamEndInfo,
} from "../../celestia/json-rpc/index.ts";

// ---------------------------------------------------------------------------------------------
// helpers

interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  done: boolean;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const d: Deferred<T> = {
    promise: new Promise<T>((r) => (resolve = r)),
    resolve: (v: T) => {
      d.done = true;
      resolve(v);
    },
    done: false,
  };
  return d;
}

/** Waits for a promise, failing the test (not hanging) if it does not settle in time. */
function within<T>(p: Promise<T>, what: string, ms = 10_000): Promise<T> {
  let t: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    }),
  ]);
}

/** Waits for the next event emitted by an emitter-like source that satisfies `pred`. */
function nextEvent<T>(subscribe: (cb: (v: T) => void) => () => void, pred: (v: T) => boolean, what: string, ms = 10_000): Promise<T> {
  const d = deferred<T>();
  const off = subscribe((v) => {
    if (!d.done && pred(v)) d.resolve(v);
  });
  return within(d.promise, what, ms).finally(off);
}

class Probe {
  waitStarted = deferred();
  waitAborted = deferred<string>();
  ticksFinally = deferred();
  ticksSignalAborted = false;
  subClosed = deferred();
  notified = deferred<unknown>();
  bigFinally = deferred<number>();
  streamEnds: StreamEndInfo[] = [];
  streamEndListeners = new Set<(i: StreamEndInfo) => void>();

  onStreamEnd = (i: StreamEndInfo) => {
    this.streamEnds.push(i);
    for (const l of this.streamEndListeners) l(i);
  };

  streamEnd(pred: (i: StreamEndInfo) => boolean, what: string): Promise<StreamEndInfo> {
    const seen = this.streamEnds.find(pred);
    if (seen) return Promise.resolve(seen);
    return nextEvent<StreamEndInfo>(
      (cb) => {
        this.streamEndListeners.add(cb);
        return () => this.streamEndListeners.delete(cb);
      },
      pred,
      what,
    );
  }
}

const BIG_PAD = "x".repeat(256 * 1024);

function makeMethods(probe: Probe): MethodTable {
  return {
    "test.Echo": { perm: "public", arity: 1, handler: ([x]) => x },
    "test.Nothing": { perm: "public", arity: 0, handler: () => undefined },
    "test.Notify": { perm: "public", arity: 1, handler: ([x]) => probe.notified.resolve(x) },
    "blob.GetAll": { perm: "read", arity: 2, handler: () => null },
    "blob.Get": {
      perm: "read",
      arity: 3,
      handler: () => {
        throw new Error("blob: not found");
      },
    },
    "blob.Submit": { perm: "write", arity: 2, handler: () => 42 },
    "node.AuthNew": { perm: "admin", arity: 1, handler: () => "token" },
    "test.Coded": {
      perm: "public",
      arity: 0,
      handler: () => {
        throw new RpcError(42, "custom failure", { data: { detail: 1 } });
      },
    },
    "test.Decode": {
      perm: "read",
      arity: 1,
      decode: (p) => {
        if (typeof p[0] !== "string") throw new ParamsDecodeError("invalid namespace length: 28", "*share.Namespace");
        return p;
      },
      handler: ([x]) => x,
    },
    "test.HandlerDecode": {
      perm: "public",
      arity: 1,
      handler: () => {
        throw new ParamsDecodeError("strconv.ParseUint: parsing \"x\": invalid syntax", "*uint64");
      },
    },
    "test.Wait": {
      perm: "public",
      arity: 0,
      handler: (_p, ctx) =>
        new Promise((_resolve, reject) => {
          probe.waitStarted.resolve();
          ctx.signal.addEventListener("abort", () => {
            probe.waitAborted.resolve(ctx.transport);
            reject(new Error("aborted"));
          });
        }),
    },
    "test.Delay": {
      perm: "public",
      arity: 2,
      handler: ([ms, v]) => new Promise((r) => setTimeout(() => r(v), ms as number)),
    },
    "test.Count": {
      perm: "public",
      arity: 1,
      stream: true,
      handler: async function* ([n]) {
        for (let i = 0; i < (n as number); i++) yield i;
      },
    },
    "test.Ticks": {
      perm: "read",
      arity: 0,
      stream: true,
      handler: (_p, ctx) =>
        (async function* () {
          try {
            for (let i = 0; !ctx.signal.aborted; i++) {
              yield { tick: i };
              // pace the producer: one value per event-loop turn
              await new Promise((r) => setImmediate(r));
            }
          } finally {
            probe.ticksSignalAborted = ctx.signal.aborted;
            probe.ticksFinally.resolve();
          }
        })(),
    },
    "test.Big": {
      perm: "public",
      arity: 0,
      stream: true,
      handler: async function* () {
        let i = 0;
        try {
          for (;;) yield { i: i++, pad: BIG_PAD };
        } finally {
          probe.bigFinally.resolve(i);
        }
      },
    },
    "test.BigN": {
      perm: "public",
      arity: 1,
      stream: true,
      handler: async function* ([n]) {
        for (let i = 0; i < (n as number); i++) yield { i, pad: BIG_PAD };
      },
    },
    "test.StreamFail": {
      perm: "public",
      arity: 0,
      stream: true,
      handler: () => {
        throw new Error("namespace is not subscribable");
      },
    },
    "test.Sub": {
      perm: "public",
      arity: 0,
      stream: true,
      handler: () => {
        let stop = false;
        return {
          values: (async function* () {
            for (let i = 0; !stop; i++) {
              yield i;
              await new Promise((r) => setImmediate(r));
            }
          })(),
          close: () => {
            stop = true;
            probe.subClosed.resolve();
          },
        };
      },
    },
  };
}

const toClose: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c();
});

interface Started {
  rpc: JsonRpcServer;
  listener: JsonRpcListener;
  probe: Probe;
  url: string;
  wsUrl: string;
}

async function start(opts: Partial<JsonRpcServerOptions> = {}): Promise<Started> {
  const probe = new Probe();
  const rpc = createJsonRpcServer({ methods: makeMethods(probe), onStreamEnd: probe.onStreamEnd, ...opts });
  const listener = await rpc.listen({ port: 0 });
  toClose.push(() => listener.close());
  return { rpc, listener, probe, url: listener.url, wsUrl: listener.wsUrl };
}

function client(opts: JsonRpcClientOptions): JsonRpcClient {
  const c = createJsonRpcClient(opts);
  toClose.push(() => c.close());
  return c;
}

function req(method: string, params: unknown, id: unknown = 1): string {
  return JSON.stringify({ jsonrpc: "2.0", id, method, params });
}

async function post(url: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(url, { method: "POST", body, headers: { "Content-Type": "application/json", ...headers } });
  const text = await r.text();
  return { status: r.status, text, json: text ? JSON.parse(text) : undefined, contentType: r.headers.get("content-type") };
}

/** A raw WebSocket that records every frame, for checking the wire protocol exactly. */
class RawWs {
  readonly ws: WebSocket;
  readonly frames: Record<string, unknown>[] = [];
  readonly texts: string[] = [];
  private listeners = new Set<(f: Record<string, unknown>) => void>();

  private constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on("message", (d) => {
      const text = d.toString();
      this.texts.push(text);
      const f = JSON.parse(text) as Record<string, unknown>;
      this.frames.push(f);
      for (const l of this.listeners) l(f);
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawWs> {
    const ws = new WebSocket(url, { headers });
    await within(
      new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      }),
      "websocket open",
    );
    const raw = new RawWs(ws);
    toClose.push(async () => {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => ws.once("close", r));
      ws.terminate();
      await closed;
    });
    return raw;
  }

  send(text: string): void {
    this.ws.send(text);
  }

  /** The first frame (already received or future) that satisfies pred. */
  frame(pred: (f: Record<string, unknown>) => boolean, what: string, ms = 10_000): Promise<Record<string, unknown>> {
    const seen = this.frames.find(pred);
    if (seen) return Promise.resolve(seen);
    return nextEvent<Record<string, unknown>>(
      (cb) => {
        this.listeners.add(cb);
        return () => this.listeners.delete(cb);
      },
      pred,
      what,
      ms,
    );
  }

  response(id: unknown): Promise<Record<string, unknown>> {
    return this.frame((f) => f.id === id && f.method === undefined, `response ${JSON.stringify(id)}`);
  }

  chanClose(ch: number): Promise<Record<string, unknown>> {
    return this.frame((f) => f.method === "xrpc.ch.close" && (f.params as unknown[])[0] === ch, `xrpc.ch.close ${ch}`);
  }

  values(ch: number): unknown[] {
    return this.frames.filter((f) => f.method === "xrpc.ch.val" && (f.params as unknown[])[0] === ch).map((f) => (f.params as unknown[])[1]);
  }
}

async function freePort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** An http.Server in front of `rpc` whose `gate` may answer instead; counts requests. */
async function fronted(rpc: JsonRpcServer, gate: (n: number, req: http.IncomingMessage, res: http.ServerResponse) => boolean) {
  let count = 0;
  const server = http.createServer((rq, rs) => {
    count++;
    if (gate(count, rq, rs)) return;
    rpc.handleRequest(rq, rs);
  });
  server.on("upgrade", rpc.handleUpgrade);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  toClose.push(async () => {
    await rpc.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, attempts: () => count };
}

// ---------------------------------------------------------------------------------------------
// HTTP: success and every go-jsonrpc error case

describe("HTTP POST", () => {
  it("answers a call with the result, echoing the id", async () => {
    const { url } = await start();
    const r = await post(url, req("test.Echo", [{ a: [1, "b"] }], 7));
    expect(r.status).toBe(200);
    expect(r.contentType).toBe("application/json");
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 7, result: { a: [1, "b"] } });
    const s = await post(url, req("test.Echo", ["x"], "abc"));
    expect(s.json).toEqual({ jsonrpc: "2.0", id: "abc", result: "x" });
    const n = await post(url, req("test.Nothing", []));
    expect(n.json).toEqual({ jsonrpc: "2.0", id: 1, result: null });
  });

  it("method errors: HTTP 200 with code 1 and the error text", async () => {
    const { url } = await start();
    const r = await post(url, req("blob.Get", [1, "ns", "c"]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 1, error: { code: 1, message: "blob: not found" } });
  });

  it("a handler can answer with its own code and data", async () => {
    const { url } = await start();
    const r = await post(url, req("test.Coded", []));
    expect(r.status).toBe(200);
    expect(r.json.error).toEqual({ code: 42, message: "custom failure", data: { detail: 1 } });
  });

  it("-32700 for bad JSON (HTTP 500)", async () => {
    const { url } = await start();
    const r = await post(url, '{"jsonrpc":"2.0","id":1,"method":');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "Parse error" } });
    const notObject = await post(url, "42");
    expect(notObject.status).toBe(500);
    expect(notObject.json.error).toEqual({ code: -32700, message: "Parse error" });
  });

  it("-32700 for params that do not decode, from a decode step or the handler (HTTP 500)", async () => {
    const { url } = await start();
    const r = await post(url, req("test.Decode", [28]));
    expect(r.status).toBe(500);
    expect(r.json.error).toEqual({ code: -32700, message: "unmarshaling params for 'test.Decode' (param: *share.Namespace): invalid namespace length: 28" });
    const h = await post(url, req("test.HandlerDecode", ["x"]));
    expect(h.status).toBe(500);
    expect(h.json.error).toEqual({ code: -32700, message: "unmarshaling params for 'test.HandlerDecode' (param: *uint64): strconv.ParseUint: parsing \"x\": invalid syntax" });
    const notArray = await post(url, req("test.Echo", { a: 1 }));
    expect(notArray.status).toBe(500);
    expect(notArray.json.error).toEqual({ code: -32700, message: "unmarshaling param array: json: cannot unmarshal object into Go value of type []jsonrpc.param" });
  });

  it("-32700 for an id that is not a string, number or null", async () => {
    const { url } = await start();
    const r = await post(url, req("test.Echo", [1], true));
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "failed to parse ID: invalid id type: bool" } });
  });

  it("-32601 for an unknown method and for a streaming method over HTTP (HTTP 500)", async () => {
    const { url } = await start();
    const r = await post(url, req("blob.Nope", []));
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 1, error: { code: -32601, message: "method 'blob.Nope' not found" } });
    const s = await post(url, req("test.Count", [3]));
    expect(s.status).toBe(500);
    expect(s.json.error).toEqual({ code: -32601, message: "method 'test.Count' not supported in this mode (no out channel support)" });
  });

  it("-32602 for a wrong number of params (HTTP 500)", async () => {
    const { url } = await start();
    const r = await post(url, req("blob.Get", [1, "ns"]));
    expect(r.status).toBe(500);
    expect(r.json.error).toEqual({ code: -32602, message: "wrong param count (method 'blob.Get'): 2 != 3" });
    const missing = await post(url, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "test.Echo" }));
    expect(missing.json.error).toEqual({ code: -32602, message: "wrong param count (method 'test.Echo'): 0 != 1" });
  });

  it("-32600 for an empty body or an empty batch (HTTP 400)", async () => {
    const { url } = await start();
    const r = await post(url, "  \n");
    expect(r.status).toBe(400);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32600, message: "Invalid request" } });
    const b = await post(url, "[]");
    expect(b.status).toBe(400);
    expect(b.json.error).toEqual({ code: -32600, message: "Invalid request" });
  });

  it("notifications run the method and answer nothing", async () => {
    const { url, probe } = await start();
    const r = await post(url, JSON.stringify({ jsonrpc: "2.0", method: "test.Notify", params: ["ping"] }));
    expect(r.status).toBe(200);
    expect(r.text).toBe("");
    expect(await within(probe.notified.promise, "notification handled")).toBe("ping");
    // a failing notification answers nothing either; protocol errors are still reported (go-jsonrpc)
    expect((await post(url, JSON.stringify({ jsonrpc: "2.0", method: "test.Coded", params: [] }))).text).toBe("");
    const nf = await post(url, JSON.stringify({ jsonrpc: "2.0", method: "nope.Nope", params: [] }));
    expect(nf.status).toBe(500);
    expect(nf.json).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32601, message: "method 'nope.Nope' not found" } });
  });

  it("batches run in order and answer in one array (HTTP 200)", async () => {
    const { url } = await start();
    const body = `[${req("test.Echo", ["a"], 1)},${req("blob.Get", [1, "n", "c"], 2)},${req("nope.X", [], 3)},${JSON.stringify({ jsonrpc: "2.0", method: "test.Echo", params: [1] })},${req("test.Echo", ["b"], 4)}]`;
    const r = await post(url, body);
    expect(r.status).toBe(200);
    expect(r.json).toEqual([
      { jsonrpc: "2.0", id: 1, result: "a" },
      { jsonrpc: "2.0", id: 2, error: { code: 1, message: "blob: not found" } },
      { jsonrpc: "2.0", id: 3, error: { code: -32601, message: "method 'nope.X' not found" } },
      { jsonrpc: "2.0", id: 4, result: "b" },
    ]);
    const bad = await post(url, "[1, 2]");
    expect(bad.status).toBe(500);
    expect(bad.json.error).toEqual({ code: -32700, message: "Parse error" });
  });

  it("a body over the limit gets a clear -32700 and the keep-alive connection serves the next request", async () => {
    const { listener } = await start({ maxBodyBytes: 1024 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    toClose.push(async () => agent.destroy());
    const send = (body: string) =>
      new Promise<{ status: number; body: string; port: number }>((resolve, reject) => {
        const rq = http.request({ host: "127.0.0.1", port: listener.port, method: "POST", path: "/", agent, headers: { "Content-Type": "application/json" } }, (rs) => {
          const port = (rs.socket as Socket).localPort ?? -1;
          let text = "";
          rs.setEncoding("utf8");
          rs.on("data", (c: string) => (text += c));
          rs.on("end", () => resolve({ status: rs.statusCode ?? 0, body: text, port }));
        });
        rq.on("error", reject);
        rq.end(body);
      });

    const big = await send(req("test.Echo", ["y".repeat(4096)]));
    expect(big.status).toBe(500);
    expect(JSON.parse(big.body)).toEqual({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "request bigger than maximum 1024 allowed" } });
    const next = await send(req("test.Echo", ["small"]));
    expect(next.status).toBe(200);
    expect(JSON.parse(next.body).result).toBe("small");
    expect(next.port).toBe(big.port); // same TCP connection
    const base = req("test.Echo", [""]);
    const exact = req("test.Echo", ["z".repeat(1024 - base.length)]);
    expect(Buffer.byteLength(exact)).toBe(1024);
    expect((await send(exact)).status).toBe(200);
    expect((await send(`${exact} `)).status).toBe(500);
  });

  it("the default body limit is 16 MiB", async () => {
    const { url } = await start();
    const r = await post(url, req("test.Echo", ["q".repeat(16 * 1024 * 1024)]));
    expect(r.status).toBe(500);
    expect(r.json.error.message).toBe("request bigger than maximum 16777216 allowed");
    const ok = await post(url, req("test.Echo", ["q".repeat(16 * 1024 * 1024 - 100)]));
    expect(ok.status).toBe(200);
  });
});

// ---------------------------------------------------------------------------------------------
// Auth

describe("auth", () => {
  const tokens: Record<string, readonly Permission[]> = {
    readtok: ["public", "read"],
    writetok: ["public", "read", "write"],
  };

  it("without a token only public methods work; others answer code 1 missing permission", async () => {
    const { url } = await start({ authToken: "s3cret" });
    expect((await post(url, req("test.Echo", [1]))).json.result).toBe(1);
    const r = await post(url, req("blob.GetAll", [1, []]));
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ jsonrpc: "2.0", id: 1, error: { code: 1, message: "missing permission to invoke 'GetAll' (need 'read')" } });
    expect((await post(url, req("blob.Submit", [[], {}]))).json.error).toEqual({ code: 1, message: "missing permission to invoke 'Submit' (need 'write')" });
    expect((await post(url, req("node.AuthNew", [[]]))).json.error).toEqual({ code: 1, message: "missing permission to invoke 'AuthNew' (need 'admin')" });
    // like go-jsonrpc, params are checked before the permission proxy runs
    expect((await post(url, req("blob.GetAll", [1]))).json.error.code).toBe(-32602);
    expect((await post(url, req("test.Decode", [5]))).json.error.code).toBe(-32700);
  });

  it("a bad or non-Bearer token gets HTTP 401 with an empty body", async () => {
    const { url } = await start({ authToken: "s3cret" });
    for (const h of ["Bearer wrong", "s3cret", "Basic czNjcmV0", "bearer s3cret", "Bearer "]) {
      const r = await post(url, req("test.Echo", [1]), { Authorization: h });
      expect(r.status, h).toBe(401);
      expect(r.text, h).toBe("");
    }
    const q = await post(`${url}/?token=wrong`, req("test.Echo", [1]));
    expect(q.status).toBe(401);
  });

  it("a good token in the header or ?token= grants its permissions", async () => {
    const { url } = await start({ authToken: "s3cret" });
    expect((await post(url, req("blob.Submit", [[], {}]), { Authorization: "Bearer s3cret" })).json.result).toBe(42);
    expect((await post(`${url}/?token=s3cret`, req("blob.Submit", [[], {}]))).json.result).toBe(42);
  });

  it("a verifier maps tokens to permission sets", async () => {
    const { url } = await start({ authToken: (t) => tokens[t] });
    const auth = { Authorization: "Bearer readtok" };
    expect((await post(url, req("blob.GetAll", [1, []]), auth)).json.result).toBe(null);
    expect((await post(url, req("blob.Submit", [[], {}]), auth)).json.error).toEqual({ code: 1, message: "missing permission to invoke 'Submit' (need 'write')" });
    expect((await post(url, req("blob.Submit", [[], {}]), { Authorization: "Bearer writetok" })).json.result).toBe(42);
    expect((await post(url, req("blob.Submit", [[], {}]), { Authorization: "Bearer nope" })).status).toBe(401);
  });

  it("with auth off every method works and tokens are ignored", async () => {
    const { url } = await start();
    expect((await post(url, req("node.AuthNew", [[]]), { Authorization: "garbage" })).json.result).toBe("token");
  });

  it("WebSocket upgrades are authenticated the same way", async () => {
    const { url, wsUrl } = await start({ authToken: "s3cret" });
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(wsUrl, { headers: { Authorization: "Bearer wrong" } });
      ws.on("unexpected-response", (_rq, rs) => {
        resolve(rs.statusCode ?? 0);
        ws.terminate();
      });
      ws.on("error", () => {});
      ws.on("open", () => reject(new Error("opened with a bad token")));
    });
    expect(status).toBe(401);

    const bad = client({ url, token: "wrong", retry: false });
    await expect(bad.subscribe("test.Ticks")).rejects.toBeInstanceOf(AuthError);
    const anon = client({ url, retry: false });
    const err = await anon.subscribe("test.Ticks").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect((err as RpcError).message).toBe("missing permission to invoke 'Ticks' (need 'read')");
    const good = client({ url, token: "s3cret" });
    const sub = await good.subscribe<{ tick: number }>("test.Ticks");
    expect((await sub.next()).value).toEqual({ tick: 0 });
    await sub.return();
  });
});

// ---------------------------------------------------------------------------------------------
// WebSocket protocol and streams

describe("WebSocket", () => {
  it("speaks go-jsonrpc's channel protocol exactly", async () => {
    const { wsUrl } = await start();
    const raw = await RawWs.open(wsUrl);
    raw.send(req("test.Count", [3], 1));
    await raw.chanClose(1);
    raw.send(req("test.Count", [1], 2));
    await raw.chanClose(2);
    expect(raw.texts.map((t) => t.trim())).toEqual([
      '{"id":1,"jsonrpc":"2.0","result":1}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,0]}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,1]}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[1,2]}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[1]}',
      '{"id":2,"jsonrpc":"2.0","result":2}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.val","params":[2,0]}',
      '{"jsonrpc":"2.0","method":"xrpc.ch.close","params":[2]}',
    ]);
  });

  it("answers unary calls and errors over the socket too", async () => {
    const { wsUrl } = await start();
    const raw = await RawWs.open(wsUrl);
    raw.send(req("test.Echo", ["hi"], "a"));
    raw.send(req("blob.Get", [1, 2, 3], "b"));
    raw.send(req("blob.Get", [1], "c"));
    raw.send("{not json");
    expect(await raw.response("a")).toEqual({ jsonrpc: "2.0", id: "a", result: "hi" });
    expect((await raw.response("b")).error).toEqual({ code: 1, message: "blob: not found" });
    expect((await raw.response("c")).error).toEqual({ code: -32602, message: "wrong param count (method 'blob.Get'): 1 != 3" });
    expect((await raw.response(null)).error).toEqual({ code: -32700, message: "Parse error" });
  });

  it("a frame over the body limit gets the limit error for its id and the socket stays usable", async () => {
    const { wsUrl } = await start({ maxBodyBytes: 1024 });
    const raw = await RawWs.open(wsUrl);
    raw.send(req("test.Echo", ["y".repeat(1500)], 7));
    expect(await raw.response(7)).toEqual({ jsonrpc: "2.0", id: 7, error: { code: -32700, message: "request bigger than maximum 1024 allowed" } });
    raw.send(req("test.Echo", ["ok"], 8));
    expect((await raw.response(8)).result).toBe("ok");
    // past twice the limit the frame is not even read: the socket closes with 1009 (message too big)
    const closed = new Promise<number>((r) => raw.ws.once("close", (code) => r(code)));
    raw.send(req("test.Echo", ["y".repeat(4096)], 9));
    expect(await within(closed, "close for an oversized frame")).toBe(1009);
  });

  it("client.subscribe yields every value in order and ends when the server closes the channel", async () => {
    const { url, probe } = await start();
    const c = client({ url });
    const sub = await c.subscribe<number>("test.Count", [5000]);
    const got: number[] = [];
    for await (const v of sub) got.push(v);
    expect(got).toEqual(Array.from({ length: 5000 }, (_, i) => i));
    const end = await probe.streamEnd((i) => i.method === "test.Count", "stream end");
    expect(end.reason).toBe("end");
    expect(end.sent).toBe(5000);
  });

  it("a reading client gets large values without loss even when the producer outpaces the socket", async () => {
    const { url, probe } = await start();
    const c = client({ url });
    const sub = await c.subscribe<{ i: number; pad: string }>("test.BigN", [80]);
    const got: number[] = [];
    for await (const v of sub) {
      expect(v.pad.length).toBe(BIG_PAD.length);
      got.push(v.i);
    }
    expect(got).toEqual(Array.from({ length: 80 }, (_, i) => i));
    expect((await probe.streamEnd((i) => i.method === "test.BigN", "stream end")).reason).toBe("end");
  });

  it("many streams and calls share one socket without mixing values", async () => {
    const { url, listener } = await start();
    let upgrades = 0;
    listener.server.on("upgrade", () => upgrades++);
    const c = client({ url, transport: "ws" });
    const subs = await Promise.all([10, 20, 30].map((n) => c.subscribe<number>("test.Count", [n])));
    const calls = Array.from({ length: 40 }, (_, i) => c.call<number>("test.Delay", [(i * 7) % 23, i]));
    const streams = subs.map(async (s) => {
      const got: number[] = [];
      for await (const v of s) got.push(v);
      return got;
    });
    expect(await Promise.all(calls)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    const res = await Promise.all(streams);
    expect(res.map((r) => r.length)).toEqual([10, 20, 30]);
    res.forEach((r) => expect(r).toEqual(Array.from({ length: r.length }, (_, i) => i)));
    expect(subs.map((s) => s.channelId)).toEqual([1, 2, 3]);
    expect(upgrades).toBe(1);
  });

  it("a stream method that fails at the start rejects the subscribe with its RpcError", async () => {
    const { url } = await start();
    const c = client({ url });
    const err = await c.subscribe("test.StreamFail").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 1, message: "namespace is not subscribable", method: "test.StreamFail" });
  });

  it("return() cancels: the client sends xrpc.cancel and the server stops the producer", async () => {
    const { url, probe, rpc } = await start();
    const c = client({ url });
    const sub = await c.subscribe<{ tick: number }>("test.Ticks");
    const got: number[] = [];
    for await (const v of sub) {
      got.push(v.tick);
      if (got.length === 5) break; // calls return()
    }
    expect(got).toEqual([0, 1, 2, 3, 4]);
    const end = await probe.streamEnd((i) => i.method === "test.Ticks", "server-side stream end");
    expect(end.reason).toBe("cancel");
    await within(probe.ticksFinally.promise, "producer finally");
    expect(probe.ticksSignalAborted).toBe(true);
    expect(rpc.stats().streams).toBe(0);
    expect(await sub.next()).toEqual({ value: undefined, done: true });
  });

  it("xrpc.cancel on the wire closes the channel with xrpc.ch.close; a subscription object's close() runs", async () => {
    const { wsUrl, probe } = await start();
    const raw = await RawWs.open(wsUrl);
    raw.send(req("test.Sub", [], 11));
    const ch = (await raw.response(11)).result as number;
    await raw.frame((f) => f.method === "xrpc.ch.val", "a value");
    raw.send(JSON.stringify({ jsonrpc: "2.0", method: "xrpc.cancel", params: [11] }));
    await raw.chanClose(ch);
    await within(probe.subClosed.promise, "subscription close()");
    expect((await probe.streamEnd((i) => i.method === "test.Sub", "stream end")).reason).toBe("cancel");
    const vals = raw.values(ch) as number[];
    expect(vals).toEqual(Array.from({ length: vals.length }, (_, i) => i));
    // nothing for the channel after its close
    const closeAt = raw.frames.findIndex((f) => f.method === "xrpc.ch.close");
    expect(raw.frames.slice(closeAt + 1).filter((f) => f.method === "xrpc.ch.val")).toEqual([]);
  });

  it("a client that stops reading is cut off after 16 unsent messages; what was queued still arrives in order, then the close", async () => {
    const { wsUrl, probe } = await start({ lagGraceMs: 200 });
    const raw = await RawWs.open(wsUrl);
    raw.send(req("test.Big", [], 1));
    const ch = (await raw.response(1)).result as number;
    raw.ws.pause(); // stop reading the socket: the kernel buffers fill, then the server's queue
    const end = await probe.streamEnd((i) => i.method === "test.Big", "lag close");
    expect(end.reason).toBe("lag");
    expect(end.sent).toBeGreaterThanOrEqual(16);
    await within(probe.bigFinally.promise, "producer stopped");
    raw.ws.resume();
    await raw.chanClose(ch);
    const got = (raw.values(ch) as { i: number }[]).map((v) => v.i);
    expect(got).toEqual(Array.from({ length: end.sent }, (_, i) => i));
    // the close is the channel's last frame
    const last = raw.frames.filter((f) => (f.params as unknown[] | undefined)?.[0] === ch).at(-1);
    expect(last?.method).toBe("xrpc.ch.close");
  });

  it("a call pending on a dropped socket fails with a retryable TransportError; the next call reconnects", async () => {
    const { url, listener, probe } = await start();
    const serverSockets: import("node:stream").Duplex[] = [];
    listener.server.on("upgrade", (_rq, sock) => serverSockets.push(sock));
    const c = client({ url, transport: "ws", retry: { maxAttempts: 3, baseDelayMs: 5 } });
    expect(await c.call("test.Echo", [1])).toBe(1);
    const pending = c.call("test.Wait", [], { retry: false }).catch((e: unknown) => e);
    await within(probe.waitStarted.promise, "call reached the server");
    for (const s of serverSockets) s.destroy();
    const err = await within(pending, "pending call to fail");
    expect(err).toBeInstanceOf(TransportError);
    expect((err as TransportError).retryable).toBe(true);
    expect(await c.call("test.Echo", [2])).toBe(2);
    expect(serverSockets.length).toBe(2);
    await within(probe.waitAborted.promise, "server aborted the orphaned call");
  });

  it("a subscription on a dropped socket throws a TransportError after its queued values", async () => {
    const { url, listener } = await start();
    const serverSockets: import("node:stream").Duplex[] = [];
    listener.server.on("upgrade", (_rq, sock) => serverSockets.push(sock));
    const c = client({ url });
    const sub = await c.subscribe<{ tick: number }>("test.Ticks");
    expect((await sub.next()).value).toEqual({ tick: 0 });
    for (const s of serverSockets) s.destroy();
    const err = await within(
      (async () => {
        for (;;) {
          try {
            if ((await sub.next()).done) return "ended";
          } catch (e) {
            return e;
          }
        }
      })(),
      "subscription error",
    );
    expect(err).toBeInstanceOf(TransportError);
  });

  it("shutdown closes every stream with xrpc.ch.close, then the sockets", async () => {
    const { url, listener, probe, rpc } = await start();
    const c = client({ url });
    const sub = await c.subscribe<{ tick: number }>("test.Ticks");
    expect((await sub.next()).done).toBe(false);
    const closing = listener.close();
    const rest: number[] = [];
    for await (const v of sub) rest.push(v.tick); // ends normally: the server sent xrpc.ch.close
    await within(closing, "listener close");
    expect((await probe.streamEnd((i) => i.method === "test.Ticks", "stream end")).reason).toBe("shutdown");
    await within(probe.ticksFinally.promise, "producer finally");
    expect(rpc.stats()).toEqual({ connections: 0, streams: 0, httpInFlight: 0 });
  });
});

// ---------------------------------------------------------------------------------------------
// Client: typed errors, retries, timeouts

describe("client", () => {
  it("calls over HTTP and maps a method error to RpcError with code, text and method", async () => {
    const { url } = await start();
    const c = client({ url });
    expect(await c.call("test.Echo", [{ x: 1 }])).toEqual({ x: 1 });
    const err = await c.call("blob.Get", [1, "a", "b"]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RpcError);
    expect(err).toMatchObject({ code: 1, message: "blob: not found", method: "blob.Get", httpStatus: 200 });
    const proto = await c.call("blob.Get", [1]).catch((e: unknown) => e);
    expect(proto).toMatchObject({ code: -32602, httpStatus: 500 });
  });

  it("derives the WebSocket URL from the HTTP one and back", () => {
    expect(createJsonRpcClient({ url: "http://127.0.0.1:26658" }).wsUrl).toBe("ws://127.0.0.1:26658/");
    expect(createJsonRpcClient({ url: "wss://node.example/rpc" }).httpUrl).toBe("https://node.example/rpc");
  });

  it("retries 503s with backoff until the call goes through", async () => {
    const rpc = createJsonRpcServer({ methods: makeMethods(new Probe()) });
    const f = await fronted(rpc, (n, _rq, rs) => {
      if (n > 3) return false;
      rs.writeHead(503, { "Content-Type": "text/plain" });
      rs.end("busy");
      return true;
    });
    const c = client({ url: f.url, retry: { maxAttempts: 5, baseDelayMs: 5, maxDelayMs: 20 } });
    expect(await c.call("test.Echo", ["through"])).toBe("through");
    expect(f.attempts()).toBe(4);
  });

  it("retries a 5xx without a JSON-RPC body, gives up after maxAttempts with the attempt count", async () => {
    const rpc = createJsonRpcServer({ methods: makeMethods(new Probe()) });
    const f = await fronted(rpc, (_n, _rq, rs) => {
      rs.writeHead(500, { "Content-Type": "text/html" });
      rs.end("<html>proxy error</html>");
      return true;
    });
    const c = client({ url: f.url, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 } });
    const err = await c.call("test.Echo", [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ status: 500, retryable: true, attempts: 3, method: "test.Echo" });
    expect(f.attempts()).toBe(3);
  });

  it("never retries method errors, protocol errors or auth errors", async () => {
    const probe = new Probe();
    const methods = makeMethods(probe);
    methods["blob.GetAll"] = {
      perm: "read",
      arity: 2,
      handler: () => {
        throw new Error("invalid user namespace: reserved data is forbidden");
      },
    };
    const rpc = createJsonRpcServer({ methods, authToken: "s3cret" });
    const f = await fronted(rpc, () => false);
    const c = client({ url: f.url, token: "s3cret", retry: { maxAttempts: 5, baseDelayMs: 5 } });

    const m = await c.call("blob.GetAll", [1, ["AAAA"]]).catch((e: unknown) => e);
    expect(m).toBeInstanceOf(RpcError);
    expect((m as RpcError).message).toBe("invalid user namespace: reserved data is forbidden");
    expect(f.attempts()).toBe(1);

    const p = await c.call("nope.Nope", []).catch((e: unknown) => e);
    expect(p).toMatchObject({ code: -32601 });
    expect(f.attempts()).toBe(2);

    const bad = client({ url: f.url, token: "wrong", retry: { maxAttempts: 5, baseDelayMs: 5 } });
    const a = await bad.call("test.Echo", [1]).catch((e: unknown) => e);
    expect(a).toBeInstanceOf(AuthError);
    expect((a as AuthError).status).toBe(401);
    expect((a as AuthError).message).toMatch(/HTTP 401 .*rejected the auth token/);
    expect((a as AuthError).message).not.toContain("wrong");
    expect(f.attempts()).toBe(3);
  });

  it("connection refused is a retryable TransportError, retried up to maxAttempts", async () => {
    const port = await freePort();
    const c = client({ url: `http://127.0.0.1:${port}`, retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
    const err = await c.call("test.Echo", [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(err).toMatchObject({ retryable: true, attempts: 3 });
    expect((err as Error).message).toContain("ECONNREFUSED");
    const ws = await c.subscribe("test.Ticks", []).catch((e: unknown) => e);
    expect(ws).toMatchObject({ retryable: true, attempts: 3 });
  });

  it("a call that outlives its timeout fails with TimeoutError and the server sees the abort (HTTP)", async () => {
    const { url, probe } = await start();
    const c = client({ url, timeoutMs: 150, retry: false });
    const err = await c.call("test.Wait").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err).toMatchObject({ timeoutMs: 150, method: "test.Wait", retryable: true });
    expect(await within(probe.waitAborted.promise, "server-side abort")).toBe("http");
  });

  it("timeouts are retried like other transient failures", async () => {
    const probe = new Probe();
    const rpc = createJsonRpcServer({ methods: makeMethods(probe) });
    const f = await fronted(rpc, () => false);
    const c = client({ url: f.url, timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 5 } });
    const err = await c.call("test.Wait").catch((e: unknown) => e);
    expect(err).toMatchObject({ name: "TimeoutError", attempts: 2 });
    expect(f.attempts()).toBe(2);
  });

  it("a WebSocket call that times out sends xrpc.cancel and the server aborts the handler", async () => {
    const { url, probe } = await start();
    const c = client({ url, transport: "ws", timeoutMs: 150, retry: false });
    const err = await c.call("test.Wait").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(await within(probe.waitAborted.promise, "server-side abort")).toBe("ws");
    expect(await c.call("test.Echo", ["still fine"])).toBe("still fine");
  });

  it("a caller's AbortSignal stops the call without retries", async () => {
    const { url, probe } = await start();
    const c = client({ url, retry: { maxAttempts: 5, baseDelayMs: 5 } });
    const ac = new AbortController();
    const p = c.call("test.Wait", [], { signal: ac.signal }).catch((e: unknown) => e);
    await within(probe.waitStarted.promise, "call started");
    ac.abort(new Error("caller gave up"));
    expect(((await p) as Error).message).toBe("caller gave up");
  });

  it("accepts a pino logger", async () => {
    const logger = pino({ level: "silent" });
    const { url } = await start({ logger });
    const c = client({ url, logger });
    expect(await c.call("test.Echo", [3])).toBe(3);
  });
});
