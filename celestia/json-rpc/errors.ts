// Error types shared by the JSON-RPC server and client.
//
// The codes and texts follow go-jsonrpc (the library celestia-node serves its API with), so that a
// client cannot tell this transport from a real celestia-node.

/** Standard JSON-RPC 2.0 protocol error codes, as go-jsonrpc uses them. */
export const PARSE_ERROR = -32700;
export const INVALID_REQUEST = -32600;
export const METHOD_NOT_FOUND = -32601;
export const INVALID_PARAMS = -32602;
/** go-jsonrpc answers every error a method returns with code 1 unless the error type was registered. */
export const METHOD_ERROR_CODE = 1;

/**
 * A JSON-RPC error object: on the server, a handler throws it to answer with a specific code; on the
 * client, it is what a call rejects with when the server answered with an `error` member.
 *
 * `message` is exactly the server's message text (e.g. `blob: not found`), so callers can match it.
 */
export class RpcError extends Error {
  override name = "RpcError";
  readonly code: number;
  /** The method that was called, when known (always set on the client). */
  readonly method: string | undefined;
  /** The `data` member of the error object, if any. */
  readonly data: unknown;
  /** The HTTP status of the response that carried the error (client side, HTTP transport only). */
  readonly httpStatus: number | undefined;

  constructor(code: number, message: string, opts: { method?: string; data?: unknown; httpStatus?: number } = {}) {
    super(message);
    this.code = code;
    this.method = opts.method;
    this.data = opts.data;
    this.httpStatus = opts.httpStatus;
  }
}

/**
 * Thrown by a handler (or a method's `decode` step) when its params do not decode, e.g. a 28-byte
 * namespace. The server answers -32700 with go-jsonrpc's text:
 * `unmarshaling params for '<method>' (param: <param>): <detail>`.
 */
export class ParamsDecodeError extends Error {
  override name = "ParamsDecodeError";
  /** How the failing parameter is named in the message (go-jsonrpc prints its Go type, e.g. `*share.Namespace`). */
  readonly param: string | undefined;

  constructor(detail: string, param?: string) {
    super(detail);
    this.param = param;
  }
}

/** The server answered HTTP 401/403: the token is bad, expired, or not sent as `Bearer <token>`. */
export class AuthError extends Error {
  override name = "AuthError";
  readonly status: number;
  readonly method: string | undefined;

  constructor(message: string, opts: { status: number; method?: string }) {
    super(message);
    this.status = opts.status;
    this.method = opts.method;
  }
}

/**
 * The request did not get a JSON-RPC answer: connection refused or reset, timeout, an HTTP error
 * without a JSON-RPC body, a WebSocket that closed. `retryable` says whether the client's retry
 * policy treats it as transient.
 */
export class TransportError extends Error {
  override name = "TransportError";
  readonly method: string | undefined;
  readonly retryable: boolean;
  /** HTTP status, when the failure was an HTTP response. */
  readonly status: number | undefined;
  /** How many attempts were made in all (set by the client once it gives up). */
  attempts = 1;

  constructor(message: string, opts: { method?: string; retryable: boolean; status?: number; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.method = opts.method;
    this.retryable = opts.retryable;
    this.status = opts.status;
  }
}

/** An attempt took longer than the per-call timeout. Transient: retried under the retry policy. */
export class TimeoutError extends TransportError {
  override name = "TimeoutError";
  readonly timeoutMs: number;

  constructor(message: string, opts: { method?: string; timeoutMs: number }) {
    super(message, { method: opts.method, retryable: true });
    this.timeoutMs = opts.timeoutMs;
  }
}
