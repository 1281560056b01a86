// The native NmtHasher of celestia/nmt-hasher.ts (sha256, 29-byte namespaces, ignore-max-namespace);
// celestia/nmt-hasher-js.ts states the same semantics in JavaScript. Node's crypto.hash costs about a
// microsecond per call, more than hashing one leaf, so whole tree levels are hashed per call here, two
// messages at a time (sha256_pair.c). Only N-API is used, so one build loads in every Node version
// with N-API 8.
//
// Exports hashLeaves, hashFramedLeaves, hashLevel, merkleRoot, and for celestia/merkle.ts
// merkleRootOfItems and sha256Items (and, from jmt_hash.c, merkle-store's jmtHashLeaves,
// jmtHashInternals, jmtEncodePages and sha256Packed) on the fastest SHA-256 this CPU runs,
// `engine` naming it, and `openssl`: the same functions on OpenSSL alone.
#include <node_api.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "jmt_hash.h"
#include "sha256_pair.h"

#define NS 29
#define NODE (2 * NS + SHA256_PAIR_DIGEST)
#define LEAF_PREFIX 0x00
#define NODE_PREFIX 0x01

static bool fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return false;
}

static bool get_bytes(napi_env env, napi_value value, const uint8_t** data, size_t* length) {
  bool is_typed;
  napi_typedarray_type type;
  void* raw;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_uint8_array) {
    return fail(env, "expected a Uint8Array");
  }
  *data = raw;
  return true;
}

static bool get_size(napi_env env, napi_value value, size_t* size) {
  int64_t n;
  if (napi_get_value_int64(env, value, &n) != napi_ok || n < 0) return fail(env, "expected a non-negative integer");
  *size = (size_t)n;
  return true;
}

// The arguments, and the engine the function was registered with.
static bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv, sha256_pair_fn* hash) {
  size_t argc = expected;
  void* data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, &data) != napi_ok || argc != expected) {
    return fail(env, "wrong number of arguments");
  }
  *hash = (sha256_pair_fn)data;
  return true;
}

// A new Uint8Array of `length` bytes; NULL (with a pending exception) on failure.
static napi_value new_bytes(napi_env env, size_t length, uint8_t** data) {
  napi_value buffer, array;
  void* raw;
  if (napi_create_arraybuffer(env, length, &raw, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array) != napi_ok) {
    return NULL;
  }
  *data = raw;
  return array;
}

// Two message buffers of `length` bytes (plus padding room).
typedef struct {
  uint8_t* a;
  uint8_t* b;
} scratch;

static bool scratch_open(napi_env env, scratch* s, size_t length) {
  size_t capacity = SHA256_PAIR_CAPACITY(length);
  s->a = malloc(2 * capacity);
  if (s->a == NULL) return fail(env, "out of memory");
  s->b = s->a + capacity;
  return true;
}

// Hashes `count` messages of `length` bytes that `write` puts in place, two at a time (the last
// alone if count is odd), storing digest i at out + i * stride.
typedef void (*write_fn)(uint8_t* message, size_t index, const void* context);

static void hash_all(sha256_pair_fn hash, scratch* s, size_t count, size_t length, write_fn write, const void* context, uint8_t* out, size_t stride) {
  uint8_t spare[SHA256_PAIR_DIGEST];
  for (size_t i = 0; i < count; i += 2) {
    bool pair = i + 1 < count;
    write(s->a, i, context);
    if (pair) write(s->b, i + 1, context);
    hash(s->a, pair ? s->b : s->a, length, out + i * stride, pair ? out + (i + 1) * stride : spare);
  }
}

typedef struct {
  const uint8_t* namespaces;
  const uint8_t* data;
  size_t leaf_size;
} leaves_context;

// 0x00 || ns_i || data_i
static void write_leaf(uint8_t* message, size_t i, const void* context) {
  const leaves_context* c = context;
  message[0] = LEAF_PREFIX;
  memcpy(message + 1, c->namespaces + i * NS, NS);
  memcpy(message + 1 + NS, c->data + i * c->leaf_size, c->leaf_size);
}

