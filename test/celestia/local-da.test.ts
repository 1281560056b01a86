// The local DA server over real HTTP and WebSocket, through the project's DA client: what it serves
// agrees with Celestia's algorithms and with itself, and bad input gets celestia-node's errors while
// the server keeps serving.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fc from "fast-check";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { startLocalDa, type LocalDaServer } from "../../celestia/local-da/server.ts";
import { DaClient } from "../../celestia/da-client.ts";
import { blobCommitment } from "../../celestia/commitment.ts";
import { namespaceFromSecondaryChainId, TX_NAMESPACE } from "../../celestia/namespace.ts";
import { verifyBlobInclusion, InclusionError } from "../../celestia/blob-inclusion.ts";
import { createJsonRpcClient, createJsonRpcServer, RpcError, AuthError } from "../../celestia/json-rpc/index.ts";
import { blobToJson, newBlob } from "../../celestia/blob.ts";
import type { CelestiaBlob } from "../../celestia/share.ts";

const SEED = 20261122;
let server: LocalDaServer;
let client: DaClient;
let home: string;
const TOKEN = "local-da-test-token";

beforeAll(async () => {
  home = mkdtempSync(join(tmpdir(), "metro-da-"));
  server = await startLocalDa({ home, port: 0, blockTimeMs: 100, maxBlobBytes: 512 * 1024, authToken: TOKEN, logger: pino({ level: "silent" }) });
  client = new DaClient({ url: server.url, token: TOKEN, retry: false });
});

afterAll(async () => {
  await client?.close();
  await server?.close();
  rmSync(home, { recursive: true, force: true });
});

const ns = (name: string) => namespaceFromSecondaryChainId(name);
const bytes = (n: number, fill: number) => new Uint8Array(n).map((_, i) => (i * 31 + fill) & 0xff);

describe("blob round trip", () => {
  it("serves every submitted blob with Celestia's commitment, and Get, GetAll, GetProof, Included and the header agree", async () => {
    const submitted: CelestiaBlob[] = [
      { namespace: ns("rollup-a"), data: bytes(100, 1), shareVersion: 0 },
      { namespace: ns("rollup-b"), data: bytes(5000, 2), shareVersion: 0 },
      { namespace: ns("rollup-a"), data: bytes(40_000, 3), shareVersion: 1, signer: bytes(20, 9) },
    ];
    const height = await client.submit(submitted);
    expect(height).toBeGreaterThan(0);
    for (const blob of submitted) {
      const commitment = blobCommitment(blob);
      const got = await client.get(height, blob.namespace, commitment);
      expect(Buffer.from(got.data)).toEqual(Buffer.from(blob.data));
      expect(got.index).toBeGreaterThanOrEqual(0);
      const proof = await client.getProof(height, blob.namespace, commitment);
      expect(await client.included(height, blob.namespace, proof, commitment)).toBe(true);
      const header = await client.headerByHeight(height);
      verifyBlobInclusion(got, proof, header, await client.getAll(height, [blob.namespace]));
    }
    const verified = await client.getAllVerified(height, ns("rollup-a"));
    expect(verified.blobs.map((b) => b.data.length)).toEqual([100, 40_000]);
    const both = await client.getAll(height, [ns("rollup-b"), ns("rollup-a")]);
    expect(both.map((b) => b.data.length)).toEqual([5000, 100, 40_000]);
    expect(await client.getAll(height, [ns("rollup-nobody")])).toEqual([]);
  });

  it("holds for random blobs: commitments match the client's, proofs verify, and any flipped bit is caught", async () => {
    const blobArb = fc.record({
      name: fc.constantFrom("r-1", "r-2", "r-3"),
      size: fc.integer({ min: 1, max: 20_000 }),
      fill: fc.integer({ min: 0, max: 255 }),
      v1: fc.boolean(),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(blobArb, { minLength: 1, maxLength: 4 }), fc.nat(), async (specs, flip) => {
        const input: CelestiaBlob[] = specs.map((s) => ({ namespace: ns(s.name), data: bytes(s.size, s.fill), shareVersion: s.v1 ? 1 : 0, signer: s.v1 ? bytes(20, s.fill) : undefined }));
        const height = await client.submit(input);
        const header = await client.headerByHeight(height);
        for (const blob of input) {
          const commitment = blobCommitment(blob);
          const served = await client.get(height, blob.namespace, commitment);
          const proof = await client.getProof(height, blob.namespace, commitment);
          const all = await client.getAll(height, [blob.namespace]);
          verifyBlobInclusion(served, proof, header, all);
          // A flipped bit in a proof node is refused by the verifier and by the server.
          const node = proof[flip % proof.length].nodes;
          if (node.length > 0) {
            const tampered = proof.map((p) => ({ ...p, nodes: p.nodes.map((n) => n.slice()) }));
            const target = tampered[flip % proof.length].nodes[flip % node.length];
            target[target.length - 1 - (flip % 32)] ^= 1;
            expect(() => verifyBlobInclusion(served, tampered, header, all)).toThrow(InclusionError);
            await expect(client.included(height, blob.namespace, tampered, commitment)).rejects.toThrow("blob: invalid proof");
          }
          // A flipped bit in the data no longer matches the proven shares.
          const data = served.data.slice();
          data[flip % data.length] ^= 1;
          const forged = { ...served, data };
          expect(() => verifyBlobInclusion(forged, proof, header, all.map((b) => (b.index === served.index ? forged : b)))).toThrow(InclusionError);
        }
      }),
      { seed: SEED, numRuns: 12 },
    );
  });
});

