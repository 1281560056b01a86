// SHA-256 of message pairs. OpenSSL hashes one message at a time, and on a core with the SHA
// extensions each round waits on the previous one; hashing two independent messages in lockstep fills
// those waits, about 1.2x OpenSSL's own bulk speed on this project's benchmark machine (see
// celestia/README.md). The tree levels of an NMT are many equal-length messages, so pairs come free.
#include "sha256_pair.h"

#include <openssl/sha.h>
#include <stdbool.h>
#include <string.h>

// The low-level calls, deprecated in OpenSSL 3 but exported by node: the one-shot SHA256() of
// OpenSSL 3 looks the algorithm up by name on every call, which costs more than a 181-byte message.
static void openssl_sha256(const uint8_t* message, size_t length, uint8_t* out) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, message, length);
  SHA256_Final(out, &ctx);
}

void sha256_pair_openssl(uint8_t* a, uint8_t* b, size_t length, uint8_t* out_a, uint8_t* out_b) {
  openssl_sha256(a, length, out_a);
  openssl_sha256(b, length, out_b);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#include <immintrin.h>

#define SHANI __attribute__((target("sha,ssse3,sse4.1")))

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

// FIPS 180-4 padding: 0x80, zeros, the bit length as a big-endian 64-bit number; returns the blocks.
static size_t pad(uint8_t* message, size_t length) {
  size_t total = SHA256_PAIR_CAPACITY(length);
  uint64_t bits = (uint64_t)length * 8;
  message[length] = 0x80;
  memset(message + length + 1, 0, total - length - 9);
  for (int i = 0; i < 8; i++) message[total - 1 - i] = (uint8_t)(bits >> (8 * i));
  return total / 64;
}

// The SHA instructions keep the state as two registers, ABEF and CDGH.
SHANI static void initial_state(__m128i* abef, __m128i* cdgh) {
  *abef = _mm_set_epi32(0x6a09e667, 0xbb67ae85, 0x510e527f, 0x9b05688c);
  *cdgh = _mm_set_epi32(0x3c6ef372, 0xa54ff53a, 0x1f83d9ab, 0x5be0cd19);
}

SHANI static void store_digest(__m128i abef, __m128i cdgh, uint8_t* out) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i feba = _mm_shuffle_epi32(abef, 0x1B);
  __m128i dchg = _mm_shuffle_epi32(cdgh, 0xB1);
  __m128i dcba = _mm_blend_epi16(feba, dchg, 0xF0);
  __m128i hgfe = _mm_alignr_epi8(dchg, feba, 8);
  _mm_storeu_si128((__m128i*)out, _mm_shuffle_epi8(dcba, swap));
  _mm_storeu_si128((__m128i*)(out + 16), _mm_shuffle_epi8(hgfe, swap));
}

// One 64-byte block of each message: four rounds per step, the two messages' rounds interleaved.
SHANI static void compress_pair(__m128i state[4], const uint8_t* block_a, const uint8_t* block_b) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL);
  __m128i a0 = state[0], a1 = state[1], b0 = state[2], b1 = state[3];
  __m128i wa[4], wb[4];
  for (int i = 0; i < 4; i++) {
    wa[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(block_a + 16 * i)), swap);
    wb[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i*)(block_b + 16 * i)), swap);
  }
  for (int i = 0; i < 16; i++) {
    __m128i k = _mm_loadu_si128((const __m128i*)(K + 4 * i));
    __m128i ma = _mm_add_epi32(wa[i & 3], k);
    __m128i mb = _mm_add_epi32(wb[i & 3], k);
    a1 = _mm_sha256rnds2_epu32(a1, a0, ma);
    b1 = _mm_sha256rnds2_epu32(b1, b0, mb);
    a0 = _mm_sha256rnds2_epu32(a0, a1, _mm_shuffle_epi32(ma, 0x0E));
    b0 = _mm_sha256rnds2_epu32(b0, b1, _mm_shuffle_epi32(mb, 0x0E));
    if (i < 12) {  // message schedule: the words of step i + 4 replace those of step i
      __m128i ta = _mm_add_epi32(_mm_sha256msg1_epu32(wa[i & 3], wa[(i + 1) & 3]), _mm_alignr_epi8(wa[(i + 3) & 3], wa[(i + 2) & 3], 4));
      __m128i tb = _mm_add_epi32(_mm_sha256msg1_epu32(wb[i & 3], wb[(i + 1) & 3]), _mm_alignr_epi8(wb[(i + 3) & 3], wb[(i + 2) & 3], 4));
      wa[i & 3] = _mm_sha256msg2_epu32(ta, wa[(i + 3) & 3]);
      wb[i & 3] = _mm_sha256msg2_epu32(tb, wb[(i + 3) & 3]);
    }
  }
  state[0] = _mm_add_epi32(state[0], a0);
  state[1] = _mm_add_epi32(state[1], a1);
  state[2] = _mm_add_epi32(state[2], b0);
  state[3] = _mm_add_epi32(state[3], b1);
}

SHANI static void sha256_pair_shani(uint8_t* a, uint8_t* b, size_t length, uint8_t* out_a, uint8_t* out_b) {
  size_t blocks = pad(a, length);
  if (b != a) pad(b, length);
  __m128i state[4];
  initial_state(&state[0], &state[1]);
  initial_state(&state[2], &state[3]);
  for (size_t i = 0; i < blocks; i++) compress_pair(state, a + 64 * i, b + 64 * i);
  store_digest(state[0], state[1], out_a);
  store_digest(state[2], state[3], out_b);
}

static bool cpu_has_sha_extensions(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx) || !(ecx & bit_SSSE3) || !(ecx & bit_SSE4_1)) return false;
  return __get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx) && (ebx & bit_SHA);
}

sha256_pair_fn sha256_pair_best(const char** name) {
  if (cpu_has_sha_extensions()) {
    *name = "sha-ni";
    return sha256_pair_shani;
  }
  *name = "openssl";
  return sha256_pair_openssl;
}

#else

sha256_pair_fn sha256_pair_best(const char** name) {
  *name = "openssl";
  return sha256_pair_openssl;
}

#endif
