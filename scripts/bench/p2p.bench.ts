// The validator network on loopback: broadcast throughput between 4 validators (TCP + Noise + yamux,
// all in this one process), and request/response round trips.
import { Registry } from "prom-client";
import pino from "pino";
import { generateNodeKeyJson, nodeKeyFromJson, peerIdOf } from "../../sequencer/p2p/node-key.ts";
import { createValidatorNetwork, type ValidatorNetwork } from "../../sequencer/p2p/network.ts";
import { BLOCKSYNC_PROTOCOL, TOPIC_CONSENSUS, TOPIC_MEMPOOL } from "../../sequencer/p2p/protocols.ts";
import type { BenchReport, BenchRow } from "./report.ts";

const VALIDATORS = 4;
/** Bytes a sender queues before it waits for its queues to drain: the bulk sender's backpressure. */
const BATCH_BYTES = 1024 * 1024;

// Limits out of the way: this measures the transport, not the policy.
const UNLIMITED = { messagesPerSecond: 1e9, bytesPerSecond: 1e12, burstSeconds: 1 };

async function startMesh(): Promise<ValidatorNetwork[]> {
  const keys = Array.from({ length: VALIDATORS }, () => nodeKeyFromJson(generateNodeKeyJson()));
  const allowlist = keys.map(peerIdOf);
  const nets: ValidatorNetwork[] = [];
  for (const key of keys) {
    // Each dials the ones already listening, so the mesh forms without knowing ports in advance.
    const net = createValidatorNetwork({
      privateKey: key,
      allowlist,
      persistentPeers: nets.flatMap((n) => n.addresses),
      limits: { channels: { [TOPIC_CONSENSUS]: UNLIMITED, [TOPIC_MEMPOOL]: UNLIMITED, [BLOCKSYNC_PROTOCOL]: UNLIMITED } },
      registry: new Registry(),
      logger: pino({ level: "warn" }),
    });
    await net.start();
    nets.push(net);
  }
  await Promise.all(
    nets.map(
      (net) =>
        new Promise<void>((resolve) => {
          const check = () => net.connectedPeers().length === VALIDATORS - 1 && (off(), resolve());
          const off = net.onPeer(check);
          check();
        }),
    ),
  );
  return nets;
}

async function broadcast(nets: ValidatorNetwork[], senders: number, topic: string, bytes: number, seconds: number): Promise<BenchRow> {
  const fence = new Uint8Array(0);
  let delivered = 0;
  let fences = 0;
  let allFenced: () => void = () => {};
  const done = new Promise<void>((resolve) => (allFenced = resolve));
  const offs = nets.map((net) =>
    net.onMessage(topic, (_from, payload) => {
      if (payload.length > 0) delivered += 1;
      else if (++fences === senders * (VALIDATORS - 1)) allFenced();
    }),
  );
  const payload = new Uint8Array(bytes).fill(0xab);
  const batch = Math.max(1, Math.floor(BATCH_BYTES / bytes));
  const start = performance.now();
  const deadline = start + seconds * 1000;
  let sent = 0;
  await Promise.all(
    nets.slice(0, senders).map(async (net) => {
      while (performance.now() < deadline) {
        for (let i = 0; i < batch; i++) net.broadcast(topic, payload);
        sent += batch;
        await net.drained();
      }
      // Sent last on each stream: when every fence has arrived, so has everything before it.
      net.broadcast(topic, fence);
    }),
  );
  await done;
  const elapsed = (performance.now() - start) / 1000;
  for (const off of offs) off();
  if (delivered !== sent * (VALIDATORS - 1)) throw new Error(`delivered ${delivered} of ${sent * (VALIDATORS - 1)}`);
  return {
    test: `broadcast ${bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`}, ${senders} of ${VALIDATORS} sending`,
    "msgs sent/s": Math.round(sent / elapsed),
    "deliveries/s": Math.round(delivered / elapsed),
    "delivered MB/s": +((delivered * bytes) / elapsed / 1e6).toFixed(1),
  };
}

async function roundTrips(client: ValidatorNetwork, server: ValidatorNetwork, responseBytes: number, count: number): Promise<BenchRow> {
  const response = new Uint8Array(responseBytes).fill(7);
  await server.handle(BLOCKSYNC_PROTOCOL, () => response);
  const request = new Uint8Array(64).fill(1);
  for (let i = 0; i < 50; i++) await client.request(server.peerId, BLOCKSYNC_PROTOCOL, request);
  const latencies: number[] = [];
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const sent = performance.now();
    await client.request(server.peerId, BLOCKSYNC_PROTOCOL, request);
    latencies.push(performance.now() - sent);
  }
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => +latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))].toFixed(3);
  return {
    test: `request 64 B -> response ${responseBytes >= 1024 ? `${responseBytes / 1024} KiB` : `${responseBytes} B`}, sequential`,
    "requests/s": Math.round(count / elapsed),
    "p50 ms": at(0.5),
    "p99 ms": at(0.99),
  };
}

export async function run(): Promise<BenchReport> {
  const nets = await startMesh();
  const rows: BenchRow[] = [];
  try {
    rows.push(await broadcast(nets, 1, TOPIC_MEMPOOL, 200, 3));
    rows.push(await broadcast(nets, 4, TOPIC_MEMPOOL, 200, 3));
    rows.push(await broadcast(nets, 1, TOPIC_CONSENSUS, 64 * 1024, 3));
    rows.push(await broadcast(nets, 4, TOPIC_CONSENSUS, 64 * 1024, 3));
    rows.push(await roundTrips(nets[0], nets[1], 100, 3000));
    rows.push(await roundTrips(nets[0], nets[1], 64 * 1024, 2000));
  } finally {
    await Promise.all(nets.map((n) => n.stop()));
  }
  return {
    name: "p2p",
    title: "Validator network on loopback: 4 validators, TCP + Noise + yamux, full mesh",
    rows,
    notes: [
      "All four validators run in this one process on one event loop, so every figure includes the encryption and decryption of both ends: a real validator does half of it, on its own cores.",
      "A delivery is one message reaching one peer's handler; a broadcast makes 3. Senders queue up to 1 MiB and wait for their queues to drain before queueing more (what bulk gossip should do).",
      "Rate limits were lifted for this run; the default per-peer limits (consensus 2,000 msg/s and 64 MiB/s, mempool 20,000 msg/s and 32 MiB/s) sit below several of these figures on purpose.",
      "Round trips open a yamux stream per request, with the protocol negotiated optimistically alongside the request.",
    ],
  };
}
