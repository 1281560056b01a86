// The user commands as a user runs them: `node bin/metro.js ...` as child processes against real
// `metro da serve`, `metro sequencer start --da-url` (relayer in-node) and `metro rollup start`
// processes, found through a devnet.json in the working directory (no flags). A token transfer
// followed to firm and header, balances on both layers, the submit commands, and the errors a user
// meets: an unknown account or rollup, a transfer that reverts, a node that is not there.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { closedPort, onStop, PREFIX, ROLLUP, runMetro, startNetwork, stopAll, type MetroRun, type Network } from "./network.ts";

let net: Network;

beforeAll(async () => {
  net = await startNetwork([
    { name: "alice", sequencer: 10_000_000n, rollup: 1_000_000n },
    { name: "bob", sequencer: 10_000_000n, rollup: 500n },
    // Funded on the sequencer only: her transfers pay gas and revert on the rollup.
    { name: "carol", sequencer: 10_000_000n, rollup: 0n },
    { name: "dave", sequencer: 10_000_000n, rollup: 0n },
    { name: "erin", sequencer: 10_000_000n, rollup: 0n },
  ]);
});
afterAll(stopAll);

const metro = (...args: string[]) => runMetro(net, args);

/** The run's JSON line with this level (or event). */
const line = (run: MetroRun, level: string) => run.json.find((j) => j.level === level || j.event === level);