// hashLeaves(namespaces: n*29, data: n*leafSize, leafSize) -> n*90
static napi_value hash_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  sha256_pair_fn hash;
  leaves_context c;
  size_t ns_length, data_length;
  uint8_t* out;
  scratch s;
  if (!get_args(env, info, 3, argv, &hash) || !get_bytes(env, argv[0], &c.namespaces, &ns_length) ||
      !get_bytes(env, argv[1], &c.data, &data_length) || !get_size(env, argv[2], &c.leaf_size)) {
    return NULL;
  }
  size_t count = ns_length / NS;
  if (ns_length % NS != 0 || data_length != count * c.leaf_size) {
    fail(env, "hashLeaves: namespaces and data do not describe the same number of leaves");
    return NULL;
  }
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL || !scratch_open(env, &s, 1 + NS + c.leaf_size)) return NULL;
  for (size_t i = 0; i < count; i++) {
    memcpy(out + i * NODE, c.namespaces + i * NS, NS);
    memcpy(out + i * NODE + NS, c.namespaces + i * NS, NS);
  }
  hash_all(hash, &s, count, 1 + NS + c.leaf_size, write_leaf, &c, out + 2 * NS, NODE);
  free(s.a);
  return result;
}

typedef struct {
  const uint8_t* ns;
  const uint8_t* first_header;
  size_t first_length;
  const uint8_t* header;
  size_t header_length;
  const uint8_t* data;
  size_t data_length;
  size_t leaf_size;
} framed_context;

// 0x00 || ns || header || the leaf's share of the data || zeros, as framing.ts's frameLeaves lays it out.
static void write_framed_leaf(uint8_t* message, size_t i, const void* context) {
  const framed_context* c = context;
  size_t head = i == 0 ? c->first_length : c->header_length;
  size_t start = i == 0 ? 0 : (c->leaf_size - c->first_length) + (i - 1) * (c->leaf_size - c->header_length);
  size_t available = start < c->data_length ? c->data_length - start : 0;
  size_t take = c->leaf_size - head < available ? c->leaf_size - head : available;
  uint8_t* leaf = message + 1 + NS;
  message[0] = LEAF_PREFIX;
  memcpy(message + 1, c->ns, NS);
  memcpy(leaf, i == 0 ? c->first_header : c->header, head);
  memcpy(leaf + head, c->data + start, take);
  memset(leaf + head + take, 0, c->leaf_size - head - take);
}

// hashFramedLeaves(namespace: 29, firstHeader, header, data, leafSize) -> n*90
static napi_value hash_framed_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  sha256_pair_fn hash;
  framed_context c;
  size_t ns_length;
  uint8_t* out;
  scratch s;
  if (!get_args(env, info, 5, argv, &hash) || !get_bytes(env, argv[0], &c.ns, &ns_length) ||
      !get_bytes(env, argv[1], &c.first_header, &c.first_length) || !get_bytes(env, argv[2], &c.header, &c.header_length) ||
      !get_bytes(env, argv[3], &c.data, &c.data_length) || !get_size(env, argv[4], &c.leaf_size)) {
    return NULL;
  }
  if (ns_length != NS) {
    fail(env, "hashFramedLeaves: a namespace is 29 bytes");
    return NULL;
  }
  if (c.first_length > c.leaf_size || c.header_length >= c.leaf_size) {
    fail(env, "framing: headers leave no room for data");
    return NULL;
  }
  size_t first_room = c.leaf_size - c.first_length, room = c.leaf_size - c.header_length;
  size_t count = 1 + (c.data_length > first_room ? (c.data_length - first_room + room - 1) / room : 0);
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL || !scratch_open(env, &s, 1 + NS + c.leaf_size)) return NULL;
  for (size_t i = 0; i < count; i++) {
    memcpy(out + i * NODE, c.ns, NS);
    memcpy(out + i * NODE + NS, c.ns, NS);
  }
  hash_all(hash, &s, count, 1 + NS + c.leaf_size, write_framed_leaf, &c, out + 2 * NS, NODE);
  free(s.a);
  return result;
}

