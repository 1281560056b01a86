// Framing on the streams: every frame is an unsigned LEB128 length then that many bytes. A gossip
// frame's body is a one-byte topic length, the topic (UTF-8) and the payload; a request is the bare
// payload; a response is a status byte and the payload (or an error text).
//
// The decoder learns a frame's length from its first bytes and refuses one over the limit before
// buffering it, so a peer cannot make us hold more than one maximal frame per stream.

/** Lengths take at most 4 LEB128 bytes: frames are capped far below 256 MiB. */
const MAX_LENGTH_BYTES = 4;
const MAX_TOPIC_BYTES = 255;

export const RESPONSE_OK = 0;
export const RESPONSE_ERROR = 1;
export const RESPONSE_THROTTLED = 2;
export type ResponseStatus = typeof RESPONSE_OK | typeof RESPONSE_ERROR | typeof RESPONSE_THROTTLED;

export class FramingError extends Error {
  override name = "FramingError";
}

/** A frame whose declared length exceeds the limit; nothing of it was buffered. */
export class FrameTooLargeError extends FramingError {
  override name = "FrameTooLargeError";
  readonly length: number;
  constructor(length: number, max: number) {
    super(`frame of ${length} bytes exceeds the limit of ${max}`);
    this.length = length;
  }
}

function lengthPrefixSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size += 1;
  }
  return size;
}

function writeLengthPrefix(out: Uint8Array, n: number): number {
  let offset = 0;
  while (n >= 0x80) {
    out[offset++] = (n & 0x7f) | 0x80;
    n = Math.floor(n / 0x80);
  }
  out[offset++] = n;
  return offset;
}

/** One frame whose body is the concatenation of `parts`, in a single allocation. */
export function encodeFrame(...parts: Uint8Array[]): Uint8Array {
  const bodyLength = parts.reduce((sum, p) => sum + p.length, 0);
  const out = new Uint8Array(lengthPrefixSize(bodyLength) + bodyLength);
  let offset = writeLengthPrefix(out, bodyLength);
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

/** Bytes a gossip frame body adds to its payload for `topic`. */
export function gossipOverhead(topic: string): number {
  return 1 + utf8.encode(topic).length;
}

export function encodeGossip(topic: string, payload: Uint8Array): Uint8Array {
  const name = utf8.encode(topic);
  if (name.length === 0 || name.length > MAX_TOPIC_BYTES) throw new RangeError(`topic must be 1-${MAX_TOPIC_BYTES} UTF-8 bytes`);
  return encodeFrame(Uint8Array.of(name.length), name, payload);
}

export function decodeGossip(body: Uint8Array): { topic: string; payload: Uint8Array } {
  const nameLength = body[0];
  if (nameLength === undefined || nameLength === 0 || body.length < 1 + nameLength) throw new FramingError("gossip frame without a topic");
  let topic: string;
  try {
    topic = utf8Decoder.decode(body.subarray(1, 1 + nameLength));
  } catch {
    throw new FramingError("gossip topic is not UTF-8");
  }
  return { topic, payload: body.subarray(1 + nameLength) };
}

export function encodeResponse(status: ResponseStatus, payload: Uint8Array): Uint8Array {
  return encodeFrame(Uint8Array.of(status), payload);
}

export function encodeErrorResponse(status: typeof RESPONSE_ERROR | typeof RESPONSE_THROTTLED, message: string): Uint8Array {
  return encodeResponse(status, utf8.encode(message.slice(0, 512)));
}

export function decodeResponse(body: Uint8Array): { status: ResponseStatus; payload: Uint8Array } {
  const status = body[0];
  if (status !== RESPONSE_OK && status !== RESPONSE_ERROR && status !== RESPONSE_THROTTLED) throw new FramingError(`unknown response status ${status}`);
  return { status, payload: body.subarray(1) };
}

export function decodeText(bytes: Uint8Array): string {
  return new TextDecoder().decode(bytes);
}

/**
 * Turns a byte stream, cut anywhere, back into frame bodies. Each body is a fresh copy: a handler may
 * keep it (a mempool keeps transactions for minutes) without pinning the network's receive buffers.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number;
  #chunks: Uint8Array[] = [];
  /** Offset of the first unread byte in #chunks[0]. */
  #offset = 0;
  #buffered = 0;
  /** Length of the frame being assembled, once its prefix has been read. */
  #bodyLength = -1;

  constructor(maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes(): number {
    return this.#buffered;
  }

  /** Frames completed by `chunk`. Throws FramingError when the stream cannot be a valid one. */
  push(chunk: Uint8Array): Uint8Array[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: Uint8Array[] = [];
    for (;;) {
      if (this.#bodyLength < 0) {
        const length = this.#readLength();
        if (length === undefined) return frames;
        this.#bodyLength = length;
      }
      if (this.#buffered < this.#bodyLength) return frames;
      frames.push(this.#take(this.#bodyLength));
      this.#bodyLength = -1;
    }
  }

  #readLength(): number | undefined {
    let value = 0;
    let scale = 1;
    let index = 0;
    let chunk = 0;
    let offset = this.#offset;
    while (chunk < this.#chunks.length) {
      const bytes = this.#chunks[chunk];
      if (offset >= bytes.length) {
        chunk += 1;
        offset = 0;
        continue;
      }
      const byte = bytes[offset++];
      value += (byte & 0x7f) * scale;
      index += 1;
      if ((byte & 0x80) === 0) {
        if (index > 1 && byte === 0) throw new FramingError("non-minimal frame length");
        if (value > this.maxFrameBytes) throw new FrameTooLargeError(value, this.maxFrameBytes);
        this.#skip(index);
        return value;
      }
      if (index === MAX_LENGTH_BYTES) throw new FramingError("frame length prefix too long");
      scale *= 0x80;
      // A prefix already past the limit is refused before its remaining bytes arrive.
      if (value > this.maxFrameBytes) throw new FrameTooLargeError(value, this.maxFrameBytes);
    }
    return undefined;
  }

  #skip(n: number): void {
    this.#buffered -= n;
    while (n > 0) {
      const head = this.#chunks[0];
      const step = Math.min(n, head.length - this.#offset);
      this.#offset += step;
      n -= step;
      if (this.#offset === head.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
  }

  #take(n: number): Uint8Array {
    const head = this.#chunks[0];
    if (head !== undefined && head.length - this.#offset >= n) {
      // The common case, many small frames per chunk: one allocation and copy, no view objects.
      const out = head.slice(this.#offset, this.#offset + n);
      this.#skip(n);
      return out;
    }
    const out = new Uint8Array(n);
    let written = 0;
    while (written < n) {
      const head = this.#chunks[0];
      const step = Math.min(n - written, head.length - this.#offset);
      out.set(head.subarray(this.#offset, this.#offset + step), written);
      written += step;
      this.#offset += step;
      if (this.#offset === head.length) {
        this.#chunks.shift();
        this.#offset = 0;
      }
    }
    this.#buffered -= n;
    return out;
  }
}
