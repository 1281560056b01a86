// Prometheus metrics of the relayer, on a registry of its own (a relayer inside a node, or several in
// one test process, must not collide with other registries).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export function relayerMetrics() {
  const registry = new Registry();
  const opts = { registers: [registry] };
  return {
    registry,
    postedHeight: new Gauge({ name: "metro_relayer_posted_height", help: "Last sequencer height whose data is on the DA layer", ...opts }),
    sequencerHeight: new Gauge({ name: "metro_relayer_sequencer_height", help: "Newest sequencer height the relayer knows of", ...opts }),
    lagBlocks: new Gauge({ name: "metro_relayer_lag_blocks", help: "Sequencer blocks committed but not yet on the DA layer", ...opts }),
    lagSeconds: new Gauge({ name: "metro_relayer_lag_seconds", help: "Header time of the newest sequencer block minus that of the last posted one", ...opts }),
    backPressure: new Gauge({ name: "metro_relayer_back_pressure", help: "1 while posting is behind by more than the configured number of blocks", ...opts }),
    batches: new Counter({ name: "metro_relayer_batches_total", help: "Batches posted", ...opts }),
    submissions: new Counter({ name: "metro_relayer_submissions_total", help: "Submissions (pay-for-blobs) that landed", ...opts }),
    retries: new Counter({ name: "metro_relayer_retries_total", help: "Failed submission attempts, by reason", labelNames: ["reason"], ...opts }),
    blobBytes: new Counter({ name: "metro_relayer_blob_bytes_total", help: "Blob data posted, by namespace kind", labelNames: ["kind"], ...opts }),
    encodedBytes: new Counter({ name: "metro_relayer_encoded_bytes_total", help: "Batch encodings before compression", ...opts }),
    rollupDataBytes: new Counter({ name: "metro_relayer_rollup_data_bytes_total", help: "Rollup transaction data posted", ...opts }),
    squareBytes: new Counter({ name: "metro_relayer_square_bytes_total", help: "Bytes the posted blobs take in the data square (whole 512-byte shares)", ...opts }),
    compressionRatio: new Gauge({ name: "metro_relayer_compression_ratio", help: "Blob bytes per encoded byte of the last batch (below 1: compression helped)", ...opts }),
    sharePaddingRatio: new Gauge({ name: "metro_relayer_share_padding_ratio", help: "Square bytes per blob byte of the last batch (Celestia's share framing and padding)", ...opts }),
    bytesPerRollupByte: new Gauge({ name: "metro_relayer_bytes_per_rollup_byte", help: "Blob bytes per byte of rollup data in the last batch (headers, commits and proofs included)", ...opts }),
    gasPrice: new Gauge({ name: "metro_relayer_gas_price", help: "Gas price of the next submission, utia/gas", ...opts }),
    submitSeconds: new Histogram({ name: "metro_relayer_submit_seconds", help: "From first attempt to inclusion of a submission", buckets: [0.5, 1, 2, 5, 10, 20, 60, 120, 300], ...opts }),
  };
}

export type RelayerMetrics = ReturnType<typeof relayerMetrics>;
