// `metro da ...`: the local Celestia DA server.
import { Command } from "commander";
import { startLocalDa } from "../celestia/local-da/server.ts";
import { DEFAULT_LOCAL_DA } from "../celestia/local-da/chain.ts";
import { cliLogger, untilSignal } from "./logger.ts";
import { decimal, integer, powerOfTwo } from "./options.ts";

interface ServeOptions {
  port: number;
  host: string;
  home: string;
  blockTime: number;
  authToken?: string;
  maxBlobBytes: number;
  maxSquareSize: number;
  minGasPrice: number;
  logLevel?: string;
}

export function daCommand(): Command {
  const da = new Command("da").description("local Celestia data-availability network, speaking celestia-node's JSON-RPC API");
  da.command("serve")
    .description("serve a local DA network: a block every block time, real share commitments and NMT proofs")
    .option("--port <port>", "port to listen on", integer(0, 65535), 26658)
    .option("--host <host>", "address to listen on (loopback unless you mean it)", "127.0.0.1")
    .option("--home <dir>", "where blocks are kept; the same home after a restart resumes the chain", ".metro/da")
    .option("--block-time <ms>", "make a block every <ms> milliseconds, empty or not", integer(10), DEFAULT_LOCAL_DA.blockTimeMs)
    .option("--auth-token <token>", "require `Authorization: Bearer <token>` for read and write methods")
    .option("--max-blob-bytes <n>", "largest total blob data in one blob.Submit", integer(1), DEFAULT_LOCAL_DA.maxBlobBytes)
    .option("--max-square-size <k>", "largest original square width (a power of two)", powerOfTwo(512), DEFAULT_LOCAL_DA.maxSquareSize)
    .option("--min-gas-price <utia>", "minimum gas price in utia per gas", decimal, DEFAULT_LOCAL_DA.minGasPrice)
    .option("--log-level <level>", "trace, debug, info, warn or error")
    .action(async (o: ServeOptions) => {
      const logger = cliLogger("da", o.logLevel);
      const server = await startLocalDa({
        home: o.home,
        host: o.host,
        port: o.port,
        authToken: o.authToken,
        blockTimeMs: o.blockTime,
        maxBlobBytes: o.maxBlobBytes,
        maxSquareSize: o.maxSquareSize,
        minGasPrice: o.minGasPrice,
        logger,
      });
      // One line on stdout that scripts and tests can wait for.
      console.log(JSON.stringify({ event: "listening", url: server.url, head: server.chain.head }));
      const signal = await untilSignal();
      logger.info({ signal }, "shutting down");
      await server.close();
    });
  return da;
}
