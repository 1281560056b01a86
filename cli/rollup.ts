// `metro rollup ...`: create and run a token rollup's full node. It executes the rollup's
// transactions soft from verified sequencer blocks, confirms them firm from Celestia, derives and
// signs headers, gossips them to the rollup's other nodes and serves the API.
import { Command, InvalidArgumentError } from "commander";
import { initRollupHome } from "../lazy-rollup-node/config.ts";
import { DEFAULT_API_LISTEN, startRollupService } from "../lazy-rollup-node/service.ts";
import { DEFAULT_MAX_SOFT_AHEAD_BLOCKS } from "../lazy-rollup-node/node.ts";
import { DEFAULT_STALL_TIMEOUT_MS } from "../sequencer/relayer/rpc-source.ts";
import { cliLogger, untilSignal } from "./logger.ts";
import { integer } from "./options.ts";

/** address:amount; the address is checked against --prefix once all options are read. */
function account(value: string, previous: { address: string; balance: bigint }[] = []) {
  const at = value.lastIndexOf(":");
  const [address, amount] = at < 0 ? [value, ""] : [value.slice(0, at), value.slice(at + 1)];
  if (address === "" || !/^\d+$/.test(amount)) throw new InvalidArgumentError(`expected <address>:<amount>, got ${JSON.stringify(value)}`);
  return [...previous, { address, balance: BigInt(amount) }];
}

const repeat = (value: string, previous: string[] = []) => [...previous, value];

/** Comma-separated and repeatable. */
const urls = (value: string, previous: string[] = []) => [...previous, ...value.split(",").map((u) => u.trim()).filter((u) => u !== "")];

function signerKey(value: string, previous: Uint8Array[] = []): Uint8Array[] {
  if (!/^(02|03)[0-9a-fA-F]{64}$/.test(value)) throw new InvalidArgumentError(`expected a compressed secp256k1 public key (66 hex characters), got ${JSON.stringify(value)}`);
  return [...previous, Uint8Array.from(Buffer.from(value, "hex"))];
}

