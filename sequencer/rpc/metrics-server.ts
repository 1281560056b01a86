// Prometheus scrape endpoint: GET /metrics with a registry's metrics in the text exposition format.
import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { parseListen } from "../config.ts";

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Extra GET routes answering JSON, by path; a thrown HttpStatusError sets the status. */
export type JsonRoutes = Record<string, (url: URL) => Promise<unknown>>;

export class HttpStatusError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

export async function startMetricsServer(registry: Registry, listen: string, routes: JsonRoutes = {}): Promise<MetricsServer> {
  const { host, port } = parseListen(listen);
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const route = req.method === "GET" ? routes[url.pathname] : undefined;
    if (route) {
      route(url).then(
        (body) => res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(body)),
        (error: Error) => res.writeHead(error instanceof HttpStatusError ? error.status : 500, { "Content-Type": "application/json" }).end(JSON.stringify({ error: error.message })),
      );
      return;
    }
    if (req.method !== "GET" || url.pathname !== "/metrics") {
      res.writeHead(404, { "Content-Type": "text/plain" }).end(`not found: metrics are at GET /metrics${Object.keys(routes).map((r) => `, ${r}`).join("")}\n`);
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { "Content-Type": registry.contentType }).end(text),
      (error: Error) => res.writeHead(500, { "Content-Type": "text/plain" }).end(`collecting metrics failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const bound = server.address() as AddressInfo;
  const hostPart = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${hostPart}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
