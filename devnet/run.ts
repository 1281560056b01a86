// `metro devnet`: creates the network on first run (or after --reset), otherwise resumes it; starts
// every component as its own process in dependency order (DA, validators, relayer, rollup nodes),
// keeps them alive, shows the live status, and stops them all on Ctrl-C.
import { existsSync, readdirSync, rmSync } from "node:fs";
import { resolve } from "node:path";
import { homePaths } from "../sequencer/config.ts";
import { DEFAULT_LOCAL_DA } from "../celestia/local-da/chain.ts";
import { peerIdOf, loadOrCreateNodeKey } from "../sequencer/p2p/node-key.ts";
import { rollupHomePaths } from "../lazy-rollup-node/config.ts";
import { readDevnet, type DevnetFile } from "../cli/context.ts";
import { createDevnet, headerSignerOf, urls, type DevnetSettings } from "./create.ts";
import { HomeLock } from "./home-lock.ts";
import { busyPorts, DEFAULT_BASE_PORT, devnetLayout, type DevnetLayout } from "./layout.ts";
import { readDevnetStatus } from "./status.ts";
import { renderStatus } from "./status-view.ts";
import { Supervisor, type ComponentSpec, type ComponentState } from "./supervisor.ts";

export interface DevnetOutput {
  /** Redraw a live status in place (a terminal), or print JSON lines (logs, tests, CI). */
  tty: boolean;
  columns: () => number;
  rows: () => number;
  write: (text: string) => void;
}

export interface RunDevnetOptions {
  home: string;
  reset: boolean;
  /** Used when the network is created; a resumed network keeps what it was made with. */
  basePort?: number;
  settings: DevnetSettings;
  extraAddresses?: string[];
  /** JSON status lines every this many ms when not on a terminal (0: none). */
  statusIntervalMs: number;
  output: DevnetOutput;
  /** Resolves when the devnet should stop. */
  stop: Promise<unknown>;
}

/** Only what a devnet home holds may be deleted by --reset. */
function looksLikeDevnetHome(home: string): boolean {
  const known = /^(da|relayer|logs|validator-\d+|[a-z0-9-]+-node-\d+|devnet\.json|devnet\.pid)$/;
  return readdirSync(home).every((entry) => known.test(entry));
}

function reset(home: string): void {
  if (!existsSync(home)) return;
  if (!looksLikeDevnetHome(home)) throw new Error(`${home} holds files a devnet does not make; refusing to delete it with --reset. Remove it yourself or choose another --home`);
  rmSync(home, { recursive: true, force: true });
}

async function assertPortsFree(layout: DevnetLayout, localDa: boolean): Promise<void> {
  const busy = await busyPorts(layout, localDa);
  if (busy.length > 0) {
    throw new Error(`ports in use: ${busy.map((b) => `${b.port} (${b.name})`).join(", ")}. Is another devnet or node running? Stop it, or create this devnet with another --base-port`);
  }
}

/** What each component runs: `metro <args>`. */
export function componentSpecs(layout: DevnetLayout, file: DevnetFile): ComponentSpec[][] {
  const u = urls(layout);
  const genesis = homePaths(layout.validators[0].home).genesis;
  const localDa = file.settings?.localDa !== false;
  const daArgs = ["--da-url", file.da.url, ...(file.da.token ? ["--da-token", file.da.token] : [])];
  const da: ComponentSpec[] = localDa
    ? [{ name: "da", readyEvent: "listening", args: ["da", "serve", "--home", layout.da.home, "--port", String(layout.da.port), "--block-time", String(file.settings?.daBlockTimeMs ?? DEFAULT_LOCAL_DA.blockTimeMs)] }]
    : [];
  const validators = layout.validators.map((v) => ({ name: v.name, readyEvent: "listening", args: ["sequencer", "start", "--home", v.home, "--metrics", `127.0.0.1:${v.metricsPort}`] }));
  const relayer: ComponentSpec = {
    name: "relayer",
    readyEvent: "started",
    args: [
      "relayer", "start", "--sequencer-rpc", u.websocket[0], "--genesis", genesis, ...daArgs, "--home", layout.relayer.home, "--metrics-listen", `127.0.0.1:${layout.relayer.metricsPort}`,
      // The local DA server's squares are smaller than mainnet's; a real node gets the mainnet limits.
      ...(localDa ? ["--max-square-size", String(DEFAULT_LOCAL_DA.maxSquareSize)] : []),
    ],
  };
  const rollupNodes = layout.rollupNodes.map((node, k) => {
    // Each node prefers a different validator and fails over to the others in turn.
    const rpc = u.websocket.map((_, i) => u.websocket[(k + 1 + i) % u.websocket.length]).join(",");
    const peers = layout.rollupNodes.filter((p) => p.rollup === node.rollup && p !== node);
    const gossip = peers.flatMap((p) => [
      "--peer",
      `/ip4/127.0.0.1/tcp/${p.p2pPort}/p2p/${peerIdOf(loadOrCreateNodeKey(rollupHomePaths(p.home).nodeKey))}`,
      "--trusted-signer",
      headerSignerOf(p.home),
    ]);
    return {
      name: node.name,
      readyEvent: "listening",
      args: ["rollup", "start", "--home", node.home, "--sequencer-rpc", rpc, ...daArgs, "--api", `127.0.0.1:${node.apiPort}`, ...(peers.length > 0 ? ["--p2p-listen", `127.0.0.1:${node.p2pPort}`, ...gossip] : [])],
    };
  });
  return [da, validators, [relayer], rollupNodes];
}

