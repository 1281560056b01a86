// celestia-node's blob, header and state methods, served from the local DA network with
// celestia-node's parameter decoding, permissions, errors and texts.
import { blobCommitment } from "../commitment.ts";
import { blobFromJson, blobToJson, type Blob, type BlobJson } from "../blob.ts";
import { blobProof } from "../data-square.ts";
import type { ExtendedHeaderJson } from "../header.ts";
import { ParamsDecodeError, type MethodTable } from "../json-rpc/index.ts";
import { namespaceFromBytes, namespacesEqual, NamespaceError, type Namespace } from "../namespace.ts";
import { nmtRangeProofFromJson, nmtRangeProofToJson, NmtError, type NmtRangeProof } from "../nmt.ts";
import { sparseSharesNeeded } from "../share.ts";
import type { LocalDaChain } from "./chain.ts";
import type { TxConfigJson } from "../tx-config.ts";

const BLOB_NOT_FOUND = "blob: not found";

function base64Param(value: unknown, goType: string): Uint8Array {
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw new ParamsDecodeError("illegal base64 data", goType);
  return new Uint8Array(Buffer.from(value, "base64"));
}

function heightParam(value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new ParamsDecodeError(`json: cannot unmarshal ${JSON.stringify(value)} into Go value of type uint64`, "uint64");
  }
  return value;
}

function namespaceParam(value: unknown): Namespace {
  try {
    return namespaceFromBytes(base64Param(value, "share.Namespace"));
  } catch (error) {
    if (error instanceof NamespaceError) throw new ParamsDecodeError(error.message, "share.Namespace");
    throw error;
  }
}

function blobsParam(value: unknown): Blob[] {
  if (!Array.isArray(value)) throw new ParamsDecodeError("json: cannot unmarshal into Go value of type []*blob.Blob", "[]*blob.Blob");
  return value.map((json) => {
    try {
      return blobFromJson(json);
    } catch (error) {
      throw new ParamsDecodeError((error as Error).message, "[]*blob.Blob");
    }
  });
}

function proofParam(value: unknown): NmtRangeProof[] {
  if (!Array.isArray(value)) throw new ParamsDecodeError("json: cannot unmarshal into Go value of type blob.Proof", "*blob.Proof");
  try {
    return value.map(nmtRangeProofFromJson);
  } catch (error) {
    if (error instanceof NmtError) throw new ParamsDecodeError(error.message, "*blob.Proof");
    throw error;
  }
}

function txConfigParam(value: unknown): TxConfigJson {
  if (value === null || value === undefined) return {};
  if (typeof value !== "object" || Array.isArray(value)) throw new ParamsDecodeError("json: cannot unmarshal into Go value of type state.TxConfig", "*state.TxConfig");
  return value as TxConfigJson;
}

function sameProofs(a: readonly NmtRangeProof[], b: readonly NmtRangeProof[]): boolean {
  return a.length === b.length && a.every((p, i) => JSON.stringify(nmtRangeProofToJson(p)) === JSON.stringify(nmtRangeProofToJson(b[i])));
}

