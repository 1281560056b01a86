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
  /** Every JSON line printed so far, the ready line included. */
  events: Record<string, unknown>[];
  /** Resolves with the first JSON line (already printed or still to come) that matches. */
  waitForEvent(match: (event: Record<string, unknown>) => boolean, what: string, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Starts `metro <args>` and resolves once it prints a JSON line with `event: readyEvent`. */
export function startMetro(args: string[], readyEvent = "listening", timeoutMs = 30_000): Promise<MetroProcess> {
  const child = spawn(process.execPath, [METRO, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, METRO_LOG_LEVEL: process.env.METRO_LOG_LEVEL ?? "warn" } });
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on("exit", (code, signal) => resolve({ code, signal })));
  const events: Record<string, unknown>[] = [];
  const waiters = new Set<(event: Record<string, unknown>) => void>();
  const waitForEvent = (match: (event: Record<string, unknown>) => boolean, what: string, timeoutMs = 60_000) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const found = events.find(match);
      if (found) return resolve(found);
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`metro ${args[0]}: no ${what} within ${timeoutMs} ms; events so far: ${events.map((e) => JSON.stringify(e)).join("\n")}`));
      }, timeoutMs);
      const check = (event: Record<string, unknown>) => {
        if (!match(event)) return;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(event);
      };
      waiters.add(check);
    });
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
      events.push(parsed);
      for (const waiter of [...waiters]) waiter(parsed);
      if (parsed.event !== readyEvent) return;
      clearTimeout(timer);
      resolve({
        child,
        ready: parsed,
        stderr: () => stderr,
        exited,
        events,
        waitForEvent,
        async kill(signal: NodeJS.Signals = "SIGTERM") {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          await exited;
        },
      });
    });
  });
}
