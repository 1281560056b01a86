// The project's wire formats, compiled from the .proto files beside this one by scripts/proto-gen.js.
import gen from "./gen/index.js";

export const metro = gen.metro;
export const tendermint = gen.tendermint;
