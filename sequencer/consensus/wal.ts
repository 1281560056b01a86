// The consensus write-ahead log: every input the state machine accepted (messages received,
// timeouts fired, the application's blocks and verdicts, this node's own signed messages), in order,
// so a restarted node replays its current height into exactly the state it had. Own messages are
// fsynced before they leave (and the inputs that led to them with them), so no restart forgets a
// vote it sent. A height marker closes each height; the log then restarts from that marker alone,
// which keeps it to one height's records.
//
// Framing: 4-byte big-endian length, 4-byte CRC-32 of the payload, payload (a WalRecord protobuf).
// A crash mid-write leaves a torn last record, which open() detects and truncates; damage anywhere
// before the last record is corruption and open() refuses to guess.
import { closeSync, existsSync, fsyncSync, ftruncateSync, openSync, readFileSync, writeSync } from "node:fs";
import { crc32 } from "node:zlib";
import { dirname } from "node:path";
import Long from "long";
import { writeFileDurably } from "../../cometbft/key-file.ts";
import { metro, type MetroProto } from "../../proto/index.ts";
import { messageFromProto, messageToProto, type ConsensusMessage } from "./messages.ts";
import type { MachineInput, SignedMessage } from "./state-machine.ts";
import type { TimeoutStep } from "./timeouts.ts";

const pb = metro.consensus.v1;
const HEADER_BYTES = 8;

/** The inputs worth logging: everything but "start", which a restart always feeds first. */
export type LoggedInput = Exclude<MachineInput, { type: "start" }>;

/** A closed height, with the next height's proposer priorities and round-0 proposer. */
export interface EndHeight {
  kind: "endHeight";
  height: bigint;
  priorities: bigint[];
  proposer: number;
}

export type WalEntry = { kind: "input"; input: LoggedInput } | EndHeight;

/** Bytes underneath the log: a file in a node, memory in the simulator. */
export interface WalStorage {
  /** Everything appended so far, durable or not. */
  read(): Uint8Array;
  append(bytes: Uint8Array): void;
  /** Makes everything appended durable. */
  sync(): void;
  truncate(length: number): void;
  /** Atomically and durably replaces the whole content. */
  replace(bytes: Uint8Array): void;
}

export class WalCorruptionError extends Error {
  override name = "WalCorruptionError";
}

const u64 = (v: bigint) => Long.fromString(v.toString(), true);
const big = (v: Long | number | null | undefined) => BigInt((v ?? 0).toString());

function entryToProto(entry: WalEntry): MetroProto.consensus.v1.WalRecord.$Properties {
  if (entry.kind === "endHeight") {
    return { endHeight: { height: u64(entry.height), proposerPriorities: entry.priorities.map((p) => Long.fromString(p.toString())), proposer: entry.proposer } };
  }
  const input = entry.input;
  switch (input.type) {
    case "proposal":
      return { received: messageToProto({ kind: "proposal", proposal: input.proposal }) };
    case "vote":
      return { received: messageToProto({ kind: "vote", vote: input.vote }) };
    case "commit":
      return { received: messageToProto({ kind: "commit", commit: input.commit }) };
    case "signed":
      return { own: messageToProto(input.message) };
    case "timeout":
      return { timeout: { height: u64(input.timeout.height), round: input.timeout.round, step: input.timeout.step } };
    case "built":
      return { built: { height: u64(input.height), round: input.round, blockId: input.value.blockId, block: input.value.block } };
    case "validated":
      return { validated: { height: u64(input.height), blockId: input.blockId, valid: input.valid } };
  }
}

function blockIdFrom(id: MetroProto.sequencer.v1.BlockID.$Properties | null | undefined) {
  return { hash: id?.hash ?? new Uint8Array(), partSetHeader: { total: id?.partSetHeader?.total ?? 0, hash: id?.partSetHeader?.hash ?? new Uint8Array() } };
}

function receivedInput(m: ConsensusMessage): LoggedInput {
  switch (m.kind) {
    case "proposal":
      return { type: "proposal", proposal: m.proposal };
    case "vote":
      return { type: "vote", vote: m.vote };
    case "commit":
      return { type: "commit", commit: m.commit };
  }
}

