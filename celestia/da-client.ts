// A typed client for celestia-node's blob, header and state API: a real node and the local DA
// server alike. It distrusts the node: every blob it returns has its commitment recomputed, every
// header has its row and column roots checked against data_hash, and `getAllVerified` proves each
// blob against the header's row roots.
import { toBase64 } from "../cometbft/hash.ts";
import { blobFromJson, blobToJson, checkCommitment, newBlob, type Blob, type BlobJson } from "./blob.ts";
import { verifyBlobInclusion } from "./blob-inclusion.ts";
import { parseExtendedHeader, verifyDataHash, type ExtendedHeader, type ExtendedHeaderJson } from "./header.ts";
import { createJsonRpcClient, type CallOptions, type JsonRpcClient, type RetryPolicy, type RpcSubscription } from "./json-rpc/index.ts";
import type { Namespace } from "./namespace.ts";
import { nmtRangeProofFromJson, nmtRangeProofToJson, type NmtRangeProof } from "./nmt.ts";
import type { CelestiaBlob } from "./share.ts";
import type { TxConfigJson } from "./tx-config.ts";

export type { TxConfigJson };

export interface DaClientOptions {
  /** celestia-node's RPC endpoint, e.g. http://127.0.0.1:26658. */
  url: string;
  /** Auth token (a JWT for celestia-node, `--auth-token` for the local server). */
  token?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy> | false;
}

export interface BlobsAtHeight {
  height: number;
  blobs: Blob[];
  /** The raw header as blob.Subscribe sends it (the CometBFT header only). */
  header: unknown;
}

function blobs(json: unknown, method: string): Blob[] {
  if (json === null) return [];
  if (!Array.isArray(json)) throw new Error(`${method}: the node answered ${typeof json}, expected a list of blobs`);
  return json.map((b) => {
    const blob = blobFromJson(b);
    checkCommitment(blob);
    return blob;
  });
}

function header(json: unknown): ExtendedHeader {
  const parsed = parseExtendedHeader(json as ExtendedHeaderJson);
  verifyDataHash(parsed);
  return parsed;
}

export class DaClient {
  readonly #rpc: JsonRpcClient;

  constructor(o: DaClientOptions) {
    this.#rpc = createJsonRpcClient({ url: o.url, token: o.token, timeoutMs: o.timeoutMs, retry: o.retry });
  }

  async close(): Promise<void> {
    await this.#rpc.close();
  }

  /**
   * Submits blobs in one pay-for-blobs; resolves with the inclusion height. Not retried by default:
   * a retry after a lost answer can include the blobs twice (pass `retry: true` when that is fine).
   */
  async submit(input: readonly (CelestiaBlob | Blob)[], config: TxConfigJson = {}, opts: CallOptions = {}): Promise<number> {
    const json: BlobJson[] = input.map((b) => blobToJson("commitment" in b ? b : newBlob(b)));
    return this.#rpc.call<number>("blob.Submit", [json, config], { retry: false, ...opts });
  }

  async get(height: number, namespace: Namespace, commitment: Uint8Array, opts?: CallOptions): Promise<Blob> {
    const [blob] = blobs([await this.#rpc.call("blob.Get", [height, toBase64(namespace), toBase64(commitment)], opts)], "blob.Get");
    if (Buffer.compare(blob.commitment, commitment) !== 0) throw new Error("blob.Get: the node returned a different blob than asked for");
    return blob;
  }

  /** All blobs in these namespaces at `height` (empty when there are none). */
  async getAll(height: number, namespaces: readonly Namespace[], opts?: CallOptions): Promise<Blob[]> {
    return blobs(await this.#rpc.call("blob.GetAll", [height, namespaces.map(toBase64)], opts), "blob.GetAll");
  }

  async getProof(height: number, namespace: Namespace, commitment: Uint8Array, opts?: CallOptions): Promise<NmtRangeProof[]> {
    const json = await this.#rpc.call<unknown[]>("blob.GetProof", [height, toBase64(namespace), toBase64(commitment)], opts);
    if (!Array.isArray(json)) throw new Error("blob.GetProof: the node answered something other than a list of proofs");
    return json.map(nmtRangeProofFromJson);
  }

  async included(height: number, namespace: Namespace, proof: readonly NmtRangeProof[], commitment: Uint8Array, opts?: CallOptions): Promise<boolean> {
    return this.#rpc.call<boolean>("blob.Included", [height, toBase64(namespace), proof.map(nmtRangeProofToJson), toBase64(commitment)], opts);
  }

  /**
   * Every blob of `namespace` at `height`, each proven against the header's row roots (which are
   * checked against its data_hash). Throws when the node's answer does not add up.
   */
  async getAllVerified(height: number, namespace: Namespace, opts?: CallOptions): Promise<{ header: ExtendedHeader; blobs: Blob[] }> {
    const [h, found] = await Promise.all([this.headerByHeight(height, opts), this.getAll(height, [namespace], opts)]);
    for (const blob of found) verifyBlobInclusion(blob, await this.getProof(height, namespace, blob.commitment, opts), h, found);
    return { header: h, blobs: found };
  }

  async subscribeBlobs(namespace: Namespace): Promise<AsyncIterable<BlobsAtHeight> & { cancel(): Promise<void> }> {
    const sub = await this.#rpc.subscribe<{ Blobs: unknown; Height: number; Header: unknown }>("blob.Subscribe", [toBase64(namespace)]);
    return {
      cancel: () => sub.cancel(),
      async *[Symbol.asyncIterator]() {
        for await (const value of sub) yield { height: value.Height, blobs: blobs(value.Blobs, "blob.Subscribe"), header: value.Header };
      },
    };
  }

  async headerByHeight(height: number, opts?: CallOptions): Promise<ExtendedHeader> {
    return header(await this.#rpc.call("header.GetByHeight", [height], opts));
  }

  async waitForHeight(height: number, opts?: CallOptions): Promise<ExtendedHeader> {
    return header(await this.#rpc.call("header.WaitForHeight", [height], opts));
  }

  async localHead(opts?: CallOptions): Promise<ExtendedHeader> {
    return header(await this.#rpc.call("header.LocalHead", [], opts));
  }

  async networkHead(opts?: CallOptions): Promise<ExtendedHeader> {
    return header(await this.#rpc.call("header.NetworkHead", [], opts));
  }

  async subscribeHeaders(): Promise<AsyncIterable<ExtendedHeader> & { cancel(): Promise<void> }> {
    const sub: RpcSubscription<unknown> = await this.#rpc.subscribe("header.Subscribe", []);
    return {
      cancel: () => sub.cancel(),
      async *[Symbol.asyncIterator]() {
        for await (const value of sub) yield header(value);
      },
    };
  }

  async balance(opts?: CallOptions): Promise<{ denom: string; amount: bigint }> {
    const b = await this.#rpc.call<{ denom: string; amount: string }>("state.Balance", [], opts);
    return { denom: b.denom, amount: BigInt(b.amount) };
  }
}