export function localDaMethods(chain: LocalDaChain): MethodTable {
  /** celestia-node's header lookup: 0 and heights past the next one are errors, the next one waits. */
  const headerAt = (height: number, signal: AbortSignal): Promise<ExtendedHeaderJson> => {
    if (height === 0) throw new Error("height is equal to 0");
    if (height > chain.head + 1) throw new Error(`header: given height is from the future: networkHeight: ${chain.head}, requestedHeight: ${height}`);
    return chain.waitForHeight(height, signal);
  };

  const blobsAt = async (height: number, signal: AbortSignal): Promise<Blob[]> => {
    await headerAt(height, signal);
    return (await chain.block(height))?.blobs ?? [];
  };

  const findBlob = async (height: number, ns: Namespace, commitment: Uint8Array, signal: AbortSignal): Promise<Blob | undefined> =>
    (await blobsAt(height, signal)).find((b) => namespacesEqual(b.namespace, ns) && Buffer.compare(b.commitment, commitment) === 0);

  const proofOf = async (height: number, blob: Blob): Promise<NmtRangeProof[]> => {
    const square = (await chain.square(height))!;
    return blobProof(square, blob, sparseSharesNeeded(blob.data.length, blob.shareVersion === 1));
  };

  const liveHeaders = (signal: AbortSignal): AsyncIterable<ExtendedHeaderJson> => ({
    [Symbol.asyncIterator]() {
      const queued: ExtendedHeaderJson[] = [];
      let wake: (() => void) | undefined;
      const off = chain.onHeader((h) => {
        queued.push(h);
        wake?.();
      });
      signal.addEventListener("abort", () => wake?.());
      return {
        async next() {
          while (queued.length === 0 && !signal.aborted) await new Promise<void>((r) => (wake = r));
          if (signal.aborted) {
            off();
            return { done: true, value: undefined };
          }
          return { done: false, value: queued.shift()! };
        },
        async return() {
          off();
          return { done: true, value: undefined };
        },
      };
    },
  });

  return {
    "blob.Submit": {
      perm: "write",
      arity: 2,
      decode: ([blobs, config]) => [blobsParam(blobs), txConfigParam(config)],
      handler: ([blobs, config]) => {
        // Whatever commitment a client sent, the network commits to what the data produces.
        const fresh = (blobs as Blob[]).map((b) => ({ ...b, commitment: blobCommitment(b), index: -1 }));
        return chain.submit(fresh, config as TxConfigJson);
      },
    },
    "blob.Get": {
      perm: "read",
      arity: 3,
      decode: ([h, ns, c]) => [heightParam(h), namespaceParam(ns), base64Param(c, "blob.Commitment")],
      handler: async ([h, ns, c], ctx) => {
        const blob = await findBlob(h as number, ns as Namespace, c as Uint8Array, ctx.signal);
        if (!blob) throw new Error(BLOB_NOT_FOUND);
        return blobToJson(blob);
      },
    },
    "blob.GetAll": {
      perm: "read",
      arity: 2,
      decode: ([h, nss]) => {
        if (!Array.isArray(nss)) throw new ParamsDecodeError("json: cannot unmarshal into Go value of type []share.Namespace", "[]share.Namespace");
        return [heightParam(h), nss.map(namespaceParam)];
      },
      handler: async ([h, nss], ctx) => {
        const blobs = await blobsAt(h as number, ctx.signal);
        const found: BlobJson[] = (nss as Namespace[]).flatMap((ns) => blobs.filter((b) => namespacesEqual(b.namespace, ns)).map(blobToJson));
        return found.length === 0 ? null : found;
      },
    },
    "blob.GetProof": {
      perm: "read",
      arity: 3,
      decode: ([h, ns, c]) => [heightParam(h), namespaceParam(ns), base64Param(c, "blob.Commitment")],
      handler: async ([h, ns, c], ctx) => {
        const blob = await findBlob(h as number, ns as Namespace, c as Uint8Array, ctx.signal);
        if (!blob) throw new Error(BLOB_NOT_FOUND);
        return (await proofOf(h as number, blob)).map(nmtRangeProofToJson);
      },
    },
    "blob.Included": {
      perm: "read",
      arity: 4,
      decode: ([h, ns, proof, c]) => [heightParam(h), namespaceParam(ns), proofParam(proof), base64Param(c, "blob.Commitment")],
      handler: async ([h, ns, proof, c], ctx) => {
        const blob = await findBlob(h as number, ns as Namespace, c as Uint8Array, ctx.signal);
        if (!blob) return false;
        if (!sameProofs(await proofOf(h as number, blob), proof as NmtRangeProof[])) throw new Error("blob: invalid proof");
        return true;
      },
    },
    "blob.Subscribe": {
      perm: "read",
      arity: 1,
      stream: true,
      decode: ([ns]) => [namespaceParam(ns)],
      handler: ([ns], ctx) => ({
        async *[Symbol.asyncIterator]() {
          for await (const header of liveHeaders(ctx.signal)) {
            const height = Number(header.header.height);
            const blobs = ((await chain.block(height))?.blobs ?? []).filter((b) => namespacesEqual(b.namespace, ns as Namespace));
            yield { Blobs: blobs.length === 0 ? null : blobs.map(blobToJson), Height: height, Header: header.header };
          }
        },
      }),
    },
    "header.GetByHeight": {
      perm: "read",
      arity: 1,
      decode: ([h]) => [heightParam(h)],
      handler: ([h], ctx) => headerAt(h as number, ctx.signal),
    },
    "header.WaitForHeight": {
      perm: "read",
      arity: 1,
      decode: ([h]) => [heightParam(h)],
      handler: ([h], ctx) => {
        if (h === 0) throw new Error("height is equal to 0");
        return chain.waitForHeight(h as number, ctx.signal);
      },
    },
    "header.LocalHead": { perm: "read", arity: 0, handler: (_params, ctx) => chain.waitForHeight(Math.max(1, chain.head), ctx.signal) },
    "header.NetworkHead": { perm: "read", arity: 0, handler: (_params, ctx) => chain.waitForHeight(Math.max(1, chain.head), ctx.signal) },
    "header.Subscribe": { perm: "read", arity: 0, stream: true, handler: (_params, ctx) => liveHeaders(ctx.signal) },
    "state.Balance": { perm: "read", arity: 0, handler: () => ({ denom: "utia", amount: String(chain.balance) }) },
  };
}