describe("headers", () => {
  it("checks data_hash against the row and column roots, and continues heights", async () => {
    const head = await client.networkHead();
    const next = await client.waitForHeight(head.height + 1);
    expect(next.height).toBe(head.height + 1);
    expect(next.rowRoots.length).toBe(next.columnRoots.length);
    expect(Buffer.compare(Buffer.from(next.json.header.last_block_id.hash, "hex"), head.hash)).toBe(0);
  });

  it("streams headers and a namespace's blobs over WebSocket", async () => {
    const headers = await client.subscribeHeaders();
    const blobsSub = await client.subscribeBlobs(ns("rollup-ws"));
    const seen: number[] = [];
    for await (const h of headers) {
      seen.push(h.height);
      if (seen.length === 3) break;
    }
    expect(seen[1]).toBe(seen[0] + 1);
    expect(seen[2]).toBe(seen[0] + 2);
    const blob = { namespace: ns("rollup-ws"), data: bytes(300, 7), shareVersion: 0 };
    const height = await client.submit([blob]);
    for await (const update of blobsSub) {
      if (update.height < height) continue;
      expect(update.height).toBe(height);
      expect(update.blobs.map((b) => Buffer.from(b.commitment).toString("hex"))).toEqual([Buffer.from(blobCommitment(blob)).toString("hex")]);
      break;
    }
    await blobsSub.cancel();
  });
});

describe("bad input gets celestia-node's answer and the server keeps serving", () => {
  const raw = () => createJsonRpcClient({ url: server.url, token: TOKEN, retry: false });
  const good = { namespace: Buffer.from(ns("rollup-ok")).toString("base64"), data: Buffer.from("hello").toString("base64"), share_version: 0 };

  async function expectRpcError(method: string, params: unknown[], code: number, message: string | RegExp) {
    const rpc = raw();
    try {
      const error = await rpc.call(method, params).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(RpcError);
      expect((error as RpcError).code).toBe(code);
      expect((error as RpcError).message).toMatch(message);
      // Still serving: a good call right after works.
      expect(await rpc.call<number>("blob.Submit", [[good], {}])).toBeGreaterThan(0);
    } finally {
      await rpc.close();
    }
  }

  it("a 28-byte namespace fails to decode", () =>
    expectRpcError("blob.GetAll", [1, [Buffer.alloc(28, 1).toString("base64")]], -32700, /invalid namespace length: 28/));

  it("a reserved namespace", () =>
    expectRpcError("blob.Submit", [[{ ...good, namespace: Buffer.from(TX_NAMESPACE).toString("base64") }], {}], -32700, /invalid user namespace: invalid data namespace\(0+1\): reserved data is forbidden/));

  it("empty data", () => expectRpcError("blob.Submit", [[{ ...good, data: "" }], {}], -32700, /data can not be empty/));

  it("share version 1 without a signer", () => expectRpcError("blob.Submit", [[{ ...good, share_version: 1 }], {}], -32700, /share version 1 requires signer of size 20 bytes/));

  it("an oversize submission", () =>
    expectRpcError("blob.Submit", [[{ ...good, data: Buffer.alloc(600 * 1024, 1).toString("base64") }], {}], 1, /blob\(s\) too large/));

  it("no blobs", () => expectRpcError("blob.Submit", [[], {}], 1, "state: no blobs provided"));

  it("a gas price under the network minimum", () =>
    expectRpcError("blob.Submit", [[good], { gas_price: 0.0001, is_gas_price_set: true }], 1, /insufficient gas price for the network; got: \d+utia, required: \d+utia/));

  it("height 0", () => expectRpcError("header.GetByHeight", [0], 1, "height is equal to 0"));

  it("a future height", () => expectRpcError("header.GetByHeight", [10_000_000], 1, /header: given height is from the future: networkHeight: \d+, requestedHeight: 10000000/));

  it("an unknown commitment", async () => {
    const head = await client.networkHead();
    await expectRpcError("blob.Get", [head.height, good.namespace, Buffer.alloc(32, 7).toString("base64")], 1, "blob: not found");
  });

  it("an unknown method and a wrong parameter count", async () => {
    await expectRpcError("blob.Nope", [], -32601, /method 'blob.Nope' not found/);
    await expectRpcError("blob.Get", [1], -32602, /wrong param count/);
  });

  it("a bad token is refused with 401, no token only gets public methods", async () => {
    const bad = new DaClient({ url: server.url, token: "wrong", retry: false });
    await expect(bad.networkHead()).rejects.toBeInstanceOf(AuthError);
    await bad.close();
    const anonymous = new DaClient({ url: server.url, retry: false });
    await expect(anonymous.networkHead()).rejects.toThrow("missing permission to invoke 'NetworkHead' (need 'read')");
    await anonymous.close();
    expect((await client.networkHead()).height).toBeGreaterThan(0);
  });

  it("the client refuses a node that serves a blob whose data does not match its commitment", async () => {
    // A lying node (a test double: the real local server never does this), on the real transport.
    const blob = newBlob({ namespace: ns("x"), data: bytes(10, 1), shareVersion: 0 });
    const lie = { ...blobToJson({ ...blob, index: 0 }), data: Buffer.from(bytes(10, 2)).toString("base64") };
    const liar = createJsonRpcServer({ methods: { "blob.Get": { perm: "public", arity: 3, handler: () => lie } } });
    const listener = await liar.listen({ port: 0 });
    const victim = new DaClient({ url: listener.url, retry: false });
    try {
      await expect(victim.get(1, blob.namespace, blob.commitment)).rejects.toThrow(/blob commitment mismatch/);
    } finally {
      await victim.close();
      await listener.close();
    }
  });
});
