// subscribe / unsubscribe / unsubscribe_all over WebSocket: CometBFT's NewBlock and Tx events for
// every committed block, filtered by the subscriber's query, in CometBFT's ResultEvent shape
// ({query, data: {type, value}, events}) on the id of the subscribe request, which is how cosmjs's
// Comet38Client routes them. A client whose socket backlog passes the limit is dropped with CometBFT's
// "slow client" error rather than buffered for without bound.
import { toBase64, toHexUpper } from "../../cometbft/hash.ts";
import { blockIdJson } from "../../cometbft/header.ts";
import type { CommittedEvent, SequencerNode } from "../node.ts";
import { txMsgData } from "../state/results.ts";
import { invalidParams, internalError, method, serverError, success, type CallContext, type RpcMethod } from "./json-rpc.ts";
import { blockJson, txResultJson, type TxResultJson } from "./json.ts";
import { eventAttributes, parseQuery, queryMatches, QuerySyntaxError, type EventAttributes, type Query } from "./query.ts";
import type { WsConnection } from "./ws-connection.ts";

interface EventPayload {
  data: { type: string; value: unknown };
  events: Record<string, readonly string[]>;
}

/** An event's query attributes, and its JSON, built on first use (most events match no one). */
interface PendingEvent {
  attributes: EventAttributes;
  payload(): EventPayload;
}

interface Subscription {
  query: Query;
  deliver(event: EventPayload): void;
}

function once<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}

/** The NewBlock event and one Tx event per transaction of a committed block. */
function blockEvents(e: CommittedEvent): PendingEvent[] {
  const height = String(e.head.height);
  const { block, txs, execution } = e.executed;
  const results: TxResultJson[] = [];
  const resultOf = (i: number) => {
    const outcome = execution.outcomes[i];
    return (results[i] ??= txResultJson({ ...outcome, data: txMsgData(txs[i].messages, outcome.rollupTxHashes) }));
  };
  const pending = (type: string, attributes: EventAttributes, value: () => unknown): PendingEvent => ({
    attributes,
    payload: once(() => ({ data: { type, value: value() }, events: Object.fromEntries(attributes) })),
  });
  const newBlock = pending("tendermint/event/NewBlock", eventAttributes([], { "tm.event": "NewBlock", "block.height": height }), () => ({
    block: blockJson(block),
    block_id: blockIdJson(e.head.blockId),
    result_finalize_block: { events: [], tx_results: txs.map((_, i) => resultOf(i)), validator_updates: [], consensus_param_updates: null, app_hash: toBase64(e.head.appHash) },
  }));
  const txEvents = txs.map((tx, index) =>
    pending("tendermint/event/Tx", eventAttributes(execution.outcomes[index].events, { "tm.event": "Tx", "tx.hash": toHexUpper(tx.hash), "tx.height": height }), () => ({
      TxResult: { height, index, tx: toBase64(tx.bytes), result: resultOf(index) },
    })),
  );
  return [newBlock, ...txEvents];
}

/** Fans committed blocks out to subscriptions. */
export class EventHub {
  readonly #subscriptions = new Set<Subscription>();
  readonly #stop: () => void;

  constructor(node: SequencerNode) {
    this.#stop = node.onCommitted((e) => this.#publish(e));
  }

  subscribe(query: Query, deliver: (event: EventPayload) => void): () => void {
    const subscription = { query, deliver };
    this.#subscriptions.add(subscription);
    return () => this.#subscriptions.delete(subscription);
  }

  close(): void {
    this.#stop();
    this.#subscriptions.clear();
  }

  #publish(e: CommittedEvent): void {
    if (this.#subscriptions.size === 0) return;
    for (const event of blockEvents(e)) {
      for (const s of [...this.#subscriptions]) if (queryMatches(s.query, event.attributes)) s.deliver(event.payload());
    }
  }
}

function parseSubscriptionQuery(text: string | undefined): Query {
  try {
    return parseQuery(text ?? "");
  } catch (error) {
    if (error instanceof QuerySyntaxError) throw invalidParams(`failed to parse query: ${error.message}`);
    throw error;
  }
}

function connectionOf(ctx: CallContext): WsConnection {
  if (!ctx.connection) throw internalError("subscriptions need a WebSocket connection");
  return ctx.connection;
}

const subscriptionKey = (queryText: string) => `query:${queryText.trim()}`;

export function eventMethods(hub: EventHub, limits: { maxBufferedBytes: number }): [string, RpcMethod][] {
  const subscribe = method(
    { query: "string" },
    ({ query: text = "" }, ctx) => {
      const conn = connectionOf(ctx);
      const query = parseSubscriptionQuery(text);
      const key = subscriptionKey(text);
      if (conn.hasSubscription(key)) throw internalError(`already subscribed to ${JSON.stringify(text)}`);
      const id = ctx.id;
      let stop = () => {};
      // Counted first: at the limit this throws before anything is registered.
      conn.addSubscription(key, () => stop());
      stop = hub.subscribe(query, (event) => {
        if (conn.bufferedAmount > limits.maxBufferedBytes) {
          conn.drop(id, serverError("subscription was canceled (reason: slow client)"), "slow client");
          return;
        }
        void conn.send(success(id, { query: text, data: event.data, events: event.events }));
      });
      return {};
    },
    { websocketOnly: true },
  );
  const unsubscribe = method(
    { query: "string" },
    ({ query: text = "" }, ctx) => {
      parseSubscriptionQuery(text);
      if (!connectionOf(ctx).removeSubscription(subscriptionKey(text))) throw internalError("subscription not found");
      return {};
    },
    { websocketOnly: true },
  );
  const unsubscribeAll = method(
    {},
    (_args, ctx) => {
      connectionOf(ctx).removeAllSubscriptions();
      return {};
    },
    { websocketOnly: true },
  );
  return [
    ["subscribe", subscribe],
    ["unsubscribe", unsubscribe],
    ["unsubscribe_all", unsubscribeAll],
  ];
}