function timeOfDay(): string {
  return new Date().toTimeString().slice(0, 8);
}

export async function runDevnet(o: RunDevnetOptions): Promise<void> {
  const home = resolve(o.home);
  const emit = (event: Record<string, unknown>) => {
    if (!o.output.tty) o.output.write(JSON.stringify(event) + "\n");
  };
  const say = (text: string) => {
    if (o.output.tty) o.output.write(text + "\n");
  };
  if (o.reset) reset(home);

  let file = readDevnet(resolve(home, "devnet.json"));
  if (!file && existsSync(home) && readdirSync(home).some((e) => e.startsWith("validator-"))) {
    throw new Error(`${home} holds a devnet whose creation was interrupted (no devnet.json); start fresh with --reset`);
  }
  const layout = devnetLayout(home, file?.settings?.basePort ?? o.basePort ?? DEFAULT_BASE_PORT);
  const { lock, orphansStopped } = await HomeLock.acquire(layout.lockFile, home);
  for (const orphan of orphansStopped) say(`stopped ${orphan}, left running by a devnet that did not shut down`);
  if (orphansStopped.length > 0) emit({ event: "orphans_stopped", components: orphansStopped });

  const notices: string[] = [];
  const notice = (text: string) => {
    notices.push(text);
    if (notices.length > 20) notices.shift();
  };
  const supervisor = new Supervisor(layout.logDir, {
    onReady: (state) => {
      lock.setChild(state.name, state.pid!);
      emit({ event: "component_ready", name: state.name, pid: state.pid, restarts: state.restarts });
      if (state.restarts > 0) notice(`${timeOfDay()} ${state.name} is back (restart ${state.restarts})`);
    },
    onCrash: (state, restartInMs) => {
      emit({ event: "component_crashed", name: state.name, exit: state.lastExit, restart_in_ms: restartInMs, log: state.log });
      notice(`${timeOfDay()} ${state.name} exited (${state.lastExit}); restarting in ${Math.round(restartInMs / 1000)} s; log ${state.log}`);
    },
  });
  const stopped = o.stop.then(() => "stop" as const);
  try {
    await assertPortsFree(layout, file ? file.settings?.localDa !== false : o.settings.externalDa === undefined);
    const created = !file;
    if (!file) {
      say(`creating a devnet in ${home} ...`);
      file = await createDevnet(layout, { ...o.settings, extraAddresses: o.extraAddresses });
    }
    emit({ event: created ? "created" : "resuming", home, devnet_file: layout.devnetFile });
    say(`${created ? "starting" : "resuming"} the devnet in ${home}; logs in ${layout.logDir}`);
    for (const group of componentSpecs(layout, file)) {
      const started = Promise.all(group.map((spec) => supervisor.start(spec, 120_000)));
      if ((await Promise.race([started, stopped])) === "stop") return;
    }
    emit({ event: "ready", devnet_file: layout.devnetFile, sequencer_rpc: file.sequencer.rpc[0], da_url: file.da.url, rollups: file.rollups });
    say(welcome(file, layout));
    await statusLoop(o, layout, file, supervisor, notices, stopped);
  } finally {
    say("stopping the devnet ...");
    await supervisor.stopAll();
    lock.release();
    emit({ event: "stopped" });
    say("stopped; `npm start` resumes it, `npm start -- --reset` starts fresh");
  }
}

function welcome(file: DevnetFile, layout: DevnetLayout): string {
  return [
    "",
    `The devnet is up. Everything a client needs is in ${layout.devnetFile}`,
    `  sequencer RPC  ${file.sequencer.rpc[0]}   (chain ${file.sequencer.chainId})`,
    `  Celestia (DA)  ${file.da.url}`,
    ...file.rollups.map((r) => `  rollup ${r.secondaryChainId.padEnd(8)} ${r.nodes.join("  ")}`),
    `  accounts       ${file.accounts.map((a) => a.name).join(", ")}  (funded on every layer)`,
    `Try in another terminal:  npx metro balance alice   ·   npx metro --help`,
    "",
  ].join("\n");
}

async function statusLoop(o: RunDevnetOptions, layout: DevnetLayout, file: DevnetFile, supervisor: Supervisor, notices: string[], stopped: Promise<"stop">): Promise<void> {
  const startedAt = Date.now();
  let drawn = 0;
  let lastJson = 0;
  for (;;) {
    const status = await readDevnetStatus(layout, file.da);
    const components: ComponentState[] = supervisor.states();
    if (o.output.tty) {
      const lines = renderStatus({ home: layout.home, chainId: file.sequencer.chainId, uptimeMs: Date.now() - startedAt, status, components, notices, columns: o.output.columns(), rows: o.output.rows() });
      // Up over the previous view, clear it, draw the new one.
      o.output.write((drawn > 0 ? `\x1b[${drawn}A\x1b[0J` : "") + lines.join("\n") + "\n");
      drawn = lines.length;
    } else if (o.statusIntervalMs > 0 && Date.now() - lastJson >= o.statusIntervalMs) {
      lastJson = Date.now();
      o.output.write(JSON.stringify({ event: "status", ...status, components: components.map((c) => ({ name: c.name, status: c.status, pid: c.pid, restarts: c.restarts })) }) + "\n");
    }
    const tick = new Promise((r) => setTimeout(r, 1000).unref());
    if ((await Promise.race([tick, stopped])) === "stop") return;
  }
}
