// Entry point of the `metro` command: one sub-command per component. Only the module of the command
// being run is loaded (the sequencer node, libp2p and cosmjs take most of a second to load), unless
// the whole list is needed for help or for a mistyped command.
import { Command } from "commander";

const modules: { names: string[]; load: () => Promise<Command[]> }[] = [
  { names: ["devnet"], load: async () => [(await import("./devnet.ts")).devnetCommand()] },
  { names: ["da"], load: async () => [(await import("./da.ts")).daCommand()] },
  { names: ["sequencer"], load: async () => [(await import("./sequencer.ts")).sequencerCommand()] },
  { names: ["relayer"], load: async () => [(await import("./relayer.ts")).relayerCommand()] },
  { names: ["rollup"], load: async () => [(await import("./rollup.ts")).rollupCommand()] },
  { names: ["keys", "send", "rollup-tx", "bundle", "balance"], load: async () => (await import("./user.ts")).userCommands() },
  { names: ["token"], load: async () => [(await import("./token.ts")).tokenCommand()] },
  { names: ["follow"], load: async () => [(await import("./follow.ts")).followCommand()] },
];

const program = new Command().name("metro").description("Metro: a lazy-rollup shared sequencer network on Celestia").showHelpAfterError();

try {
  const name = process.argv[2];
  const wanted = modules.filter((m) => m.names.includes(name));
  for (const module of wanted.length > 0 ? wanted : modules) for (const command of await module.load()) program.addCommand(command);
  await program.parseAsync(process.argv);
} catch (error) {
  // Errors a user can act on: say what went wrong, without a stack trace (METRO_DEBUG=1 shows it).
  console.error(`metro: ${error instanceof Error ? error.message : String(error)}`);
  if (process.env.METRO_DEBUG) console.error(error);
  // Exit now: a command that failed half-way (a port taken after the node started its p2p) would
  // otherwise keep running on its open sockets, neither working nor gone. (stderr is synchronous here.)
  process.exit(1);
}
