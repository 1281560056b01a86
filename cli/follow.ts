// Following a transaction through its confirmation levels, printing each as it is reached: C0 (the
// sequencer node's signed receipt), committed (its block), then for each rollup transaction it
// carried soft (the rollup node executed it: ok, or the revert reason), firm (its data is on
// Celestia: DA height and commitment) and header (the rollup header over it). A transaction without
// rollup transactions is firm when the sequencer block is on Celestia (metro_da_status).
//
// `metro follow <hash>` takes a sequencer tx hash or a rollup tx hash; the submit commands follow
// what they sent (--follow, --until).
import { Command, Option } from "commander";
import type { StargateClient } from "@cosmjs/stargate";
import { setTimeout as delay } from "node:timers/promises";
import { WebSocket } from "ws";
import { receiptFromJson, type ReceiptJson } from "../sequencer/rpc/json.ts";
import { verifyReceipt } from "../sequencer/receipt.ts";
import { queryClient, readDevnet, sequencerRpcs, type NetworkOptions } from "./context.ts";
import { emit, label, outputOption, type OutputOptions } from "./output.ts";
import { connectRollup, rollupById, unreachableRollupNode, wsUrlOf, type RollupEndpoint, type RollupOptions } from "./rollup-api.ts";
import { rpcCall, RpcError } from "./sequencer-rpc.ts";

export const LEVELS = ["c0", "committed", "soft", "firm", "header"] as const;
export type Level = (typeof LEVELS)[number];

export interface FollowOptions extends RollupOptions, OutputOptions {
  /** The last level to wait for. */
  until: Level;
  /** Seconds for the whole follow. */
  timeout: number;
}

/** Whether following stops once `level` is reached. */
const past = (level: Level, until: Level): boolean => LEVELS.indexOf(level) >= LEVELS.indexOf(until);
/** Whether following goes on to `level`. */
const wants = (level: Level, until: Level): boolean => LEVELS.indexOf(until) >= LEVELS.indexOf(level);
const nextLevel = (level: Level): Level => LEVELS[LEVELS.indexOf(level) + 1] ?? level;

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new Error(`--timeout takes a number of seconds, such as 120; got ${JSON.stringify(value)}`);
  return n;
}

/** --until, --timeout, --rollup-node (and --json): what following needs. */
export function followOptions(cmd: Command, defaultUntil: Level): Command {
  return outputOption(
    cmd
      .addOption(new Option("--until <level>", "the last confirmation level to wait for").choices(LEVELS).default(defaultUntil))
      .option("--timeout <seconds>", "give up (exit 1) when the levels are not all reached by then", seconds, 120)
      .option("--rollup-node <url>", "a rollup node's API URL (default: the devnet file's nodes of the tx's rollup)"),
  );
}

class Deadline {
  readonly at: number;
  readonly seconds: number;

  constructor(seconds: number) {
    this.seconds = seconds;
    this.at = Date.now() + seconds * 1000;
  }

  get left(): number {
    return Math.max(0, this.at - Date.now());
  }

  timeout(what: string): Error {
    return new Error(`timed out after ${this.seconds} s waiting for ${what}; raise --timeout to wait longer`);
  }
}

/** Calls `attempt` every `intervalMs` until it returns a value; past the deadline throws `timedOut()`. */
async function poll<T>(deadline: Deadline, intervalMs: number, attempt: () => Promise<T | undefined>, timedOut: () => Error): Promise<T> {
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (deadline.left === 0) throw timedOut();
    await delay(Math.min(intervalMs, deadline.left));
  }
}

/** undefined when the node answered that it does not know (a JSON-RPC error); other failures throw. */
async function unlessRefused<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (error) {
    if (error instanceof RpcError) return undefined;
    throw error;
  }
}

