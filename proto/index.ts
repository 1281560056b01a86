// The project's wire formats, compiled from the .proto files beside this one by scripts/proto-gen.js.
import gen from "./gen/index.js";

export const metro = gen.metro;
export const tendermint = gen.tendermint;

/** Message classes as types. Decoded proto3 messages always carry every scalar field (defaults included). */
export type { metro as MetroProto, tendermint as TendermintProto } from "./gen/index.js";
