// Real libp2p validator networks on 127.0.0.1 in one process: mesh and broadcast, the allowlist,
// flood throttling, redial after a restart, request/response, and size limits.
import { afterEach, describe, expect, it } from "vitest";
import { createLibp2p } from "libp2p";
import { tcp } from "@libp2p/tcp";
import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { multiaddr } from "@multiformats/multiaddr";
import { encodeGossip } from "../../sequencer/p2p/framing.ts";
import { BLOCKSYNC_PROTOCOL, GOSSIP_PROTOCOL, TOPIC_CONSENSUS, TOPIC_MEMPOOL } from "../../sequencer/p2p/protocols.ts";
import { RequestError, type ValidatorNetwork } from "../../sequencer/p2p/network.ts";
import { captureLogger, Inbox, metric, network, nextPeerEvent, testValidators, text, untilMetric, untilPeers, type TestValidator } from "./helpers.ts";

const running: Array<{ stop(): void | Promise<void> }> = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

async function started<T extends ValidatorNetwork>(net: T): Promise<T> {
  running.push(net);
  await net.start();
  return net;
}

/** Validators that all list each other as persistent peers, like a devnet's configs. */
async function mesh(validators: TestValidator[], options: Parameters<typeof network>[1] | ((v: TestValidator) => Partial<Parameters<typeof network>[1]>) = { allowlist: [] }) {
  const allowlist = validators.map((v) => v.peerId);
  const nets = await Promise.all(
    validators.map((v) => {
      const extra = typeof options === "function" ? options(v) : options;
      return started(network(v, { persistentPeers: validators.map((p) => p.address), ...extra, allowlist: extra.allowlist?.length ? extra.allowlist : allowlist }));
    }),
  );
  await Promise.all(nets.map((n) => untilPeers(n, (peers) => peers.length === validators.length - 1, "a full mesh")));
  return nets;
}

