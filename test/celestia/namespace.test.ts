import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  INTERMEDIATE_STATE_ROOTS_NAMESPACE,
  MIN_SECONDARY_RESERVED_NAMESPACE,
  NamespaceError,
  PARITY_SHARES_NAMESPACE,
  PAY_FOR_BLOB_NAMESPACE,
  PRIMARY_RESERVED_PADDING_NAMESPACE,
  TAIL_PADDING_NAMESPACE,
  TX_NAMESPACE,
  compareNamespaces,
  isReservedNamespace,
  namespaceFromBytes,
  namespaceFromSecondaryChainId,
  namespaceV0,
  namespacesEqual,
  validateBlobNamespace,
} from "../../celestia/namespace.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");
const fromHex = (text: string) => new Uint8Array(Buffer.from(text, "hex"));
/** version 0, 18 zero bytes, then the 10 user bytes given in hex. */
const v0 = (user: string) => fromHex("00" + "00".repeat(18) + user);

describe("reserved namespaces", () => {
  it("are go-square's bytes", () => {
    expect(hex(TX_NAMESPACE)).toBe("00".repeat(28) + "01");
    expect(hex(INTERMEDIATE_STATE_ROOTS_NAMESPACE)).toBe("00".repeat(28) + "02");
    expect(hex(PAY_FOR_BLOB_NAMESPACE)).toBe("00".repeat(28) + "04");
    expect(hex(PRIMARY_RESERVED_PADDING_NAMESPACE)).toBe("00".repeat(28) + "ff");
    expect(hex(MIN_SECONDARY_RESERVED_NAMESPACE)).toBe("ff".repeat(28) + "00");
    expect(hex(TAIL_PADDING_NAMESPACE)).toBe("ff".repeat(28) + "fe");
    expect(hex(PARITY_SHARES_NAMESPACE)).toBe("ff".repeat(29));
  });

  it("cover everything up to 00..00FF and from FF..FF00", () => {
    expect(isReservedNamespace(v0("00000000000000000000"))).toBe(true);
    expect(isReservedNamespace(v0("000000000000000000ff"))).toBe(true);
    expect(isReservedNamespace(v0("00000000000000000100"))).toBe(false);
    expect(isReservedNamespace(v0("ffffffffffffffffffff"))).toBe(false);
    expect(isReservedNamespace(fromHex("ff".repeat(27) + "feff"))).toBe(false);
    expect(isReservedNamespace(fromHex("ff".repeat(28) + "00"))).toBe(true);
    expect(isReservedNamespace(PARITY_SHARES_NAMESPACE)).toBe(true);
  });
});

describe("compareNamespaces", () => {
  it("orders bytewise and tells equality", () => {
    expect(compareNamespaces(TX_NAMESPACE, PAY_FOR_BLOB_NAMESPACE)).toBe(-1);
    expect(compareNamespaces(PARITY_SHARES_NAMESPACE, TAIL_PADDING_NAMESPACE)).toBe(1);
    expect(compareNamespaces(v0("0102"), v0("0102"))).toBe(0);
    expect(namespacesEqual(v0("0102"), v0("0102"))).toBe(true);
    expect(namespacesEqual(v0("0102"), v0("0103"))).toBe(false);
  });
});

describe("namespaceV0", () => {
  it("left-pads the user bytes with zeros", () => {
    expect(hex(namespaceV0(Uint8Array.of(1, 2, 3)))).toBe("00".repeat(26) + "010203");
    expect(hex(namespaceV0(new Uint8Array(10).fill(7)))).toBe("00".repeat(19) + "07".repeat(10));
  });

  it("refuses more than 10 user bytes with go-square's text", () => {
    expect(() => namespaceV0(new Uint8Array(11))).toThrow(new NamespaceError("subID must be <= 10, but it was 11 bytes"));
  });
});

describe("namespaceFromSecondaryChainId", () => {
  it("is the v0 namespace of the first 10 bytes of sha256(utf8 id)", () => {
    const id = "rollup-ü-1";
    const digest = createHash("sha256").update(Buffer.from(id, "utf8")).digest();
    expect(hex(namespaceFromSecondaryChainId(id))).toBe("00".repeat(19) + digest.subarray(0, 10).toString("hex"));
  });

  it("gives distinct, valid blob namespaces", () => {
    const a = namespaceFromSecondaryChainId("alpha");
    const b = namespaceFromSecondaryChainId("beta");
    expect(namespacesEqual(a, b)).toBe(false);
    expect(() => validateBlobNamespace(a)).not.toThrow();
  });
});

describe("validateBlobNamespace (celestia-node's texts)", () => {
  const rejects = (ns: Uint8Array, message: string) => {
    let thrown: unknown;
    try {
      validateBlobNamespace(ns);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(NamespaceError);
    expect((thrown as Error).message).toBe(message);
  };

  it("accepts a user namespace", () => {
    expect(() => validateBlobNamespace(v0("00000000000000000100"))).not.toThrow();
    expect(() => validateBlobNamespace(v0("0102030405060708090a"))).not.toThrow();
  });

  it("rejects a wrong size", () => {
    rejects(new Uint8Array(28), "invalid namespace length: 28. Must be 29 bytes");
    rejects(new Uint8Array(30), "invalid namespace length: 30. Must be 29 bytes");
  });

  it("rejects an unsupported version", () => {
    rejects(fromHex("01" + "00".repeat(28)), "unsupported namespace version 1");
    rejects(fromHex("fe" + "00".repeat(27) + "01"), "unsupported namespace version 254");
  });

  it("rejects a version-0 id without 18 leading zeros", () => {
    const ns = fromHex("00" + "00".repeat(17) + "01" + "00".repeat(9) + "05");
    const id = "[" + [...Array(17).fill(0), 1, ...Array(9).fill(0), 5].join(" ") + "]";
    rejects(ns, `unsupported namespace id with version 0. ID ${id} must start with 18 leading zeros`);
  });

  it("rejects reserved namespaces", () => {
    for (const ns of [TX_NAMESPACE, PAY_FOR_BLOB_NAMESPACE, PRIMARY_RESERVED_PADDING_NAMESPACE, v0("00000000000000000000"), MIN_SECONDARY_RESERVED_NAMESPACE]) {
      rejects(ns, `invalid user namespace: invalid data namespace(${hex(ns)}): reserved data is forbidden`);
    }
  });

  it("rejects parity and tail padding", () => {
    for (const ns of [PARITY_SHARES_NAMESPACE, TAIL_PADDING_NAMESPACE]) {
      rejects(ns, `invalid user namespace: invalid data namespace(${hex(ns)}): parity and tail padding namespace are forbidden`);
    }
  });

  it("rejects an unreserved version-255 namespace as a blob version", () => {
    rejects(fromHex("ff" + "00".repeat(28)), "invalid user namespace: blob version 255 is not supported");
  });
});

describe("namespaceFromBytes", () => {
  it("accepts protocol namespaces a blob may not use", () => {
    expect(namespaceFromBytes(TAIL_PADDING_NAMESPACE)).toBe(TAIL_PADDING_NAMESPACE);
    expect(namespaceFromBytes(TX_NAMESPACE)).toBe(TX_NAMESPACE);
    expect(namespaceFromBytes(fromHex("ff" + "00".repeat(28)))).toHaveLength(29);
  });

  it("prints Go's byte-slice form of a bad id", () => {
    expect(() => namespaceFromBytes(fromHex("00" + "ff".repeat(28)))).toThrow(
      `ID [${Array(28).fill(255).join(" ")}] must start with 18 leading zeros`,
    );
  });
});
