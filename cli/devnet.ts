// `metro devnet`: the whole network on this machine (what `npm start` runs).
import { Command, Option } from "commander";
import { DEFAULT_DEVNET_SETTINGS } from "../devnet/create.ts";
import { DEFAULT_BASE_PORT, DEFAULT_DEVNET_HOME } from "../devnet/layout.ts";
import { runDevnet } from "../devnet/run.ts";
import { untilSignal } from "./logger.ts";
import { integer } from "./options.ts";

interface DevnetOptions {
  home: string;
  reset: boolean;
  basePort: number;
  blockTime: number;
  daBlockTime: number;
  statusInterval: number;
  daUrl?: string;
  daToken?: string;
}

export function devnetCommand(): Command {
  return new Command("devnet")
    .summary("run a whole Metro network here (what `npm start` runs); the next run resumes it")
    .description(
      "run a whole Metro network here: a local Celestia DA server, four sequencer validators (BFT over libp2p), a relayer and two token rollups (alpha-1 with two nodes, beta-1 with one). " +
        "The first run creates it in --home and writes <home>/devnet.json (endpoints and funded accounts); later runs resume it.",
    )
    .option("--home <dir>", "where the network lives", DEFAULT_DEVNET_HOME)
    .option("--reset", "delete the network in --home and create a new one", false)
    .option("--base-port <port>", "ports are counted from here (DA base+8, validator RPCs base+7+100i, rollup APIs base+20..; keep them below 32768, where outgoing connections take ports); only when creating", integer(1024, 65000), DEFAULT_BASE_PORT)
    .option("--block-time <ms>", "sequencer block time; only when creating", integer(100), DEFAULT_DEVNET_SETTINGS.blockTimeMs)
    .option("--da-block-time <ms>", "local Celestia block time; only when creating", integer(100), DEFAULT_DEVNET_SETTINGS.daBlockTimeMs)
    .option("--da-url <url>", "use this celestia-node instead of starting the local DA server; only when creating")
    .addOption(new Option("--da-token <token>", "auth token for --da-url (write permission: the relayer posts with it)").env("METRO_DA_TOKEN"))
    .option("--status-interval <ms>", "when not on a terminal: print a JSON status line this often (0: never)", integer(0), 10_000)
    .action(async (o: DevnetOptions) => {
      await runDevnet({
        home: o.home,
        reset: o.reset,
        basePort: o.basePort,
        settings: { blockTimeMs: o.blockTime, daBlockTimeMs: o.daBlockTime, externalDa: o.daUrl ? { url: o.daUrl, token: o.daToken } : undefined },
        statusIntervalMs: o.statusInterval,
        output: {
          tty: process.stdout.isTTY === true,
          columns: () => process.stdout.columns ?? 100,
          rows: () => process.stdout.rows ?? 30,
          write: (text) => process.stdout.write(text),
        },
        stop: untilSignal(),
      });
    });
}
