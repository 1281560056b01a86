// Errors a transaction can meet, with the codespace, code and wording of the Cosmos SDK so that
// cosmjs and wallets show users what they already know how to read.

export class TxError extends Error {
  readonly codespace: string;
  readonly code: number;

  constructor(codespace: string, code: number, message: string) {
    super(message);
    this.name = "TxError";
    this.codespace = codespace;
    this.code = code;
  }
}

// The SDK's registered errors (types/errors/errors.go) Metro can return.
const SDK_ERRORS = {
  txDecode: [2, "tx parse error"],
  unauthorized: [4, "unauthorized"],
  insufficientFunds: [5, "insufficient funds"],
  unknownRequest: [6, "unknown request"],
  invalidAddress: [7, "invalid address"],
  invalidPubKey: [8, "invalid pubkey"],
  unknownAddress: [9, "unknown address"],
  invalidCoins: [10, "invalid coins"],
  outOfGas: [11, "out of gas"],
  memoTooLarge: [12, "memo too large"],
  insufficientFee: [13, "insufficient fee"],
  noSignatures: [15, "no signatures supplied"],
  invalidRequest: [18, "invalid request"],
  txInMempoolCache: [19, "tx already in mempool"],
  mempoolIsFull: [20, "mempool is full"],
  txTooLarge: [21, "tx too large"],
  keyNotFound: [22, "key not found"],
  invalidHeight: [26, "invalid height"],
  wrongSequence: [32, "incorrect account sequence"],
  notFound: [38, "not found"],
  invalidGasLimit: [41, "invalid gas limit"],
} as const satisfies Record<string, readonly [number, string]>;

export type SdkErrorKind = keyof typeof SDK_ERRORS;

/** `detail: registered text`, as the SDK's errors.Wrap prints. */
export function sdkError(kind: SdkErrorKind, detail?: string): TxError {
  const [code, text] = SDK_ERRORS[kind];
  return new TxError("sdk", code, detail ? `${detail}: ${text}` : text);
}

// Metro's own codespace, for checks the SDK has no word for.
const SEQUENCER_ERRORS = {
  invalidSecondaryChainId: [2, "invalid secondary chain id"],
  emptyRollupData: [3, "empty rollup data"],
  rollupDataTooLarge: [4, "rollup data too large"],
  emptyBundle: [5, "empty bundle"],
  bundleTooLarge: [6, "bundle too large"],
} as const satisfies Record<string, readonly [number, string]>;

export type SequencerErrorKind = keyof typeof SEQUENCER_ERRORS;

export const SEQUENCER_CODESPACE = "sequencer";

export function sequencerError(kind: SequencerErrorKind, detail?: string): TxError {
  const [code, text] = SEQUENCER_ERRORS[kind];
  return new TxError(SEQUENCER_CODESPACE, code, detail ? `${detail}: ${text}` : text);
}
