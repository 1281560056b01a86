// Structured logs (pino) to stderr for every long-running command; level from --log-level or
// METRO_LOG_LEVEL.
import pino, { type Logger } from "pino";

export function cliLogger(name: string, level = process.env.METRO_LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level }, pino.destination(2));
}

/**
 * Resolves on the first SIGINT, SIGTERM or SIGHUP, so a command can shut down cleanly. A repeat within a
 * second is the same Ctrl-C arriving twice (from the terminal and from bin/metro.js, which passes
 * signals on) and is ignored; a later one means "stop now" and exits at once.
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let first = 0;
    const onSignal = (signal: NodeJS.Signals) => {
      if (first === 0) {
        first = Date.now();
        resolve(signal);
      } else if (Date.now() - first > 1000) {
        process.stderr.write(`metro: ${signal} again; exiting without a clean shutdown\n`);
        process.exit(130);
      }
    };
    process.on("SIGINT", onSignal);
    process.on("SIGTERM", onSignal);
    // The terminal closed: stop as cleanly as for Ctrl-C.
    process.on("SIGHUP", onSignal);
  });
}
