// merkle-store's node hashing and page encoding (merkle-store/tree.ts), a whole commit's new nodes
// or pages per call. Node's crypto.hash costs about 1 µs per call where the hashing itself takes
// 0.06 µs (two 80-byte messages at a time on the SHA extensions), and a commit of 1,000 keys hashes
// about 10,000 nodes; encoding its ~2,000 pages a byte at a time in JavaScript cost as much again.
// The functions work on merkle-store's node arrays in place:
//
//   nodes:       64 bytes per internal node id (from 1): int32 left child, int32 right child,
//                float64 page version, 32-byte hash, 16 bytes unused
//   kv:          64 bytes per leaf id (from 1): key hash, value hash
//   leaf hashes: 32 bytes per leaf id
//   leaf values: int32 offset and length per leaf id of its value in `heap`, length -1 when the
//                value is stored apart (only its hash is in the page)
//   a child:     0 the empty subtree, id > 0 an internal node, -id a leaf
//
//   leaf hash     = SHA-256("JMT::LeafNode" || key hash || value hash)
//   internal hash = SHA-256("JMT::IntrnalNode" || hash of left || hash of right), EMPTY_ROOT for empty
#include "jmt_hash.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sha256_pair.h"

#define NODE_BYTES 64
#define NODE_HASH_AT 16
#define KV_BYTES 64
#define LEAF_DOMAIN_BYTES 13
#define INTERNAL_DOMAIN_BYTES 16

static const uint8_t LEAF_DOMAIN[LEAF_DOMAIN_BYTES] = {'J', 'M', 'T', ':', ':', 'L', 'e', 'a', 'f', 'N', 'o', 'd', 'e'};
static const uint8_t INTERNAL_DOMAIN[INTERNAL_DOMAIN_BYTES] = {'J', 'M', 'T', ':', ':', 'I', 'n', 't', 'r', 'n', 'a', 'l', 'N', 'o', 'd', 'e'};
static const uint8_t EMPTY_ROOT[32] = {'S', 'P', 'A', 'R', 'S', 'E', '_', 'M', 'E', 'R', 'K', 'L', 'E', '_', 'P', 'L',
                                       'A', 'C', 'E', 'H', 'O', 'L', 'D', 'E', 'R', '_', 'H', 'A', 'S', 'H', '_', '_'};

static bool fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return false;
}

// A typed array argument of `type`: its data and its length in elements.
static bool get_array(napi_env env, napi_value value, napi_typedarray_type type, void** data, size_t* length) {
  bool is_typed;
  napi_typedarray_type actual;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &actual, length, data, NULL, NULL) != napi_ok || actual != type) {
    return fail(env, type == napi_int32_array ? "expected an Int32Array" : "expected a Uint8Array");
  }
  return true;
}

static bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, sha256_pair_fn* hash) {
  size_t argc = expected;
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || argc != expected) return fail(env, "wrong number of arguments");
  *hash = (sha256_pair_fn)data;
  return true;
}

// jmtHashLeaves(kv: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): the hash of each leaf in `ids`.
napi_value jmt_hash_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sha256_pair_fn hash;
  uint8_t *kv, *hashes;
  int32_t* ids;
  size_t kv_length, hashes_length, count;
  if (!get_args(env, info, 3, argv, &hash) || !get_array(env, argv[0], napi_uint8_array, (void**)&kv, &kv_length) ||
      !get_array(env, argv[1], napi_uint8_array, (void**)&hashes, &hashes_length) ||
      !get_array(env, argv[2], napi_int32_array, (void**)&ids, &count)) {
    return NULL;
  }
  size_t capacity = kv_length / KV_BYTES < hashes_length / 32 ? kv_length / KV_BYTES : hashes_length / 32;
  for (size_t i = 0; i < count; i++) {
    if (ids[i] < 1 || (size_t)ids[i] >= capacity) {
      fail(env, "jmtHashLeaves: leaf id out of range");
      return NULL;
    }
  }
  uint8_t a[SHA256_PAIR_CAPACITY(LEAF_DOMAIN_BYTES + 64)], b[SHA256_PAIR_CAPACITY(LEAF_DOMAIN_BYTES + 64)];
  memcpy(a, LEAF_DOMAIN, LEAF_DOMAIN_BYTES);
  memcpy(b, LEAF_DOMAIN, LEAF_DOMAIN_BYTES);
  for (size_t i = 0; i < count; i += 2) {
    memcpy(a + LEAF_DOMAIN_BYTES, kv + (size_t)ids[i] * KV_BYTES, 64);
    if (i + 1 < count) {
      memcpy(b + LEAF_DOMAIN_BYTES, kv + (size_t)ids[i + 1] * KV_BYTES, 64);
      hash(a, b, LEAF_DOMAIN_BYTES + 64, hashes + (size_t)ids[i] * 32, hashes + (size_t)ids[i + 1] * 32);
    } else {
      uint8_t spare[32];
      hash(a, a, LEAF_DOMAIN_BYTES + 64, hashes + (size_t)ids[i] * 32, spare);
    }
  }
  return NULL;
}