static bool is_parity(const uint8_t* ns) {
  for (int i = 0; i < NS; i++) {
    if (ns[i] != 0xFF) return false;
  }
  return true;
}

// 0x01 || left || right, for the pair of children of parent i
static void write_node(uint8_t* message, size_t i, const void* context) {
  message[0] = NODE_PREFIX;
  memcpy(message + 1, (const uint8_t*)context + 2 * i * NODE, 2 * NODE);
}

// hashLevel(nodes: 2m*90) -> m*90
static napi_value hash_level(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sha256_pair_fn hash;
  const uint8_t* nodes;
  size_t length;
  uint8_t* out;
  scratch s;
  if (!get_args(env, info, 1, argv, &hash) || !get_bytes(env, argv[0], &nodes, &length)) return NULL;
  if (length % (2 * NODE) != 0) {
    fail(env, "hashLevel: nodes must be an even number of 90-byte hashes");
    return NULL;
  }
  size_t count = length / (2 * NODE);
  for (size_t i = 0; i < count; i++) {
    const uint8_t* left = nodes + 2 * i * NODE;
    const uint8_t* right = left + NODE;
    if (memcmp(left + NS, left, NS) < 0 || memcmp(right + NS, right, NS) < 0) {
      fail(env, "nmt: node max namespace below its min namespace");
      return NULL;
    }
    if (memcmp(right, left + NS, NS) < 0) {
      fail(env, "nmt: sibling nodes out of namespace order");
      return NULL;
    }
  }
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL || !scratch_open(env, &s, 1 + 2 * NODE)) return NULL;
  for (size_t i = 0; i < count; i++) {
    const uint8_t* left = nodes + 2 * i * NODE;
    const uint8_t* right = left + NODE;
    memcpy(out + i * NODE, left, NS);
    memcpy(out + i * NODE + NS, is_parity(right) ? left + NS : right + NS, NS);
  }
  hash_all(hash, &s, count, 1 + 2 * NODE, write_node, nodes, out + 2 * NS, NODE);
  free(s.a);
  return result;
}

typedef struct {
  const uint8_t* items;
  size_t item_size;
} items_context;

// 0x00 || item_i
static void write_merkle_leaf(uint8_t* message, size_t i, const void* context) {
  const items_context* c = context;
  message[0] = LEAF_PREFIX;
  memcpy(message + 1, c->items + i * c->item_size, c->item_size);
}

// 0x01 || left || right, for the pair of children of parent i
static void write_merkle_node(uint8_t* message, size_t i, const void* context) {
  message[0] = NODE_PREFIX;
  memcpy(message + 1, (const uint8_t*)context + 2 * i * SHA256_PAIR_DIGEST, 2 * SHA256_PAIR_DIGEST);
}

// A JavaScript array of Uint8Arrays, read once: where each item's bytes are, and the longest.
typedef struct {
  size_t count;
  const uint8_t** data;
  size_t* lengths;
  size_t longest;
} item_list;

static bool item_list_open(napi_env env, napi_value array, item_list* list) {
  bool is_array;
  uint32_t count;
  list->data = NULL;
  list->lengths = NULL;
  list->longest = 0;
  if (napi_is_array(env, array, &is_array) != napi_ok || !is_array || napi_get_array_length(env, array, &count) != napi_ok) {
    return fail(env, "expected an array of Uint8Arrays");
  }
  list->count = count;
  list->data = malloc((count + 1) * sizeof *list->data);
  list->lengths = malloc((count + 1) * sizeof *list->lengths);
  if (list->data == NULL || list->lengths == NULL) return fail(env, "out of memory");
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    if (napi_get_element(env, array, i, &item) != napi_ok || !get_bytes(env, item, &list->data[i], &list->lengths[i])) return false;
    if (list->lengths[i] > list->longest) list->longest = list->lengths[i];
  }
  return true;
}

