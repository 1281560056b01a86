// Prometheus metrics of the rollup node, on a registry of its own (several nodes in one test process
// must not collide). The p2p network's metrics go to the same registry.
import { Counter, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120];

export function rollupMetrics() {
  const registry = new Registry();
  const opts = { registers: [registry] };
  return {
    registry,
    softHeight: new Gauge({ name: "metro_rollup_soft_height", help: "Rollup height executed (soft or firm)", ...opts }),
    firmHeight: new Gauge({ name: "metro_rollup_firm_height", help: "Rollup height confirmed from Celestia", ...opts }),
    headerHeight: new Gauge({ name: "metro_rollup_header_height", help: "Rollup height of the latest derived header", ...opts }),
    daHeight: new Gauge({ name: "metro_rollup_da_height", help: "DA height read and applied through", ...opts }),
    softPaused: new Gauge({ name: "metro_rollup_soft_paused", help: "1 while soft execution waits for firm confirmation to catch up", ...opts }),
    blocks: new Counter({ name: "metro_rollup_blocks_executed_total", help: "Rollup blocks executed, by the data they came from (soft: sequencer stream, firm: Celestia)", labelNames: ["path"], ...opts }),
    txs: new Counter({ name: "metro_rollup_txs_total", help: "Rollup transactions executed, by result", labelNames: ["result"], ...opts }),
    sourceRejected: new Counter({ name: "metro_rollup_sequencer_blocks_rejected_total", help: "Sequencer blocks refused from an RPC endpoint, by reason", labelNames: ["reason"], ...opts }),
    validatorSetsRejected: new Counter({ name: "metro_rollup_validator_sets_rejected_total", help: "Validator sets refused from a sequencer RPC endpoint: not the set the committed header names", ...opts }),
    sourceStalls: new Counter({ name: "metro_rollup_sequencer_stalls_total", help: "Sequencer block streams dropped for sending no block within the stall timeout", ...opts }),
    sourceFailovers: new Counter({ name: "metro_rollup_sequencer_failovers_total", help: "Switches to the next sequencer RPC endpoint", ...opts }),
    daRejected: new Counter({ name: "metro_rollup_da_blobs_rejected_total", help: "Blobs refused from the DA layer, by reason", labelNames: ["reason"], ...opts }),
    daErrors: new Counter({ name: "metro_rollup_da_errors_total", help: "Failed reads from the DA node (retried)", ...opts }),
    rollbacks: new Counter({ name: "metro_rollup_rollbacks_total", help: "Rollbacks to the firm state after the firm data disagreed", ...opts }),
    alarms: new Counter({ name: "metro_rollup_alarms_total", help: "Alarms raised, by kind", labelNames: ["kind"], ...opts }),
    headersReceived: new Counter({ name: "metro_rollup_headers_received_total", help: "Signed headers received over gossip, by outcome", labelNames: ["result"], ...opts }),
    softLatency: new Histogram({ name: "metro_rollup_soft_latency_seconds", help: "From the sequencer block's header time to its soft execution", buckets: LATENCY_BUCKETS, ...opts }),
    firmLatency: new Histogram({ name: "metro_rollup_firm_latency_seconds", help: "From the sequencer block's header time to its firm confirmation", buckets: LATENCY_BUCKETS, ...opts }),
  };
}

export type RollupMetrics = ReturnType<typeof rollupMetrics>;
