// tx_search over the store's indexes. Each condition on an event attribute becomes a set of
// transaction locations read from the event index (an exact lookup for `key='value'`, a scan of the
// key's values otherwise); tx.hash is a direct lookup; the sets are intersected. Conditions on
// tx.height filter the result, or, when nothing else narrows the search, name the blocks to list.
//
// Like CometBFT's kv indexer, conditions on different attributes may be met by different events of
// the same transaction. tm.event is 'Tx' for every transaction, so a subscription query can be reused.
// Only the attributes in the node's indexedEvents config are in the index; a condition on another
// is refused with the list of searchable keys rather than silently matching nothing.
// Searches that would read too much of the chain are refused with a message saying how to narrow
// them, so total_count is always exact.
import { fromHex } from "../../cometbft/hash.ts";
import type { ChainStore } from "../store/chain-store.ts";
import type { TxLocation } from "./chain-view.ts";
import { internalError, invalidParams } from "./json-rpc.ts";
import { conditionMatches, valueMatches, type Condition, type Query } from "./query.ts";

const TX_HASH_KEY = "tx.hash";
const TX_HEIGHT_KEY = "tx.height";
const EVENT_TYPE_KEY = "tm.event";

export interface SearchLimits {
  /** Most transactions a query may match. */
  maxMatches: number;
  /** Most index entries one non-equality condition may scan. */
  maxScannedEntries: number;
  /** Most blocks a query without event conditions may list. */
  maxScannedHeights: number;
}

export const DEFAULT_SEARCH_LIMITS: SearchLimits = { maxMatches: 100_000, maxScannedEntries: 200_000, maxScannedHeights: 100_000 };

const HEIGHT_SCAN_BATCH = 256;

const positionKey = (loc: TxLocation) => `${loc.height}:${loc.index}`;
const byPosition = (a: TxLocation, b: TxLocation) => a.height - b.height || a.index - b.index;

function tooBroad(what: string): never {
  throw internalError(`${what}; narrow the query with an equality condition (such as message.sender='...') or a tx.height range`);
}

/** All transactions matching `query`, in (height, index) order. */
export async function searchTxs(store: ChainStore, latestHeight: number, query: Query, limits = DEFAULT_SEARCH_LIMITS): Promise<TxLocation[]> {
  const heightConditions = query.filter((c) => c.key === TX_HEIGHT_KEY);
  if (!query.filter((c) => c.key === EVENT_TYPE_KEY).every((c) => conditionMatches(c, ["Tx"]))) return [];

  const sets: Promise<TxLocation[]>[] = [];
  for (const c of query) {
    if (c.key === TX_HASH_KEY) sets.push(lookupHash(store, c));
    else if (c.key !== TX_HEIGHT_KEY && c.key !== EVENT_TYPE_KEY) sets.push(eventMatches(store, c, limits));
  }
  const candidates = sets.length > 0 ? intersect(await Promise.all(sets)) : await listHeights(store, heightBounds(heightConditions, latestHeight), limits);
  const found = candidates.filter((loc) => heightConditions.every((c) => conditionMatches(c, [String(loc.height)])));
  if (found.length > limits.maxMatches) tooBroad(`the query matches more than ${limits.maxMatches} transactions`);
  return found.sort(byPosition);
}

async function lookupHash(store: ChainStore, c: Condition): Promise<TxLocation[]> {
  if (c.op !== "=" || c.operand?.kind !== "string") throw invalidParams(`query: ${TX_HASH_KEY} supports only ${TX_HASH_KEY}='<hex hash>'`);
  let hash: Uint8Array;
  try {
    hash = fromHex(c.operand.text);
  } catch {
    return [];
  }
  const loc = await store.txLocation(hash);
  return loc ? [loc] : [];
}

async function eventMatches(store: ChainStore, c: Condition, limits: SearchLimits): Promise<TxLocation[]> {
  // An attribute the node does not index would always match nothing: say so instead.
  if (!store.indexedEvents.has(c.key)) {
    throw invalidParams(`query: ${c.key} is not indexed by this node; searchable: ${TX_HASH_KEY}, ${TX_HEIGHT_KEY}, ${[...store.indexedEvents].join(", ")} (config indexedEvents)`);
  }
  if (c.op === "=" && c.operand?.kind === "string") {
    const locations = await store.eventLocations(c.key, c.operand.text, limits.maxMatches + 1);
    if (locations.length > limits.maxMatches) tooBroad(`${c.key}='${c.operand.text}' matches more than ${limits.maxMatches} transactions`);
    return locations;
  }
  const entries = await store.eventEntries(c.key, limits.maxScannedEntries + 1);
  if (entries.length > limits.maxScannedEntries) tooBroad(`${c.key} has more than ${limits.maxScannedEntries} indexed values to scan`);
  return entries.filter((e) => c.op === "EXISTS" || valueMatches(c, e.value));
}

/** Locations present in every set (a transaction may appear more than once in one set). */
function intersect(sets: TxLocation[][]): TxLocation[] {
  const [smallest, ...others] = [...sets].sort((a, b) => a.length - b.length);
  const keys = others.map((set) => new Set(set.map(positionKey)));
  const unique = new Map(smallest.map((loc) => [positionKey(loc), loc]));
  return [...unique.values()].filter((loc) => keys.every((k) => k.has(positionKey(loc))));
}

/** The height range numeric tx.height conditions allow, within 1..latest. */
function heightBounds(conditions: readonly Condition[], latest: number): { from: number; to: number } {
  let from = 1;
  let to = latest;
  for (const c of conditions) {
    const text = c.operand?.text;
    if (text === undefined || c.operand?.kind === "time" || !/^\d+(\.\d+)?$/.test(text)) continue;
    const n = Number(text);
    if (c.op === "=" || c.op === ">=") from = Math.max(from, Math.ceil(n));
    if (c.op === ">") from = Math.max(from, Math.floor(n) + 1);
    if (c.op === "=" || c.op === "<=") to = Math.min(to, Math.floor(n));
    if (c.op === "<") to = Math.min(to, Math.ceil(n) - 1);
  }
  return { from, to };
}

/** Every transaction in blocks from..to, read from the per-block results. */
async function listHeights(store: ChainStore, { from, to }: { from: number; to: number }, limits: SearchLimits): Promise<TxLocation[]> {
  if (to - from + 1 > limits.maxScannedHeights) tooBroad(`the query lists every transaction of ${to - from + 1} blocks (heights ${from} to ${to}); at most ${limits.maxScannedHeights} are listed`);
  const found: TxLocation[] = [];
  for (let start = from; start <= to; start += HEIGHT_SCAN_BATCH) {
    const heights = Array.from({ length: Math.min(HEIGHT_SCAN_BATCH, to - start + 1) }, (_, i) => start + i);
    const counts = await Promise.all(heights.map(async (h) => (await store.results(h))?.length ?? 0));
    heights.forEach((height, i) => {
      for (let index = 0; index < counts[i]; index++) found.push({ height, index });
    });
    if (found.length > limits.maxMatches) tooBroad(`the query matches more than ${limits.maxMatches} transactions`);
  }
  return found;
}
