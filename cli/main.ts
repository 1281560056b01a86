// Entry point of the `metro` command: one sub-command per component.
import { Command } from "commander";
import { daCommand } from "./da.ts";
import { followCommand } from "./follow.ts";
import { devnetCommand } from "./devnet.ts";
import { relayerCommand } from "./relayer.ts";
import { rollupCommand } from "./rollup.ts";
import { sequencerCommand } from "./sequencer.ts";
import { tokenCommand } from "./token.ts";
import { userCommands } from "./user.ts";

const program = new Command()
  .name("metro")
  .description("Metro: a lazy-rollup shared sequencer network on Celestia")
  .showHelpAfterError()
  .addCommand(devnetCommand())
  .addCommand(daCommand())
  .addCommand(sequencerCommand())
  .addCommand(relayerCommand())
  .addCommand(rollupCommand());
for (const command of userCommands()) program.addCommand(command);
program.addCommand(tokenCommand());
program.addCommand(followCommand());

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Errors a user can act on: say what went wrong, without a stack trace (METRO_DEBUG=1 shows it).
  console.error(`metro: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.METRO_DEBUG) console.error(error);
  process.exitCode = 1;
}
