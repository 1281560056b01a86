import { describe, expect, it } from "vitest";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { peerIdFromString } from "@libp2p/peer-id";
import { generateNodeKeyJson, loadOrCreateNodeKey, nodeKeyFromJson, peerIdOf, peerIdOfNodeKeyFile, readNodeKey, type NodeKeyJson } from "../../sequencer/p2p/node-key.ts";

// The ed25519 key of the all-zero seed (RFC 8032 style vector), as CometBFT writes it.
const ZERO_SEED_PUB = "3b6a27bcceb6a42d62a3a8d02a6f0d73653215771de243a63ac048a18b59da29";
const zeroSeedJson: NodeKeyJson = {
  priv_key: { type: "tendermint/PrivKeyEd25519", value: Buffer.concat([Buffer.alloc(32), Buffer.from(ZERO_SEED_PUB, "hex")]).toString("base64") },
};

describe("node key", () => {
  it("reads CometBFT's node_key.json and derives the libp2p peer id of its public key", () => {
    const key = nodeKeyFromJson(zeroSeedJson);
    const peerId = peerIdOf(key);
    expect(peerId).toMatch(/^12D3KooW/);
    // The id is the identity multihash of the public key: decoding it gives the key back.
    expect(Buffer.from(peerIdFromString(peerId).publicKey!.raw).toString("hex")).toBe(ZERO_SEED_PUB);
  });

  it("creates the file once (owner-only), and the peer id can be read from the file alone", () => {
    const path = join(mkdtempSync(join(tmpdir(), "metro-nodekey-")), "config", "node_key.json");
    const key = loadOrCreateNodeKey(path);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const json = JSON.parse(readFileSync(path, "utf8")) as NodeKeyJson;
    expect(Object.keys(json)).toEqual(["priv_key"]);
    expect(json.priv_key.type).toBe("tendermint/PrivKeyEd25519");
    expect(Buffer.from(json.priv_key.value, "base64").length).toBe(64);
    expect(peerIdOfNodeKeyFile(path)).toBe(peerIdOf(key));
    expect(peerIdOf(loadOrCreateNodeKey(path))).toBe(peerIdOf(key));
    expect(peerIdOf(readNodeKey(path))).toBe(peerIdOf(key));
  });

  it("refuses a file whose public half does not match its seed, or of another type or length", () => {
    const good = generateNodeKeyJson();
    const raw = Buffer.from(good.priv_key.value, "base64");
    raw[40] ^= 1;
    expect(() => nodeKeyFromJson({ priv_key: { ...good.priv_key, value: raw.toString("base64") } })).toThrow(/does not match/);
    expect(() => nodeKeyFromJson({ priv_key: { ...good.priv_key, value: raw.subarray(0, 32).toString("base64") } })).toThrow(/64 bytes/);
    expect(() => nodeKeyFromJson({ priv_key: { type: "tendermint/PrivKeySecp256k1", value: good.priv_key.value } } as unknown as NodeKeyJson)).toThrow(/unsupported key type/);
    const path = join(mkdtempSync(join(tmpdir(), "metro-nodekey-")), "node_key.json");
    writeFileSync(path, "{}");
    expect(() => readNodeKey(path)).toThrow(/unsupported key type/);
  });
});
