// Runs the devnet's components as child processes: starts each and waits for its ready line,
// restarts one that dies (with backoff) and reports it, and stops them all cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));

export interface ComponentSpec {
  name: string;
  /** Arguments to `metro`. */
  args: string[];
  /** The `event` of the JSON line on stdout that says it is ready. */
  readyEvent: string;
}

export interface ComponentState {
  name: string;
  status: "starting" | "running" | "crashed" | "stopped";
  pid?: number;
  restarts: number;
  lastExit?: string;
  ready?: Record<string, unknown>;
}

export interface SupervisorEvents {
  onCrash?: (name: string, exit: string, restartInMs: number) => void;
}

const STOP_GRACE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;

export class Supervisor {
  readonly #logDir: string;
  readonly #events: SupervisorEvents;
  readonly #children = new Map<string, { spec: ComponentSpec; child?: ChildProcess; log: WriteStream; state: ComponentState }>();
  #stopping = false;

  constructor(logDir: string, events: SupervisorEvents = {}) {
    mkdirSync(logDir, { recursive: true });
    this.#logDir = logDir;
    this.#events = events;
  }

  states(): ComponentState[] {
    return [...this.#children.values()].map((c) => ({ ...c.state }));
  }

  /** Starts a component and resolves with its ready line; rejects if it exits first or is slow. */
  start(spec: ComponentSpec, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const log = this.#children.get(spec.name)?.log ?? createWriteStream(join(this.#logDir, `${spec.name}.log`), { flags: "a" });
    const entry = this.#children.get(spec.name) ?? { spec, log, state: { name: spec.name, status: "starting" as const, restarts: 0 } };
    this.#children.set(spec.name, entry);
    entry.state.status = "starting";
    const child = spawn(process.execPath, [METRO, ...spec.args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, METRO_LOG_LEVEL: process.env.METRO_LOG_LEVEL ?? "info" } });
    entry.child = child;
    entry.state.pid = child.pid;
    child.stderr!.pipe(log, { end: false });
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (!ready) reject(new Error(`${spec.name} was not ready within ${timeoutMs} ms; see ${join(this.#logDir, `${spec.name}.log`)}`));
      }, timeoutMs);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        log.write(`${line}\n`);
        if (ready) return;
        try {
          const parsed = JSON.parse(line) as Record<string, unknown>;
          if (parsed.event !== spec.readyEvent) return;
          ready = true;
          clearTimeout(timer);
          entry.state.status = "running";
          entry.state.ready = parsed;
          resolve(parsed);
        } catch {
          // not a JSON line: part of the log
        }
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        const exit = signal ? `signal ${signal}` : `code ${code}`;
        entry.state.lastExit = exit;
        if (this.#stopping) {
          entry.state.status = "stopped";
          return;
        }
        entry.state.status = "crashed";
        if (!ready) {
          reject(new Error(`${spec.name} exited (${exit}) before it was ready; see ${join(this.#logDir, `${spec.name}.log`)}`));
          return;
        }
        const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** entry.state.restarts);
        this.#events.onCrash?.(spec.name, exit, delay);
        setTimeout(() => {
          if (this.#stopping) return;
          entry.state.restarts++;
          this.start(spec).catch(() => {}); // a failed restart shows as crashed again
        }, delay);
      });
    });
  }

  /** SIGTERM to every child, SIGKILL to any still running after the grace period. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    const running = [...this.#children.values()].filter((c) => c.child && c.child.exitCode === null && c.child.signalCode === null);
    await Promise.all(
      running.reverse().map(
        (c) =>
          new Promise<void>((resolve) => {
            const child = c.child!;
            const kill = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
            child.once("exit", () => {
              clearTimeout(kill);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
    for (const c of this.#children.values()) c.log.end();
  }
}
