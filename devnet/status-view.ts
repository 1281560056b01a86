// The devnet's live status as terminal lines: pure, so what the user sees is tested directly.
import type { ComponentState } from "./supervisor.ts";
import type { DevnetStatus } from "./status.ts";

export interface StatusViewInput {
  home: string;
  chainId: string;
  uptimeMs: number;
  status: DevnetStatus;
  components: ComponentState[];
  /** Latest notices (crashes, restarts), oldest first. */
  notices: string[];
  columns: number;
  rows: number;
}

const n = (value: number | undefined) => (value === undefined ? "-" : String(value));

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  const pad = (v: number) => String(v).padStart(2, "0");
  return `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

export function renderStatus(v: StatusViewInput): string[] {
  const { status } = v;
  const heights = status.sequencerHeights;
  const top = Math.max(0, ...heights.filter((h): h is number => h !== undefined));
  const lines = [
    `Metro devnet  ${v.home}  up ${duration(v.uptimeMs)}  (Ctrl-C stops)`,
    `sequencer  ${v.chainId}  height ${top || "-"}  [${heights.map(n).join(" ")}]`,
    `celestia   height ${n(status.daHeight)}   relayer posted ${n(status.relayerPostedHeight)}`,
  ];
  const width = Math.max(0, ...status.rollupNodes.map((node) => node.secondaryChainId.length));
  let last = "";
  for (const node of status.rollupNodes) {
    const rollup = (node.secondaryChainId === last ? "" : node.secondaryChainId).padEnd(width);
    last = node.secondaryChainId;
    const alarms = node.alarms ? `  ALARMS ${node.alarms}` : "";
    lines.push(`rollup ${rollup}  ${node.name.slice(node.secondaryChainId.length + 1)}  soft ${n(node.soft)}  firm ${n(node.firm)}  header ${n(node.header)}${alarms}  ${node.api}`);
  }
  const down = v.components.filter((c) => c.status !== "running");
  const restarts = v.components.reduce((sum, c) => sum + c.restarts, 0);
  lines.push(
    down.length === 0
      ? `processes  ${v.components.length} running, ${restarts} restarts`
      : `processes  ${v.components.length - down.length}/${v.components.length} running; ${down.map((c) => `${c.name} ${c.status}`).join(", ")}`,
  );
  // One row stays free: a full screen plus the final newline would scroll the view.
  const notices = Math.min(5, v.rows - 1 - lines.length);
  if (notices > 0) lines.push(...v.notices.slice(-notices));
  return lines.slice(0, Math.max(1, v.rows - 1)).map((line) => (line.length > v.columns ? line.slice(0, Math.max(1, v.columns - 1)) + "…" : line));
}
