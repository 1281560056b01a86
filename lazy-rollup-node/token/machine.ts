// The token rollup: balances and nonces, and one transaction kind, a signed transfer. Checks run
// stateless first (encoding, chain id, amount, recipient), then the signature, then against the state
// (nonce, balance); the first failure is the revert reason.
//
// A reverted transaction changes nothing, not even the sender's nonce: the rollup charges no fee (the
// sequencer already did), so there is nothing to pay for, and the sender can reuse the nonce. The
// flip side: a signed transfer that reverted for lack of funds stays valid, and anyone can resubmit
// its bytes once the sender can pay. A sender who no longer wants it sends another transaction with
// the same nonce.
import secp256k1 from "secp256k1";
import { hash } from "node:crypto";
import { verifyDigest } from "../secp256k1-key.ts";
import type { RollupEvent, StateAccess, StateMachine, TxOutcome } from "../state-machine.ts";
import { MAX_UINT64 } from "../uint64.ts";
import { accountKey, readAccount, writeAccount } from "./account.ts";
import { parseRollupAddress, senderOf } from "./address.ts";
import { writeTokenGenesis, type TokenGenesis } from "./genesis.ts";
import { decodeTokenTx, type TokenTx } from "./tx.ts";

export interface TokenConfig {
  /** The rollup's secondary chain id: every TxBody must name it. */
  chainId: string;
  /** Bech32 prefix of the rollup's addresses. */
  addressPrefix: string;
}

const revert = (reason: string): TxOutcome => ({ ok: false, reason });

/** Why a signature that failed to verify failed, for the revert reason. */
function signatureFailure(tx: TokenTx): string {
  if (!secp256k1.publicKeyVerify(tx.pubkey)) return "malformed tx: pubkey is not a valid compressed secp256k1 key";
  try {
    // A copy: signatureNormalize works in place, and the signature is a view of the entry's bytes.
    const normalized = secp256k1.signatureNormalize(Uint8Array.from(tx.signature));
    if (Buffer.compare(normalized, tx.signature) !== 0) return "bad signature: high S (only low-S signatures are valid)";
  } catch {
    // r or s out of range: just a bad signature
  }
  return "bad signature";
}

// The body's digest goes through a latin1 string into one reused buffer: a "buffer" digest allocates
// memory outside the heap on every call, which the garbage collector then has to track. Safe to
// reuse because verification reads it synchronously.
const digestScratch = Buffer.alloc(32);

function bodyDigest(bodyBytes: Uint8Array): Uint8Array {
  digestScratch.write(hash("sha256", bodyBytes, "binary"), "latin1");
  return digestScratch;
}

function transferEvent(sender: string, recipient: string, amount: bigint, nonce: bigint): RollupEvent {
  return {
    type: "transfer",
    attributes: [
      { key: "sender", value: sender },
      { key: "recipient", value: recipient },
      { key: "amount", value: String(amount) },
      { key: "nonce", value: String(nonce) },
    ],
  };
}

async function applyTransfer(state: StateAccess, txBytes: Uint8Array, config: TokenConfig): Promise<TxOutcome> {
  const tx = decodeTokenTx(txBytes);
  if (typeof tx === "string") return revert(`malformed tx: ${tx}`);
  const { chainId, nonce, to, amount } = tx.body;
  if (chainId !== config.chainId) return revert(`wrong chain id: expected ${JSON.stringify(config.chainId)}, got ${JSON.stringify(chainId)}`);
  if (amount === 0n) return revert("zero amount");
  const recipient = parseRollupAddress(to, config.addressPrefix);
  if (typeof recipient === "string") return revert(`invalid recipient: ${recipient}`);
  if (!verifyDigest(tx.signature, bodyDigest(tx.bodyBytes), tx.pubkey)) return revert(signatureFailure(tx));

  // The sender is whoever holds the key: there is no "from" field that could disagree with it.
  const sender = senderOf(tx.pubkey, config.addressPrefix);
  const senderKey = accountKey(sender.bytes);
  const from = await readAccount(state, senderKey);
  if (from.nonce === MAX_UINT64) return revert("nonce exhausted");
  if (nonce !== from.nonce) return revert(`wrong nonce: expected ${from.nonce}, got ${nonce}`);
  if (from.balance < amount) return revert(`insufficient balance: have ${from.balance}, need ${amount}`);

  writeAccount(state, senderKey, { balance: from.balance - amount, nonce: from.nonce + 1n });
  // Read after the sender's write, so a transfer to oneself sees it (and only bumps the nonce).
  const recipientKey = accountKey(recipient);
  const dest = await readAccount(state, recipientKey);
  writeAccount(state, recipientKey, { balance: dest.balance + amount, nonce: dest.nonce });
  return { ok: true, events: [transferEvent(sender.address, to, amount, nonce)] };
}

export function tokenRollup(config: TokenConfig): StateMachine<TokenGenesis> {
  return {
    initGenesis: (state, genesis) => writeTokenGenesis(state, genesis, config.addressPrefix),
    applyTx: (state, txBytes) => applyTransfer(state, txBytes, config),
  };
}