typedef struct {
  uint8_t* nodes;
  size_t internals;
  const uint8_t* leaf_hashes;
  size_t leaves;
} tree;

static int32_t left_of(const tree* t, int32_t id) {
  int32_t child;
  memcpy(&child, t->nodes + (size_t)id * NODE_BYTES, 4);
  return child;
}

static int32_t right_of(const tree* t, int32_t id) {
  int32_t child;
  memcpy(&child, t->nodes + (size_t)id * NODE_BYTES + 4, 4);
  return child;
}

static bool valid_child(const tree* t, int32_t child) {
  if (child == 0) return true;
  if (child > 0) return (size_t)child < t->internals;
  return child != INT32_MIN && (size_t)(-(int64_t)child) < t->leaves;
}

static const uint8_t* child_hash(const tree* t, int32_t child) {
  if (child == 0) return EMPTY_ROOT;
  if (child > 0) return t->nodes + (size_t)child * NODE_BYTES + NODE_HASH_AT;
  return t->leaf_hashes + (size_t)(-(int64_t)child) * 32;
}

#define PREFETCH_AHEAD 8

static void write_internal(const tree* t, int32_t id, uint8_t* message) {
  memcpy(message + INTERNAL_DOMAIN_BYTES, child_hash(t, left_of(t, id)), 32);
  memcpy(message + INTERNAL_DOMAIN_BYTES + 32, child_hash(t, right_of(t, id)), 32);
}

// jmtHashInternals(nodes: Uint8Array, leafHashes: Uint8Array, ids: Int32Array): the hash of each
// internal node in `ids`, in order: a node must come after its children.
napi_value jmt_hash_internals(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sha256_pair_fn hash;
  tree t;
  int32_t* ids;
  size_t nodes_length, leaf_hashes_length, count;
  if (!get_args(env, info, 3, argv, &hash) || !get_array(env, argv[0], napi_uint8_array, (void**)&t.nodes, &nodes_length) ||
      !get_array(env, argv[1], napi_uint8_array, (void**)&t.leaf_hashes, &leaf_hashes_length) ||
      !get_array(env, argv[2], napi_int32_array, (void**)&ids, &count)) {
    return NULL;
  }
  t.internals = nodes_length / NODE_BYTES;
  t.leaves = leaf_hashes_length / 32;
  for (size_t i = 0; i < count; i++) {
    if (ids[i] < 1 || (size_t)ids[i] >= t.internals || !valid_child(&t, left_of(&t, ids[i])) || !valid_child(&t, right_of(&t, ids[i]))) {
      fail(env, "jmtHashInternals: node id or child out of range");
      return NULL;
    }
  }
  uint8_t a[SHA256_PAIR_CAPACITY(INTERNAL_DOMAIN_BYTES + 64)], b[SHA256_PAIR_CAPACITY(INTERNAL_DOMAIN_BYTES + 64)];
  memcpy(a, INTERNAL_DOMAIN, INTERNAL_DOMAIN_BYTES);
  memcpy(b, INTERNAL_DOMAIN, INTERNAL_DOMAIN_BYTES);
  for (size_t i = 0; i < count;) {
    // The unchanged sibling of a node on an updated path lies anywhere in the arrays: fetching the
    // child hashes a few nodes ahead overlaps those cache misses (it halved the time at 100k keys).
    for (size_t ahead = i + PREFETCH_AHEAD; ahead < i + PREFETCH_AHEAD + 2 && ahead < count; ahead++) {
      __builtin_prefetch(child_hash(&t, left_of(&t, ids[ahead])));
      __builtin_prefetch(child_hash(&t, right_of(&t, ids[ahead])));
    }
    int32_t first = ids[i];
    uint8_t* first_out = t.nodes + (size_t)first * NODE_BYTES + NODE_HASH_AT;
    write_internal(&t, first, a);
    // Two at a time, unless the second is the first's parent (children come first).
    if (i + 1 < count && left_of(&t, ids[i + 1]) != first && right_of(&t, ids[i + 1]) != first) {
      int32_t second = ids[i + 1];
      write_internal(&t, second, b);
      hash(a, b, INTERNAL_DOMAIN_BYTES + 64, first_out, t.nodes + (size_t)second * NODE_BYTES + NODE_HASH_AT);
      i += 2;
    } else {
      uint8_t spare[32];
      hash(a, a, INTERNAL_DOMAIN_BYTES + 64, first_out, spare);
      i += 1;
    }
  }
  return NULL;
}