static void item_list_close(item_list* list) {
  free(list->data);
  free(list->lengths);
}

// Digest i = sha256(prefix || item i), or of item i alone when prefix < 0, at out + 32 i. Adjacent
// items of equal length (the common case: transaction hashes, parts, same-size entries) are hashed
// two at a time; `s` holds 1 + list->longest bytes.
static void hash_items(sha256_pair_fn hash, scratch* s, const item_list* list, int prefix, uint8_t* out) {
  size_t skip = prefix < 0 ? 0 : 1;
  s->a[0] = s->b[0] = (uint8_t)prefix;
  for (size_t i = 0; i < list->count;) {
    size_t length = list->lengths[i];
    memcpy(s->a + skip, list->data[i], length);
    if (i + 1 < list->count && list->lengths[i + 1] == length) {
      memcpy(s->b + skip, list->data[i + 1], length);
      hash(s->a, s->b, skip + length, out + i * SHA256_PAIR_DIGEST, out + (i + 1) * SHA256_PAIR_DIGEST);
      i += 2;
    } else {
      hash(s->a, s->a, skip + length, out + i * SHA256_PAIR_DIGEST, out + i * SHA256_PAIR_DIGEST);
      i += 1;
    }
  }
}

// sha256Items(items: Uint8Array[], prefix: -1 or a byte) -> n*32: sha256(prefix || item) for each
// item (no prefix byte for -1): merkle.ts's leaf hashes (prefix 0), or plain digests.
static napi_value sha256_items(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sha256_pair_fn hash;
  int32_t prefix;
  item_list list;
  uint8_t* out;
  scratch s;
  if (!get_args(env, info, 2, argv, &hash) || napi_get_value_int32(env, argv[1], &prefix) != napi_ok || prefix < -1 || prefix > 255) {
    fail(env, "sha256Items: expected items and a prefix byte or -1");
    return NULL;
  }
  napi_value result = NULL;
  if (item_list_open(env, argv[0], &list) && (result = new_bytes(env, list.count * SHA256_PAIR_DIGEST, &out)) != NULL &&
      scratch_open(env, &s, 1 + list.longest)) {
    hash_items(hash, &s, &list, prefix, out);
    free(s.a);
  } else {
    result = NULL;
  }
  item_list_close(&list);
  return result;
}

// Replaces the `count` 32-byte hashes at `level` with their RFC 6962 root, a level at a time in
// place. An odd last node moves up unchanged, which gives the same tree as splitting at the largest
// power of two below the count. `s` holds 1 + 64 bytes.
static void reduce_level(sha256_pair_fn hash, scratch* s, uint8_t* level, size_t count) {
  for (; count > 1; count = (count + 1) / 2) {
    // hash_all reads children 2i and 2i+1 before it writes parent i, so the level can be overwritten.
    hash_all(hash, s, count / 2, 1 + 2 * SHA256_PAIR_DIGEST, write_merkle_node, level, level, SHA256_PAIR_DIGEST);
    if (count % 2 == 1) memmove(level + (count / 2) * SHA256_PAIR_DIGEST, level + (count - 1) * SHA256_PAIR_DIGEST, SHA256_PAIR_DIGEST);
  }
}

