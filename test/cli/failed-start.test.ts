// A long-running command that fails after it opened sockets (here: the sequencer's metrics port is
// taken, found only after its p2p and RPC are up) must say why and exit, not hang half-started: the
// devnet supervisor waits for a ready line or an exit, and a hung child stalled it for minutes.
import { afterAll, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type AddressInfo, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const METRO = fileURLToPath(new URL("../../bin/metro.js", import.meta.url));
let taken: Server;
afterAll(() => new Promise((resolve) => taken.close(resolve)));

function metro(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [METRO, ...args], { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (c) => (stderr += c));
  return new Promise((resolve) => child.on("exit", (code) => resolve({ code, stderr })));
}

it("exits with the error when a port it needs is taken after it started", async () => {
  taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
  const port = (taken.address() as AddressInfo).port;
  const home = join(mkdtempSync(join(tmpdir(), "metro-failed-start-")), "node");
  expect((await metro(["sequencer", "init", "--home", home])).code).toBe(0);
  const result = await metro(["sequencer", "start", "--home", home, "--rpc", "127.0.0.1:0", "--metrics", `127.0.0.1:${port}`]);
  expect(result.code).toBe(1);
  expect(result.stderr).toContain(`metro: listen EADDRINUSE: address already in use 127.0.0.1:${port}`);
}, 30_000);
