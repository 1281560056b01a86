// Prometheus metrics of a sequencer node, on a registry of its own (several nodes can share a process
// in tests).
import { Counter, Gauge, Histogram, Registry } from "prom-client";

export function sequencerMetrics() {
  const registry = new Registry();
  const opts = { registers: [registry] };
  return {
    registry,
    height: new Gauge({ name: "metro_sequencer_height", help: "Height of the last committed block", ...opts }),
    blockTxs: new Histogram({ name: "metro_sequencer_block_txs", help: "Transactions per committed block", buckets: [0, 1, 10, 100, 1000, 5000, 20000], ...opts }),
    blockBytes: new Histogram({ name: "metro_sequencer_block_bytes", help: "Transaction bytes per committed block", buckets: [0, 1e3, 1e4, 1e5, 1e6, 4e6, 8e6], ...opts }),
    rollupTxs: new Counter({ name: "metro_sequencer_rollup_txs_total", help: "Rollup transactions ordered", ...opts }),
    txsAdmitted: new Counter({ name: "metro_sequencer_txs_admitted_total", help: "Transactions offered to the mempool, by outcome", labelNames: ["result"], ...opts }),
    mempoolSize: new Gauge({ name: "metro_sequencer_mempool_txs", help: "Transactions in the mempool", ...opts }),
    mempoolBytes: new Gauge({ name: "metro_sequencer_mempool_bytes", help: "Bytes in the mempool", ...opts }),
  };
}

export type SequencerMetrics = ReturnType<typeof sequencerMetrics>;
