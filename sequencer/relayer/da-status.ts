// The DA-final confirmation level (Stackr's C3a) of a sequencer block: once its batch landed, the DA
// height and the namespace and commitment of the blob that carries its header, plus every blob of
// the batch (the rollups' data), so anyone can fetch and check them with blob.Get.
import { toBase64 } from "../../cometbft/hash.ts";
import type { PostedBatchRecord, PostedBlobRecord } from "./progress-store.ts";

export type DaStatus =
  | {
      height: number;
      state: "posted";
      /** The DA height at which the whole batch is available (its last submission's). */
      daHeight: number;
      /** The sequencer-namespace blob holding the block's header and commit (its first part, if split). */
      namespace: Uint8Array;
      commitment: Uint8Array;
      batch: { firstHeight: number; lastHeight: number };
      blobs: PostedBlobRecord[];
    }
  /** Committed, not yet on the DA layer. */
  | { height: number; state: "pending" }
  /** Not a committed height as far as the relayer knows. */
  | { height: number; state: "unknown" };

export function daStatusOf(height: number, batch: PostedBatchRecord | undefined, tipHeight: number): DaStatus {
  if (!batch) return { height, state: height >= 1 && height <= tipHeight ? "pending" : "unknown" };
  const header = batch.blobs.find((b) => b.kind === "sequencer" && b.part === 0)!;
  return {
    height,
    state: "posted",
    daHeight: Math.max(...batch.blobs.map((b) => b.daHeight)),
    namespace: header.namespace,
    commitment: header.commitment,
    batch: { firstHeight: batch.firstHeight, lastHeight: batch.lastHeight },
    blobs: batch.blobs,
  };
}

/** The JSON an RPC answers with: heights as strings (CometBFT's convention), bytes in base64 (Celestia's). */
export function daStatusJson(s: DaStatus) {
  if (s.state !== "posted") return { height: String(s.height), state: s.state };
  return {
    height: String(s.height),
    state: s.state,
    da_height: String(s.daHeight),
    namespace: toBase64(s.namespace),
    commitment: toBase64(s.commitment),
    batch: { first_height: String(s.batch.firstHeight), last_height: String(s.batch.lastHeight) },
    blobs: s.blobs.map((b) => ({ kind: b.kind, namespace: toBase64(b.namespace), commitment: toBase64(b.commitment), da_height: String(b.daHeight), part: b.part, parts: b.parts })),
  };
}
