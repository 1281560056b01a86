// `metro devnet --da-url --da-token`: the devnet uses a celestia-node it is pointed at instead of
// starting its own DA server. The node here is `metro da serve` with an auth token (the same API and
// the same token rule as celestia-node): the relayer posts and the rollup nodes read through it, so
// blocks get firm, and nothing works without the token.
import { afterAll, expect, it } from "vitest";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startMetro, type MetroProcess } from "../harness/metro-process.ts";
import type { DevnetFile } from "../../cli/context.ts";

const root = mkdtempSync(join(tmpdir(), "metro-e2e-external-da-"));
// Below the ephemeral port range, apart from devnet.test.ts's range.
const basePort = 27_000 + (process.pid % 12) * 400;
const TOKEN = "s3cret-test-token";
const processes: MetroProcess[] = [];
afterAll(async () => {
  for (const p of processes.reverse()) await p.kill("SIGTERM");
});

it("runs against a DA node given by URL and token, and reaches firm through it", async () => {
  const da = await startMetro(["da", "serve", "--home", join(root, "celestia"), "--port", "0", "--auth-token", TOKEN, "--block-time", "500"]);
  processes.push(da);
  const daUrl = String(da.ready.url);
  const devnet = await startMetro(["devnet", "--home", join(root, "devnet"), "--base-port", String(basePort), "--da-url", daUrl, "--da-token", TOKEN, "--status-interval", "0"], "ready", 180_000);
  processes.push(devnet);

  expect(devnet.events.filter((e) => e.event === "component_ready").map((e) => e.name)).not.toContain("da");
  const file = JSON.parse(readFileSync(join(root, "devnet", "devnet.json"), "utf8")) as DevnetFile;
  expect(file.da).toEqual({ url: daUrl, token: TOKEN });
  expect(file.settings?.localDa).toBe(false);

  // Firm needs the relayer to have posted to that node and the rollup node to have read it back.
  const deadline = Date.now() + 60_000;
  let firm = 0;
  while (firm < 2) {
    if (Date.now() > deadline) throw new Error(`alpha-1 never got firm through the external DA (firm height ${firm})`);
    firm = ((await (await fetch(`${file.rollups[0].nodes[0]}/v1/status`)).json()) as { firm: { height: number } }).firm.height;
    if (firm < 2) await new Promise((resolve) => setTimeout(resolve, 250));
  }
  // The token is what let them in.
  const anonymous = await fetch(daUrl, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "header.LocalHead", params: [] }) });
  const answer = (await anonymous.json()) as { result?: unknown; error?: { message: string } };
  expect(answer.result).toBeUndefined();
  expect(answer.error?.message).toMatch(/missing permission/);
}, 240_000);
