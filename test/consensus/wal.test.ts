// The consensus WAL on a real file: records replay in order across reopenings, a torn last record
// (a crash mid-write) is cut off, damage before the last record is refused, a height marker restarts
// the log; and the signing path reuses a signature after a crash instead of signing twice.
import { afterEach, describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DoubleSignError, PrivValidator } from "../../sequencer/consensus/privval.ts";
import { signRequest } from "../../sequencer/consensus/signing.ts";
import { fileWalStorage, Wal, WalCorruptionError, type WalEntry } from "../../sequencer/consensus/wal.ts";
import { MemorySignStateStore } from "../consensus-sim/memory-storage.ts";
import { KEYS, CHAIN_ID, machine, prevote, proposal, value } from "./harness.ts";
import { PREVOTE } from "../../sequencer/consensus/messages.ts";
import { STEP_PROPOSE_TIMEOUT } from "../../sequencer/consensus/timeouts.ts";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function walPath(): string {
  const dir = mkdtempSync(join(tmpdir(), "metro-wal-"));
  dirs.push(dir);
  return join(dir, "cs.wal");
}

const A = value("A");
const entries: WalEntry[] = [
  { kind: "input", input: { type: "proposal", proposal: proposal(machine(0), 0, A) } },
  { kind: "input", input: { type: "validated", height: 1n, blockId: A.blockId, valid: true } },
  { kind: "input", input: { type: "vote", vote: prevote(1, 0, A) } },
  { kind: "input", input: { type: "timeout", timeout: { height: 1n, round: 0, step: STEP_PROPOSE_TIMEOUT } } },
  { kind: "input", input: { type: "signed", message: { kind: "vote", vote: prevote(0, 0, undefined) } } },
  { kind: "input", input: { type: "built", height: 1n, round: 1, value: A } },
];

/** Entries as plain data (decoded byte fields are Buffers). */
function plain(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

function write(path: string, list: WalEntry[], sync = true): void {
  const storage = fileWalStorage(path);
  const wal = new Wal(storage);
  wal.open();
  for (const e of list) wal.append(e);
  if (sync) wal.sync();
  storage.close();
}

function reopen(path: string) {
  const storage = fileWalStorage(path);
  try {
    return new Wal(storage).open();
  } finally {
    storage.close();
  }
}

describe("consensus WAL", () => {
  it("replays every record in order after reopening", () => {
    const path = walPath();
    write(path, entries.slice(0, 3));
    write(path, entries.slice(3));
    const { entries: read, truncatedBytes } = reopen(path);
    expect(truncatedBytes).toBe(0);
    expect(plain(read)).toEqual(plain(entries));
  });

  it("cuts off a torn last record and keeps the rest", () => {
    const path = walPath();
    write(path, entries);
    const size = statSync(path).size;
    truncateSync(path, size - 5);
    const first = reopen(path);
    expect(plain(first.entries)).toEqual(plain(entries.slice(0, -1)));
    expect(first.truncatedBytes).toBeGreaterThan(0);
    // The file is clean again: appending and reopening works.
    write(path, entries.slice(-1));
    expect(plain(reopen(path).entries)).toEqual(plain(entries));
    // A crash that left only part of a record header.
    writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from([0, 0, 1])]));
    expect(reopen(path)).toMatchObject({ truncatedBytes: 3 });
  });

  it("treats a bad checksum as a torn write at the end and as corruption before it", () => {
    const path = walPath();
    write(path, entries);
    const bytes = readFileSync(path);
    const last = Buffer.from(bytes);
    last[last.length - 1] ^= 0xff;
    writeFileSync(path, last);
    expect(plain(reopen(path).entries)).toEqual(plain(entries.slice(0, -1)));
    const middle = Buffer.from(bytes);
    middle[20] ^= 0xff;
    writeFileSync(path, middle);
    expect(() => reopen(path)).toThrow(WalCorruptionError);
  });

  it("restarts from a height marker", () => {
    const path = walPath();
    const storage = fileWalStorage(path);
    const wal = new Wal(storage);
    wal.open();
    for (const e of entries) wal.append(e);
    wal.endHeight({ height: 1n, priorities: [5n, -3n, -2n, 0n], proposer: 2 });
    wal.append(entries[2]);
    wal.sync();
    storage.close();
    expect(plain(reopen(path).entries)).toEqual(plain([{ kind: "endHeight", height: 1n, priorities: [5n, -3n, -2n, 0n], proposer: 2 }, entries[2]]));
  });
});

describe("signing after a crash", () => {
  const request = { kind: "vote" as const, vote: { type: PREVOTE as typeof PREVOTE, height: 4n, round: 1, blockId: A.blockId, validatorIndex: 0 } };

  it("re-sends the vote it already signed (same signature, original time) and refuses a different one", () => {
    const store = new MemorySignStateStore();
    const before = signRequest(new PrivValidator(KEYS[0], store), CHAIN_ID, request, { seconds: 100n, nanos: 0 });
    // Restarted, asked again for the same vote a little later.
    const restarted = new PrivValidator(KEYS[0], store);
    const again = signRequest(restarted, CHAIN_ID, request, { seconds: 105n, nanos: 0 });
    expect(again).toEqual(before);
    expect(again.kind === "vote" && again.vote.timestamp.seconds).toBe(100n);
    const other = { kind: "vote" as const, vote: { ...request.vote, blockId: value("B").blockId } };
    expect(() => signRequest(restarted, CHAIN_ID, other, { seconds: 106n, nanos: 0 })).toThrow(DoubleSignError);
  });
});
