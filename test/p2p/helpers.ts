// Real validator networks on 127.0.0.1 for tests: keys, free ports, inboxes that resolve when a
// condition on the messages received holds, and metric reads.
import { createServer, type AddressInfo } from "node:net";
import { Writable } from "node:stream";
import pino, { type Logger } from "pino";
import { Registry } from "prom-client";
import type { PrivateKey } from "@libp2p/interface";
import { generateNodeKeyJson, nodeKeyFromJson, peerIdOf } from "../../sequencer/p2p/node-key.ts";
import { createValidatorNetwork, type PeerEvent, type ValidatorNetwork, type ValidatorNetworkOptions } from "../../sequencer/p2p/network.ts";

export interface TestValidator {
  key: PrivateKey;
  peerId: string;
  port: number;
  address: string;
}

/** Ports free right now (all held open together, then released), so configs can name them up front. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const server = createServer();
      server.listen(0, "127.0.0.1", () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export async function testValidators(n: number): Promise<TestValidator[]> {
  const ports = await freePorts(n);
  return ports.map((port) => {
    const key = nodeKeyFromJson(generateNodeKeyJson());
    const peerId = peerIdOf(key);
    return { key, peerId, port, address: `/ip4/127.0.0.1/tcp/${port}/p2p/${peerId}` };
  });
}

/** Collects log lines so tests can assert what an operator would read. */
export function captureLogger(level = "info"): { logger: Logger; lines: () => Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split("\n")) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, sink), lines: () => lines };
}

export const silent = pino({ level: "silent" });

/** Fast redials so restarts are noticed within a test's patience. */
export const TEST_BACKOFF = { initialMs: 50, maxMs: 500, stableMs: 1_000 };

export function network(v: TestValidator, o: Partial<ValidatorNetworkOptions> & { allowlist: string[] }): ValidatorNetwork & { registry: Registry } {
  const registry = o.registry ?? new Registry();
  const net = createValidatorNetwork({
    privateKey: v.key,
    listen: `/ip4/127.0.0.1/tcp/${v.port}`,
    logger: silent,
    backoff: TEST_BACKOFF,
    ...o,
    registry,
  });
  return Object.assign(net, { registry });
}

/** Resolves when `predicate` holds, re-checked on each event `subscribe` reports; rejects after `timeoutMs`. */
export function until(subscribe: (onChange: () => void) => () => void, predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (predicate()) return resolve();
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const unsubscribe = subscribe(() => {
      if (!predicate()) return;
      clearTimeout(timer);
      unsubscribe();
      resolve();
    });
  });
}

export function untilPeers(net: ValidatorNetwork, predicate: (peers: string[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return until((f) => net.onPeer(f), () => predicate(net.connectedPeers()), timeoutMs, what);
}

/** Resolves with the next peer event matching `predicate`. */
export function nextPeerEvent(net: ValidatorNetwork, predicate: (e: PeerEvent) => boolean, timeoutMs = 10_000): Promise<PeerEvent> {
  let seen: PeerEvent | undefined;
  return until((f) => net.onPeer((e) => { if (predicate(e)) { seen = e; f(); } }), () => seen !== undefined, timeoutMs, "a peer event").then(() => seen!);
}

export interface Received {
  from: string;
  text: string;
}

/** Every message a network delivers on a topic, with a way to wait for a condition on them. */
export class Inbox {
  readonly messages: Received[] = [];
  readonly #listeners = new Set<() => void>();

  constructor(net: ValidatorNetwork, topic: string) {
    net.onMessage(topic, (from, payload) => {
      this.messages.push({ from, text: Buffer.from(payload).toString() });
      for (const listener of this.#listeners) listener();
    });
  }

  from(peer: string): string[] {
    return this.messages.filter((m) => m.from === peer).map((m) => m.text);
  }

  until(predicate: (messages: Received[]) => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    return until(
      (f) => {
        this.#listeners.add(f);
        return () => this.#listeners.delete(f);
      },
      () => predicate(this.messages),
      timeoutMs,
      what,
    );
  }
}

export function text(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** Sum of a metric's values whose labels include `labels`. */
export async function metric(registry: Registry, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = registry.getSingleMetric(name);
  if (!m) throw new Error(`no metric ${name}`);
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, want]) => v.labels[k] === want)).reduce((sum, v) => sum + v.value, 0);
}

/**
 * Polls a metric until `predicate` holds: metrics have no change events, and what they count
 * (refusals at the gater) happens inside libp2p with nothing else to wait on.
 */
export async function untilMetric(registry: Registry, name: string, labels: Record<string, string>, predicate: (v: number) => boolean, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await metric(registry, name, labels);
    if (predicate(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting on ${name}${JSON.stringify(labels)} (last ${value})`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