// merkleRootOfItems(items: Uint8Array[]) -> 32 bytes: merkle.ts's merkleRoot, items of any sizes.
static napi_value merkle_root_of_items(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  sha256_pair_fn hash;
  item_list list;
  uint8_t *out, *level;
  scratch s;
  if (!get_args(env, info, 1, argv, &hash)) return NULL;
  napi_value result = NULL;
  if (item_list_open(env, argv[0], &list) && (result = new_bytes(env, SHA256_PAIR_DIGEST, &out)) != NULL &&
      scratch_open(env, &s, 1 + (list.longest > 2 * SHA256_PAIR_DIGEST ? list.longest : 2 * SHA256_PAIR_DIGEST))) {
    if (list.count == 0) {  // sha256("")
      hash(s.a, s.a, 0, out, out);
    } else if ((level = malloc(list.count * SHA256_PAIR_DIGEST)) == NULL) {
      result = NULL;
      fail(env, "out of memory");
    } else {
      hash_items(hash, &s, &list, LEAF_PREFIX, level);
      reduce_level(hash, &s, level, list.count);
      memcpy(out, level, SHA256_PAIR_DIGEST);
      free(level);
    }
    free(s.a);
  } else {
    result = NULL;
  }
  item_list_close(&list);
  return result;
}

// merkleRoot(items: n*itemSize, itemSize) -> 32 bytes: merkle.ts's RFC 6962 root over items given
// contiguously.
static napi_value merkle_root(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  sha256_pair_fn hash;
  items_context c;
  size_t length;
  uint8_t *out, *level;
  scratch s;
  if (!get_args(env, info, 2, argv, &hash) || !get_bytes(env, argv[0], &c.items, &length) || !get_size(env, argv[1], &c.item_size)) {
    return NULL;
  }
  if (c.item_size == 0 || length % c.item_size != 0) {
    fail(env, "merkleRoot: items must be a whole number of positive-size items");
    return NULL;
  }
  size_t count = length / c.item_size;
  napi_value result = new_bytes(env, SHA256_PAIR_DIGEST, &out);
  if (result == NULL) return NULL;
  if (count == 0) {  // sha256("")
    uint8_t empty[SHA256_PAIR_CAPACITY(0)];
    hash(empty, empty, 0, out, out);
    return result;
  }
  size_t longest = c.item_size > 2 * SHA256_PAIR_DIGEST ? c.item_size : 2 * SHA256_PAIR_DIGEST;
  if (new_bytes(env, count * SHA256_PAIR_DIGEST, &level) == NULL || !scratch_open(env, &s, 1 + longest)) return NULL;
  hash_all(hash, &s, count, 1 + c.item_size, write_merkle_leaf, &c, level, SHA256_PAIR_DIGEST);
  reduce_level(hash, &s, level, count);
  memcpy(out, level, SHA256_PAIR_DIGEST);
  free(s.a);
  return result;
}

static bool export_functions(napi_env env, napi_value target, sha256_pair_fn hash) {
  static const struct {
    const char* name;
    napi_callback callback;
  } functions[] = {{"hashLeaves", hash_leaves},         {"hashFramedLeaves", hash_framed_leaves}, {"hashLevel", hash_level},
                   {"merkleRoot", merkle_root},         {"merkleRootOfItems", merkle_root_of_items}, {"sha256Items", sha256_items},
                   {"jmtHashLeaves", jmt_hash_leaves},  {"jmtHashInternals", jmt_hash_internals}, {"jmtEncodePages", jmt_encode_pages},
                   {"sha256Packed", jmt_sha256_packed}};
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    if (napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].callback, (void*)hash, &fn) != napi_ok ||
        napi_set_named_property(env, target, functions[i].name, fn) != napi_ok) {
      return false;
    }
  }
  return true;
}

NAPI_MODULE_INIT() {
  const char* engine;
  sha256_pair_fn best = sha256_pair_best(&engine);
  napi_value openssl, name;
  if (!export_functions(env, exports, best) || napi_create_object(env, &openssl) != napi_ok ||
      !export_functions(env, openssl, sha256_pair_openssl) || napi_set_named_property(env, exports, "openssl", openssl) != napi_ok ||
      napi_create_string_utf8(env, engine, NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_set_named_property(env, exports, "engine", name) != napi_ok) {
    return NULL;
  }
  return exports;
}
