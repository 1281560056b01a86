// Open-loop sending: transaction n goes out at start + n/rate whatever happened to the ones before,
// spread round-robin over the validators' RPCs on keep-alive connections, as users behind a load
// balancer would send. A generator that falls behind its schedule shows up as send lag.
import http from "node:http";

/** How often the generator wakes to send whatever has come due. */
const TICK_MS = 2;

export interface C0Answer {
  /** 0: admitted with a C0 receipt; otherwise the CheckTx code, or -1 for a failed request. */
  code: number;
  log: string;
}

/**
 * Keep-alive connections, a bounded number per validator, as a load balancer keeps; a new pool
 * each step, and idle connections closed before the server's 5 s keep-alive timeout would close
 * them, so a request never goes out on a connection the server is closing (ECONNRESET).
 */
export class RpcPool {
  readonly #agent = new http.Agent({ keepAlive: true, maxSockets: 32, timeout: 4_000 });

  /** broadcast_tx_sync with a prepared JSON-RPC body; never rejects: a failed request is code -1. */
  broadcastTxSync(port: number, body: Buffer): Promise<C0Answer> {
    return new Promise((resolve) => {
      const failed = (error: Error) => resolve({ code: -1, log: error.message });
      const req = http.request({ host: "127.0.0.1", port, method: "POST", path: "/", agent: this.#agent, headers: { "Content-Type": "application/json", "Content-Length": body.length } }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", failed);
        res.on("end", () => {
          try {
            const reply = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { result?: C0Answer; error?: { message: string } };
            resolve(reply.result ? { code: reply.result.code, log: reply.result.log } : { code: -1, log: reply.error?.message ?? "no result" });
          } catch (error) {
            failed(error as Error);
          }
        });
      });
      req.on("error", failed);
      req.end(body);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}

export interface Schedule {
  /** performance.now() of the first send. */
  start: number;
  /** performance.now() of the last send. */
  end: number;
  /** How late each send was against its schedule, ms. */
  lagsMs: number[];
}

/** Calls `send(n, now)` for n = 0 .. count-1, each at start + n/rate. */
export function openLoop(count: number, rate: number, send: (n: number, now: number) => void): Promise<Schedule> {
  const lagsMs: number[] = [];
  const start = performance.now();
  let next = 0;
  return new Promise((done) => {
    const tick = () => {
      const now = performance.now();
      for (; next < count && start + (next * 1000) / rate <= now; next++) {
        lagsMs.push(now - (start + (next * 1000) / rate));
        send(next, now);
      }
      if (next < count) setTimeout(tick, TICK_MS);
      else done({ start, end: now, lagsMs });
    };
    tick();
  });
}
