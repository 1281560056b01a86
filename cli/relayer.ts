// `metro relayer start`: a relayer on its own, following any sequencer node's RPC and posting to a
// celestia-node (or `metro da serve`). It checks every block's commit against the genesis validator
// set before posting it, so the RPC it follows needs no trust.
import { Command, InvalidArgumentError, Option } from "commander";
import { loadGenesis } from "../sequencer/genesis.ts";
import { CELESTIA_MAINNET_LIMITS } from "../sequencer/relayer/da-limits.ts";
import { DEFAULT_COMPRESSION, type CompressionChoice } from "../sequencer/relayer/compression.ts";
import { RELAYER_DEFAULTS, startRelayer } from "../sequencer/relayer/relayer.ts";
import { DEFAULT_STALL_TIMEOUT_MS, rpcSource } from "../sequencer/relayer/rpc-source.ts";
import { HttpStatusError, startMetricsServer } from "../sequencer/rpc/metrics-server.ts";
import { daStatusJson } from "../sequencer/relayer/da-status.ts";
import { cliLogger, untilSignal } from "./logger.ts";
import { decimal, integer, powerOfTwo } from "./options.ts";

interface StartOptions {
  sequencerRpc: string;
  sequencerStallTimeout: number;
  genesis: string;
  daUrl: string;
  daToken?: string;
  home: string;
  gasPrice: number;
  maxGasPrice: number;
  targetSubmissionBytes: number;
  maxSubmissionBytes: number;
  maxBlobBytes?: number;
  maxSquareSize: number;
  reservedShares: number;
  flushInterval?: number;
  submitTimeout: number;
  maxLagBlocks: number;
  compression: CompressionChoice;
  metricsListen: string;
  logLevel?: string;
}

function compression(value: string): CompressionChoice {
  const match = /^(zstd|brotli|none)(?::(\d+))?$/.exec(value);
  if (!match) throw new InvalidArgumentError(`expected zstd[:level], brotli[:quality] or none, got ${JSON.stringify(value)}`);
  const codec = match[1] as CompressionChoice["codec"];
  const level = match[2] === undefined ? (codec === "brotli" ? 5 : DEFAULT_COMPRESSION.level) : Number(match[2]);
  if ((codec === "zstd" && (level < 1 || level > 22)) || (codec === "brotli" && level > 11)) throw new InvalidArgumentError(`level ${level} is out of range for ${codec}`);
  return { codec, level };
}

