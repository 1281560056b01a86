// Entry point of the `metro` command: one sub-command per component.
import { Command } from "commander";
import { daCommand } from "./da.ts";
import { sequencerCommand } from "./sequencer.ts";

const program = new Command()
  .name("metro")
  .description("Metro: a lazy-rollup shared sequencer network on Celestia")
  .showHelpAfterError()
  .addCommand(daCommand())
  .addCommand(sequencerCommand());

await program.parseAsync(process.argv);
