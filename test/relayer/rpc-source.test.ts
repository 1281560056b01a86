// The standalone relayer's block source against a stalled sequencer RPC (stalled-rpc.ts): after the
// stall timeout it drops the silent stream and subscribes again, rather than waiting forever on a
// socket that stays open; and a frozen node whose kernel accepts the connection but which never
// answers the WebSocket handshake is given up on the same way. JSON-RPC answers over HTTP are read up to
// a size limit, declared or not.
import { afterAll, expect, it } from "vitest";
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { rpcCall, rpcSource, streamFrom, StreamStalledError } from "../../sequencer/relayer/rpc-source.ts";
import { logger, onStop, startSequencer, stopAll } from "./harness.ts";
import { startStalledRpc } from "./stalled-rpc.ts";

afterAll(stopAll);

it("re-subscribes when the stream sends no block within the stall timeout", async () => {
  const seq = await startSequencer({ chainId: "metro-stall-1", blockTimeMs: 200 });
  const stalled = await startStalledRpc();
  const source = rpcSource({ url: stalled.url, genesis: seq.node.genesis, logger, stallTimeoutMs: 200, reconnect: { baseDelayMs: 10, maxDelayMs: 20 }, statusPollMs: 60_000 });
  const stop = new AbortController();
  const reading = (async () => {
    for await (const block of source.blocks(1, stop.signal)) throw new Error(`a stalled server gave block ${block.height}`);
  })();
  try {
    await stalled.untilSubscriptions(3);
    expect(stalled.subscriptions()).toBeGreaterThanOrEqual(3);
  } finally {
    stop.abort();
    await reading;
    await source.close();
  }
});

it("gives up on an endpoint that accepts the connection but never answers the WebSocket handshake", async () => {
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/websocket`;
  const stream = streamFrom(url, 1, new AbortController().signal, 200);
  await expect(stream.next()).rejects.toBeInstanceOf(StreamStalledError);
  expect(sockets.length).toBe(1);
});

it("refuses a JSON-RPC answer over the size limit, whether its length is declared or streamed", async () => {
  const big = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { padding: "x".repeat(10_000) } });
  const small = JSON.stringify({ jsonrpc: "2.0", id: 1, result: { ok: true } });
  const server = http.createServer((req, res) => {
    if (req.url === "/declared") res.writeHead(200, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(big) }).end(big);
    else if (req.url === "/streamed") {
      res.writeHead(200, { "Content-Type": "application/json" }); // chunked: no length declared
      for (let i = 0; i < big.length; i += 1_000) res.write(big.slice(i, i + 1_000));
      res.end();
    } else res.writeHead(200, { "Content-Type": "application/json" }).end(small);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  onStop(() => new Promise((resolve) => server.close(() => resolve())));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await expect(rpcCall(`${base}/declared`, "status", {}, undefined, 4_096)).rejects.toThrow(/over the 4096-byte limit/);
  await expect(rpcCall(`${base}/streamed`, "status", {}, undefined, 4_096)).rejects.toThrow(/more than 4096 bytes/);
  expect(await rpcCall(`${base}/small`, "status", {}, undefined, 4_096)).toEqual({ ok: true });
});
