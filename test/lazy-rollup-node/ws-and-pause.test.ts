// The WebSocket API (a transaction's soft, firm and header events in that order; every new header) and
// soft execution's pause while it is too far ahead of firm confirmation.
import { afterAll, expect, it } from "vitest";
import { addressOfKey, testKey } from "./harness.ts";
import { initHome, PREFIX, startEnv, startNode, startTestRelayer, stopAll, submit, transfer, until, wsClient } from "./node-harness.ts";
import { waitForHeight } from "../sequencer/rpc-harness.ts";

afterAll(stopAll);

it("streams a transaction's soft, firm and header events in order, and every header", async () => {
  const env = await startEnv({ chainId: "metro-rollup-ws-1" });
  const rollup = await startNode(env, initHome(env).home);
  const client = await wsClient(rollup.api.wsUrl);
  const t = transfer(0, addressOfKey(testKey(1), PREFIX), 3n, 0n);
  const hash = Buffer.from(t.hash).toString("hex").toUpperCase();
  client.send({ subscribe: "tx", hash });
  client.send({ subscribe: "headers" });
  await client.until((m) => m.some((x) => x.subscribed === "headers"), "the header subscription");
  await submit(env, t.data);
  await client.until((m) => m.some((x) => x.event === "header" && x.hash === hash), "the transaction's header event");
  const txEvents = client.messages.filter((m) => m.hash === hash && m.event !== undefined);
  expect(txEvents.map((m) => m.event)).toEqual(["soft", "firm", "header"]);
  expect(txEvents[0].tx).toMatchObject({ hash, result: { ok: true } });
  expect(txEvents[1].tx).toMatchObject({ status: "firm", da: { height: expect.any(Number) } });
  expect(txEvents[2].header.header.height).toBe(txEvents[0].tx.rollup_height);
  const headers = client.messages.filter((m) => m.event === "header" && m.hash === undefined).map((m) => m.header.header.height);
  expect(headers.length).toBeGreaterThan(0);
  expect(headers).toEqual([...headers].sort((a, b) => a - b));

  // A late subscriber gets the whole story at once.
  const late = await wsClient(rollup.api.wsUrl);
  late.send({ subscribe: "tx", hash });
  await late.until((m) => m.filter((x) => x.hash === hash && x.event).length === 3, "the late subscriber's events");
  expect(late.messages.filter((x) => x.event).map((x) => x.event)).toEqual(["soft", "firm", "header"]);
  late.send({ subscribe: "nonsense" });
  await late.until((m) => m.some((x) => x.error), "an error answer");
  client.close();
  late.close();
});

it("pauses soft execution while it is too far ahead of firm, and resumes as blocks become firm", async () => {
  const env = await startEnv({ chainId: "metro-rollup-pause-1", relayer: false });
  const rollup = await startNode(env, initHome(env).home, { maxSoftAheadBlocks: 5 });
  await until(rollup.node, () => rollup.node.softHeight === 5n, "soft execution to reach 5 blocks ahead");
  // The sequencer goes on; the node does not.
  await waitForHeight(env.seq.node, 12);
  expect(rollup.node.softHeight).toBe(5n);
  expect(rollup.node.softAhead).toBe(true);
  expect(await (await fetch(`${rollup.api.url}/metrics`)).text()).toMatch(/metro_rollup_soft_paused 1/);

  await startTestRelayer(env);
  await until(rollup.node, () => rollup.node.firmHeight >= 5n && rollup.node.softHeight > 12n, "firm confirmation, then soft execution to go on");
  expect(rollup.node.softHeight - rollup.node.firmHeight).toBeLessThanOrEqual(5n);
});
