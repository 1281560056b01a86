// Structured logs (pino) to stderr for every long-running command; level from --log-level or
// METRO_LOG_LEVEL.
import pino, { type Logger } from "pino";

export function cliLogger(name: string, level = process.env.METRO_LOG_LEVEL ?? "info"): Logger {
  return pino({ name, level }, pino.destination(2));
}

/** Resolves on the first SIGINT or SIGTERM, so a command can shut down cleanly. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = (signal: NodeJS.Signals) => {
      process.off("SIGINT", done);
      process.off("SIGTERM", done);
      resolve(signal);
    };
    process.on("SIGINT", done);
    process.on("SIGTERM", done);
  });
}
