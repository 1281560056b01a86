// `metro devnet` without starting a network: its layout, the status view a user sees, and the
// errors for the mistakes people make (ports taken, a second devnet on the same home, --reset on a
// folder that is not a devnet).
import { afterAll, describe, expect, it } from "vitest";
import { mkdirSync, mkdtempSync, writeFileSync, existsSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DEFAULT_BASE_PORT, devnetLayout, namedPorts } from "../../devnet/layout.ts";
import { renderStatus } from "../../devnet/status-view.ts";
import { HomeLock } from "../../devnet/home-lock.ts";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));
const servers: Server[] = [];
afterAll(() => Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve)))));

function metro(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [METRO, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c) => (stdout += c));
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stdout, stderr })));
}

describe("layout", () => {
  it("puts the usual ports where users expect them and never gives two components one port", () => {
    const layout = devnetLayout("/tmp/x", DEFAULT_BASE_PORT);
    expect(layout.da.port).toBe(26658);
    expect(layout.validators[0].rpcPort).toBe(26657);
    expect(layout.rollupNodes[0].apiPort).toBe(26670);
    const ports = namedPorts(layout).map((p) => p.port);
    expect(new Set(ports).size).toBe(ports.length);
    expect(layout.rollupNodes.map((n) => n.name)).toEqual(["alpha-1-node-0", "alpha-1-node-1", "beta-1-node-0"]);
  });
});

describe("status view", () => {
  const base = {
    home: "/home/u/.metro/devnet",
    chainId: "metro-devnet-1",
    uptimeMs: 3_723_000,
    status: {
      sequencerHeights: [120, 120, undefined, 119],
      daHeight: 130,
      relayerPostedHeight: 118,
      rollupNodes: [
        { name: "alpha-1-node-0", secondaryChainId: "alpha-1", api: "http://127.0.0.1:26670", soft: 120, firm: 118, header: 118, alarms: 0 },
        { name: "alpha-1-node-1", secondaryChainId: "alpha-1", api: "http://127.0.0.1:26671", soft: 120, firm: 118, header: 117, alarms: 2 },
        { name: "beta-1-node-0", secondaryChainId: "beta-1", api: "http://127.0.0.1:26672" },
      ],
    },
    components: [
      { name: "da", status: "running" as const, restarts: 0, log: "" },
      { name: "validator-2", status: "crashed" as const, restarts: 1, log: "" },
    ],
    notices: ["12:00:01 validator-2 exited (signal SIGKILL); restarting in 2 s; log /x/validator-2.log"],
    columns: 100,
    rows: 30,
  };

  it("shows heights, unknowns, alarms, crashed components and notices", () => {
    const text = renderStatus(base).join("\n");
    expect(text).toContain("up 01:02:03");
    expect(text).toContain("height 120  [120 120 - 119]");
    expect(text).toContain("celestia   height 130   relayer posted 118");
    expect(text).toMatch(/node-1\s+soft 120\s+firm 118\s+header 117\s+ALARMS 2/);
    expect(text).toMatch(/beta-1\s+node-0\s+soft -\s+firm -/);
    expect(text).toContain("1/2 running; validator-2 crashed");
    expect(text).toContain("validator-2 exited (signal SIGKILL)");
  });

  it("fits the terminal: no line wider than it, no more lines than its rows", () => {
    const notices = Array.from({ length: 30 }, (_, i) => `notice ${i}`);
    const lines = renderStatus({ ...base, columns: 40, rows: 10, notices });
    expect(lines.length).toBeLessThanOrEqual(9);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(40);
    expect(lines.slice(-2)).toEqual(["notice 28", "notice 29"]);
    expect(renderStatus({ ...base, rows: 4, notices }).length).toBe(3);
  });
});

describe("errors", () => {
  it("refuses to start when its ports are taken, naming them", async () => {
    const base = 11_000 + (process.pid % 24) * 400;
    const taken = devnetLayout("/x", base).da.port;
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(taken, "127.0.0.1", resolve));
    servers.push(server);
    const home = join(mkdtempSync(join(tmpdir(), "metro-devnet-ports-")), "devnet");
    const result = await metro(["devnet", "--home", home, "--base-port", String(base), "--status-interval", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ports in use: ${taken} (DA)`);
    expect(result.stderr).toContain("--base-port");
    // Nothing was created and the lock is gone: the next try starts clean.
    expect(existsSync(join(home, "devnet.json"))).toBe(false);
    expect(existsSync(join(home, "devnet.pid"))).toBe(false);
  });

  it("refuses a second devnet on the same home while the first runs", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-devnet-lock-"));
    // This test process stands in for a running devnet: the lock names a live pid.
    writeFileSync(join(home, "devnet.pid"), JSON.stringify({ pid: process.pid, children: {} }));
    const result = await metro(["devnet", "--home", home, "--status-interval", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`a devnet is already running from ${home} (pid ${process.pid})`);
  });

  it("takes over a lock left by a devnet that died", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-devnet-stale-"));
    const dead = spawn(process.execPath, ["-e", ""]);
    const pid = dead.pid!;
    await new Promise((resolve) => dead.on("exit", resolve));
    writeFileSync(join(home, "devnet.pid"), JSON.stringify({ pid, children: { "validator-0": pid } }));
    const { lock, orphansStopped } = await HomeLock.acquire(join(home, "devnet.pid"), home);
    expect(orphansStopped).toEqual([]);
    lock.release();
    expect(existsSync(join(home, "devnet.pid"))).toBe(false);
  });

  it("will not --reset a folder that holds anything a devnet does not make", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-devnet-reset-"));
    mkdirSync(join(home, "validator-0"));
    writeFileSync(join(home, "thesis.tex"), "precious");
    const result = await metro(["devnet", "--home", home, "--reset", "--status-interval", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("refusing to delete it with --reset");
    expect(existsSync(join(home, "thesis.tex"))).toBe(true);
  });

  it("says how to recover from a creation that was interrupted", async () => {
    const home = mkdtempSync(join(tmpdir(), "metro-devnet-half-"));
    mkdirSync(join(home, "validator-0"));
    const result = await metro(["devnet", "--home", home, "--status-interval", "0"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("creation was interrupted");
    expect(result.stderr).toContain("--reset");
  });
});
