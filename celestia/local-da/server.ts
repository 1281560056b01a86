// `metro da serve`: the local DA network behind a celestia-node-compatible JSON-RPC endpoint.
import type { Logger } from "pino";
import { createJsonRpcServer } from "../json-rpc/index.ts";
import { LocalDaChain, DEFAULT_LOCAL_DA, type LocalDaConfig } from "./chain.ts";
import { localDaMethods } from "./api.ts";

export interface LocalDaServerOptions extends Partial<Omit<LocalDaConfig, "home" | "logger">> {
  home: string;
  logger: Logger;
  host?: string;
  port?: number;
  /** When set, read and write methods need `Authorization: Bearer <token>`. */
  authToken?: string;
  maxRequestBytes?: number;
}

export interface LocalDaServer {
  url: string;
  chain: LocalDaChain;
  close(): Promise<void>;
}

export async function startLocalDa(o: LocalDaServerOptions): Promise<LocalDaServer> {
  const chain = await LocalDaChain.open({ ...DEFAULT_LOCAL_DA, ...stripUndefined(o), home: o.home, logger: o.logger });
  const rpc = createJsonRpcServer({ methods: localDaMethods(chain), authToken: o.authToken, maxBodyBytes: o.maxRequestBytes, logger: o.logger });
  const listener = await rpc.listen({ host: o.host ?? "127.0.0.1", port: o.port ?? 26658 });
  chain.start();
  o.logger.info({ url: listener.url, home: o.home, blockTimeMs: chain.config.blockTimeMs, auth: o.authToken !== undefined }, "local DA server listening");
  return {
    url: listener.url,
    chain,
    async close() {
      await listener.close();
      await chain.stop();
    },
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
