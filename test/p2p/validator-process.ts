// A validator network in a process of its own, for tests that need real separate processes. Usage:
//   node test/p2p/validator-process.ts '{"home":..., "listen":..., "persistentPeers":[...], "allowlist":[...]}'
// Prints one JSON line per event on stdout ({"event":"ready"} first); reads JSON commands on stdin:
// {"broadcast": text} broadcasts on the consensus topic. Answers block-sync requests with
// "block <request> from <peerId>". Stops cleanly on SIGTERM.
import { createInterface } from "node:readline";
import { join } from "node:path";
import pino from "pino";
import { loadOrCreateNodeKey } from "../../sequencer/p2p/node-key.ts";
import { createValidatorNetwork } from "../../sequencer/p2p/network.ts";
import { BLOCKSYNC_PROTOCOL, TOPIC_CONSENSUS } from "../../sequencer/p2p/protocols.ts";

interface Config {
  home: string;
  listen: string;
  persistentPeers: string[];
  allowlist: string[];
}

const config = JSON.parse(process.argv[2]) as Config;
const print = (line: Record<string, unknown>) => process.stdout.write(JSON.stringify(line) + "\n");
const net = createValidatorNetwork({
  privateKey: loadOrCreateNodeKey(join(config.home, "config", "node_key.json")),
  listen: config.listen,
  persistentPeers: config.persistentPeers,
  allowlist: config.allowlist,
  backoff: { initialMs: 50, maxMs: 500 },
  logger: pino({ level: process.env.METRO_LOG_LEVEL ?? "warn" }, pino.destination(2)),
});
net.onMessage(TOPIC_CONSENSUS, (from, payload) => print({ event: "message", from, text: Buffer.from(payload).toString() }));
net.onPeer((e) => print({ event: "peer", ...e }));
await net.handle(BLOCKSYNC_PROTOCOL, (_from, request) => Buffer.from(`block ${Buffer.from(request).toString()} from ${net.peerId}`));
await net.start();
print({ event: "ready", peerId: net.peerId, addresses: net.addresses });

createInterface({ input: process.stdin }).on("line", (line) => {
  const command = JSON.parse(line) as { broadcast?: string };
  if (command.broadcast !== undefined) print({ event: "sent", peers: net.broadcast(TOPIC_CONSENSUS, Buffer.from(command.broadcast)) });
});
process.on("SIGTERM", () => {
  net.stop().then(() => process.exit(0));
});
