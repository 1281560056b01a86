// Prometheus metrics of the validator network, on the registry the node passes in. Label values are
// bounded: topics and protocols are the registered ones, reasons and directions are fixed sets.
import { Counter, Gauge, Histogram, type Registry } from "prom-client";

export function p2pMetrics(registry: Registry) {
  const registers = [registry];
  return {
    peers: new Gauge({ name: "metro_p2p_peers", help: "Validator peers with an open connection", registers }),
    messagesSent: new Counter({ name: "metro_p2p_messages_sent_total", help: "Messages queued to peers, per topic (a broadcast counts once per peer); requests and responses per protocol", labelNames: ["topic"], registers }),
    bytesSent: new Counter({ name: "metro_p2p_bytes_sent_total", help: "Payload bytes queued to peers, per topic or protocol", labelNames: ["topic"], registers }),
    messagesReceived: new Counter({ name: "metro_p2p_messages_received_total", help: "Messages delivered to handlers, per topic or protocol", labelNames: ["topic"], registers }),
    bytesReceived: new Counter({ name: "metro_p2p_bytes_received_total", help: "Payload bytes delivered to handlers, per topic or protocol", labelNames: ["topic"], registers }),
    dropped: new Counter({
      name: "metro_p2p_messages_dropped_total",
      help: "Messages dropped: throttled (peer over its rate), oversize, unknown_topic, malformed (inbound); send_queue_full, stream_error (outbound)",
      labelNames: ["topic", "reason"],
      registers,
    }),
    refused: new Counter({ name: "metro_p2p_connections_refused_total", help: "Connections refused at the gater: not_allowlisted or banned", labelNames: ["direction", "reason"], registers }),
    disconnects: new Counter({ name: "metro_p2p_peer_disconnects_total", help: "Peers we disconnected: flooding, slow (send queue full), framing (protocol violation)", labelNames: ["reason"], registers }),
    dials: new Counter({ name: "metro_p2p_dials_total", help: "Dials to persistent peers, by result", labelNames: ["result"], registers }),
    requests: new Counter({ name: "metro_p2p_requests_total", help: "Requests, by protocol, side (client or server) and result", labelNames: ["protocol", "side", "result"], registers }),
    requestSeconds: new Histogram({ name: "metro_p2p_request_seconds", help: "Round trip of requests we sent that got a response", labelNames: ["protocol"], buckets: [0.001, 0.005, 0.02, 0.1, 0.5, 2, 10], registers }),
  };
}

export type P2pMetrics = ReturnType<typeof p2pMetrics>;
