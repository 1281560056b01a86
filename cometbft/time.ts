// CometBFT timestamps: protobuf (seconds, nanos) in hashes and signatures, RFC 3339 with nanoseconds
// in JSON.
import type { Timestamp } from "cosmjs-types/google/protobuf/timestamp";

export type { Timestamp };

export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: Math.round((ms - seconds * 1000) * 1e6) };
}

export function timestampToMs(t: Timestamp): number {
  return Number(t.seconds) * 1000 + Math.floor(t.nanos / 1e6);
}

/** `2023-02-25T12:10:28.067566292Z`: Go's RFC3339Nano, trailing zeros of the fraction dropped. */
export function formatRfc3339Nano(t: Timestamp): string {
  const base = new Date(Number(t.seconds) * 1000).toISOString().slice(0, 19);
  const fraction = t.nanos === 0 ? "" : "." + String(t.nanos).padStart(9, "0").replace(/0+$/, "");
  return `${base}${fraction}Z`;
}

export function parseRfc3339(text: string): Timestamp {
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!match) throw new Error(`invalid RFC 3339 time: ${JSON.stringify(text)}`);
  const ms = Date.parse(`${match[1]}${match[3]}`);
  if (Number.isNaN(ms)) throw new Error(`invalid RFC 3339 time: ${JSON.stringify(text)}`);
  return { seconds: BigInt(ms / 1000), nanos: Number((match[2] ?? "").padEnd(9, "0")) };
}