function entryFromProto(r: MetroProto.consensus.v1.WalRecord): WalEntry {
  if (r.endHeight) {
    const e = r.endHeight;
    return { kind: "endHeight", height: big(e.height as Long), priorities: (e.proposerPriorities ?? []).map((p) => big(p as Long)), proposer: e.proposer ?? 0 };
  }
  if (r.received) return { kind: "input", input: receivedInput(messageFromProto(r.received as MetroProto.consensus.v1.ConsensusMessage)) };
  if (r.own) {
    const m = messageFromProto(r.own as MetroProto.consensus.v1.ConsensusMessage);
    if (m.kind === "commit") throw new WalCorruptionError("an own record holds a commit");
    return { kind: "input", input: { type: "signed", message: m as SignedMessage } };
  }
  if (r.timeout) return { kind: "input", input: { type: "timeout", timeout: { height: big(r.timeout.height as Long), round: r.timeout.round ?? 0, step: (r.timeout.step ?? 0) as TimeoutStep } } };
  if (r.built) return { kind: "input", input: { type: "built", height: big(r.built.height as Long), round: r.built.round ?? 0, value: { blockId: blockIdFrom(r.built.blockId), block: r.built.block ?? new Uint8Array() } } };
  if (r.validated) return { kind: "input", input: { type: "validated", height: big(r.validated.height as Long), blockId: blockIdFrom(r.validated.blockId), valid: r.validated.valid ?? false } };
  throw new WalCorruptionError("empty record");
}

export function encodeFrame(entry: WalEntry): Uint8Array {
  const payload = pb.WalRecord.encode(entryToProto(entry)).finish();
  const frame = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(frame.buffer);
  view.setUint32(0, payload.length);
  view.setUint32(4, crc32(payload));
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** Intact records and where they end; `torn` when the bytes after `end` are a partial last record. */
export function decodeFrames(bytes: Uint8Array): { entries: WalEntry[]; end: number; torn: boolean } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries: WalEntry[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    if (bytes.length - offset < HEADER_BYTES) return { entries, end: offset, torn: true };
    const length = view.getUint32(offset);
    const end = offset + HEADER_BYTES + length;
    if (end > bytes.length) return { entries, end: offset, torn: true };
    const payload = bytes.subarray(offset + HEADER_BYTES, end);
    if (crc32(payload) !== view.getUint32(offset + 4)) {
      // A bad checksum on the last record is a torn write; anywhere earlier it is damage.
      if (end === bytes.length) return { entries, end: offset, torn: true };
      throw new WalCorruptionError(`checksum mismatch in the record at byte ${offset}, which is not the last`);
    }
    try {
      entries.push(entryFromProto(pb.WalRecord.decode(payload)));
    } catch (error) {
      throw new WalCorruptionError(`record at byte ${offset} does not decode: ${(error as Error).message}`);
    }
    offset = end;
  }
  return { entries, end: offset, torn: false };
}

export class Wal {
  readonly #storage: WalStorage;

  constructor(storage: WalStorage) {
    this.#storage = storage;
  }

  /** Every intact record; a torn last record is cut off (and its size returned). */
  open(): { entries: WalEntry[]; truncatedBytes: number } {
    const bytes = this.#storage.read();
    const { entries, end, torn } = decodeFrames(bytes);
    if (torn) {
      this.#storage.truncate(end);
      this.#storage.sync();
    }
    return { entries, truncatedBytes: bytes.length - end };
  }

  /** Appends without waiting for the disk; a later sync() (or a signed message's) makes it durable. */
  append(entry: WalEntry): void {
    this.#storage.append(encodeFrame(entry));
  }

  sync(): void {
    this.#storage.sync();
  }

  /** Closes a height: the log restarts as this marker alone, durably. */
  endHeight(marker: Omit<EndHeight, "kind">): void {
    this.#storage.replace(encodeFrame({ kind: "endHeight", ...marker }));
  }
}

/** The log as one file, appended with write(2) and made durable with fsync(2). */
export function fileWalStorage(path: string): WalStorage & { close(): void } {
  let created = !existsSync(path);
  let fd = openSync(path, "a");
  const syncDirectory = () => {
    const dir = openSync(dirname(path), "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  };
  return {
    read: () => new Uint8Array(readFileSync(path)),
    append(bytes) {
      let written = 0;
      while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    },
    sync() {
      fsyncSync(fd);
      // A new file's directory entry must be durable too, once.
      if (created) {
        syncDirectory();
        created = false;
      }
    },
    truncate(length) {
      ftruncateSync(fd, length);
    },
    replace(bytes) {
      closeSync(fd);
      writeFileDurably(path, bytes);
      fd = openSync(path, "a");
      created = false;
    },
    close() {
      closeSync(fd);
    },
  };
}
