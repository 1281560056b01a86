// The pure pieces of the transport: send queue, redial schedule, admission, listen-port pinning and
// the request semaphore.
import { describe, expect, it } from "vitest";
import { multiaddr } from "@multiformats/multiaddr";
import { peerIdFromString } from "@libp2p/peer-id";
import { SendQueue } from "../../sequencer/p2p/send-queue.ts";
import { attemptAfterDisconnect, DEFAULT_BACKOFF, redialDelayMs } from "../../sequencer/p2p/backoff.ts";
import { multiaddrPeerId, PeerAdmission, validatorGater, type Direction, type Refusal } from "../../sequencer/p2p/gater.ts";
import { pinListenPorts } from "../../sequencer/p2p/addresses.ts";
import { Semaphore } from "../../sequencer/p2p/semaphore.ts";
import { generateNodeKeyJson, nodeKeyFromJson, peerIdOf } from "../../sequencer/p2p/node-key.ts";

const bytes = (n: number, fill = 1) => new Uint8Array(n).fill(fill);

describe("send queue", () => {
  it("is bounded in bytes and in messages, and refuses without changing", () => {
    const queue = new SendQueue(100, 3);
    expect(queue.push(bytes(60))).toBe(true);
    expect(queue.push(bytes(41))).toBe(false);
    expect(queue.push(bytes(40))).toBe(true);
    expect(queue.push(bytes(0))).toBe(true);
    expect(queue.push(bytes(0))).toBe(false);
    expect([queue.length, queue.bytes]).toEqual([3, 100]);
  });

  it("batches the oldest frames in order up to a size, always at least one", () => {
    const queue = new SendQueue(1000, 100);
    queue.push(bytes(3, 1));
    queue.push(bytes(3, 2));
    queue.push(bytes(300, 3));
    queue.push(bytes(2, 4));
    expect([...queue.takeBatch(10)!]).toEqual([1, 1, 1, 2, 2, 2]);
    expect(queue.takeBatch(10)!.length).toBe(300);
    expect([...queue.takeBatch(10)!]).toEqual([4, 4]);
    expect(queue.takeBatch(10)).toBeUndefined();
    expect([queue.length, queue.bytes]).toEqual([0, 0]);
  });

  it("keeps FIFO order and its byte count through long use", () => {
    const queue = new SendQueue(1 << 20, 10_000);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 100; i++) queue.push(Uint8Array.of(next++ % 256));
      for (let i = 0; i < 97; i++) expect(queue.takeBatch(1)![0]).toBe(expected++ % 256);
    }
    expect(queue.length).toBe(150);
    expect(queue.bytes).toBe(150);
    expect(queue.clear()).toBe(150);
    expect(queue.bytes).toBe(0);
  });
});

describe("redial schedule", () => {
  const policy = { ...DEFAULT_BACKOFF, initialMs: 100, maxMs: 1000, factor: 2, jitter: 0.5 };

  it("grows exponentially to a cap, with jitter taking up to half of each delay", () => {
    expect([0, 1, 2, 3, 4, 10, 1000].map((a) => redialDelayMs(a, policy, () => 0))).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
    expect(redialDelayMs(2, policy, () => 0.999999)).toBe(200);
    for (let i = 0; i < 100; i++) {
      const d = redialDelayMs(3, policy);
      expect(d).toBeGreaterThanOrEqual(400);
      expect(d).toBeLessThanOrEqual(800);
    }
  });

  it("restarts after a stable connection, continues after a short-lived one", () => {
    expect(attemptAfterDisconnect(5, policy.stableMs, policy)).toBe(0);
    expect(attemptAfterDisconnect(5, 10, policy)).toBe(5);
  });
});

