// Header gossip over libp2p between full nodes of one rollup: two nodes following the same sequencer
// and DA layer derive identical headers and state roots and confirm each other's signed headers with
// no alarm. A trusted signer that publishes a header with another state root sets off the alarm, and
// the evidence is kept; headers from signers nobody trusts are dropped.
import { afterAll, expect, it } from "vitest";
import { createValidatorNetwork } from "../../sequencer/p2p/network.ts";
import { generateNodeKeyJson, nodeKeyFromJson, peerIdOf } from "../../sequencer/p2p/node-key.ts";
import { toHexUpper } from "../../cometbft/hash.ts";
import { headerTopic } from "../../lazy-rollup-node/header-gossip.ts";
import { encodeSignedHeader, signHeader, type RollupHeader } from "../../lazy-rollup-node/index.ts";
import { publicKeyOf } from "../../lazy-rollup-node/secp256k1-key.ts";
import { sha256 } from "../../celestia/sha256.ts";
import { getJson, initHome, logger, onStop, ROLLUP, startEnv, startNode, stopAll, until } from "./node-harness.ts";

afterAll(stopAll);

const LISTEN = ["/ip4/127.0.0.1/tcp/0"];

it("two nodes of a rollup reach the same headers and confirm each other's over libp2p; a wrong header sets off the alarm", async () => {
  const env = await startEnv({ chainId: "metro-rollup-gossip-1" });
  const a = initHome(env);
  const b = initHome(env);
  // A third node of the rollup that A trusts, played by the test: its own libp2p key and header key.
  const cKey = nodeKeyFromJson(generateNodeKeyJson());
  const cHeaderKey = sha256(new TextEncoder().encode("rollup gossip test header key"));
  const untrustedKey = sha256(new TextEncoder().encode("nobody trusts this key"));

  const nodeA = await startNode(env, a.home, { p2p: { listen: LISTEN, peers: [], allowPeers: [b.peerId, peerIdOf(cKey)], trustedSigners: [b.headerSigner, publicKeyOf(cHeaderKey)] } });
  const nodeB = await startNode(env, b.home, { p2p: { listen: LISTEN, peers: [nodeA.gossip!.addresses[0]], trustedSigners: [a.headerSigner] } });

  const matched = (node: typeof nodeA, n: number) => until(node.node, () => (node.gossip!.status().headers_received.match ?? 0) >= n, `${n} of the other node's headers to match`);
  await Promise.all([matched(nodeA, 5), matched(nodeB, 5)]);
  await until(nodeB.node, () => nodeB.node.firmHeight >= 5n, "B to confirm 5 blocks");
  await until(nodeA.node, () => nodeA.node.firmHeight >= 5n, "A to confirm 5 blocks");
  for (let h = 1n; h <= 5n; h++) {
    const [ha, hb] = await Promise.all([nodeA.node.headers.header(h), nodeB.node.headers.header(h)]);
    expect(ha).toEqual(hb);
  }
  for (const node of [nodeA, nodeB]) {
    expect((await getJson(`${node.api.url}/v1/alarms`)).body.alarms).toEqual([]);
    expect((await getJson(`${node.api.url}/v1/status`)).body.p2p.peers).toHaveLength(1);
  }

  // C joins and publishes three headers at a height A has: one differing only in its DA location, one
  // with another state root signed by a key nobody trusts, and that one signed by C (twice).
  const cNet = createValidatorNetwork({ privateKey: cKey, listen: LISTEN, persistentPeers: [nodeA.gossip!.addresses[0]], allowlist: [nodeA.gossip!.peerId], topics: [headerTopic(ROLLUP)], logger });
  const connected = new Promise<void>((resolve) => cNet.onPeer((e) => e.type === "connect" && resolve()));
  await cNet.start();
  onStop(() => cNet.stop());
  await connected;
  const real = (await nodeA.node.headers.header(3n))!;
  const wrongRoot = { ...real, stateRoot: sha256(new TextEncoder().encode("a state A never reached")) };
  const publish = (header: RollupHeader, key: Uint8Array) => expect(cNet.broadcast(headerTopic(ROLLUP), encodeSignedHeader(signHeader(header, key)))).toBe(1);
  publish({ ...real, daHeight: real.daHeight + 1n }, cHeaderKey);
  publish(wrongRoot, untrustedKey);
  publish(wrongRoot, cHeaderKey);
  publish(wrongRoot, cHeaderKey);
  const received = () => nodeA.gossip!.status().headers_received;
  await until(nodeA.node, () => (received().conflict ?? 0) >= 3 && (received().untrusted ?? 0) >= 1, "A to compare C's headers");

  const alarms = (await getJson(`${nodeA.api.url}/v1/alarms`)).body.alarms;
  expect(alarms).toHaveLength(1);
  expect(alarms[0]).toMatchObject({ kind: "header-conflict", height: 3, details: { signer: toHexUpper(publicKeyOf(cHeaderKey)), fields: ["stateRoot"] } });
  expect(alarms[0].details.received.state_root).toBe(toHexUpper(wrongRoot.stateRoot));
  expect(alarms[0].details.local.state_root).toBe(toHexUpper(real.stateRoot));
  const evidence = await nodeA.node.headers.evidence();
  expect(evidence.map((e) => e.fields)).toEqual(expect.arrayContaining([["daHeight"], ["stateRoot"]]));
  expect(evidence).toHaveLength(2);
  expect((await getJson(`${nodeB.api.url}/v1/alarms`)).body.alarms).toEqual([]);
});
