// abci_query: the Cosmos SDK gRPC query paths cosmjs's StargateClient uses, answered from the
// sequencer's state with the SDK's codes and log texts, so cosmjs reads them as it reads any chain.
// Only the latest state is kept: a query for another height is refused (code 26). Proofs are not
// offered (`prove` is ignored).
import { BaseAccount } from "cosmjs-types/cosmos/auth/v1beta1/auth";
import { QueryAccountRequest, QueryAccountResponse } from "cosmjs-types/cosmos/auth/v1beta1/query";
import { QueryAllBalancesRequest, QueryAllBalancesResponse, QueryBalanceRequest, QueryBalanceResponse } from "cosmjs-types/cosmos/bank/v1beta1/query";
import { PubKey } from "cosmjs-types/cosmos/crypto/secp256k1/keys";
import { TxMsgData } from "cosmjs-types/cosmos/base/abci/v1beta1/abci";
import { SimulateRequest, SimulateResponse } from "cosmjs-types/cosmos/tx/v1beta1/service";
import { hash } from "node:crypto";
import { toBase64 } from "../../cometbft/hash.ts";
import type { SequencerNode } from "../node.ts";
import { FEE_DENOM } from "../params.ts";
import { txMsgData } from "../state/results.ts";
import { parseAddress } from "../tx/address.ts";
import type { Account } from "../tx/ante.ts";
import { decodeTx } from "../tx/decode.ts";
import { sdkError, TxError } from "../tx/errors.ts";
import { rollupTxsOf } from "../tx/messages.ts";

const ACCOUNT_PATH = "/cosmos.auth.v1beta1.Query/Account";
const BALANCE_PATH = "/cosmos.bank.v1beta1.Query/Balance";
const ALL_BALANCES_PATH = "/cosmos.bank.v1beta1.Query/AllBalances";
const SIMULATE_PATH = "/cosmos.tx.v1beta1.Service/Simulate";

const BASE_ACCOUNT = "/cosmos.auth.v1beta1.BaseAccount";
const SECP256K1_PUBKEY = "/cosmos.crypto.secp256k1.PubKey";

export interface AbciQueryJson {
  response: {
    code: number;
    log: string;
    info: string;
    index: string;
    key: string | null;
    value: string | null;
    proofOps: null;
    height: string;
    codespace: string;
  };
}

type Handler = (node: SequencerNode, data: Uint8Array) => Promise<Uint8Array> | Uint8Array;

/** The SDK reports a gRPC handler's failure as `rpc error: code = <Code> desc = <text>: <registered text>`. */
const grpcNotFound = (desc: string) => sdkError("keyNotFound", `rpc error: code = NotFound desc = ${desc}`);
const grpcInvalidArgument = (desc: string) => sdkError("invalidRequest", `rpc error: code = InvalidArgument desc = ${desc}`);

function decodeRequest<T>(name: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    throw grpcInvalidArgument(`decoding ${name}: ${(error as Error).message}`);
  }
}

function checkAddress(address: string): void {
  if (address === "") throw grpcInvalidArgument("empty address string is not allowed");
  try {
    parseAddress(address);
  } catch (error) {
    throw grpcInvalidArgument((error as Error).message);
  }
}

/** BaseAccount; pub_key only once the account has signed (an Any without a value breaks cosmjs). */
function baseAccount(account: Account): Uint8Array {
  const pubKey = account.pubKey && { typeUrl: SECP256K1_PUBKEY, value: PubKey.encode({ key: account.pubKey }).finish() };
  const value = BaseAccount.encode({ address: account.address, pubKey, accountNumber: account.accountNumber, sequence: account.sequence }).finish();
  return QueryAccountResponse.encode({ account: { typeUrl: BASE_ACCOUNT, value } }).finish();
}

async function queryAccount(node: SequencerNode, data: Uint8Array): Promise<Uint8Array> {
  const { address } = decodeRequest("QueryAccountRequest", () => QueryAccountRequest.decode(data));
  checkAddress(address);
  const account = await node.store.account(address);
  // cosmjs's getAccount returns null on exactly this log (`rpc error: code = NotFound`).
  if (!account) throw grpcNotFound(`account ${address} not found`);
  return baseAccount(account);
}

