// Token accounts in the rollup state: key 0x01 || 20 address bytes, value the canonical encoding of a
// metro.rollup.token.v1.Account. An account with neither balance nor nonce is not stored, so "absent"
// and "zero" are one state with one root, and its proof is a non-inclusion proof.
import type { StateAccess, StateReader } from "../state-machine.ts";
import { MAX_UINT64 } from "../uint64.ts";
import { readCanonical, writeVarintFields, type FieldKind } from "./wire.ts";

const ACCOUNT_FIELDS: FieldKind[] = ["varint", "varint"]; // balance, nonce

export interface Account {
  balance: bigint;
  nonce: bigint;
}

const ACCOUNT_PREFIX = 0x01;

export function accountKey(address: Uint8Array): Uint8Array {
  const key = new Uint8Array(1 + address.length);
  key[0] = ACCOUNT_PREFIX;
  key.set(address, 1);
  return key;
}

/** The stored value, or undefined for the zero account (which is not stored). Throws beyond uint64. */
export function encodeAccount(account: Account): Uint8Array | undefined {
  if (account.balance === 0n && account.nonce === 0n) return undefined;
  if (account.balance > MAX_UINT64 || account.nonce > MAX_UINT64) throw new RangeError("account balance and nonce are uint64");
  return writeVarintFields([account.balance, account.nonce]);
}

function decodeAccount(bytes: Uint8Array): Account {
  const fields = readCanonical(bytes, ACCOUNT_FIELDS);
  if (typeof fields === "string") throw new Error(`corrupt account in the rollup state: ${fields}`);
  const [balance = 0n, nonce = 0n] = fields as (bigint | undefined)[];
  return { balance, nonce };
}

/** The account stored under `key` (accountKey of its address). */
export async function readAccount(state: StateReader, key: Uint8Array): Promise<Account> {
  const bytes = await state.get(key);
  return bytes === undefined ? { balance: 0n, nonce: 0n } : decodeAccount(bytes);
}

/** Stores `account` under `key` (accountKey of its address); the zero account is deleted. */
export function writeAccount(state: StateAccess, key: Uint8Array, account: Account): void {
  const value = encodeAccount(account);
  if (value === undefined) state.delete(key);
  else state.set(key, value);
}
