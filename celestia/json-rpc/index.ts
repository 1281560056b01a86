// celestia-node-compatible JSON-RPC transport: server, client and their error types.
export { createJsonRpcServer } from "./server.ts";
export type {
  JsonRpcServer,
  JsonRpcServerOptions,
  JsonRpcListener,
  ListenOptions,
  MethodContext,
  MethodSpec,
  MethodTable,
  UnaryMethod,
  StreamMethod,
  StreamSource,
  StreamSubscription,
  StreamEndInfo,
  StreamEndReason,
  TokenVerifier,
} from "./server.ts";
export { createJsonRpcClient, DEFAULT_RETRY, DEFAULT_TIMEOUT_MS } from "./client.ts";
export type { JsonRpcClient, JsonRpcClientOptions, CallOptions, RetryPolicy, RpcSubscription } from "./client.ts";
export {
  RpcError,
  ParamsDecodeError,
  AuthError,
  TransportError,
  TimeoutError,
  PARSE_ERROR,
  INVALID_REQUEST,
  METHOD_NOT_FOUND,
  INVALID_PARAMS,
  METHOD_ERROR_CODE,
} from "./errors.ts";
export { ALL_PERMS, DEFAULT_PERMS, DEFAULT_MAX_BODY_BYTES, DEFAULT_STREAM_BUFFER, CH_VALUE, CH_CLOSE, CANCEL } from "./protocol.ts";
export type { Permission, Logger, JsonRpcId } from "./protocol.ts";
