// Frames in and out of libp2p streams (v3 streams are event targets that also iterate).
import type { Stream, StreamMessageEvent } from "@libp2p/interface";
import { FrameDecoder, FramingError } from "./framing.ts";

/** A 'message' event's data as one Uint8Array (libp2p hands over a Uint8ArrayList). */
function chunkBytes(data: StreamMessageEvent["data"]): Uint8Array {
  return data instanceof Uint8Array ? data : data.subarray();
}

/**
 * Frames of a long-lived stream, delivered synchronously in order. `onFrame` returns false for a
 * frame that breaks the protocol; that stream, like one that breaks the framing, is aborted (nothing
 * after bad bytes can be trusted) and the sender has to open a new one.
 */
export function readFrames(stream: Stream, maxFrameBytes: number, onFrame: (body: Uint8Array) => boolean, onFramingError: (error: FramingError) => void): void {
  const decoder = new FrameDecoder(maxFrameBytes);
  stream.addEventListener("message", (event) => {
    let frames: Uint8Array[];
    try {
      frames = decoder.push(chunkBytes(event.data));
    } catch (error) {
      if (!(error instanceof FramingError)) throw error;
      stream.abort(error);
      onFramingError(error);
      return;
    }
    for (const frame of frames) {
      if (!onFrame(frame)) {
        stream.abort(new FramingError("protocol violation"));
        return;
      }
    }
  });
}

/** The first frame on `stream`; rejects if the stream ends first, breaks the framing, or `signal` fires. */
export async function readFirstFrame(stream: Stream, maxFrameBytes: number, signal: AbortSignal): Promise<Uint8Array> {
  const decoder = new FrameDecoder(maxFrameBytes);
  const onAbort = () => stream.abort(signal.reason instanceof Error ? signal.reason : new Error("aborted"));
  if (signal.aborted) onAbort();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const chunk of stream) {
      const [frame] = decoder.push(chunkBytes(chunk));
      if (frame !== undefined) return frame;
    }
  } catch (error) {
    if (signal.aborted) throw signal.reason;
    throw error;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
  if (signal.aborted) throw signal.reason;
  throw new Error("stream closed before a complete frame arrived");
}