describe("admission and the connection gater", () => {
  const [a, b, stranger] = [0, 1, 2].map(() => peerIdOf(nodeKeyFromJson(generateNodeKeyJson())));

  it("admits the allowlist, refuses strangers and banned peers until the ban ends", () => {
    const admission = new PeerAdmission([a, b]);
    expect(admission.refusal(a, 0)).toBeUndefined();
    expect(admission.refusal(stranger, 0)).toBe("not_allowlisted");
    admission.ban(b, 1000);
    expect(admission.refusal(b, 999)).toBe("banned");
    expect(admission.refusal(b, 1000)).toBeUndefined();
    // Banning a stranger is meaningless and must not grow the ban list.
    admission.ban(stranger, 5000);
    expect(admission.refusal(stranger, 0)).toBe("not_allowlisted");
  });

  it("gates dials and handshakes in both directions and reports each refusal", async () => {
    const refusals: Array<[string, Direction, Refusal]> = [];
    const gater = validatorGater(new PeerAdmission([a]), () => 0, (...r) => refusals.push(r));
    expect(await gater.denyDialPeer!(peerIdFromString(a))).toBe(false);
    expect(await gater.denyDialPeer!(peerIdFromString(stranger))).toBe(true);
    expect(await gater.denyDialMultiaddr!(multiaddr(`/ip4/127.0.0.1/tcp/1/p2p/${stranger}`))).toBe(true);
    expect(await gater.denyDialMultiaddr!(multiaddr("/ip4/127.0.0.1/tcp/1"))).toBe(false);
    const conn = {} as never;
    expect(await gater.denyInboundEncryptedConnection!(peerIdFromString(stranger), conn)).toBe(true);
    expect(await gater.denyInboundEncryptedConnection!(peerIdFromString(a), conn)).toBe(false);
    expect(await gater.denyOutboundEncryptedConnection!(peerIdFromString(stranger), conn)).toBe(true);
    expect(refusals).toEqual([
      [stranger, "outbound", "not_allowlisted"],
      [stranger, "outbound", "not_allowlisted"],
      [stranger, "inbound", "not_allowlisted"],
      [stranger, "outbound", "not_allowlisted"],
    ]);
  });

  it("reads the peer id from a multiaddr's last /p2p/", () => {
    expect(multiaddrPeerId(multiaddr(`/ip4/10.0.0.1/tcp/26656/p2p/${a}`))).toBe(a);
    expect(multiaddrPeerId(multiaddr("/ip4/10.0.0.1/tcp/26656"))).toBeUndefined();
  });
});

describe("listen ports across restarts", () => {
  it("pins port 0 to the port bound for the same address, leaves fixed ports alone", () => {
    const bound = ["/ip4/127.0.0.1/tcp/4001/p2p/x", "/ip4/10.1.2.3/tcp/4002/p2p/x", "/ip6/::1/tcp/4003/p2p/x"];
    expect(pinListenPorts(["/ip4/127.0.0.1/tcp/0", "/ip4/10.1.2.3/tcp/0", "/ip6/::1/tcp/0", "/ip4/127.0.0.1/tcp/26656"], bound.map((b) => b.replace("/p2p/x", "")))).toEqual([
      "/ip4/127.0.0.1/tcp/4001",
      "/ip4/10.1.2.3/tcp/4002",
      "/ip6/::1/tcp/4003",
      "/ip4/127.0.0.1/tcp/26656",
    ]);
    // A wildcard is reported per interface, all on the same port.
    expect(pinListenPorts(["/ip4/0.0.0.0/tcp/0"], ["/ip4/192.168.1.5/tcp/4100", "/ip4/127.0.0.1/tcp/4100"])).toEqual(["/ip4/0.0.0.0/tcp/4100"]);
    expect(pinListenPorts(["/ip4/127.0.0.1/tcp/0"], [])).toEqual(["/ip4/127.0.0.1/tcp/0"]);
  });
});

describe("semaphore", () => {
  it("grants permits in order and hands a released permit to the oldest waiter", async () => {
    const semaphore = new Semaphore(2);
    const order: number[] = [];
    const r1 = await semaphore.acquire();
    const r2 = await semaphore.acquire();
    const third = semaphore.acquire().then((release) => (order.push(3), release));
    const fourth = semaphore.acquire().then((release) => (order.push(4), release));
    r1();
    r1(); // releasing twice frees one permit only
    const r3 = await third;
    expect(order).toEqual([3]);
    r2();
    (await fourth)();
    r3();
    expect(order).toEqual([3, 4]);
  });

  it("abandons a wait when its signal fires", async () => {
    const semaphore = new Semaphore(1);
    const held = await semaphore.acquire();
    const controller = new AbortController();
    const waiting = semaphore.acquire(controller.signal);
    controller.abort(new Error("gave up"));
    await expect(waiting).rejects.toThrow("gave up");
    held();
    // The abandoned waiter did not swallow the permit.
    (await semaphore.acquire())();
  });
});
