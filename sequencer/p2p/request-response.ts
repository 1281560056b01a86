// Request/response over a fresh stream per request: the client writes one frame and half-closes, the
// server answers with one status-tagged frame and closes. A stream per request costs one yamux
// stream header (no extra round trip: the protocol is negotiated optimistically with the request),
// and keeps a slow response from blocking anything else.
import type { Logger } from "pino";
import type { Connection, Stream } from "@libp2p/interface";
import {
  decodeResponse,
  decodeText,
  encodeErrorResponse,
  encodeFrame,
  encodeResponse,
  FrameTooLargeError,
  RESPONSE_ERROR,
  RESPONSE_OK,
  RESPONSE_THROTTLED,
} from "./framing.ts";
import { readFirstFrame } from "./stream-io.ts";
import type { P2pMetrics } from "./metrics.ts";
import type { Semaphore } from "./semaphore.ts";

export type RequestErrorCode = "not_connected" | "timeout" | "oversize" | "throttled" | "remote_error" | "failed";

export class RequestError extends Error {
  override name = "RequestError";
  readonly code: RequestErrorCode;
  constructor(code: RequestErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export type RequestHandler = (from: string, request: Uint8Array) => Uint8Array | Promise<Uint8Array>;

/** A frame body for a response is a status byte and the payload. */
const STATUS_BYTES = 1;

/** How long a server waits for a request to arrive on a stream a client opened. */
const SERVER_READ_TIMEOUT_MS = 10_000;

function timeoutSignal(ms: number, message: string): { signal: AbortSignal; clear: () => void } {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new RequestError("timeout", message)), ms);
  return { signal: controller.signal, clear: () => clearTimeout(timer) };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export interface ClientContext {
  connection: Connection | undefined;
  maxMessageBytes: number;
  /** Requests in flight to this peer on this protocol; waiting for a permit counts toward the timeout. */
  slots: Semaphore;
  metrics: P2pMetrics;
}

export async function sendRequest(ctx: ClientContext, peer: string, protocol: string, payload: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
  const { metrics } = ctx;
  const fail = (code: RequestErrorCode, message: string, cause?: unknown): never => {
    metrics.requests.inc({ protocol, side: "client", result: code });
    throw new RequestError(code, message, cause === undefined ? undefined : { cause });
  };
  if (payload.length > ctx.maxMessageBytes) fail("oversize", `request of ${payload.length} bytes exceeds ${protocol}'s limit of ${ctx.maxMessageBytes}`);
  if (ctx.connection === undefined) fail("not_connected", `not connected to ${peer}`);
  const started = performance.now();
  const { signal, clear } = timeoutSignal(timeoutMs, `${protocol} request to ${peer} timed out after ${timeoutMs} ms`);
  let stream: Stream | undefined;
  let body: Uint8Array;
  let release: (() => void) | undefined;
  try {
    release = await ctx.slots.acquire(signal);
    stream = await ctx.connection!.newStream(protocol, { signal, negotiateFully: false });
    stream.send(encodeFrame(payload));
    await stream.close({ signal });
    body = await readFirstFrame(stream, ctx.maxMessageBytes + STATUS_BYTES, signal);
  } catch (error) {
    stream?.abort(asError(error));
    if (signal.aborted) fail("timeout", `${protocol} request to ${peer} timed out after ${timeoutMs} ms`);
    if (error instanceof FrameTooLargeError) fail("oversize", `${protocol} response from ${peer} exceeds the limit of ${ctx.maxMessageBytes} bytes`, error);
    fail("failed", `${protocol} request to ${peer} failed: ${asError(error).message}`, error);
  } finally {
    clear();
    release?.();
  }
  metrics.messagesSent.inc({ topic: protocol });
  metrics.bytesSent.inc({ topic: protocol }, payload.length);
  let response: ReturnType<typeof decodeResponse>;
  try {
    response = decodeResponse(body!);
  } catch (error) {
    return fail("failed", `${protocol} response from ${peer} is malformed: ${asError(error).message}`, error);
  }
  if (response.status === RESPONSE_THROTTLED) fail("throttled", `${peer} throttled our ${protocol} request: ${decodeText(response.payload)}`);
  if (response.status === RESPONSE_ERROR) fail("remote_error", `${peer} failed our ${protocol} request: ${decodeText(response.payload)}`);
  metrics.requests.inc({ protocol, side: "client", result: "ok" });
  metrics.requestSeconds.observe({ protocol }, (performance.now() - started) / 1000);
  metrics.messagesReceived.inc({ topic: protocol });
  metrics.bytesReceived.inc({ topic: protocol }, response.payload.length);
  return response.payload;
}

export interface ServerContext {
  from: string;
  protocol: string;
  maxMessageBytes: number;
  /** Rate limiting of the peer on this protocol, with its logging and side effects. */
  admit: (bytes: number) => boolean;
  metrics: P2pMetrics;
  log: Logger;
}

export async function serveRequest(stream: Stream, handler: RequestHandler, ctx: ServerContext): Promise<void> {
  const { from, protocol, metrics, log } = ctx;
  const count = (result: string) => metrics.requests.inc({ protocol, side: "server", result });
  const { signal, clear } = timeoutSignal(SERVER_READ_TIMEOUT_MS, `no ${protocol} request from ${from} within ${SERVER_READ_TIMEOUT_MS} ms`);
  let request: Uint8Array;
  try {
    request = await readFirstFrame(stream, ctx.maxMessageBytes, signal);
  } catch (error) {
    stream.abort(asError(error));
    if (error instanceof FrameTooLargeError) {
      metrics.dropped.inc({ topic: protocol, reason: "oversize" });
      log.warn({ peer: from, protocol, bytes: error.length, limit: ctx.maxMessageBytes }, "peer sent an oversize request; stream reset");
    }
    count("failed");
    return;
  } finally {
    clear();
  }
  if (!ctx.admit(request.length)) {
    count("throttled");
    await respond(stream, encodeErrorResponse(RESPONSE_THROTTLED, "rate limit exceeded"));
    return;
  }
  metrics.messagesReceived.inc({ topic: protocol });
  metrics.bytesReceived.inc({ topic: protocol }, request.length);
  let response: Uint8Array;
  try {
    response = await handler(from, request);
  } catch (error) {
    log.warn({ peer: from, protocol, err: error }, "request handler failed");
    count("error");
    await respond(stream, encodeErrorResponse(RESPONSE_ERROR, asError(error).message));
    return;
  }
  if (response.length > ctx.maxMessageBytes) {
    // Our own bug (the handler built too big an answer): say so locally and to the peer.
    log.error({ peer: from, protocol, bytes: response.length, limit: ctx.maxMessageBytes }, "request handler returned an oversize response");
    count("error");
    await respond(stream, encodeErrorResponse(RESPONSE_ERROR, "response too large"));
    return;
  }
  if (await respond(stream, encodeResponse(RESPONSE_OK, response))) {
    count("ok");
    metrics.messagesSent.inc({ topic: protocol });
    metrics.bytesSent.inc({ topic: protocol }, response.length);
  } else {
    count("failed");
  }
}

/** Writes the response and closes; false if the client went away first (e.g. it timed out). */
async function respond(stream: Stream, frame: Uint8Array): Promise<boolean> {
  try {
    stream.send(frame);
    await stream.close();
    return true;
  } catch (error) {
    stream.abort(asError(error));
    return false;
  }
}
