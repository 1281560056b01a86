// Wire-level constants and helpers shared by the server and the client (go-jsonrpc's protocol).

/** Built-in methods of go-jsonrpc's WebSocket mode. */
export const CH_VALUE = "xrpc.ch.val";
export const CH_CLOSE = "xrpc.ch.close";
export const CANCEL = "xrpc.cancel";

export type Permission = "public" | "read" | "write" | "admin";
/** celestia-node's permission sets (api/rpc/perms). */
export const ALL_PERMS: readonly Permission[] = ["public", "read", "write", "admin"];
export const DEFAULT_PERMS: readonly Permission[] = ["public"];

/** Request bodies are capped like celestia-node's (2 x MaxTxSize = 16 MiB). */
export const DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024;
/** A stream is closed once this many of its messages wait unsent (blob.Subscribe's channel buffer). */
export const DEFAULT_STREAM_BUFFER = 16;

export type JsonRpcId = string | number | null;

/** Any value with `[Symbol.asyncIterator]`. */
export function isAsyncIterable(v: unknown): v is AsyncIterable<unknown> {
  return v !== null && (typeof v === "object" || typeof v === "function") && typeof (v as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === "function";
}

/** A key for an id that keeps `1` and `"1"` apart. */
export function idKey(id: string | number): string {
  return typeof id === "number" ? `n:${id}` : `s:${id}`;
}

/** The Go type name encoding/json would report for a JSON value (used in go-jsonrpc's error texts). */
export function goJsonKind(v: unknown): string {
  if (Array.isArray(v)) return "array";
  if (v === null) return "null";
  if (typeof v === "object") return "object";
  if (typeof v === "boolean") return "bool";
  return typeof v; // "number" | "string"
}

/** The Go dynamic type of a decoded `interface{}` value (go-jsonrpc's "invalid id type: %T"). */
export function goDynamicType(v: unknown): string {
  if (Array.isArray(v)) return "[]interface {}";
  if (typeof v === "object" && v !== null) return "map[string]interface {}";
  if (typeof v === "boolean") return "bool";
  return typeof v;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(t);
      reject(signal!.reason);
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** The minimal logger interface this transport uses; a pino logger fits. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
