// The hashing and page encoding of merkle-store's tree (the Jellyfish Merkle Tree's, with SHA-256), batched: see jmt_hash.c.
#ifndef METRO_JMT_HASH_H
#define METRO_JMT_HASH_H

#include <node_api.h>

// jmtHashLeaves, jmtHashInternals, jmtEncodePages and sha256Packed (see jmt_hash.c), exported by nmt_hash.c with
// the addon's other functions; their callback data is the sha256_pair_fn to hash with.
napi_value jmt_hash_leaves(napi_env env, napi_callback_info info);
napi_value jmt_hash_internals(napi_env env, napi_callback_info info);
napi_value jmt_encode_pages(napi_env env, napi_callback_info info);
napi_value jmt_sha256_packed(napi_env env, napi_callback_info info);

#endif
