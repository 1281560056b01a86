// Runs a network's components as child processes: starts each and waits for its ready line,
// restarts one that dies (with backoff, again and again until it comes up) and reports it, and stops
// them all cleanly.
import { spawn, type ChildProcess } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

const METRO = fileURLToPath(new URL("../bin/metro.js", import.meta.url));

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
  log: string;
}

export interface SupervisorEvents {
  /** A component printed its ready line (first start or a restart). */
  onReady?: (state: ComponentState) => void;
  /** A component that was running, or restarting, exited; it is started again after `restartInMs`. */
  onCrash?: (state: ComponentState, restartInMs: number) => void;
}

const STOP_GRACE_MS = 10_000;
const MAX_BACKOFF_MS = 30_000;
const RESTART_READY_TIMEOUT_MS = 120_000;

interface Entry {
  spec: ComponentSpec;
  child?: ChildProcess;
  log: WriteStream;
  state: ComponentState;
}

export class Supervisor {
  readonly #logDir: string;
  readonly #events: SupervisorEvents;
  readonly #children = new Map<string, Entry>();
  #stopping = false;

  constructor(logDir: string, events: SupervisorEvents = {}) {
    mkdirSync(logDir, { recursive: true });
    this.#logDir = logDir;
    this.#events = events;
  }

  states(): ComponentState[] {
    return [...this.#children.values()].map((c) => ({ ...c.state }));
  }

  state(name: string): ComponentState | undefined {
    const entry = this.#children.get(name);
    return entry && { ...entry.state };
  }

  /** Starts a component and resolves with its ready line; rejects if it exits first or is slow. */
  start(spec: ComponentSpec, timeoutMs = 60_000): Promise<Record<string, unknown>> {
    const logPath = join(this.#logDir, `${spec.name}.log`);
    let entry = this.#children.get(spec.name);
    if (!entry) {
      entry = { spec, log: createWriteStream(logPath, { flags: "a" }), state: { name: spec.name, status: "starting", restarts: 0, log: logPath } };
      this.#children.set(spec.name, entry);
    }
    const e = entry;
    e.state.status = "starting";
    // Its own process group: Ctrl-C in the terminal reaches only the supervisor, which stops the
    // children in order instead of every process getting SIGINT and then SIGTERM mid-shutdown.
    const child = spawn(process.execPath, [METRO, ...spec.args], {
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
      env: { ...process.env, METRO_LOG_LEVEL: process.env.METRO_LOG_LEVEL ?? "info" },
    });
    e.child = child;
    e.state.pid = child.pid;
    child.stderr!.pipe(e.log, { end: false });
    return new Promise((resolve, reject) => {
      let ready = false;
      const timer = setTimeout(() => {
        if (ready) return;
        reject(new Error(`${spec.name} was not ready within ${timeoutMs} ms; see ${logPath}`));
        child.kill("SIGKILL");
      }, timeoutMs);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        e.log.write(`${line}\n`);
        if (ready) return;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          return; // not a JSON line: part of the log
        }
        if (parsed.event !== spec.readyEvent) return;
        ready = true;
        clearTimeout(timer);
        e.state.status = "running";
        e.state.ready = parsed;
        this.#events.onReady?.({ ...e.state });
        resolve(parsed);
      });
      child.on("exit", (code, signal) => {
        clearTimeout(timer);
        e.state.lastExit = signal ? `signal ${signal}` : `code ${code}`;
        if (this.#stopping) {
          e.state.status = "stopped";
          return;
        }
        e.state.status = "crashed";
        // A first start that fails is the caller's to handle; a component that ran once is kept alive.
        if (!ready && e.state.restarts === 0) {
          reject(new Error(`${spec.name} exited (${e.state.lastExit}) before it was ready; see ${logPath}`));
          return;
        }
        if (!ready) reject(new Error(`${spec.name} restart failed (${e.state.lastExit})`));
        this.#restartLater(e);
      });
    });
  }

  #restartLater(e: Entry): void {
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(e.state.restarts, 5));
    this.#events.onCrash?.({ ...e.state }, delay);
    setTimeout(() => {
      if (this.#stopping) return;
      e.state.restarts++;
      // A restart that fails exits again, and that exit schedules the next attempt.
      this.start(e.spec, RESTART_READY_TIMEOUT_MS).catch(() => {});
    }, delay).unref();
  }

  /** SIGTERM to every child (in reverse start order), SIGKILL to any still running after the grace period. */
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
    await Promise.all([...this.#children.values()].map((c) => new Promise<void>((resolve) => c.log.end(resolve))));
  }
}
