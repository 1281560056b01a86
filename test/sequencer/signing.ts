// Signing sequencer transactions exactly as a cosmjs wallet does (SIGN_MODE_DIRECT), for tests that
// drive the chain below the RPC.
import { DirectSecp256k1HdWallet, makeAuthInfoBytes, makeSignDoc, type EncodeObject } from "@cosmjs/proto-signing";
import { encodePubkey } from "@cosmjs/proto-signing";
import { encodeSecp256k1Pubkey } from "@cosmjs/amino";
import { TxRaw } from "cosmjs-types/cosmos/tx/v1beta1/tx";
import { metroRegistry } from "../../sequencer/client/registry.ts";

export const TEST_MNEMONICS = [
  "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
  "zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
  "legal winner thank year wave sausage worth useful legal winner thank yellow",
];

const registry = metroRegistry();

export interface TestSigner {
  address: string;
  pubKey: Uint8Array;
  wallet: DirectSecp256k1HdWallet;
}

export async function testSigner(mnemonic: string): Promise<TestSigner> {
  const wallet = await DirectSecp256k1HdWallet.fromMnemonic(mnemonic, { prefix: "metro" });
  const [account] = await wallet.getAccounts();
  return { address: account.address, pubKey: account.pubkey, wallet };
}

export interface SignOptions {
  chainId: string;
  accountNumber: bigint;
  sequence: bigint;
  gasLimit: bigint;
  fee: bigint;
  memo?: string;
}

export async function signTx(signer: TestSigner, messages: readonly EncodeObject[], o: SignOptions): Promise<Uint8Array> {
  const bodyBytes = registry.encode({ typeUrl: "/cosmos.tx.v1beta1.TxBody", value: { messages, memo: o.memo ?? "" } });
  const pubkey = encodePubkey(encodeSecp256k1Pubkey(signer.pubKey));
  const authInfoBytes = makeAuthInfoBytes([{ pubkey, sequence: Number(o.sequence) }], [{ denom: "umetro", amount: String(o.fee) }], Number(o.gasLimit), undefined, undefined);
  const signDoc = makeSignDoc(bodyBytes, authInfoBytes, o.chainId, Number(o.accountNumber));
  const { signed, signature } = await signer.wallet.signDirect(signer.address, signDoc);
  return TxRaw.encode({
    bodyBytes: signed.bodyBytes,
    authInfoBytes: signed.authInfoBytes,
    signatures: [Buffer.from(signature.signature, "base64")],
  }).finish();
}
