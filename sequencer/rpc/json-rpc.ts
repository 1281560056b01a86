// JSON-RPC 2.0 as CometBFT speaks it: the error codes and texts its clients know, methods with named
// (or positional) parameters, batches, and notifications (requests without an id get no reply).
import { decodeJsonParams, decodeUriParams, ParamError, type Args, type ParamSpecs } from "./params.ts";
import type { WsConnection } from "./ws-connection.ts";

export type JsonRpcId = number | string | null;

export interface JsonRpcErrorBody {
  code: number;
  message: string;
  data?: string;
}

export type JsonRpcResponse = { jsonrpc: "2.0"; id: JsonRpcId; result: unknown } | { jsonrpc: "2.0"; id: JsonRpcId; error: JsonRpcErrorBody };

/** An error a method or the transport answers with; `data` says what went wrong, for people. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: string;

  constructor(code: number, message: string, data = "") {
    super(message);
    this.name = "RpcError";
    this.code = code;
    this.data = data;
  }

  toJson(): JsonRpcErrorBody {
    return this.data ? { code: this.code, message: this.message, data: this.data } : { code: this.code, message: this.message };
  }
}

// CometBFT's codes and messages (rpc/jsonrpc/types).
export const parseError = (detail: string) => new RpcError(-32700, "Parse error. Invalid JSON", detail);
export const invalidRequest = (detail: string) => new RpcError(-32600, "Invalid Request", detail);
export const methodNotFound = (detail = "") => new RpcError(-32601, "Method not found", detail);
export const invalidParams = (detail: string) => new RpcError(-32602, "Invalid params", detail);
export const internalError = (detail: string) => new RpcError(-32603, "Internal error", detail);
export const serverError = (detail: string) => new RpcError(-32000, "Server error", detail);
/** CometBFT has no rate limit; -32005 is the code JSON-RPC servers commonly use for one. */
export const rateLimited = (detail: string) => new RpcError(-32005, "Rate limit exceeded", detail);

export function success(id: JsonRpcId, result: unknown): JsonRpcResponse {
  return { jsonrpc: "2.0", id, result };
}

export function failure(id: JsonRpcId, error: RpcError): JsonRpcResponse {
  return { jsonrpc: "2.0", id, error: error.toJson() };
}

export interface CallContext {
  /** The client's IP address (rate limits and subscription limits are per address). */
  remoteAddress: string;
  /** Aborted when the client goes away or the server closes. */
  signal: AbortSignal;
  /** The WebSocket the call came on; undefined over HTTP. */
  connection: WsConnection | undefined;
  /** The request id, which subscriptions reuse for the events they deliver. */
  id: JsonRpcId;
  /** Runs `task` once the reply to this call has been sent (streams start after their confirmation). */
  afterReply(task: () => void): void;
}

export interface RpcMethod {
  /** Parameter names in positional order. */
  readonly paramNames: readonly string[];
  readonly websocketOnly: boolean;
  decodeJson(params: unknown): unknown;
  decodeUri(query: URLSearchParams): unknown;
  call(args: unknown, ctx: CallContext): unknown;
}

/** A method whose handler receives its parameters decoded and typed by `specs`. */
export function method<S extends ParamSpecs>(
  specs: S,
  handler: (args: Args<S>, ctx: CallContext) => unknown,
  options: { websocketOnly?: boolean } = {},
): RpcMethod {
  return {
    paramNames: Object.keys(specs),
    websocketOnly: options.websocketOnly ?? false,
    decodeJson: (params) => decodeJsonParams(specs, params),
    decodeUri: (query) => decodeUriParams(specs, query),
    call: (args, ctx) => handler(args as Args<S>, ctx),
  };
}

export type MethodTable = ReadonlyMap<string, RpcMethod>;

export interface JsonRpcRequest {
  id: JsonRpcId;
  /** False for notifications, which get no reply. */
  hasId: boolean;
  method: string;
  params: unknown;
}

export type ReadRequest = { request: JsonRpcRequest } | { id: JsonRpcId; error: RpcError };

/** Validates one request object of a body or batch. */
export function readRequest(value: unknown): ReadRequest {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return { id: null, error: invalidRequest("a request must be a JSON object") };
  const r = value as Record<string, unknown>;
  if (r.id !== undefined && r.id !== null && typeof r.id !== "number" && typeof r.id !== "string") {
    return { id: null, error: invalidRequest("id must be a number, a string or null") };
  }
  const id = (r.id ?? null) as JsonRpcId;
  if (typeof r.method !== "string" || r.method === "") return { id, error: invalidRequest("method must be a non-empty string") };
  return { request: { id, hasId: r.id !== undefined, method: r.method, params: r.params } };
}

/**
 * Runs one call: finds the method, decodes its parameters and maps failures to JSON-RPC errors.
 * Errors that are not RpcErrors are bugs or I/O failures: logged, and answered as internal errors.
 */
export async function execute(
  methods: MethodTable,
  request: JsonRpcRequest,
  ctx: CallContext,
  transport: { uri?: URLSearchParams; onUnexpected: (error: unknown, method: string) => void },
): Promise<JsonRpcResponse> {
  const m = methods.get(request.method);
  if (!m) return failure(request.id, methodNotFound(`no method ${JSON.stringify(request.method)}; GET / lists the methods`));
  if (m.websocketOnly && !ctx.connection) return failure(request.id, methodNotFound(`${request.method} is only available over WebSocket, at /websocket`));
  try {
    const args = transport.uri ? m.decodeUri(transport.uri) : m.decodeJson(request.params);
    return success(request.id, await m.call(args, ctx));
  } catch (error) {
    if (error instanceof ParamError) return failure(request.id, invalidParams(error.message));
    if (error instanceof RpcError) return failure(request.id, error);
    transport.onUnexpected(error, request.method);
    return failure(request.id, internalError(error instanceof Error ? error.message : String(error)));
  }
}