async function balanceOf(node: SequencerNode, address: string): Promise<bigint> {
  checkAddress(address);
  return (await node.store.account(address))?.balance ?? 0n;
}

async function queryBalance(node: SequencerNode, data: Uint8Array): Promise<Uint8Array> {
  const { address, denom } = decodeRequest("QueryBalanceRequest", () => QueryBalanceRequest.decode(data));
  if (denom === "") throw grpcInvalidArgument("invalid denom");
  const umetro = await balanceOf(node, address);
  const amount = denom === FEE_DENOM ? umetro : 0n;
  // Always a balance: cosmjs's getBalance fails on a reply without one.
  return QueryBalanceResponse.encode({ balance: { denom, amount: String(amount) } }).finish();
}

async function queryAllBalances(node: SequencerNode, data: Uint8Array): Promise<Uint8Array> {
  const { address } = decodeRequest("QueryAllBalancesRequest", () => QueryAllBalancesRequest.decode(data));
  const amount = await balanceOf(node, address);
  const balances = amount > 0n ? [{ denom: FEE_DENOM, amount: String(amount) }] : [];
  return QueryAllBalancesResponse.encode({ balances, pagination: { nextKey: new Uint8Array(), total: BigInt(balances.length) } }).finish();
}

/**
 * Gas is a function of the transaction's size alone, so simulation needs no state and checks no
 * signature (cosmjs simulates with an empty one). The result carries the message responses the
 * transaction will have once included.
 */
function simulate(node: SequencerNode, data: Uint8Array): Uint8Array {
  const { txBytes } = decodeRequest("SimulateRequest", () => SimulateRequest.decode(data));
  if (txBytes.length === 0) throw grpcInvalidArgument("empty txBytes is not allowed");
  const { gasUsed } = node.simulate(txBytes);
  const tx = decodeTx(txBytes, node.genesis.params, { simulate: true });
  const rollupTxHashes = tx.messages.flatMap(rollupTxsOf).map((r) => new Uint8Array(hash("sha256", r.data, "buffer")));
  const msgData = txMsgData(tx.messages, rollupTxHashes);
  return SimulateResponse.encode({
    gasInfo: { gasWanted: tx.gasLimit, gasUsed },
    result: { data: msgData, log: "", events: [], msgResponses: TxMsgData.decode(msgData).msgResponses },
  }).finish();
}

const HANDLERS: ReadonlyMap<string, Handler> = new Map<string, Handler>([
  [ACCOUNT_PATH, queryAccount],
  [BALANCE_PATH, queryBalance],
  [ALL_BALANCES_PATH, queryAllBalances],
  [SIMULATE_PATH, simulate],
]);

const ABCI_QUERY_PATHS = [...HANDLERS.keys()];

function response(height: number, r: { code: number; codespace: string; log: string; value?: Uint8Array }): AbciQueryJson {
  return {
    response: {
      code: r.code,
      log: r.log,
      info: "",
      index: "0",
      key: null,
      value: r.value ? toBase64(r.value) : null,
      proofOps: null,
      height: String(height),
      codespace: r.codespace,
    },
  };
}

export async function abciQuery(node: SequencerNode, args: { path?: string; data?: Uint8Array; height?: number }): Promise<AbciQueryJson> {
  const latest = node.head.height;
  try {
    const handler = HANDLERS.get(args.path ?? "");
    if (!handler) throw sdkError("unknownRequest", `unknown query path ${JSON.stringify(args.path ?? "")}; supported: ${ABCI_QUERY_PATHS.join(", ")}`);
    if (args.height && args.height !== latest) {
      throw sdkError("invalidHeight", `cannot query at height ${args.height}: this node keeps only the latest state (height ${latest})`);
    }
    return response(latest, { code: 0, codespace: "", log: "", value: await handler(node, args.data ?? new Uint8Array()) });
  } catch (error) {
    if (!(error instanceof TxError)) throw error;
    return response(latest, { code: error.code, codespace: error.codespace, log: error.message });
  }
}
