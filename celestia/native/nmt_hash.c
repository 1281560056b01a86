// Batch hashing for the namespaced merkle tree (sha256, 29-byte namespaces, ignore-max-namespace): the
// native NmtHasher of celestia/nmt-hasher.ts, whose JavaScript twin (nmt-hasher-js.ts) states the same
// semantics. Node's crypto.hash costs about a microsecond per call, more than hashing one leaf, so whole
// tree levels are hashed per call here. SHA-256 is OpenSSL's, exported by the node binary itself; only
// N-API is used, so one build loads in every Node version that has N-API 8.
#include <node_api.h>
#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>

#define NS 29
#define NODE (2 * NS + SHA256_DIGEST_LENGTH)

static const unsigned char kLeafPrefix = 0x00;
static const unsigned char kNodePrefix = 0x01;
static const unsigned char kZeros[64];

static bool fail(napi_env env, const char* message) {
  napi_throw_error(env, NULL, message);
  return false;
}

static bool get_bytes(napi_env env, napi_value value, const unsigned char** data, size_t* length) {
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

static bool get_args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != expected) {
    return fail(env, "wrong number of arguments");
  }
  return true;
}

// A new Uint8Array of `length` bytes; NULL (with a pending exception) on failure.
static napi_value new_bytes(napi_env env, size_t length, unsigned char** data) {
  napi_value buffer, array;
  void* raw;
  if (napi_create_arraybuffer(env, length, &raw, &buffer) != napi_ok ||
      napi_create_typedarray(env, napi_uint8_array, length, buffer, 0, &array) != napi_ok) {
    return NULL;
  }
  *data = raw;
  return array;
}

// Opens leaf hash `node` (ns || ns || ...) and its digest over 0x00 || ns; the caller adds the data.
static void begin_leaf(SHA256_CTX* ctx, unsigned char* node, const unsigned char* ns) {
  memcpy(node, ns, NS);
  memcpy(node + NS, ns, NS);
  SHA256_Init(ctx);
  SHA256_Update(ctx, &kLeafPrefix, 1);
  SHA256_Update(ctx, ns, NS);
}

// hashLeaves(namespaces: n*29, data: n*leafSize, leafSize) -> n*90
static napi_value hash_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  const unsigned char *namespaces, *data;
  size_t ns_length, data_length, leaf_size;
  unsigned char* out;
  if (!get_args(env, info, 3, argv) || !get_bytes(env, argv[0], &namespaces, &ns_length) ||
      !get_bytes(env, argv[1], &data, &data_length) || !get_size(env, argv[2], &leaf_size)) {
    return NULL;
  }
  size_t count = ns_length / NS;
  if (ns_length % NS != 0 || data_length != count * leaf_size) {
    fail(env, "hashLeaves: namespaces and data do not describe the same number of leaves");
    return NULL;
  }
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL) return NULL;
  SHA256_CTX ctx;
  for (size_t i = 0; i < count; i++) {
    unsigned char* node = out + i * NODE;
    begin_leaf(&ctx, node, namespaces + i * NS);
    SHA256_Update(&ctx, data + i * leaf_size, leaf_size);
    SHA256_Final(node + 2 * NS, &ctx);
  }
  return result;
}

// hashFramedLeaves(namespace: 29, firstHeader, header, data, leafSize) -> n*90: the leaves of
// framing.ts's frameLeaves, hashed as they stream by instead of being built first.
static napi_value hash_framed_leaves(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  const unsigned char *ns, *first_header, *header, *data;
  size_t ns_length, first_length, header_length, data_length, leaf_size;
  unsigned char* out;
  if (!get_args(env, info, 5, argv) || !get_bytes(env, argv[0], &ns, &ns_length) ||
      !get_bytes(env, argv[1], &first_header, &first_length) || !get_bytes(env, argv[2], &header, &header_length) ||
      !get_bytes(env, argv[3], &data, &data_length) || !get_size(env, argv[4], &leaf_size)) {
    return NULL;
  }
  if (ns_length != NS) {
    fail(env, "hashFramedLeaves: a namespace is 29 bytes");
    return NULL;
  }
  if (first_length > leaf_size || header_length >= leaf_size) {
    fail(env, "framing: headers leave no room for data");
    return NULL;
  }
  size_t first_room = leaf_size - first_length, room = leaf_size - header_length;
  size_t count = 1 + (data_length > first_room ? (data_length - first_room + room - 1) / room : 0);
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL) return NULL;
  SHA256_CTX ctx;
  size_t read = 0;
  for (size_t i = 0; i < count; i++) {
    unsigned char* node = out + i * NODE;
    size_t head = i == 0 ? first_length : header_length;
    size_t take = leaf_size - head < data_length - read ? leaf_size - head : data_length - read;
    begin_leaf(&ctx, node, ns);
    SHA256_Update(&ctx, i == 0 ? first_header : header, head);
    SHA256_Update(&ctx, data + read, take);
    read += take;
    for (size_t pad = leaf_size - head - take; pad > 0;) {
      size_t n = pad < sizeof kZeros ? pad : sizeof kZeros;
      SHA256_Update(&ctx, kZeros, n);
      pad -= n;
    }
    SHA256_Final(node + 2 * NS, &ctx);
  }
  return result;
}

static bool is_parity(const unsigned char* ns) {
  for (int i = 0; i < NS; i++) {
    if (ns[i] != 0xFF) return false;
  }
  return true;
}

// hashLevel(nodes: 2m*90) -> m*90
static napi_value hash_level(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  const unsigned char* nodes;
  size_t length;
  unsigned char* out;
  if (!get_args(env, info, 1, argv) || !get_bytes(env, argv[0], &nodes, &length)) return NULL;
  if (length % (2 * NODE) != 0) {
    fail(env, "hashLevel: nodes must be an even number of 90-byte hashes");
    return NULL;
  }
  size_t count = length / (2 * NODE);
  napi_value result = new_bytes(env, count * NODE, &out);
  if (result == NULL) return NULL;
  SHA256_CTX ctx;
  for (size_t i = 0; i < count; i++) {
    const unsigned char* left = nodes + 2 * i * NODE;
    const unsigned char* right = left + NODE;
    unsigned char* parent = out + i * NODE;
    if (memcmp(left + NS, left, NS) < 0 || memcmp(right + NS, right, NS) < 0) {
      fail(env, "nmt: node max namespace below its min namespace");
      return NULL;
    }
    if (memcmp(right, left + NS, NS) < 0) {
      fail(env, "nmt: sibling nodes out of namespace order");
      return NULL;
    }
    memcpy(parent, left, NS);
    memcpy(parent + NS, is_parity(right) ? left + NS : right + NS, NS);
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, &kNodePrefix, 1);
    SHA256_Update(&ctx, left, 2 * NODE);
    SHA256_Final(parent + 2 * NS, &ctx);
  }
  return result;
}

static bool export_function(napi_env env, napi_value exports, const char* name, napi_callback callback) {
  napi_value fn;
  return napi_create_function(env, name, NAPI_AUTO_LENGTH, callback, NULL, &fn) == napi_ok &&
         napi_set_named_property(env, exports, name, fn) == napi_ok;
}

NAPI_MODULE_INIT() {
  if (!export_function(env, exports, "hashLeaves", hash_leaves) ||
      !export_function(env, exports, "hashFramedLeaves", hash_framed_leaves) ||
      !export_function(env, exports, "hashLevel", hash_level)) {
    return NULL;
  }
  return exports;
}