async function printReceipt(o: OutputOptions, hash: string, rpcs: string[]): Promise<void> {
  for (const url of rpcs) {
    const json = await unlessRefused(rpcCall<ReceiptJson>(url, "metro_receipt", { hash }));
    if (json === undefined) continue;
    if (!verifyReceipt(receiptFromJson(json))) throw new Error(`the C0 receipt for ${hash} from ${url} has an invalid signature: do not trust that node`);
    const { validators } = await rpcCall<{ validators: { address: string; pub_key: { value: string } }[] }>(url, "validators", { per_page: 100 });
    const validator = validators.find((v) => v.pub_key.value === json.node_pub_key.value)?.address;
    const by = validator ? `validator ${validator}` : `node key ${json.node_pub_key.value} (NOT in the validator set)`;
    emit(
      o,
      { level: "c0", tx: hash, chain_id: json.chain_id, received_at: json.received_at, node_pub_key: json.node_pub_key.value, validator: validator ?? null, signature: json.signature, verified: true },
      `${label("C0")}received ${json.received_at} by ${by}; receipt signature verified`,
    );
    return;
  }
  emit(o, { level: "c0", tx: hash, receipt: null, asked: rpcs }, `${label("C0")}no receipt: none of ${rpcs.join(", ")} admitted it (another node did)`);
}

interface RollupTxRef {
  secondary_chain_id: string;
  hash: string;
}

async function waitCommitted(o: OutputOptions, client: StargateClient, hash: string, deadline: Deadline): Promise<number> {
  const tx = await poll(deadline, 250, async () => (await client.getTx(hash)) ?? undefined, () => deadline.timeout(`sequencer tx ${hash} to be committed`));
  if (tx.code !== 0) throw new Error(`sequencer tx ${hash} failed in block ${tx.height} (code ${tx.code}): ${tx.rawLog}`);
  const fee = tx.events.flatMap((e) => (e.type === "tx" ? e.attributes : [])).find((a) => a.key === "fee")?.value ?? "";
  emit(
    o,
    { level: "committed", tx: hash, height: tx.height, index: tx.txIndex, fee, gas_used: String(tx.gasUsed), gas_wanted: String(tx.gasWanted) },
    `${label("committed")}block ${tx.height} (final), fee ${fee}, gas ${tx.gasUsed}/${tx.gasWanted}`,
  );
  return tx.height;
}

interface DaStatusJson {
  height: string;
  state: "posted" | "pending" | "unknown";
  da_height?: string;
  namespace?: string;
  commitment?: string;
}

/** The DA status of the block with tx `hash` from a standalone relayer (GET <status>?hash=), undefined while unknown. */
async function relayerDaStatus(statusUrl: string, hash: string): Promise<DaStatusJson | undefined> {
  const response = await fetch(`${statusUrl}?hash=${hash}`, { signal: AbortSignal.timeout(5_000) });
  if (response.status === 404) return undefined; // the relayer has not seen its block yet
  const body = (await response.json()) as DaStatusJson & { error?: string };
  if (!response.ok) throw new Error(`relayer at ${statusUrl}: ${body.error ?? response.status}`);
  return body;
}

/**
 * Firm for a transaction without rollup transactions: its sequencer block's blob on Celestia. Asked of
 * the node (metro_da_status, when it runs the relayer inside), else of the devnet's standalone relayer.
 */
async function waitSequencerFirm(o: OutputOptions & NetworkOptions, rpc: string, hash: string, deadline: Deadline): Promise<void> {
  let noRelayer = "";
  const relayerStatus = o.node ? undefined : readDevnet(o.devnet)?.relayer?.status;
  const posted = await poll(deadline, 500, async () => {
    let status: DaStatusJson | undefined;
    try {
      status = await rpcCall<DaStatusJson>(rpc, "metro_da_status", { hash });
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      if (relayerStatus === undefined) {
        noRelayer = error.message;
        return null;
      }
      status = await relayerDaStatus(relayerStatus, hash).catch(() => undefined);
    }
    return status?.state === "posted" ? status : undefined;
  }, () => deadline.timeout(`the block of sequencer tx ${hash} to be posted to Celestia`));
  if (posted === null) {
    emit(o, { level: "firm", tx: hash, unknown: noRelayer }, `${label("firm")}not known here: ${noRelayer}`);
    return;
  }
  emit(
    o,
    { level: "firm", tx: hash, sequencer_height: Number(posted.height), da_height: Number(posted.da_height), commitment: posted.commitment, namespace: posted.namespace },
    `${label("firm")}block ${posted.height} is on Celestia at DA height ${posted.da_height}, commitment ${posted.commitment} (namespace ${posted.namespace})`,
  );
}

interface TxLandingJson {
  hash: string;
  result: { ok: true; events: { type: string; attributes: { key: string; value: string }[] }[] } | { ok: false; reason: string };
  rollup_height: number;
  sequencer_height: number;
  da?: { height: number; commitment: string; namespace: string };
}

