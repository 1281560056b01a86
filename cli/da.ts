// `metro da ...`: the local Celestia DA server.
import { Command } from "commander";

export function daCommand(): Command {
  const da = new Command("da").description("Local Celestia data-availability server (celestia-node JSON-RPC API)");
  da.command("serve")
    .description("Serve a local DA network that speaks celestia-node's JSON-RPC API")
    .option("--port <port>", "port to listen on", "26658")
    .option("--home <dir>", "data directory", ".metro/da")
    .action(() => {
      throw new Error("not built yet");
    });
  return da;
}
