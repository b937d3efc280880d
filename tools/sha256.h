/* SHA-256 (FIPS 180-4), used to record general.source_sha256 of a converted file. */
#ifndef SM_SHA256_H
#define SM_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t total;      /* bytes hashed so far */
    uint8_t block[64];
    size_t used;         /* bytes waiting in block */
} sm_sha256_ctx;

void sm_sha256_init(sm_sha256_ctx *c);
void sm_sha256_update(sm_sha256_ctx *c, const void *data, size_t len);
void sm_sha256_final(sm_sha256_ctx *c, uint8_t out[32]);
/* One-shot digest as 64 lower-case hex digits + NUL. */
void sm_sha256_hex(const void *data, size_t len, char out[65]);

#endif