export function relayerCommand(): Command {
  const relayer = new Command("relayer").description("post sequencer blocks to Celestia: batched, compressed, each block provable from the genesis alone");
  relayer
    .command("start")
    .description("follow a sequencer node's RPC and post every committed block to the DA layer")
    .requiredOption("--sequencer-rpc <url>", "sequencer RPC to follow: ws://host:port/websocket (or http://host:port)")
    .requiredOption("--genesis <file>", "the sequencer's genesis.json: its validator set is what blocks are checked against")
    .option("--sequencer-stall-timeout <ms>", "reconnect when the sequencer RPC sends no block for this long", integer(100), DEFAULT_STALL_TIMEOUT_MS)
    .option("--da-url <url>", "celestia-node (or metro da serve) JSON-RPC endpoint", "http://127.0.0.1:26658")
    .addOption(new Option("--da-token <token>", "celestia-node auth token (needs write permission)").env("METRO_DA_TOKEN"))
    .option("--home <dir>", "where progress is kept (data/relayer); the same home after a restart resumes", ".metro/relayer")
    .option("--gas-price <utia>", "gas price to start from, in utia per gas", decimal, RELAYER_DEFAULTS.gasPrice)
    .option("--max-gas-price <utia>", "the most to pay per gas when the network asks for more", decimal, RELAYER_DEFAULTS.maxGasPrice)
    .option("--target-submission-bytes <n>", "flush once pending blobs reach this size", integer(1), RELAYER_DEFAULTS.targetSubmissionBytes)
    .option("--max-submission-bytes <n>", "largest total blob data per blob.Submit (Celestia's MaxTxSize)", integer(1024), CELESTIA_MAINNET_LIMITS.maxSubmissionBytes)
    .option("--max-blob-bytes <n>", "largest single blob (default: --max-submission-bytes)", integer(1024))
    .option("--max-square-size <k>", "the DA's largest square width", powerOfTwo(512), CELESTIA_MAINNET_LIMITS.maxSquareSize)
    .option("--reserved-shares <n>", "shares left free in a square for the pay-for-blobs tx and others", integer(0), CELESTIA_MAINNET_LIMITS.reservedShares)
    .option("--flush-interval <ms>", "flush at the latest this long after a block arrives (default: the DA's block time)", integer(1))
    .option("--submit-timeout <ms>", "submit again when a submission has not landed after this long", integer(100), RELAYER_DEFAULTS.submitTimeoutMs)
    .option("--max-lag-blocks <n>", "blocks behind at which back-pressure is reported", integer(1), RELAYER_DEFAULTS.maxLagBlocks)
    .addOption(new Option("--compression <codec>", "zstd[:level], brotli[:quality] or none").argParser(compression).default(DEFAULT_COMPRESSION, `${DEFAULT_COMPRESSION.codec}:${DEFAULT_COMPRESSION.level}`))
    .option("--metrics-listen <host:port>", "Prometheus metrics at GET /metrics and DA status at GET /v1/da-status?height=|hash= (empty: none)", "127.0.0.1:26661")
    .option("--log-level <level>", "trace, debug, info, warn or error")
    .action(async (o: StartOptions) => {
      const logger = cliLogger("relayer", o.logLevel);
      const { genesis } = loadGenesis(o.genesis);
      const relayer = await startRelayer({
        source: rpcSource({ url: o.sequencerRpc, genesis, logger, stallTimeoutMs: o.sequencerStallTimeout }),
        da: { url: o.daUrl, token: o.daToken },
        home: o.home,
        logger,
        limits: { maxSubmissionBytes: o.maxSubmissionBytes, maxBlobBytes: o.maxBlobBytes ?? o.maxSubmissionBytes, maxSquareSize: o.maxSquareSize, reservedShares: o.reservedShares },
        compression: o.compression,
        targetSubmissionBytes: o.targetSubmissionBytes,
        flushIntervalMs: o.flushInterval,
        submitTimeoutMs: o.submitTimeout,
        gasPrice: o.gasPrice,
        maxGasPrice: o.maxGasPrice,
        maxLagBlocks: o.maxLagBlocks,
      });
      // GET /v1/da-status?height=N or ?hash=<tx hash>: what metro_da_status answers on a node that runs
      // its relayer inside, for clients (metro follow) of a chain whose relayer runs on its own.
      const daStatusRoute = async (url: URL) => {
        const height = url.searchParams.get("height");
        const hash = url.searchParams.get("hash");
        if (hash !== null) {
          if (!/^[0-9a-fA-F]{64}$/.test(hash)) throw new HttpStatusError(400, "hash must be 64 hex characters");
          const status = await relayer.daStatusOfTx(Uint8Array.from(Buffer.from(hash, "hex")));
          if (!status) throw new HttpStatusError(404, `tx ${hash.toUpperCase()} is not in a block the relayer knows`);
          return { ...daStatusJson(status), tx_height: String(status.txHeight) };
        }
        if (height === null || !/^[1-9]\d{0,15}$/.test(height)) throw new HttpStatusError(400, "give ?height=<sequencer height> or ?hash=<tx hash>");
        return daStatusJson(await relayer.daStatus(Number(height)));
      };
      const metrics = o.metricsListen ? await startMetricsServer(relayer.metrics.registry, o.metricsListen, { "/v1/da-status": daStatusRoute }) : undefined;
      // One line on stdout that scripts and tests can wait for.
      console.log(
        JSON.stringify({
          event: "started",
          chain_id: genesis.chainId,
          posted_height: relayer.postedHeight,
          namespace: Buffer.from(relayer.sequencerNamespace).toString("base64"),
          flush_interval_ms: relayer.flushIntervalMs,
          metrics: metrics?.url ?? null,
        }),
      );
      const signal = await untilSignal();
      logger.info({ signal }, "shutting down");
      await metrics?.close();
      await relayer.close();
    });
  return relayer;
}
