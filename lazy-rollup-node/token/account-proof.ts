// An account's balance and nonce with a proof against a state root, for wallets and bridges that
// trust a header's state root and nothing else.
import { verifyProof, type Proof } from "../../merkle-store/index.ts";
import type { RollupStore } from "../rollup-store.ts";
import { accountKey, encodeAccount, readAccount } from "./account.ts";
import { parseRollupAddress } from "./address.ts";

export interface AccountProof {
  address: string;
  balance: bigint;
  nonce: bigint;
  /** The rollup height and state root the proof is against. */
  height: bigint;
  stateRoot: Uint8Array;
  /** Inclusion of the account's value, or non-inclusion when balance and nonce are both 0. */
  proof: Proof;
}

/** The account at the store's head. Throws if `address` is not one of this rollup's. */
export async function proveAccount(store: RollupStore, address: string, addressPrefix: string): Promise<AccountProof> {
  const bytes = parseRollupAddress(address, addressPrefix);
  if (typeof bytes === "string") throw new Error(`invalid address: ${bytes}`);
  const key = accountKey(bytes);
  for (;;) {
    const head = store.head;
    if (head === undefined) throw new Error("the rollup store has no genesis state yet");
    const { balance, nonce } = await readAccount(store.committed, key);
    const proof = await store.prove(key, head.height);
    // A block committed while reading would pair a new value with the old root: read again.
    if (store.head === head) return { address, balance, nonce, height: head.height, stateRoot: head.stateRoot, proof };
  }
}

/**
 * Pure. True iff `p.proof` shows that under `stateRoot` (taken from a header the caller trusts, not
 * from `p`) the account holds exactly `p.balance` and `p.nonce`.
 */
export function verifyAccountProof(stateRoot: Uint8Array, p: AccountProof, addressPrefix: string): boolean {
  const bytes = parseRollupAddress(p.address, addressPrefix);
  if (typeof bytes === "string") return false;
  if (typeof p.balance !== "bigint" || typeof p.nonce !== "bigint" || p.balance < 0n || p.nonce < 0n) return false;
  let value: Uint8Array | undefined;
  try {
    value = encodeAccount({ balance: p.balance, nonce: p.nonce });
  } catch {
    return false; // beyond uint64
  }
  return verifyProof(stateRoot, accountKey(bytes), value, p.proof);
}
