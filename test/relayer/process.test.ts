// The relayer as a real process following a sequencer's RPC, killed with SIGKILL while a submission
// waits for inclusion, twice, and restarted on the same home: the DA layer ends up holding every
// block, and a reader rebuilds each rollup's stream exactly (the re-posted blocks dropped as
// duplicates).
import { afterAll, expect, it } from "vitest";
import { EventEmitter, once } from "node:events";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { startRpcServer } from "../../sequencer/rpc/server.ts";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";
import { expectStreamsMatch, nextBlock, onStop, startDa, startSequencer, stopAll, tempDir, type TestSequencer } from "./harness.ts";

afterAll(stopAll);

const ROLLUPS = ["rollup-a", "rollup-b", "rollup-c"];

/** Rollup transactions in every block until `stop` is aborted. */
async function load(seq: TestSequencer, stop: AbortSignal): Promise<void> {
  for (let n = 0; !stop.aborted; n++) {
    for (let i = 0; i < 5; i++) await seq.submit({ secondaryChainId: ROLLUPS[(n + i) % 3], data: randomBytes(100 + ((n * 37 + i) % 400)) });
    await nextBlock(seq.node);
  }
}

it("resumes after kill -9 mid-submission with nothing lost; readers drop the duplicates", async () => {
  const seq = await startSequencer({ chainId: "metro-relay-proc-1", blockTimeMs: 100 });
  const rpc = await startRpcServer(seq.node, { listen: "127.0.0.1:0" });
  onStop(() => rpc.close());
  const da = await startDa({ blockTimeMs: 400 });
  // Every blob.Submit the DA receives, as it arrives (before it is included).
  const arrivals = new EventEmitter();
  const submit = da.chain.submit.bind(da.chain);
  da.chain.submit = (blobs, config) => {
    const included = submit(blobs, config);
    arrivals.emit("submit");
    return included;
  };

  const home = tempDir("metro-relayer-proc-");
  const args = ["relayer", "start", "--sequencer-rpc", rpc.websocketUrl, "--genesis", join(seq.home, "config", "genesis.json"), "--da-url", da.url, "--home", home];
  const tuning = ["--flush-interval", "150", "--target-submission-bytes", "16384", "--submit-timeout", "20000", "--metrics-listen", ""];
  const start = () => startMetro([...args, ...tuning], "started", 30_000);
  let relayer: MetroProcess = await start();
  onStop(() => relayer.kill("SIGKILL"));
  expect(relayer.ready).toMatchObject({ event: "started", chain_id: "metro-relay-proc-1", posted_height: 0 });

  const stopLoad = new AbortController();
  const loading = load(seq, stopLoad.signal);

  let postedBeforeKill = 0;
  for (const submissionsFirst of [3, 2]) {
    for (let i = 0; i < submissionsFirst; i++) await once(arrivals, "submit", { signal: AbortSignal.timeout(20_000) });
    // The relayer now waits for its submission to be included: kill it there.
    await relayer.kill("SIGKILL");
    relayer = await start();
    const posted = relayer.ready.posted_height as number;
    expect(posted).toBeGreaterThan(postedBeforeKill);
    postedBeforeKill = posted;
  }
  await once(arrivals, "submit", { signal: AbortSignal.timeout(20_000) });
  stopLoad.abort();
  await loading;
  const height = seq.node.head.height;

  // Wait for the DA layer to hold everything through `height`, reading it as a rollup node would.
  const reader = await new Promise<Awaited<ReturnType<typeof expectStreamsMatch>>>((resolve, reject) => {
    let checking = false;
    let lastError: unknown;
    const timer = setTimeout(() => {
      off();
      reject(new Error(`the DA layer did not get every block through ${height} in time (${(lastError as Error)?.message}):\n${relayer.stderr()}`));
    }, 30_000);
    const off = da.chain.onHeader(() => {
      if (checking) return;
      checking = true;
      expectStreamsMatch(seq, da.url, height, ROLLUPS).then(
        (done) => {
          clearTimeout(timer);
          off();
          resolve(done);
        },
        (error) => {
          lastError = error;
          checking = false;
        },
      );
    });
  });
  expect(reader.duplicateBlocks).toBeGreaterThan(0);
  expect(reader.rejected).toEqual([]);
});
