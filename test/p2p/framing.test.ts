import { describe, expect, it } from "vitest";
import fc from "fast-check";
import {
  decodeGossip,
  decodeResponse,
  encodeErrorResponse,
  encodeFrame,
  encodeGossip,
  encodeResponse,
  FrameDecoder,
  FrameTooLargeError,
  FramingError,
  gossipOverhead,
  RESPONSE_ERROR,
  RESPONSE_OK,
} from "../../sequencer/p2p/framing.ts";
import { checkGossip } from "../../sequencer/p2p/inbound.ts";
import { resolveLimits } from "../../sequencer/p2p/limits.ts";

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(parts.flatMap((p) => [...p]));
}

/** `bytes` cut at the given points (sorted, deduplicated, within range). */
function cut(bytes: Uint8Array, points: number[]): Uint8Array[] {
  const at = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const p of [...at, bytes.length]) {
    pieces.push(bytes.subarray(start, p));
    start = p;
  }
  return pieces;
}

describe("framing", () => {
  it("length-prefixes with LEB128", () => {
    expect([...encodeFrame(Uint8Array.of(1, 2))]).toEqual([2, 1, 2]);
    expect([...encodeFrame(new Uint8Array(300)).subarray(0, 2)]).toEqual([0xac, 0x02]);
    expect(encodeFrame().length).toBe(1);
    expect([...encodeFrame(Uint8Array.of(1), Uint8Array.of(2, 3))]).toEqual([3, 1, 2, 3]);
  });

  it("decodes any sequence of frames however the stream is cut", () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 400 }), { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 12 }), (bodies, points) => {
        const wire = concat(bodies.map((b) => encodeFrame(b)));
        const decoder = new FrameDecoder(400);
        const out = cut(wire, points).flatMap((piece) => decoder.push(piece));
        expect(out.map((b) => [...b])).toEqual(bodies.map((b) => [...b]));
        expect(decoder.bufferedBytes).toBe(0);
      }),
    );
  });

  it("hands out copies that do not alias the received chunks", () => {
    const chunk = encodeFrame(Uint8Array.of(9, 9));
    const [body] = new FrameDecoder(10).push(chunk);
    chunk.fill(0);
    expect([...body]).toEqual([9, 9]);
  });

  it("refuses an oversize frame from its length prefix alone, before the body arrives", () => {
    const decoder = new FrameDecoder(1000);
    expect(() => decoder.push(encodeFrame(new Uint8Array(1001)).subarray(0, 2))).toThrow(FrameTooLargeError);
    // A prefix whose first bytes already exceed the limit is refused before it is complete.
    expect(() => new FrameDecoder(100).push(Uint8Array.of(0xff, 0xff))).toThrow(FrameTooLargeError);
    expect(new FrameDecoder(1000).push(encodeFrame(new Uint8Array(1000)))[0].length).toBe(1000);
  });

  it("refuses malformed length prefixes", () => {
    expect(() => new FrameDecoder(2 ** 30).push(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x01))).toThrow(FramingError);
    // Non-minimal: 0x81 0x00 encodes 1 in two bytes.
    expect(() => new FrameDecoder(100).push(Uint8Array.of(0x81, 0x00))).toThrow(/non-minimal/);
  });

  it("round-trips gossip messages and responses", () => {
    const frame = encodeGossip("consensus", Uint8Array.of(1, 2, 3));
    const [body] = new FrameDecoder(100).push(frame);
    expect(body.length).toBe(3 + gossipOverhead("consensus"));
    const { topic, payload } = decodeGossip(body);
    expect(topic).toBe("consensus");
    expect([...payload]).toEqual([1, 2, 3]);
    expect(() => encodeGossip("", Uint8Array.of())).toThrow(RangeError);
    expect(() => decodeGossip(Uint8Array.of(5, 1))).toThrow(FramingError);

    const [ok] = new FrameDecoder(100).push(encodeResponse(RESPONSE_OK, Uint8Array.of(7)));
    expect(decodeResponse(ok)).toEqual({ status: RESPONSE_OK, payload: Uint8Array.of(7) });
    const [error] = new FrameDecoder(100).push(encodeErrorResponse(RESPONSE_ERROR, "boom"));
    expect(decodeResponse(error).status).toBe(RESPONSE_ERROR);
    expect(() => decodeResponse(Uint8Array.of(9))).toThrow(/unknown response status/);
  });

  it("checks a gossip frame's topic and the topic's size limit", () => {
    const limits = resolveLimits({ channels: { mempool: { maxMessageBytes: 4 } } });
    const topics = new Set(["consensus", "mempool"]);
    const body = (topic: string, n: number) => new FrameDecoder(1 << 20).push(encodeGossip(topic, new Uint8Array(n)))[0];
    expect(checkGossip(body("mempool", 4), topics, limits)).toMatchObject({ ok: true, topic: "mempool" });
    expect(checkGossip(body("mempool", 5), topics, limits)).toEqual({ ok: false, topic: "mempool", reason: "oversize" });
    expect(checkGossip(body("blocks", 1), topics, limits)).toEqual({ ok: false, topic: "unknown", reason: "unknown_topic" });
    expect(checkGossip(Uint8Array.of(3, 0xff, 0xfe, 0xfd), topics, limits)).toEqual({ ok: false, topic: "unknown", reason: "malformed" });
    expect(checkGossip(new Uint8Array(0), topics, limits)).toEqual({ ok: false, topic: "unknown", reason: "malformed" });
  });
});