interface WsMessage {
  event?: "soft" | "firm" | "header" | "rolled_back";
  error?: string;
  tx?: TxLandingJson;
  header?: { header: { height: number; hash: string; state_root: string; da_height: number } };
}

function resultText(result: TxLandingJson["result"]): string {
  if (!result.ok) return `REVERTED: ${result.reason}`;
  const events = result.events.map((e) => `${e.type} ${e.attributes.map((a) => `${a.key}=${a.value}`).join(" ")}`);
  return events.length > 0 ? `ok (${events.join("; ")})` : "ok";
}

/** Watches one rollup transaction on a rollup node's WebSocket until `until`; resolves to its soft result. */
function watchRollupTx(o: OutputOptions, endpoint: RollupEndpoint, hash: string, until: Level, deadline: Deadline): Promise<TxLandingJson["result"] | undefined> {
  const { secondaryChainId: rollup, api } = endpoint;
  const tag = `${rollup} tx ${hash}`;
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrlOf(api));
    let last: Level = "committed";
    let result: TxLandingJson["result"] | undefined;
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      ws.terminate();
      if (error) reject(error);
      else resolve(result);
    };
    const timer = setTimeout(() => finish(deadline.timeout(`${tag} to reach ${nextLevel(last)} on the rollup node ${api} (last level reached: ${last}); check its /v1/status`)), deadline.left);
    const reached = (level: Level) => {
      last = level;
      if (past(level, until)) finish();
    };
    ws.on("open", () => ws.send(JSON.stringify({ subscribe: "tx", hash })));
    ws.on("error", (error) => finish(unreachableRollupNode(api, error)));
    ws.on("close", () => finish(new Error(`the rollup node ${api} closed the connection before ${tag} reached ${nextLevel(last)}`)));
    ws.on("message", (data) => {
      if (done) return; // levels already reached arrive together: stop at --until
      let m: WsMessage;
      try {
        m = JSON.parse(String(data)) as WsMessage;
      } catch {
        return finish(new Error(`the rollup node ${api} sent a WebSocket message that is not JSON: is ${api} a Metro rollup node?`));
      }
      if (m.error) return finish(new Error(`rollup node ${api}: ${m.error}`));
      if (m.event === "soft" && m.tx) {
        result = m.tx.result;
        emit(o, { level: "soft", rollup, tx: hash, rollup_height: m.tx.rollup_height, sequencer_height: m.tx.sequencer_height, result: m.tx.result }, `${label("soft")}${tag}: executed in rollup block ${m.tx.rollup_height}: ${resultText(m.tx.result)}`);
        reached("soft");
      } else if (m.event === "firm" && m.tx?.da) {
        const { da } = m.tx;
        emit(o, { level: "firm", rollup, tx: hash, da_height: da.height, commitment: da.commitment, namespace: da.namespace }, `${label("firm")}${tag}: on Celestia at DA height ${da.height}, commitment ${da.commitment} (namespace ${da.namespace})`);
        reached("firm");
      } else if (m.event === "header" && m.header) {
        const h = m.header.header;
        emit(o, { level: "header", rollup, tx: hash, height: h.height, hash: h.hash, state_root: h.state_root }, `${label("header")}${tag}: rollup header ${h.height}, hash ${h.hash}, state root ${h.state_root}`);
        reached("header");
      } else if (m.event === "rolled_back") {
        emit(o, { level: "rolled_back", rollup, tx: hash }, `${label("rollback")}${tag}: the soft result was undone (Celestia disagreed); waiting for the firm data`);
        last = "committed";
      }
    });
  });
}

async function followRollupTx(o: FollowOptions, ref: RollupTxRef, deadline: Deadline): Promise<TxLandingJson["result"] | undefined> {
  const known = rollupById(o, ref.secondary_chain_id);
  if (!known) throw new Error(`no node known for rollup ${ref.secondary_chain_id} (tx ${ref.hash}): pass --rollup-node <api url>`);
  return watchRollupTx(o, await connectRollup(known), ref.hash, o.until, deadline);
}

export interface FollowTarget {
  /** The sequencer tx. */
  hash: string;
  /** Follow only this rollup tx of it (when following a rollup tx hash). */
  rollupTxHash?: string;
  client: StargateClient;
  /** Sequencer RPC endpoints: receipts are asked for here; the first answers everything else. */
  rpcs: string[];
}