// Page slots (merkle-store/codec.ts): empty, leaf, internal node inside the page, sub-page root,
// leaf with its value.
#define SLOT_EMPTY 0
#define SLOT_LEAF 1
#define SLOT_INTERNAL 2
#define SLOT_PAGE 3
#define SLOT_VALUE_LEAF 4
#define PAGE_LEVELS 4

typedef struct {
  const tree* t;
  const uint8_t* kv;
  const int32_t* values;
  size_t leaves;
  const uint8_t* heap;
  size_t heap_length;
  uint8_t* out;
  size_t at;
  size_t capacity;
} page_writer;

// LEB128, as codec.ts's writeVarint; returns the bytes written (at most 8 below 2^53).
static size_t write_varint(uint8_t* out, uint64_t v) {
  size_t n = 0;
  for (; v >= 0x80; v >>= 7) out[n++] = (uint8_t)(v | 0x80);
  out[n++] = (uint8_t)v;
  return n;
}

// The slot of `ref` at `depth` and everything below it down to `bottom`; false on a node out of
// range or not in memory, or when `out` is full.
static bool write_slot(page_writer* w, int32_t ref, int depth, int bottom) {
  if (!valid_child(w->t, ref) || w->capacity - w->at < 1 + KV_BYTES) return false;
  uint8_t* out = w->out + w->at;
  if (ref == 0) {
    out[0] = SLOT_EMPTY;
    w->at += 1;
    return true;
  }
  if (ref < 0) {
    size_t leaf = (size_t)(-(int64_t)ref);
    if (leaf >= w->leaves) return false;
    const uint8_t* kv = w->kv + leaf * KV_BYTES;
    int32_t offset = w->values[2 * leaf], length = w->values[2 * leaf + 1];
    if (length < 0) {
      out[0] = SLOT_LEAF;
      memcpy(out + 1, kv, KV_BYTES);
      w->at += 1 + KV_BYTES;
      return true;
    }
    // codec.ts keeps values of up to 32 bytes inline, their length in one byte.
    if (length > 32 || offset < 0 || (size_t)offset + (size_t)length > w->heap_length || w->capacity - w->at < 34 + (size_t)length) return false;
    out[0] = SLOT_VALUE_LEAF;
    memcpy(out + 1, kv, 32);
    out[33] = (uint8_t)length;
    memcpy(out + 34, w->heap + offset, (size_t)length);
    w->at += 34 + (size_t)length;
    return true;
  }
  const uint8_t* node = w->t->nodes + (size_t)ref * NODE_BYTES;
  if (depth == bottom) {
    double version;
    memcpy(&version, node + 8, 8);
    if (!(version >= 0 && version < 9007199254740992.0)) return false;
    // At most 8 varint bytes below 2^53, so slot and hash fit in 41.
    out[0] = SLOT_PAGE;
    size_t n = 1 + write_varint(out + 1, (uint64_t)version);
    memcpy(out + n, node + NODE_HASH_AT, 32);
    w->at += n + 32;
    return true;
  }
  out[0] = SLOT_INTERNAL;
  w->at += 1;
  return write_slot(w, left_of(w->t, ref), depth + 1, bottom) && write_slot(w, right_of(w->t, ref), depth + 1, bottom);
}

