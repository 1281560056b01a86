// Real `metro` processes for end-to-end tests: start one, wait for the line it prints when it is
// ready, kill it (gracefully or with SIGKILL), and wait for it to exit.
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createInterface } from "node:readline";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));

export interface MetroProcess {
  child: ChildProcess;
  /** The parsed JSON line the process printed when it became ready. */
  ready: Record<string, unknown>;
  /** Everything the process wrote to stderr so far (for failure messages). */
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** Starts `metro <args>` and resolves once it prints a JSON line with `event: readyEvent`. */
export function startMetro(args: string[], readyEvent = "listening", timeoutMs = 30_000): Promise<MetroProcess> {
  const child = spawn(process.execPath, [METRO, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, METRO_LOG_LEVEL: process.env.METRO_LOG_LEVEL ?? "warn" } });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`metro ${args.join(" ")} was not ready within ${timeoutMs} ms:\n${stderr}`));
    }, timeoutMs);
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`metro ${args.join(" ")} exited (${code ?? signal}) before it was ready:\n${stderr}`));
    });
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let parsed: Record<string, unknown>;
      try {
        parsed = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return;
      }
      if (parsed.event !== readyEvent) return;
      clearTimeout(timer);
      resolve({
        child,
        ready: parsed,
        stderr: () => stderr,
        exited,
        async kill(signal: NodeJS.Signals = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}
