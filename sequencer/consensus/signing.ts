// Turns the state machine's sign requests into signed messages through the double-sign guard. The
// engine picks the timestamp from its clock, so a validator that crashed after signing and before
// logging its vote is asked again for the same vote with a later time; like CometBFT's file signer,
// the previous signature (and its timestamp) is reused when nothing but the time differs, and
// anything else for an already signed (height, round, step) is refused.
import type { Timestamp } from "../../cometbft/time.ts";
import { tendermint } from "../../proto/index.ts";
import { PREVOTE, proposalBytesToSign, voteBytesToSign } from "./messages.ts";
import { STEP_PRECOMMIT, STEP_PREVOTE, STEP_PROPOSE, type PrivValidator } from "./privval.ts";
import type { SignedMessage, SignRequest } from "./state-machine.ts";

export type ConsensusSigner = Pick<PrivValidator, "sign" | "lastSigned" | "lastSignature">;

function requestCoordinates(request: SignRequest): { height: bigint; round: number; step: number } {
  if (request.kind === "proposal") return { height: request.proposal.height, round: request.proposal.round, step: STEP_PROPOSE };
  return { height: request.vote.height, round: request.vote.round, step: request.vote.type === PREVOTE ? STEP_PREVOTE : STEP_PRECOMMIT };
}

function bytesToSign(chainId: string, request: SignRequest, timestamp: Timestamp): Uint8Array {
  return request.kind === "proposal" ? proposalBytesToSign(chainId, { ...request.proposal, timestamp }) : voteBytesToSign(chainId, { ...request.vote, timestamp });
}

function signedTimestamp(request: SignRequest, signBytes: Uint8Array): Timestamp | undefined {
  try {
    const decoded = request.kind === "proposal" ? tendermint.types.CanonicalProposal.decodeDelimited(signBytes) : tendermint.types.CanonicalVote.decodeDelimited(signBytes);
    const t = decoded.timestamp;
    return t ? { seconds: BigInt((t.seconds ?? 0).toString()), nanos: t.nanos ?? 0 } : undefined;
  } catch {
    return undefined;
  }
}

function message(request: SignRequest, timestamp: Timestamp, signature: Uint8Array): SignedMessage {
  if (request.kind === "proposal") return { kind: "proposal", proposal: { ...request.proposal, timestamp, signature, block: request.block } };
  return { kind: "vote", vote: { ...request.vote, timestamp, signature } };
}

/** Signs `request` at `now`; throws DoubleSignError if the guard refuses. */
export function signRequest(signer: ConsensusSigner, chainId: string, request: SignRequest, now: Timestamp): SignedMessage {
  const { height, round, step } = requestCoordinates(request);
  const last = signer.lastSigned;
  const previous = signer.lastSignature;
  if (previous && last.height === height && last.round === round && last.step === step) {
    const earlier = signedTimestamp(request, previous.signBytes);
    if (earlier && Buffer.compare(bytesToSign(chainId, request, earlier), previous.signBytes) === 0) return message(request, earlier, previous.signature);
  }
  const signature = signer.sign(height, round, step, bytesToSign(chainId, request, now));
  return message(request, now, signature);
}
