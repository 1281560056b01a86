// The devnet under test, as users run it: created in a temporary home with the load accounts funded,
// then `metro devnet` as a child process that resumes that home. Its JSON lines name every
// component's pid, which the benchmark reads CPU and memory of.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { createDevnet, type DevnetSettings } from "../../../devnet/create.ts";
import { busyPorts, devnetLayout } from "../../../devnet/layout.ts";
import type { DevnetFile } from "../../../cli/context.ts";

const METRO = fileURLToPath(new URL("../../../bin/metro.js", import.meta.url));
const READY_TIMEOUT_MS = 180_000;

export interface BenchDevnet {
  file: DevnetFile;
  home: string;
  /** The `metro devnet` supervisor's pid and each component's (the latest, after a restart). */
  pids: Map<string, number>;
  /** Components that crashed so far: a step during which one did is not a clean measurement. */
  crashes: string[];
  stop(): Promise<void>;
}

/** A base port whose whole devnet layout is free: other engineers run devnets on this machine too. */
async function freeBasePort(home: string): Promise<number> {
  for (let attempt = 0; attempt < 20; attempt++) {
    // Below Linux's ephemeral range (32768 and up), where outgoing connections would take ports.
    const base = 12_000 + 400 * Math.floor(Math.random() * 50);
    if ((await busyPorts(devnetLayout(home, base))).length === 0) return base;
  }
  throw new Error("no free base port for the devnet after 20 tries");
}

export async function startBenchDevnet(settings: DevnetSettings, loadAddresses: string[], keep: boolean): Promise<BenchDevnet> {
  const home = mkdtempSync(join(tmpdir(), "metro-bench-e2e-"));
  const basePort = await freeBasePort(home);
  const layout = devnetLayout(home, basePort);
  const file = await createDevnet(layout, { ...settings, extraAddresses: loadAddresses });
  const child = spawn(process.execPath, [METRO, "devnet", "--home", home, "--base-port", String(basePort), "--status-interval", "0"], { stdio: ["ignore", "pipe", "inherit"] });
  // In the layout's order (component_ready lines come in any order within a group); filled as they come.
  const components = ["da", ...layout.validators.map((v) => v.name), "relayer", ...layout.rollupNodes.map((n) => n.name)];
  const pids = new Map<string, number>([["devnet supervisor", child.pid!], ...components.map((name): [string, number] => [name, 0])]);
  const crashes: string[] = [];
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async (remove = !keep) => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
    await exited;
    if (remove) rmSync(home, { recursive: true, force: true });
    else console.log(`devnet home kept: ${home}`);
  };
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the devnet was not ready within ${READY_TIMEOUT_MS} ms; logs in ${home}/logs`)), READY_TIMEOUT_MS);
    exited.then(() => reject(new Error(`the devnet exited before it was ready; logs in ${home}/logs`)));
    createInterface({ input: child.stdout! }).on("line", (line) => {
      let event: { event?: string; name?: string; pid?: number };
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      if (event.event === "component_ready") pids.set(event.name!, event.pid!);
      if (event.event === "component_crashed") crashes.push(event.name!);
      if (event.event === "ready") {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  try {
    await ready;
  } catch (error) {
    await stop(false); // its logs say why
    throw error;
  }
  return { file, home, pids, crashes, stop };
}
