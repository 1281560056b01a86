#!/usr/bin/env node
// The `metro` command. Metro's sources are TypeScript run directly by Node >= 22.18 (type stripping).
// When started by an older Node (machines here ship Node 20), re-run under the Node 22 that
// `npm install` put into node_modules/.bin, passing signals on so Ctrl-C and kill stop it cleanly.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major > 22 || (major === 22 && minor >= 18)) {
  await import("../cli/main.ts");
} else {
  const local = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules", ".bin", "node");
  if (!existsSync(local)) {
    console.error(`metro needs Node >= 22.18 (this is ${process.version}); run 'npm install' in the metro folder first.`);
    process.exit(1);
  }
  const child = spawn(local, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit" });
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 : 1)));
}