describe("validator network", () => {
  it("forms a full mesh of four and delivers every broadcast to every other validator exactly once", async () => {
    const validators = await testValidators(4);
    const nets = await mesh(validators);
    const inboxes = nets.map((n) => new Inbox(n, TOPIC_CONSENSUS));
    const mempool = nets.map((n) => new Inbox(n, TOPIC_MEMPOOL));
    const perSender = 50;
    for (const [i, net] of nets.entries()) {
      for (let k = 0; k < perSender; k++) expect(net.broadcast(TOPIC_CONSENSUS, text(`${i}:${k}`))).toBe(3);
      net.broadcast(TOPIC_MEMPOOL, text(`tx from ${i}`));
      // Sent last on the same stream: once it has arrived, everything before it has too.
      net.broadcast(TOPIC_CONSENSUS, text(`fence ${i}`));
    }
    await Promise.all(inboxes.map((inbox) => inbox.until((ms) => ms.filter((m) => m.text.startsWith("fence")).length === 3, "fences from the 3 others")));
    for (const [i, inbox] of inboxes.entries()) {
      expect(inbox.from(validators[i].peerId)).toEqual([]);
      for (const [j, v] of validators.entries()) {
        if (j === i) continue;
        const expected = [...Array.from({ length: perSender }, (_, k) => `${j}:${k}`), `fence ${j}`];
        expect(inbox.from(v.peerId)).toEqual(expected);
      }
    }
    await Promise.all(mempool.map((inbox) => inbox.until((ms) => ms.length === 3, "3 transactions")));
    expect(mempool[0].messages.map((m) => m.text).sort()).toEqual(["tx from 1", "tx from 2", "tx from 3"]);
    expect(await metric(nets[0].registry, "metro_p2p_peers")).toBe(3);
    expect(await metric(nets[0].registry, "metro_p2p_messages_sent_total", { topic: TOPIC_CONSENSUS })).toBe(3 * (perSender + 1));
    expect(await metric(nets[0].registry, "metro_p2p_messages_received_total", { topic: TOPIC_CONSENSUS })).toBe(3 * (perSender + 1));
    // sendTo reaches only its target.
    expect(nets[0].sendTo(validators[1].peerId, TOPIC_CONSENSUS, text("just for 1"))).toBe(true);
    await inboxes[1].until((ms) => ms.some((m) => m.text === "just for 1"), "the direct message");
    expect(nets[1].broadcast(TOPIC_CONSENSUS, text("fence again"))).toBe(3);
    await inboxes[2].until((ms) => ms.some((m) => m.text === "fence again"), "the second fence");
    expect(inboxes[2].messages.some((m) => m.text === "just for 1")).toBe(false);
  });

  it("refuses a peer outside the allowlist in both directions; its messages never reach a handler", async () => {
    const [a, b, outsider] = await testValidators(3);
    const [netA, netB] = await mesh([a, b]);
    const inboxA = new Inbox(netA, TOPIC_CONSENSUS);
    // The outsider knows A and would accept it; A does not know the outsider. Its dial completes on
    // its side before A's refusal lands (the initiator finishes the Noise handshake first), so it
    // sees a connect then a disconnect, and tries to use each short window.
    const netO = network(outsider, { allowlist: [a.peerId], persistentPeers: [a.address] });
    netO.onPeer((e) => {
      if (e.type === "connect") netO.broadcast(TOPIC_CONSENSUS, text("let me in"));
    });
    await started(netO);
    await untilMetric(netA.registry, "metro_p2p_connections_refused_total", { direction: "inbound", reason: "not_allowlisted" }, (v) => v >= 3);
    expect(netA.connectedPeers()).toEqual([b.peerId]);
    // Outbound: A will not even be configured to dial it, and a request to it has no connection to use.
    expect(() => network(a, { allowlist: [a.peerId, b.peerId], persistentPeers: [outsider.address] })).toThrow(/not in the allowlist/);
    await expect(netA.request(outsider.peerId, BLOCKSYNC_PROTOCOL, text("x"))).rejects.toMatchObject({ code: "not_connected" });
    // A raw libp2p node with the outsider's key cannot open a stream to A either.
    const raw = await createLibp2p({ privateKey: outsider.key, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    running.push(raw);
    await expect(raw.dialProtocol(multiaddr(netA.addresses[0]), GOSSIP_PROTOCOL)).rejects.toThrow();
    expect(await metric(netA.registry, "metro_p2p_connections_refused_total", { direction: "inbound" })).toBeGreaterThanOrEqual(4);
    // B's message after everything the outsider tried: A's handlers heard only B.
    netB.broadcast(TOPIC_CONSENSUS, text("fence"));
    await inboxA.until((ms) => ms.some((m) => m.text === "fence"), "B's fence");
    expect(inboxA.messages.map((m) => m.from)).toEqual([b.peerId]);
    expect(await metric(netA.registry, "metro_p2p_messages_received_total")).toBe(1);
  });

  it("throttles a flooding validator to its rate while the others keep working", async () => {
    const validators = await testValidators(3);
    const [a, flooder, c] = validators;
    const { logger, lines } = captureLogger("warn");
    const limit = { messagesPerSecond: 100, burstSeconds: 1 };
    const nets = await mesh(validators, (v) => (v === a ? { logger, limits: { channels: { [TOPIC_CONSENSUS]: limit } } } : {}));
    const [netA, netF, netC] = nets;
    const inbox = new Inbox(netA, TOPIC_CONSENSUS);
    const flood = 1_000;
    const startedAt = performance.now();
    for (let k = 0; k < flood; k++) netF.broadcast(TOPIC_CONSENSUS, text(`flood ${k}`));
    for (let k = 0; k < 50; k++) netC.broadcast(TOPIC_CONSENSUS, text(`honest ${k}`));
    const throttled = () => metric(netA.registry, "metro_p2p_messages_dropped_total", { topic: TOPIC_CONSENSUS, reason: "throttled" });
    await inbox.until((ms) => ms.filter((m) => m.from === c.peerId).length === 50, "all 50 honest messages");
    await untilMetric(netA.registry, "metro_p2p_messages_dropped_total", { topic: TOPIC_CONSENSUS, reason: "throttled" }, (v) => v + inbox.from(flooder.peerId).length === flood);
    const elapsedS = (performance.now() - startedAt) / 1000;
    const accepted = inbox.from(flooder.peerId).length;
    // The bucket's depth plus what it refilled while the flood arrived.
    expect(accepted).toBeLessThanOrEqual(Math.ceil(limit.messagesPerSecond * (limit.burstSeconds + elapsedS)));
    expect(accepted).toBeGreaterThanOrEqual(limit.messagesPerSecond * limit.burstSeconds);
    expect(await throttled()).toBe(flood - accepted);
    expect(lines().some((l) => l.msg === "peer throttled: over its rate limit, dropping its messages" && l.peer === flooder.peerId)).toBe(true);
    // Throttled, not disconnected: the drop budget (1000 per 10 s) was not exhausted.
    expect(netA.connectedPeers().sort()).toEqual([flooder.peerId, c.peerId].sort());
  });

  it("disconnects and bans a validator that keeps flooding past its drop budget", async () => {
    const validators = await testValidators(3);
    const [a, flooder, c] = validators;
    const { logger, lines } = captureLogger("warn");
    const limits = { channels: { [TOPIC_CONSENSUS]: { messagesPerSecond: 100, burstSeconds: 1 } }, floodDropsBeforeDisconnect: 50, banMs: 60_000 };
    const [netA, netF, netC] = await mesh(validators, (v) => (v === a ? { logger, limits } : {}));
    const dropped = nextPeerEvent(netA, (e) => e.type === "disconnect" && e.peerId === flooder.peerId);
    for (let k = 0; k < 1_000; k++) netF.broadcast(TOPIC_CONSENSUS, text(`flood ${k}`));
    await dropped;
    expect(await metric(netA.registry, "metro_p2p_peer_disconnects_total", { reason: "flooding" })).toBe(1);
    expect(lines().some((l) => l.msg === "disconnecting peer" && l.peer === flooder.peerId && l.reason === "flooding")).toBe(true);
    // The flooder redials (A is its persistent peer) and is refused while banned.
    await untilMetric(netA.registry, "metro_p2p_connections_refused_total", { reason: "banned" }, (v) => v >= 1);
    expect(netA.connectedPeers()).toEqual([c.peerId]);
    const inbox = new Inbox(netA, TOPIC_CONSENSUS);
    netC.broadcast(TOPIC_CONSENSUS, text("still here"));
    await inbox.until((ms) => ms.some((m) => m.text === "still here"), "the honest validator's message");
  });

  it("disconnects a peer too slow to take what it is sent instead of queueing without bound", async () => {
    const [a, slow] = await testValidators(2);
    const limits = { sendQueueBytes: 1024 * 1024, channels: { [TOPIC_CONSENSUS]: { maxMessageBytes: 64 * 1024 }, [TOPIC_MEMPOOL]: { maxMessageBytes: 64 * 1024 } } };
    const netA = await started(network(a, { allowlist: [a.peerId, slow.peerId], limits }));
    // A validator that accepts our gossip stream and never reads it: yamux stops granting window, so
    // everything past the first window waits in A's send queue.
    const raw = await createLibp2p({ privateKey: slow.key, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    running.push(raw);
    await raw.handle(GOSSIP_PROTOCOL, (stream) => stream.pause());
    const connected = nextPeerEvent(netA, (e) => e.type === "connect" && e.peerId === slow.peerId);
    await raw.dial(multiaddr(netA.addresses[0]));
    await connected;
    let gone = false;
    const dropped = nextPeerEvent(netA, (e) => e.type === "disconnect" && e.peerId === slow.peerId).then(() => (gone = true));
    const message = new Uint8Array(64 * 1024);
    let queued = 0;
    while (!gone && queued < 1_000 && netA.sendTo(slow.peerId, TOPIC_CONSENSUS, message)) {
      queued += 1;
      // Let I/O run between small bursts, as a node producing messages over time would.
      if (queued % 4 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    await dropped;
    expect(await metric(netA.registry, "metro_p2p_peer_disconnects_total", { reason: "slow" })).toBe(1);
    expect(await metric(netA.registry, "metro_p2p_messages_dropped_total", { topic: TOPIC_CONSENSUS, reason: "send_queue_full" })).toBe(1);
    // The queue (1 MiB) plus yamux's initial window and one batch in the stream: nowhere near 1,000.
    expect(queued).toBeLessThan(40);
  });

  it("redials a validator that restarts on the same key and port, and messages flow again", async () => {
    const [a, b] = await testValidators(2);
    const allowlist = [a.peerId, b.peerId];
    // Only A dials: the restarted node must be found again by its peer, not the other way round.
    const netA = await started(network(a, { allowlist, persistentPeers: [b.address] }));
    const netB = await started(network(b, { allowlist }));
    await untilPeers(netA, (p) => p.includes(b.peerId), "A connected to B");
    const inboxA = new Inbox(netA, TOPIC_CONSENSUS);
    const inboxB = new Inbox(netB, TOPIC_CONSENSUS);

    const lost = nextPeerEvent(netA, (e) => e.type === "disconnect" && e.peerId === b.peerId);
    await netB.stop();
    await lost;
    const back = nextPeerEvent(netA, (e) => e.type === "connect" && e.peerId === b.peerId);
    await netB.start();
    await back;
    await untilPeers(netB, (p) => p.includes(a.peerId), "B connected to A");
    expect(netB.addresses[0]).toBe(b.address);
    netA.broadcast(TOPIC_CONSENSUS, text("after restart"));
    netB.broadcast(TOPIC_CONSENSUS, text("back again"));
    await inboxB.until((ms) => ms.some((m) => m.text === "after restart"), "A's message at B");
    await inboxA.until((ms) => ms.some((m) => m.text === "back again"), "B's message at A");

    // A process restart: a new network object with the same key file contents and port.
    const lostAgain = nextPeerEvent(netA, (e) => e.type === "disconnect" && e.peerId === b.peerId);
    await netB.stop();
    await lostAgain;
    const backAgain = nextPeerEvent(netA, (e) => e.type === "connect" && e.peerId === b.peerId);
    const netB2 = await started(network(b, { allowlist }));
    await backAgain;
    await untilPeers(netB2, (p) => p.includes(a.peerId), "the new B connected to A");
    const inboxB2 = new Inbox(netB2, TOPIC_CONSENSUS);
    netA.broadcast(TOPIC_CONSENSUS, text("to the new process"));
    await inboxB2.until((ms) => ms.some((m) => m.text === "to the new process"), "A's message at the new B");
    expect(inboxB2.messages.map((m) => m.text)).toEqual(["to the new process"]);
    expect(await metric(netA.registry, "metro_p2p_dials_total", { result: "ok" })).toBeGreaterThanOrEqual(3);
  });

  it("answers requests, reports remote errors and throttling, and times out", async () => {
    const validators = await testValidators(2);
    const [a, b] = validators;
    let release: () => void = () => {};
    const [netA, netB] = await mesh(validators, (v) => (v === b ? { limits: { channels: { "/metro/slow/1": { messagesPerSecond: 2, burstSeconds: 1 } } } } : {}));
    await netB.handle(BLOCKSYNC_PROTOCOL, async (from, request) => {
      const asked = Buffer.from(request).toString();
      if (asked === "fail") throw new Error("no such block");
      if (asked === "hang") await new Promise<void>((resolve) => (release = resolve));
      if (asked === "big") return new Uint8Array(1024 * 1024).fill(7);
      return text(`block ${asked} for ${from.slice(-6)}`);
    });
    await netB.handle("/metro/slow/1", () => text("ok"));

    expect(Buffer.from(await netA.request(b.peerId, BLOCKSYNC_PROTOCOL, text("42"))).toString()).toBe(`block 42 for ${a.peerId.slice(-6)}`);
    expect((await netA.request(b.peerId, BLOCKSYNC_PROTOCOL, text("big"))).length).toBe(1024 * 1024);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => netA.request(b.peerId, BLOCKSYNC_PROTOCOL, text(String(i)))));
    expect(answers.map((r) => Buffer.from(r).toString())).toEqual(Array.from({ length: 20 }, (_, i) => `block ${i} for ${a.peerId.slice(-6)}`));

    await expect(netA.request(b.peerId, BLOCKSYNC_PROTOCOL, text("fail"))).rejects.toMatchObject({ code: "remote_error", message: expect.stringMatching(/no such block/) });

    const before = performance.now();
    const hung = netA.request(b.peerId, BLOCKSYNC_PROTOCOL, text("hang"), { timeoutMs: 300 });
    await expect(hung).rejects.toBeInstanceOf(RequestError);
    await expect(hung).rejects.toMatchObject({ code: "timeout" });
    expect(performance.now() - before).toBeGreaterThanOrEqual(290);
    expect(performance.now() - before).toBeLessThan(3_000);
    release();

    // A protocol the peer does not serve fails fast rather than waiting for the timeout.
    await expect(netA.request(b.peerId, "/metro/nothing/1", text("?"), { timeoutMs: 5_000 })).rejects.toMatchObject({ code: "failed" });

    const slow = await Promise.allSettled(Array.from({ length: 6 }, () => netA.request(b.peerId, "/metro/slow/1", text("x"))));
    expect(slow.filter((r) => r.status === "fulfilled").length).toBeGreaterThanOrEqual(2);
    expect(slow.filter((r) => r.status === "rejected" && (r.reason as RequestError).code === "throttled").length).toBeGreaterThanOrEqual(1);

    expect(await metric(netA.registry, "metro_p2p_requests_total", { side: "client", result: "ok" })).toBeGreaterThanOrEqual(22);
    expect(await metric(netB.registry, "metro_p2p_requests_total", { side: "server", result: "throttled" })).toBeGreaterThanOrEqual(1);
  });

  it("refuses oversize messages at the sender and drops them at the receiver", async () => {
    const validators = await testValidators(3);
    const [a, , m] = validators;
    const limits = { channels: { [TOPIC_CONSENSUS]: { maxMessageBytes: 64 * 1024 }, [TOPIC_MEMPOOL]: { maxMessageBytes: 1024 }, [BLOCKSYNC_PROTOCOL]: { maxMessageBytes: 4096 } } };
    const [netA, netB] = await mesh(validators.slice(0, 2), { allowlist: validators.map((v) => v.peerId), limits });
    const inbox = new Inbox(netA, TOPIC_MEMPOOL);
    const consensus = new Inbox(netA, TOPIC_CONSENSUS);

    expect(() => netB.broadcast(TOPIC_MEMPOOL, new Uint8Array(1025))).toThrow(RangeError);
    expect(netB.broadcast(TOPIC_MEMPOOL, new Uint8Array(1024))).toBe(1);
    await inbox.until((ms) => ms.length === 1, "the largest allowed message");
    await expect(netB.request(a.peerId, BLOCKSYNC_PROTOCOL, new Uint8Array(4097))).rejects.toMatchObject({ code: "oversize" });

    // A validator whose software ignores the limits: speaks the wire protocol directly.
    const raw = await createLibp2p({ privateKey: m.key, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    running.push(raw);
    const connection = await raw.dial(multiaddr(netA.addresses[0]));
    const openGossip = async () => {
      const stream = await connection.newStream(GOSSIP_PROTOCOL);
      const closed = new Promise((resolve) => stream.addEventListener("close", resolve, { once: true }));
      return { stream, closed };
    };
    // Within the frame limit but over the mempool topic's limit.
    const first = await openGossip();
    first.stream.send(encodeGossip(TOPIC_MEMPOOL, new Uint8Array(2048)));
    await first.closed;
    expect(await metric(netA.registry, "metro_p2p_messages_dropped_total", { topic: TOPIC_MEMPOOL, reason: "oversize" })).toBe(1);
    // A length prefix over every topic's limit: refused before the body is buffered.
    const second = await openGossip();
    second.stream.send(Uint8Array.of(0xff, 0xff, 0xff, 0x7f));
    await second.closed;
    expect(await metric(netA.registry, "metro_p2p_messages_dropped_total", { topic: "unknown", reason: "oversize" })).toBe(1);
    // The same peer, well behaved again on a new stream, is heard.
    const third = await openGossip();
    third.stream.send(encodeGossip(TOPIC_CONSENSUS, text("sorry")));
    await consensus.until((ms) => ms.some((msg) => msg.from === m.peerId && msg.text === "sorry"), "the valid message after the violations");
    expect(inbox.messages.map((msg) => msg.from)).toEqual([validators[1].peerId]);
  });
});