/** Prints each level of the sequencer tx and its rollup txs up to `o.until`; throws when one reverted, or on timeout. */
export async function followSequencerTx(o: FollowOptions, t: FollowTarget, deadline = new Deadline(o.timeout)): Promise<void> {
  await printReceipt(o, t.hash, t.rpcs);
  if (past("c0", o.until)) return;
  await waitCommitted(o, t.client, t.hash, deadline);
  if (past("committed", o.until)) return;
  const { rollup_txs } = await rpcCall<{ rollup_txs: RollupTxRef[] }>(t.rpcs[0], "metro_tx_rollup", { hash: t.hash });
  if (rollup_txs.length === 0) {
    if (wants("firm", o.until)) await waitSequencerFirm(o, t.rpcs[0], t.hash, deadline);
    return;
  }
  const wanted = rollup_txs.filter((r) => (t.rollupTxHash === undefined || r.hash === t.rollupTxHash) && (o.rollup === undefined || r.secondary_chain_id === o.rollup));
  if (wanted.length === 0) throw new Error(`sequencer tx ${t.hash} carries no rollup tx for rollup ${o.rollup}; it carries: ${rollup_txs.map((r) => `${r.secondary_chain_id} ${r.hash}`).join(", ")}`);
  const outcomes = await Promise.allSettled(wanted.map((r) => followRollupTx(o, r, deadline)));
  const problems = outcomes.flatMap((outcome, i) => {
    if (outcome.status === "rejected") return [(outcome.reason as Error).message];
    const result = outcome.value;
    return result && !result.ok ? [`rollup tx ${wanted[i].hash} reverted on ${wanted[i].secondary_chain_id}: ${result.reason}`] : [];
  });
  if (problems.length === 1) throw new Error(problems[0]);
  if (problems.length > 1) throw new Error(`${problems.length} of its rollup txs failed:\n  ${problems.join("\n  ")}`);
}

function txHash(value: string): string {
  const hex = value.replace(/^0x/i, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) throw new Error(`a transaction hash is 64 hex characters, got ${JSON.stringify(value)}`);
  return hex.toUpperCase();
}

/** Which sequencer tx `hash` is, or carries it as a rollup tx: asked until it is known or `seconds` pass. */
function identify(client: StargateClient, rpcs: string[], hash: string, seconds: number): Promise<{ hash: string; rollupTxHash?: string }> {
  const attempt = async () => {
    for (const url of rpcs) if (await unlessRefused(rpcCall(url, "metro_receipt", { hash }))) return { hash };
    if (await client.getTx(hash)) return { hash };
    const [carrier] = await client.searchTx(`rollup_tx.hash='${hash}'`);
    return carrier ? { hash: carrier.hash, rollupTxHash: hash } : undefined;
  };
  const notFound = () =>
    new Error(`no transaction ${hash} on the sequencer (${rpcs.join(", ")}) after ${seconds} s: no node admitted a sequencer tx with this hash and no committed one carries a rollup tx with it. Check the hash and --node`);
  return poll(new Deadline(seconds), 500, attempt, notFound);
}

export function followCommand(): Command {
  return followOptions(
    new Command("follow")
      .description("follow a transaction through its levels, printing each when reached: C0 receipt, committed, soft (result), firm (DA height, commitment), header")
      .argument("<hash>", "a sequencer tx hash, or the hash of a rollup tx (sha256 of its data)", txHash)
      .option("--node <url>", "sequencer RPC URL (default: the devnet's)")
      .option("--devnet <file>", "devnet file to read endpoints from", ".metro/devnet/devnet.json")
      .option("--rollup <id>", "only this rollup's transactions (for a bundle)"),
    "header",
  ).action(async (hash: string, o: FollowOptions) => {
    const deadline = new Deadline(o.timeout);
    const rpcs = sequencerRpcs(o);
    const client = await queryClient(o);
    try {
      const target = await identify(client, rpcs, hash, Math.min(o.timeout, 15));
      if (target.rollupTxHash) emit(o, { event: "found", tx: target.hash, rollup_tx: target.rollupTxHash }, `${label("found")}rollup tx ${hash} is in sequencer tx ${target.hash}`);
      await followSequencerTx(o, { ...target, client, rpcs }, deadline);
    } finally {
      client.disconnect();
    }
  });
}
