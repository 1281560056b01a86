// Validators in separate processes, configured like a devnet: every node key is created first, every
// peer id read from the key files, and every config lists all the others before any node starts.
import { afterEach, describe, expect, it } from "vitest";
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { loadOrCreateNodeKey, peerIdOfNodeKeyFile } from "../../sequencer/p2p/node-key.ts";
import { createValidatorNetwork } from "../../sequencer/p2p/network.ts";
import { BLOCKSYNC_PROTOCOL, TOPIC_CONSENSUS } from "../../sequencer/p2p/protocols.ts";
import { freePorts, Inbox, nextPeerEvent, silent, TEST_BACKOFF, text, untilPeers } from "./helpers.ts";

const SCRIPT = fileURLToPath(new URL("./validator-process.ts", import.meta.url));

type Line = Record<string, unknown>;

interface ValidatorProcess {
  lines: Line[];
  /** Resolves with the first line (already printed or to come) matching `predicate`. */
  waitFor(predicate: (line: Line) => boolean, what: string, timeoutMs?: number): Promise<Line>;
  send(command: Line): void;
  kill(signal: NodeJS.Signals): Promise<void>;
}

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});

function startProcess(config: Line): ValidatorProcess {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(config)], { stdio: ["pipe", "pipe", "pipe"] });
  children.push(child);
  let stderr = "";
  child.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => child.on("exit", () => resolve()));
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout! }).on("line", (line) => {
    lines.push(JSON.parse(line) as Line);
    for (const waiter of waiters) waiter();
  });
  return {
    lines,
    waitFor(predicate, what, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = lines.find(predicate);
          if (!found) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${what}; stderr:\n${stderr}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    send(command) {
      child.stdin!.write(JSON.stringify(command) + "\n");
    },
    async kill(signal) {
      child.kill(signal);
      await exited;
    },
  };
}

describe("validators in separate processes", () => {
  it("find each other from devnet-style configs, gossip, answer requests, and recover from kill -9", async () => {
    const homes = [0, 1, 2].map(() => mkdtempSync(join(tmpdir(), "metro-p2p-")));
    const keyFiles = homes.map((home) => join(home, "config", "node_key.json"));
    for (const file of keyFiles) loadOrCreateNodeKey(file);
    const peerIds = keyFiles.map(peerIdOfNodeKeyFile);
    const ports = await freePorts(3);
    const addresses = ports.map((port, i) => `/ip4/127.0.0.1/tcp/${port}/p2p/${peerIds[i]}`);
    const configOf = (i: number) => ({ home: homes[i], listen: `/ip4/127.0.0.1/tcp/${ports[i]}`, persistentPeers: addresses, allowlist: peerIds });

    const local = createValidatorNetwork({ privateKey: loadOrCreateNodeKey(keyFiles[0]), ...configOf(0), backoff: TEST_BACKOFF, logger: silent });
    const inbox = new Inbox(local, TOPIC_CONSENSUS);
    await local.start();
    try {
      let [p1, p2] = [startProcess(configOf(1)), startProcess(configOf(2))];
      expect((await p1.waitFor((l) => l.event === "ready", "process 1 ready")).peerId).toBe(peerIds[1]);
      await p2.waitFor((l) => l.event === "ready", "process 2 ready");
      await untilPeers(local, (p) => p.length === 2, "both processes connected", 15_000);
      const connectedTo = (p: ValidatorProcess, peer: string) => p.waitFor((l) => l.event === "peer" && l.type === "connect" && l.peerId === peer, `connect to ${peer}`);
      await Promise.all([connectedTo(p1, peerIds[0]), connectedTo(p1, peerIds[2]), connectedTo(p2, peerIds[0]), connectedTo(p2, peerIds[1])]);

      expect(local.broadcast(TOPIC_CONSENSUS, text("from local"))).toBe(2);
      p1.send({ broadcast: "from process 1" });
      const heard = (p: ValidatorProcess, from: string, what: string) => p.waitFor((l) => l.event === "message" && l.from === from && l.text === what, `"${what}"`);
      await Promise.all([heard(p1, peerIds[0], "from local"), heard(p2, peerIds[0], "from local"), heard(p2, peerIds[1], "from process 1")]);
      await inbox.until((ms) => ms.some((m) => m.from === peerIds[1] && m.text === "from process 1"), "process 1's message");
      expect(Buffer.from(await local.request(peerIds[2], BLOCKSYNC_PROTOCOL, text("7"))).toString()).toBe(`block 7 from ${peerIds[2]}`);

      // kill -9 and restart on the same home and port: the survivors redial it.
      const lost = nextPeerEvent(local, (e) => e.type === "disconnect" && e.peerId === peerIds[1]);
      await p1.kill("SIGKILL");
      await lost;
      const back = nextPeerEvent(local, (e) => e.type === "connect" && e.peerId === peerIds[1], 15_000);
      p1 = startProcess(configOf(1));
      await back;
      await Promise.all([connectedTo(p1, peerIds[0]), connectedTo(p1, peerIds[2])]);
      local.broadcast(TOPIC_CONSENSUS, text("welcome back"));
      await heard(p1, peerIds[0], "welcome back");
      expect(p1.lines.filter((l) => l.event === "message").map((l) => l.text)).toEqual(["welcome back"]);
      await Promise.all([p1.kill("SIGTERM"), p2.kill("SIGTERM")]);
    } finally {
      await local.stop();
    }
  });
});
