// `metro rollup init` and `metro rollup start` as real processes, the second killed with SIGKILL twice
// while blocks stream in under load and restarted on the same home: it resumes from its store and
// ends in exactly the state of an in-process node that never stopped (the same headers, so the same
// state roots and DA locations, and the same result for every transaction).
import { afterAll, expect, it } from "vitest";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";
import { headerJson } from "../../lazy-rollup-node/api-json.ts";
import { addressOfKey, testKey } from "./harness.ts";
import { accounts, getJson, initHome, onStop, PREFIX, ROLLUP, startEnv, startNode, stopAll, submit, tempDir, transfer, until, wsClient, type Env } from "./node-harness.ts";
import { waitForHeight } from "../sequencer/rpc-harness.ts";

afterAll(stopAll);

const rollupProcess = (args: string[], ready = "listening") => startMetro(["rollup", ...args], ready, 30_000);

/** Transfers round-robin among four accounts, a few per sequencer block, until `stop` aborts; returns their hashes. */
async function load(env: Env, stop: AbortSignal): Promise<string[]> {
  const hashes: string[] = [];
  const nonces = [0n, 0n, 0n, 0n];
  for (let n = 0; !stop.aborted; n++) {
    for (let i = 0; i < 4; i++) {
      const from = (n + i) % 4;
      hashes.push(await submit(env, transfer(from, addressOfKey(testKey((from + 1) % 4), PREFIX), BigInt(1 + ((n * 7 + i) % 50)), nonces[from]++).data));
    }
    await waitForHeight(env.seq.node, env.seq.node.head.height + 1);
  }
  return hashes;
}

it("resumes after kill -9 mid-stream and ends in the same state as a node that never stopped", async () => {
  const env = await startEnv({ chainId: "metro-rollup-proc-1" });
  const reference = await startNode(env, initHome(env, { accounts: accounts(4) }).home);

  const home = tempDir("metro-rollup-proc-");
  const init = await rollupProcess(["init", "--home", home, "--chain-id", ROLLUP, "--prefix", PREFIX, "--sequencer-genesis", env.genesisPath, ...accounts(4).flatMap((a) => ["--account", `${a.address}:${a.balance}`])], "initialized");
  expect(init.ready).toMatchObject({ chain_id: ROLLUP, header_signer: expect.stringMatching(/^0[23][0-9a-f]{64}$/) });
  await init.exited;
  const args = ["start", "--home", home, "--sequencer-rpc", env.rpc.websocketUrl, "--da-url", env.da.url, "--api", "127.0.0.1:0", "--da-poll-interval", "500"];
  let proc: MetroProcess = await rollupProcess(args);
  onStop(() => proc.kill("SIGKILL"));
  expect(proc.ready).toMatchObject({ event: "listening", chain_id: ROLLUP, soft_height: 0, firm_height: 0 });

  const stopLoad = new AbortController();
  const loading = load(env, stopLoad.signal);
  let firmBeforeKill = 0;
  for (const headersFirst of [5, 8]) {
    const ws = await wsClient(String(proc.ready.ws));
    ws.send({ subscribe: "headers" });
    await ws.until((m) => m.filter((x) => x.event === "header").length >= headersFirst, `${headersFirst} headers from the process`);
    firmBeforeKill = Math.max(...ws.messages.filter((x) => x.event === "header").map((x) => x.header.header.height));
    await proc.kill("SIGKILL");
    proc = await rollupProcess(args);
    // It resumes from its store: nothing that was firm is lost.
    expect(proc.ready.firm_height as number).toBeGreaterThanOrEqual(firmBeforeKill);
    expect(proc.ready.soft_height as number).toBeGreaterThanOrEqual(proc.ready.firm_height as number);
  }
  const ws = await wsClient(String(proc.ready.ws));
  ws.send({ subscribe: "headers" });
  await ws.until((m) => m.filter((x) => x.event === "header").length >= 3, "headers after the last restart");
  stopLoad.abort();
  const hashes = await loading;

  const target = BigInt(env.seq.node.head.height + 2);
  await until(reference.node, () => reference.node.firmHeight >= target, "the reference node to confirm the last transfers");
  await ws.until((m) => m.some((x) => x.event === "header" && x.header.header.height >= Number(target)), "the process to confirm the last transfers", 60_000);

  for (let h = 1n; h <= target; h++) {
    const theirs = (await getJson(`${String(proc.ready.api)}/v1/headers/${h}`)).body.header;
    expect(theirs).toEqual(headerJson((await reference.node.headers.header(h))!));
  }
  for (const hash of hashes) {
    const [theirs, ours] = await Promise.all([getJson(`${String(proc.ready.api)}/v1/txs/${hash}`), getJson(`${reference.api.url}/v1/txs/${hash}`)]);
    expect(theirs.body).toEqual(ours.body);
    expect(ours.body.result.ok).toBe(true);
  }
  expect((await getJson(`${String(proc.ready.api)}/v1/alarms`)).body.alarms).toEqual([]);
  ws.close();
  await proc.kill("SIGTERM");
  expect((await proc.exited).code).toBe(0);
});