/** A multiaddr, or host:port for TCP. */
function listenAddress(value: string, previous: string[] = []): string[] {
  if (value.startsWith("/")) return [...previous, value];
  const match = /^(.+):(\d+)$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected a multiaddr or host:port, got ${JSON.stringify(value)}`);
  return [...previous, `/ip4/${match[1]}/tcp/${match[2]}`];
}

interface StartOptions {
  home: string;
  sequencerRpc: string[];
  daUrl: string;
  daToken?: string;
  api: string;
  p2pListen: string[];
  peer: string[];
  allowPeer: string[];
  trustedSigner: Uint8Array[];
  maxSoftAhead: number;
  sequencerStallTimeout: number;
  daStartHeight: number;
  daPollInterval: number;
  logLevel?: string;
}

export function rollupCommand(): Command {
  const cmd = new Command("rollup").description("a token rollup's full node: soft from the sequencer, firm from Celestia, signed headers");

  cmd
    .command("init")
    .description("create a rollup node's home: the rollup genesis, a copy of the sequencer genesis, a header key and a node key")
    .requiredOption("--home <dir>", "home directory to create")
    .requiredOption("--chain-id <id>", "the rollup's secondary chain id on the sequencer")
    .requiredOption("--prefix <prefix>", "bech32 prefix of the rollup's addresses")
    .requiredOption("--sequencer-genesis <path>", "the sequencer's genesis.json: its validator set is what the node trusts")
    .option("--account <address:amount>", "fund an account in the rollup genesis (repeatable)", account, [])
    .option("--sequencer-start-height <n>", "the sequencer height of rollup block 1", integer(1), 1)
    .action((o: { home: string; chainId: string; prefix: string; sequencerGenesis: string; account: { address: string; balance: bigint }[]; sequencerStartHeight: number }) => {
      const { headerSigner, peerId } = initRollupHome({
        home: o.home,
        chainId: o.chainId,
        addressPrefix: o.prefix,
        accounts: o.account,
        sequencerGenesis: o.sequencerGenesis,
        sequencerStartHeight: BigInt(o.sequencerStartHeight),
      });
      console.log(JSON.stringify({ event: "initialized", home: o.home, chain_id: o.chainId, header_signer: Buffer.from(headerSigner).toString("hex"), peer_id: peerId }));
    });

  cmd
    .command("start")
    .description("run the node in --home")
    .requiredOption("--home <dir>", "home directory (metro rollup init)")
    .requiredOption("--sequencer-rpc <url>", "sequencer RPC endpoints, comma-separated or repeated, in order of preference: ws://host:port/websocket or http://host:port", urls, [])
    .option("--da-url <url>", "celestia-node (or metro da serve) JSON-RPC endpoint", "http://127.0.0.1:26658")
    .option("--da-token <token>", "celestia-node auth token (read permission; or METRO_DA_TOKEN)")
    .option("--api <host:port>", "API listen address (HTTP, WebSocket /v1/ws, /metrics)", DEFAULT_API_LISTEN)
    .option("--p2p-listen <address>", "header gossip listen address, multiaddr or host:port (repeatable); gossip runs when this, --peer or --allow-peer is given", listenAddress, [])
    .option("--peer <multiaddr>", "another full node of this rollup, /ip4/.../tcp/.../p2p/<peer id> (repeatable)", repeat, [])
    .option("--allow-peer <peer id>", "a full node allowed to connect whose address is not known here (repeatable)", repeat, [])
    .option("--trusted-signer <pubkey hex>", "header signer whose headers are compared with this node's (repeatable)", signerKey, [])
    .option("--max-soft-ahead <blocks>", "pause soft execution this many blocks ahead of firm", integer(1), DEFAULT_MAX_SOFT_AHEAD_BLOCKS)
    .option("--sequencer-stall-timeout <ms>", "leave a sequencer endpoint that sends no block for this long", integer(100), DEFAULT_STALL_TIMEOUT_MS)
    .option("--da-start-height <n>", "first DA height to read on a fresh node", integer(1), 1)
    .option("--da-poll-interval <ms>", "how often to ask the DA node for its head besides the header subscription", integer(50), 2_000)
    .option("--log-level <level>", "trace, debug, info, warn or error")
    .action(async (o: StartOptions) => {
      if (o.sequencerRpc.length === 0) throw new InvalidArgumentError("--sequencer-rpc needs at least one URL");
      const logger = cliLogger("rollup", o.logLevel);
      const gossip = o.p2pListen.length > 0 || o.peer.length > 0 || o.allowPeer.length > 0;
      const service = await startRollupService({
        home: o.home,
        sequencerRpc: o.sequencerRpc,
        da: { url: o.daUrl, token: o.daToken ?? process.env.METRO_DA_TOKEN },
        api: o.api,
        p2p: gossip ? { listen: o.p2pListen.length > 0 ? o.p2pListen : undefined, peers: o.peer, allowPeers: o.allowPeer, trustedSigners: o.trustedSigner } : undefined,
        maxSoftAheadBlocks: o.maxSoftAhead,
        sequencerStallTimeoutMs: o.sequencerStallTimeout,
        daStartHeight: o.daStartHeight,
        daPollIntervalMs: o.daPollInterval,
        logger,
      });
      const { node } = service;
      // One line on stdout that scripts and tests can wait for.
      console.log(
        JSON.stringify({
          event: "listening",
          api: service.api.url,
          ws: service.api.wsUrl,
          chain_id: node.chain.chainId,
          soft_height: Number(node.softHeight),
          firm_height: Number(node.firmHeight),
          header_signer: Buffer.from(node.headerSigner).toString("hex"),
          peer_id: service.gossip?.peerId ?? null,
          p2p: service.gossip?.addresses ?? [],
        }),
      );
      const signal = await untilSignal();
      logger.info({ signal }, "shutting down");
      await service.close();
    });

  return cmd;
}
