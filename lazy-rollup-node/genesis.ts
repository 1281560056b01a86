// A rollup's height 0: the state machine writes its genesis state, and the store commits it with the
// chain record that fixes which rollup the database holds.
import { validateSecondaryChainId } from "../sequencer/tx/messages.ts";
import { StateLayer } from "./state-layer.ts";
import type { StateMachine } from "./state-machine.ts";
import type { BlockRecord, RollupChain, RollupStore } from "./rollup-store.ts";

const EMPTY_STATE = { get: async () => undefined };

export async function initRollup<Genesis>(store: RollupStore, chain: RollupChain, machine: StateMachine<Genesis>, genesis: Genesis): Promise<BlockRecord> {
  validateSecondaryChainId(chain.chainId);
  if (chain.sequencerStartHeight < 1n) throw new RangeError(`sequencer start height must be at least 1, got ${chain.sequencerStartHeight}`);
  const state = new StateLayer(EMPTY_STATE);
  await machine.initGenesis(state, genesis);
  return store.commitGenesis(chain, state.writes());
}
