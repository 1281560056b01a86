// A SIGN_MODE_DIRECT signer on native libsecp256k1: the same bytes a cosmjs wallet produces, fast
// enough to sign tens of thousands of transactions for load tests and benchmarks.
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { encodePubkey, makeAuthInfoBytes, type EncodeObject } from "@cosmjs/proto-signing";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import secp256k1 from "secp256k1";
import { hash, randomBytes } from "node:crypto";
import { FEE_DENOM } from "../params.ts";
import { addressOf } from "../tx/address.ts";
import { signDocBytes } from "../tx/signature.ts";
import { metroRegistry } from "./registry.ts";

const registry = metroRegistry();

export interface TxFields {
  chainId: string;
  accountNumber: bigint;
  sequence: bigint;
  gasLimit: bigint;
  fee: bigint;
  memo?: string;
}

export class Secp256k1Signer {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: string;

  constructor(privateKey: Uint8Array) {
    if (!secp256k1.privateKeyVerify(privateKey)) throw new Error("invalid secp256k1 private key");
    this.privateKey = privateKey;
    this.publicKey = secp256k1.publicKeyCreate(privateKey, true);
    this.address = addressOf(this.publicKey);
  }

  static random(): Secp256k1Signer {
    for (;;) {
      const key = randomBytes(32);
      if (secp256k1.privateKeyVerify(key)) return new Secp256k1Signer(key);
    }
  }

  /** TxRaw bytes for `messages`, signed over the SignDoc like any SIGN_MODE_DIRECT wallet. */
  sign(messages: readonly EncodeObject[], f: TxFields): Uint8Array {
    const bodyBytes = registry.encode({ typeUrl: "/cosmos.tx.v1beta1.TxBody", value: { messages, memo: f.memo ?? "" } });
    const pubkey = encodePubkey(encodeSecp256k1Pubkey(this.publicKey));
    const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: Number(f.sequence) }], [{ denom: FEE_DENOM, amount: String(f.fee) }], Number(f.gasLimit), undefined, undefined);
    const digest = hash("sha256", signDocBytes({ bodyBytes, authInfoBytes }, f.chainId, f.accountNumber), "buffer");
    const { signature } = secp256k1.ecdsaSign(digest, this.privateKey);
    return TxRaw.encode({ bodyBytes, authInfoBytes, signatures: [signature] }).finish();
  }
}
