// SHA-256 of two messages of equal length at once (see sha256_pair.c).
#ifndef METRO_SHA256_PAIR_H
#define METRO_SHA256_PAIR_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_PAIR_DIGEST 32

// Bytes a buffer needs to hold a message of `length` bytes plus its SHA-256 padding.
#define SHA256_PAIR_CAPACITY(length) ((((length) + 9 + 63) / 64) * 64)

// Digests of a[0..length) and b[0..length) into out_a and out_b. a and b must have
// SHA256_PAIR_CAPACITY(length) bytes: the padding is written after the message. a may equal b.
typedef void (*sha256_pair_fn)(uint8_t* a, uint8_t* b, size_t length, uint8_t* out_a, uint8_t* out_b);

// OpenSSL's SHA-256 (from the node binary), one message after the other. Works everywhere.
void sha256_pair_openssl(uint8_t* a, uint8_t* b, size_t length, uint8_t* out_a, uint8_t* out_b);

// The fastest implementation this CPU runs: the two messages interleaved through the x86 SHA
// extensions where present, which keeps the SHA unit busy while one message waits on a result;
// else OpenSSL. `name` tells which ("sha-ni" or "openssl").
sha256_pair_fn sha256_pair_best(const char** name);

#endif
