// Calls to a sequencer node's JSON-RPC methods that cosmjs does not wrap (metro_receipt,
// metro_tx_rollup, metro_da_status, validators), with errors that say what to do.
import { reasonOf } from "./output.ts";

/** A JSON-RPC error the node answered with (the method ran and refused). */
export class RpcError extends Error {
  readonly code: number;

  constructor(code: number, message: string) {
    super(message);
    this.code = code;
  }
}

export function unreachableSequencer(url: string, error: unknown): Error {
  return new Error(`cannot reach the sequencer at ${url} (${reasonOf(error)}); is it running? Start a devnet with \`npm start\` or pass --node <rpc url>`);
}

/** POSTs one JSON-RPC call; throws RpcError for an error answer, and a "cannot reach" error otherwise. */
export async function rpcCall<T>(url: string, method: string, params: Record<string, unknown> = {}): Promise<T> {
  let body: { result?: T; error?: { code: number; message: string; data?: string } };
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(10_000),
    });
    body = (await response.json()) as typeof body;
  } catch (error) {
    throw unreachableSequencer(url, error);
  }
  if (body.error) throw new RpcError(body.error.code, body.error.data || body.error.message);
  return body.result as T;
}