/** A failure the way a user sees it: exit 1, `metro: <message>`, no stack trace. */
function expectUserError(run: MetroRun, message: RegExp): void {
  expect(run.code, run.stdout + run.stderr).toBe(1);
  expect(run.stderr).toMatch(/^metro: |\nmetro: /);
  expect(run.stderr).toMatch(message);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

/** Each account's umetro on the sequencer and tokens and nonce on the rollup, from one `metro balance` run. */
/**
 * A rollup node that answers the token API but whose WebSocket never reports a level, as a node that
 * stopped following the sequencer would behave.
 */
async function silentRollupNode(): Promise<{ url: string }> {
  const server = createServer((req, res) => {
    const body = req.url === "/v1/status" ? { chain_id: ROLLUP, token: { address_prefix: PREFIX } } : { address: "", balance: "0", nonce: "0", height: 1, firm: false };
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body));
  });
  const wss = new WebSocketServer({ server });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(async () => {
    for (const ws of wss.clients) ws.terminate();
    wss.close();
    await new Promise((resolve) => server.close(resolve));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

async function balances(...names: string[]) {
  const run = await metro("balance", ...names, "--json");
  expect(run.code, run.stderr).toBe(0);
  return names.map((name) => {
    const address = net.accounts[name].address;
    // The account's sequencer line, then one line per rollup.
    const at = run.json.findIndex((j) => j.layer === "sequencer" && j.address === address);
    const [seq, rollup] = [run.json[at], run.json[at + 1]];
    expect(rollup).toMatchObject({ layer: "rollup", rollup: ROLLUP });
    return { umetro: BigInt(seq.balance), tokens: BigInt(rollup.balance), nonce: BigInt(rollup.nonce), rollupAddress: rollup.address as string };
  });
}

describe("metro token transfer and metro follow", () => {
  it("transfers on the rollup, follows it to firm and header, and both layers' balances change", async () => {
    const [aliceBefore, bobBefore] = await balances("alice", "bob");
    expect(aliceBefore).toMatchObject({ umetro: 10_000_000n, tokens: 1_000_000n, nonce: 0n });
    expect(aliceBefore.rollupAddress).toBe(net.accounts.alice.rollupAddress);

    const run = await metro("token", "transfer", "--rollup", ROLLUP, "--to", "bob", "--amount", "250", "--from", "alice", "--follow", "--json");
    expect(run.code, run.stdout + run.stderr).toBe(0);
    // Every level, in order.
    expect(run.json.map((j) => j.event ?? j.level)).toEqual(["submitted", "c0", "committed", "soft", "firm", "header"]);
    const submitted = line(run, "submitted")!;
    expect(submitted).toMatchObject({ from: net.accounts.alice.address, rollup: ROLLUP, rollup_from: net.accounts.alice.rollupAddress, rollup_to: net.accounts.bob.rollupAddress, amount: "250", nonce: "0" });
    expect(submitted.tx).toMatch(/^[0-9A-F]{64}$/);
    const rollupTx = submitted.rollup_txs[0].hash;
    expect(line(run, "c0")).toMatchObject({ tx: submitted.tx, verified: true, chain_id: "metro-cli-1", validator: expect.stringMatching(/^[0-9A-F]{40}$/) });
    const committed = line(run, "committed")!;
    expect(committed.height).toBeGreaterThan(0);
    expect(line(run, "soft")).toMatchObject({ rollup: ROLLUP, tx: rollupTx, sequencer_height: committed.height, result: { ok: true } });
    expect(line(run, "firm")).toMatchObject({ rollup: ROLLUP, tx: rollupTx, da_height: expect.any(Number), commitment: expect.any(String) });
    expect(line(run, "header")).toMatchObject({ rollup: ROLLUP, tx: rollupTx, hash: expect.stringMatching(/^[0-9A-F]{64}$/) });

    // The fee on the sequencer (and nothing else), the amount on the rollup.
    const [aliceAfter, bobAfter] = await balances("alice", "bob");
    const fee = BigInt(/^(\d+)umetro$/.exec(committed.fee)![1]);
    expect(fee).toBeGreaterThan(0n);
    expect(aliceAfter.umetro).toBe(aliceBefore.umetro - fee);
    expect(aliceAfter).toMatchObject({ tokens: aliceBefore.tokens - 250n, nonce: 1n });
    expect(bobAfter).toMatchObject({ umetro: bobBefore.umetro, tokens: bobBefore.tokens + 250n, nonce: 0n });

    // Following it again, by its rollup tx hash, as text: every level is there already.
    const follow = await metro("follow", rollupTx);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain(`rollup tx ${rollupTx} is in sequencer tx ${submitted.tx}`);
    for (const text of ["receipt signature verified", `block ${committed.height} (final)`, "ok (transfer sender=", "on Celestia at DA height", "rollup header"]) expect(follow.stdout).toContain(text);
  });

  it("shows the revert reason when the sender's rollup balance is short, and exits 1", async () => {
    const run = await metro("token", "transfer", "--rollup", ROLLUP, "--to", "alice", "--amount", "10", "--from", "carol", "--json");
    expect(run.stderr).toContain(`warning: ${net.accounts.carol.rollupAddress} holds 0 on ${ROLLUP}`);
    expect(line(run, "soft")).toMatchObject({ result: { ok: false, reason: "insufficient balance: have 0, need 10" } });
    expectUserError(run, /reverted on tokens-1: insufficient balance: have 0, need 10/);
    // The sequencer charged its fee all the same; the rollup changed nothing.
    const [carol] = await balances("carol");
    expect(carol.umetro).toBe(10_000_000n - BigInt(/^(\d+)/.exec(line(run, "committed")!.fee)![1]));
    expect(carol).toMatchObject({ tokens: 0n, nonce: 0n });
  });

  it("says what to do about an unknown account or rollup, a node that is not there or stalls, a hash nobody knows", async () => {
    const port = await closedPort();
    const silent = await silentRollupNode();
    const [account, rollup, rollupNode, sequencer, balance, nobody, badHash, slow] = await Promise.all([
      metro("token", "transfer", "--to", "bob", "--amount", "1", "--from", "mallory"),
      metro("token", "transfer", "--rollup", "nope-1", "--to", "bob", "--amount", "1", "--from", "alice"),
      metro("token", "transfer", "--rollup-node", `http://127.0.0.1:${port}`, "--to", "bob", "--amount", "1", "--from", "alice"),
      metro("send", "bob", "5", "--from", "alice", "--node", `http://127.0.0.1:${port}`),
      metro("balance", "alice", "--rollup-node", `http://127.0.0.1:${port}`),
      metro("follow", "AB".repeat(32), "--timeout", "2"),
      metro("follow", "xyz"),
      metro("token", "transfer", "--to", "alice", "--amount", "1", "--from", "erin", "--rollup-node", silent.url, "--follow", "--timeout", "3"),
    ]);
    expectUserError(account, /no devnet account named "mallory"; known: alice, bob, carol, dave, erin/);
    expectUserError(rollup, /no rollup "nope-1" in the devnet file .*; it has: tokens-1\. Pass a known --rollup, or --rollup-node <api url>/);
    expectUserError(rollupNode, new RegExp(`cannot reach the rollup node at http://127.0.0.1:${port} \\(.*ECONNREFUSED.*\\); is it running\\?`));
    expectUserError(sequencer, new RegExp(`cannot reach the sequencer at http://127.0.0.1:${port} .*pass --node <rpc url>`));
    // The sequencer layer still shows; the rollup that cannot be read is named.
    expect(balance.stdout).toMatch(/^sequencer\s+metro1/);
    expectUserError(balance, /could not read a rollup/);
    expectUserError(nobody, /no transaction (AB){32} on the sequencer \(http:\/\/127\.0\.0\.1:\d+\) after 2 s: .*Check the hash and --node/);
    expectUserError(badHash, /a transaction hash is 64 hex characters, got "xyz"/);
    expectUserError(slow, /timed out after 3 s waiting for .*; raise --timeout to wait longer/);
    expect(slow.stdout).toMatch(/^submitted/);
  });
});

describe("metro send, rollup-tx, bundle, keys", () => {
  it("print the transaction, its verified C0 receipt and its block; send --follow waits for Celestia", async () => {
    const [send, rollupTx, bundle] = await Promise.all([
      metro("send", "carol", "1000", "--from", "bob", "--follow", "--json"),
      metro("rollup-tx", ROLLUP, "hello", "--from", "dave", "--json"),
      metro("bundle", "--tx", `${ROLLUP}=0x01`, "--tx", "other-1=0x02", "--from", "carol", "--json"),
    ]);
    for (const run of [send, rollupTx, bundle]) {
      expect(run.code, run.stdout + run.stderr).toBe(0);
      expect(line(run, "c0")).toMatchObject({ verified: true, tx: line(run, "submitted")!.tx });
      expect(line(run, "committed")!.height).toBeGreaterThan(0);
    }
    expect(line(send, "submitted")).toMatchObject({ to: net.accounts.carol.address, amount: "1000umetro" });
    expect(line(send, "firm")).toMatchObject({ da_height: expect.any(Number), commitment: expect.any(String) });
    expect(line(rollupTx, "submitted")!.rollup_txs).toEqual([{ rollup: ROLLUP, hash: expect.stringMatching(/^[0-9A-F]{64}$/) }]);
    expect(line(bundle, "submitted")!.rollup_txs.map((r: { rollup: string }) => r.rollup)).toEqual([ROLLUP, "other-1"]);
    expect(bundle.json.map((j) => j.event ?? j.level)).toEqual(["submitted", "c0", "committed"]);
  });

  it("show a devnet account's or a mnemonic's addresses on both layers", async () => {
    const [byName, byMnemonic, help] = await Promise.all([metro("keys", "show", "alice", "--json"), metro("keys", "show", net.accounts.bob.mnemonic, "--json"), metro("token", "transfer", "--help")]);
    expect(byName.json[0]).toMatchObject({ name: "alice", address: net.accounts.alice.address, rollups: [{ rollup: ROLLUP, address: net.accounts.alice.rollupAddress }] });
    expect(byMnemonic.json[0]).toMatchObject({ name: "(mnemonic)", address: net.accounts.bob.address });
    expect(byMnemonic.json[0].rollups[0].address.startsWith(`${PREFIX}1`)).toBe(true);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--rollup-node <url>");
  });
});
