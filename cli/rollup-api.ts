// Finding a rollup's nodes (the devnet file, or --rollup-node) and reading their HTTP API, with
// errors that say which node failed and what to do.
import { DEFAULT_DEVNET_FILE, readDevnet, type NetworkOptions } from "./context.ts";
import { reasonOf } from "./output.ts";

export interface RollupOptions extends NetworkOptions {
  /** A secondary chain id from the devnet file. */
  rollup?: string;
  /** A rollup node's API URL, instead of the devnet file. */
  rollupNode?: string;
}

/** A rollup as the devnet file (or --rollup-node) names it, before any node is asked. */
export interface KnownRollup {
  /** Empty when only --rollup-node is known: its /v1/status says. */
  secondaryChainId: string;
  addressPrefix?: string;
  nodes: string[];
}

/** A token rollup and the node that answered. */
export interface RollupEndpoint {
  secondaryChainId: string;
  addressPrefix: string;
  api: string;
}

export function unreachableRollupNode(api: string, error: unknown): Error {
  return new Error(`cannot reach the rollup node at ${api} (${reasonOf(error)}); is it running? Check the URL, or the devnet file's rollups[].nodes`);
}

/** GET <api><path> as JSON. */
export async function rollupGet<T>(api: string, path: string): Promise<T> {
  let response: Response;
  let body: unknown;
  try {
    response = await fetch(`${api.replace(/\/+$/, "")}${path}`, { signal: AbortSignal.timeout(10_000) });
    body = await response.json();
  } catch (error) {
    throw unreachableRollupNode(api, error);
  }
  if (!response.ok) throw new Error(`rollup node ${api}: ${(body as { error?: string }).error ?? `HTTP ${response.status}`}`);
  return body as T;
}

export const wsUrlOf = (api: string): string => `${api.replace(/\/+$/, "").replace(/^http/, "ws")}/v1/ws`;

function devnetRollups(o: NetworkOptions): KnownRollup[] {
  return readDevnet(o.devnet)?.rollups ?? [];
}

/**
 * The rollups a command reads: --rollup-node alone; else the devnet's, only --rollup if given (an id
 * the devnet does not know is an error naming the ones it does).
 */
export function knownRollups(o: RollupOptions): KnownRollup[] {
  if (o.rollupNode) return [{ secondaryChainId: o.rollup ?? "", nodes: [o.rollupNode] }];
  const all = devnetRollups(o);
  if (o.rollup === undefined) return all;
  const found = all.find((r) => r.secondaryChainId === o.rollup);
  if (found) return [found];
  const where = `the devnet file ${o.devnet ?? DEFAULT_DEVNET_FILE}`;
  const known = all.length > 0 ? `; it has: ${all.map((r) => r.secondaryChainId).join(", ")}` : "";
  throw new Error(`no rollup ${JSON.stringify(o.rollup)} in ${where}${known}. Pass a known --rollup, or --rollup-node <api url> for a rollup it does not list`);
}

/** The one rollup a command talks to: --rollup-node, --rollup, or the devnet's only rollup. */
export function oneRollup(o: RollupOptions): KnownRollup {
  const rollups = knownRollups(o);
  if (rollups.length === 1) return rollups[0];
  if (rollups.length === 0) throw new Error(`no rollup node known: pass --rollup-node <api url> (such as http://127.0.0.1:26670), or start a devnet with \`npm start\``);
  throw new Error(`say which rollup: --rollup <id> (the devnet has ${rollups.map((r) => r.secondaryChainId).join(", ")}) or --rollup-node <api url>`);
}

/** The nodes of rollup `id` known here (--rollup-node, whose id is checked when asked, or the devnet's), or undefined. */
export function rollupById(o: RollupOptions, id: string): KnownRollup | undefined {
  if (o.rollupNode) return { secondaryChainId: id, nodes: [o.rollupNode] };
  return devnetRollups(o).find((r) => r.secondaryChainId === id);
}

interface StatusJson {
  chain_id: string;
  token?: { address_prefix: string };
}

/** The first of the rollup's nodes that answers /v1/status, checked to serve this rollup as a token rollup. */
export async function connectRollup(rollup: KnownRollup): Promise<RollupEndpoint> {
  const failures: string[] = [];
  for (const api of rollup.nodes) {
    let status: StatusJson;
    try {
      status = await rollupGet<StatusJson>(api, "/v1/status");
    } catch (error) {
      failures.push((error as Error).message);
      continue;
    }
    if (rollup.secondaryChainId !== "" && status.chain_id !== rollup.secondaryChainId) {
      throw new Error(`the rollup node at ${api} serves rollup ${JSON.stringify(status.chain_id)}, not ${JSON.stringify(rollup.secondaryChainId)}; pass the right --rollup-node`);
    }
    const addressPrefix = status.token?.address_prefix ?? rollup.addressPrefix;
    if (addressPrefix === undefined) throw new Error(`the rollup node at ${api} (rollup ${status.chain_id}) is not a token rollup node: it serves no /v1/token API`);
    return { secondaryChainId: status.chain_id, addressPrefix, api };
  }
  if (failures.length === 1) throw new Error(failures[0]);
  throw new Error(`no node of rollup ${rollup.secondaryChainId} answered:\n  ${failures.join("\n  ")}`);
}

export interface TokenAccountJson {
  address: string;
  balance: string;
  nonce: string;
  height: number;
  firm: boolean;
}

export function tokenAccount(endpoint: RollupEndpoint, address: string): Promise<TokenAccountJson> {
  return rollupGet<TokenAccountJson>(endpoint.api, `/v1/token/accounts/${encodeURIComponent(address)}`);
}
