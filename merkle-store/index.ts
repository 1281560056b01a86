// An authenticated, versioned key-value store in LevelDB: a sparse Merkle tree whose commits cost
// O(changes × log n). See README.md.
export { MerkleStore, type CommitResult, type Db, type ExtraOps, type StoreOptions } from "./store.ts";
export { verifyProof, verifyKeyHashProof, type Proof } from "./proof.ts";
export { EMPTY_ROOT } from "./hash.ts";
