// The token rollup's genesis: funded accounts (and, for a rollup migrated from elsewhere, nonces).
import type { StateAccess } from "../state-machine.ts";
import { MAX_UINT64 } from "../uint64.ts";
import { accountKey, readAccount, writeAccount } from "./account.ts";
import { parseRollupAddress } from "./address.ts";

export interface TokenGenesis {
  accounts: { address: string; balance: bigint; nonce?: bigint }[];
}

/**
 * Writes the genesis accounts. The total supply must fit in a uint64: transfers conserve it, so no
 * balance can then ever overflow.
 */
export async function writeTokenGenesis(state: StateAccess, genesis: TokenGenesis, addressPrefix: string): Promise<void> {
  let supply = 0n;
  for (const { address, balance, nonce = 0n } of genesis.accounts) {
    const bytes = parseRollupAddress(address, addressPrefix);
    if (typeof bytes === "string") throw new Error(`genesis account: ${bytes}`);
    if (balance < 0n || nonce < 0n || nonce > MAX_UINT64) throw new RangeError(`genesis account ${address}: balance and nonce must be uint64`);
    const key = accountKey(bytes);
    const existing = await readAccount(state, key);
    if (existing.balance !== 0n || existing.nonce !== 0n) throw new Error(`genesis account ${address} is listed twice`);
    supply += balance;
    if (supply > MAX_UINT64) throw new RangeError(`genesis supply exceeds 2^64 - 1`);
    writeAccount(state, key, { balance, nonce });
  }
}
