// One WebSocket client: its replies, its subscriptions (event queries and block streams), and the
// per-address cap on subscriptions shared by every connection from that address.
import type { WebSocket } from "ws";
import type { Logger } from "pino";
import { failure, internalError, type JsonRpcId, type JsonRpcResponse, type RpcError } from "./json-rpc.ts";

/** Close code for clients dropped by policy (too slow, too far behind). */
export const POLICY_VIOLATION = 1008;

/** Subscriptions per client address, across all of its connections. */
export class SubscriptionCounter {
  readonly max: number;
  readonly #counts = new Map<string, number>();

  constructor(max: number) {
    this.max = max;
  }

  acquire(address: string): void {
    const count = this.#counts.get(address) ?? 0;
    if (count >= this.max) throw internalError(`max_subscriptions_per_client ${this.max} reached`);
    this.#counts.set(address, count + 1);
  }

  release(address: string): void {
    const count = (this.#counts.get(address) ?? 1) - 1;
    if (count > 0) this.#counts.set(address, count);
    else this.#counts.delete(address);
  }
}

export class WsConnection {
  readonly socket: WebSocket;
  readonly remoteAddress: string;
  /** Aborted when the connection closes, which ends every stream and wait it started. */
  readonly closed = new AbortController();
  readonly #counter: SubscriptionCounter;
  readonly #logger: Logger;
  /** Cancel functions by subscription key (an event query, or a block stream's request id). */
  readonly #subscriptions = new Map<string, () => void>();

  constructor(socket: WebSocket, remoteAddress: string, counter: SubscriptionCounter, logger: Logger) {
    this.socket = socket;
    this.remoteAddress = remoteAddress;
    this.#counter = counter;
    this.#logger = logger;
    socket.once("close", () => this.#dispose());
  }

  get isOpen(): boolean {
    return this.socket.readyState === this.socket.OPEN;
  }

  /** Bytes queued in user space that the kernel has not taken yet: the client's backlog. */
  get bufferedAmount(): number {
    return this.socket.bufferedAmount;
  }

  /** Sends a reply (or a batch's replies); resolves once it is handed to the kernel, or at once if the socket is gone. */
  send(response: JsonRpcResponse | JsonRpcResponse[]): Promise<void> {
    if (!this.isOpen) return Promise.resolve();
    return new Promise((resolve) => this.socket.send(JSON.stringify(response), () => resolve()));
  }

  hasSubscription(key: string): boolean {
    return this.#subscriptions.has(key);
  }

  /** Registers a subscription under `key`; throws when the address is at its limit. */
  addSubscription(key: string, cancel: () => void): void {
    this.#counter.acquire(this.remoteAddress);
    this.#subscriptions.set(key, cancel);
  }

  /** Cancels one subscription; false if there was none under `key`. */
  removeSubscription(key: string): boolean {
    const cancel = this.#subscriptions.get(key);
    if (!cancel) return false;
    this.#subscriptions.delete(key);
    this.#counter.release(this.remoteAddress);
    cancel();
    return true;
  }

  removeAllSubscriptions(): void {
    for (const key of [...this.#subscriptions.keys()]) this.removeSubscription(key);
  }

  /**
   * Drops a client the server will not keep serving: the error goes out on the subscription's id
   * (after anything already queued), then a close frame with `reason`.
   */
  drop(id: JsonRpcId, error: RpcError, reason: string): void {
    if (!this.isOpen) return;
    this.#logger.warn({ client: this.remoteAddress, reason, detail: error.data }, "dropped websocket client");
    this.socket.send(JSON.stringify(failure(id, error)));
    this.socket.close(POLICY_VIOLATION, reason);
    this.removeAllSubscriptions();
  }

  #dispose(): void {
    this.removeAllSubscriptions();
    this.closed.abort();
  }
}
