// A sequencer RPC that has stalled: a real WebSocket server that accepts metro_subscribe_blocks,
// confirms the subscription and then sends nothing, as a node cut off from its peers does (it keeps
// its socket open and has no new block to give).
import { EventEmitter } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import { onStop } from "./harness.ts";

export interface StalledRpc {
  url: string;
  subscriptions(): number;
  /** Resolves once `count` subscriptions have come in; rejects after `timeoutMs`. */
  untilSubscriptions(count: number, timeoutMs?: number): Promise<void>;
}

export async function startStalledRpc(): Promise<StalledRpc> {
  let subscriptions = 0;
  const subscribed = new EventEmitter();
  const server = http.createServer((_req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ server, path: "/websocket" });
  wss.on("connection", (socket) =>
    socket.on("message", (data) => {
      const request = JSON.parse(data.toString()) as { id: number; method: string };
      if (request.method !== "metro_subscribe_blocks") return;
      subscriptions++;
      subscribed.emit("subscription");
      socket.send(JSON.stringify({ jsonrpc: "2.0", id: request.id, result: {} }));
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(async () => {
    for (const client of wss.clients) client.terminate();
    await new Promise((resolve) => server.close(resolve));
  });
  const untilSubscriptions = (count: number, timeoutMs = 10_000) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (subscriptions < count) return;
        clearTimeout(timer);
        subscribed.off("subscription", check);
        resolve();
      };
      const timer = setTimeout(() => {
        subscribed.off("subscription", check);
        reject(new Error(`${subscriptions} subscriptions after ${timeoutMs} ms, waiting for ${count}`));
      }, timeoutMs);
      subscribed.on("subscription", check);
      check();
    });
  return { url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}/websocket`, subscriptions: () => subscriptions, untilSubscriptions };
}
