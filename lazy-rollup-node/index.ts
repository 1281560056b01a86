// The deterministic core of a lazy rollup node: the state machine interface, the rollup's
// authenticated state, block execution, lazily derived headers and bundle proofs. See README.md.
export type { BundleRef, RollupEvent, StateAccess, StateMachine, StateReader, TxContext, TxOutcome } from "./state-machine.ts";
export { StateLayer, type StateWrite } from "./state-layer.ts";
export { RollupStore, type BlockToCommit, type BlockRecord, type RollupChain, type RollupStoreOptions, type StoreBatch, type ExtraWrites } from "./rollup-store.ts";
export { initRollup } from "./genesis.ts";
export { applyBlock, executeRollupBlock, type AppliedBlock, type ExecutedRollupBlock, type RollupBlockInput, type RollupTxResult } from "./execute-block.ts";
export { decodeHeader, deriveHeader, encodeHeader, headerHash, HeaderFormatError, type DaLocation, type RollupHeader } from "./header.ts";
export { decodeSignedHeader, encodeSignedHeader, signHeader, verifySignedHeader, type SignedHeader } from "./header-signature.ts";
export { compareHeaders, type HeaderComparison, type HeaderEvidence } from "./header-compare.ts";
export { HeaderStore } from "./header-store.ts";
export { BundleProofError, decodeBundleProof, encodeBundleProof, proveBundle, verifyBundleProof, type BundleProof, type CommittedSequencerBlock } from "./bundle-proof.ts";
export { ValidatorSetHistory, type ValidatorSetChange, type ValidatorSetLookup } from "./validator-sets.ts";
export type { SigningKey } from "./secp256k1-key.ts";
export { tokenRollup, type TokenConfig } from "./token/machine.ts";
export type { TokenGenesis } from "./token/genesis.ts";
export { signTokenTransfer } from "./token/client.ts";
export type { TransferBody } from "./token/tx.ts";
export { proveAccount, verifyAccountProof, type AccountProof } from "./token/account-proof.ts";