// jmtEncodePages(nodes, kv, leafValues: Int32Array, heap, pages: Int32Array [root id, depth]*, out:
// Uint8Array, ends: Int32Array): tree.ts's page encoding, one page after another from out[0];
// ends[i] is where page i ends.
napi_value jmt_encode_pages(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  sha256_pair_fn unused;
  tree t;
  page_writer w;
  int32_t *pages, *ends;
  size_t nodes_length, kv_length, value_words, page_words, end_count;
  if (!get_args(env, info, 7, argv, &unused) || !get_array(env, argv[0], napi_uint8_array, (void**)&t.nodes, &nodes_length) ||
      !get_array(env, argv[1], napi_uint8_array, (void**)&w.kv, &kv_length) ||
      !get_array(env, argv[2], napi_int32_array, (void**)&w.values, &value_words) ||
      !get_array(env, argv[3], napi_uint8_array, (void**)&w.heap, &w.heap_length) ||
      !get_array(env, argv[4], napi_int32_array, (void**)&pages, &page_words) ||
      !get_array(env, argv[5], napi_uint8_array, (void**)&w.out, &w.capacity) ||
      !get_array(env, argv[6], napi_int32_array, (void**)&ends, &end_count)) {
    return NULL;
  }
  if (page_words % 2 != 0 || end_count < page_words / 2 || w.capacity > INT32_MAX) {
    fail(env, "jmtEncodePages: pages are [id, depth] pairs, one end each");
    return NULL;
  }
  t.internals = nodes_length / NODE_BYTES;
  t.leaves = kv_length / KV_BYTES;
  w.leaves = value_words / 2 < t.leaves ? value_words / 2 : t.leaves;
  t.leaf_hashes = NULL;
  w.t = &t;
  w.at = 0;
  for (size_t i = 0; i < page_words / 2; i++) {
    int32_t id = pages[2 * i], depth = pages[2 * i + 1];
    if (id < 1 || (size_t)id >= t.internals || depth < 0 || depth > 256 - PAGE_LEVELS ||
        !write_slot(&w, left_of(&t, id), depth + 1, depth + PAGE_LEVELS) || !write_slot(&w, right_of(&t, id), depth + 1, depth + PAGE_LEVELS)) {
      fail(env, "jmtEncodePages: a node out of range or not loaded, or the output is full");
      return NULL;
    }
    ends[i] = (int32_t)w.at;
  }
  return NULL;
}

// sha256Packed(data: Uint8Array, ends: Int32Array, out: Uint8Array): the digest of each item of
// `data` (item i ends at ends[i], starts where item i - 1 ends) at out + 32 i. A commit's keys and
// values in one call, with no array of views to build; equal-length neighbours go two at a time.
napi_value jmt_sha256_packed(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sha256_pair_fn hash;
  uint8_t *data, *out;
  int32_t* ends;
  size_t data_length, count, out_length, longest = 0;
  if (!get_args(env, info, 3, argv, &hash) || !get_array(env, argv[0], napi_uint8_array, (void**)&data, &data_length) ||
      !get_array(env, argv[1], napi_int32_array, (void**)&ends, &count) || !get_array(env, argv[2], napi_uint8_array, (void**)&out, &out_length)) {
    return NULL;
  }
  if (out_length < 32 * count) {
    fail(env, "sha256Packed: out holds fewer than 32 bytes per item");
    return NULL;
  }
  for (size_t i = 0, start = 0; i < count; start = (size_t)ends[i++]) {
    if (ends[i] < 0 || (size_t)ends[i] < start || (size_t)ends[i] > data_length) {
      fail(env, "sha256Packed: item ends out of order or past the data");
      return NULL;
    }
    if ((size_t)ends[i] - start > longest) longest = (size_t)ends[i] - start;
  }
  uint8_t stack[2 * SHA256_PAIR_CAPACITY(128)];
  size_t capacity = SHA256_PAIR_CAPACITY(longest);
  uint8_t* a = 2 * capacity <= sizeof stack ? stack : malloc(2 * capacity);
  if (a == NULL) {
    fail(env, "out of memory");
    return NULL;
  }
  uint8_t* b = a + capacity;
  for (size_t i = 0, start = 0; i < count;) {
    size_t length = (size_t)ends[i] - start;
    memcpy(a, data + start, length);
    if (i + 1 < count && (size_t)(ends[i + 1] - ends[i]) == length) {
      memcpy(b, data + ends[i], length);
      hash(a, b, length, out + 32 * i, out + 32 * (i + 1));
      start = (size_t)ends[i + 1];
      i += 2;
    } else {
      hash(a, a, length, out + 32 * i, out + 32 * i);
      start = (size_t)ends[i];
      i += 1;
    }
  }
  if (a != stack) free(a);
  return NULL;
}
