// Listen addresses across a restart: a node asked for port 0 keeps the port it got the first time,
// because its persistent peers have that address and keep redialing it.
import { multiaddr, type Component } from "@multiformats/multiaddr";

const WILDCARDS = new Set(["0.0.0.0", "::"]);

function ipOf(parts: Component[]): Component | undefined {
  return parts.find((c) => c.name === "ip4" || c.name === "ip6");
}

/**
 * `configured` with each tcp/0 replaced by the port bound for the same IP in `bound` (for a
 * wildcard IP, which libp2p reports per interface, any bound address of the same family).
 */
export function pinListenPorts(configured: readonly string[], bound: readonly string[]): string[] {
  const boundParts = bound.map((b) => multiaddr(b).getComponents());
  return configured.map((address) => {
    const parts = multiaddr(address).getComponents();
    const ip = ipOf(parts);
    if (parts.find((c) => c.name === "tcp")?.value !== "0" || ip === undefined) return address;
    const match = boundParts.find((b) => {
      const boundIp = ipOf(b);
      return boundIp?.name === ip.name && (boundIp.value === ip.value || WILDCARDS.has(ip.value ?? ""));
    });
    const port = match?.find((c) => c.name === "tcp")?.value;
    return port === undefined ? address : address.replace(/\/tcp\/0(?=\/|$)/, `/tcp/${port}`);
  });
}
