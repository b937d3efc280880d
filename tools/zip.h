/* A read-only zip reader for torch.save checkpoints: central directory found
 * through the end record (classic EOCD, or ZIP64 record + locator), stored
 * entries only, data located through each entry's LOCAL header. Every offset
 * and size is checked against the buffer before use. The reader keeps
 * pointers into the caller's buffer, which must outlive it. */
#ifndef SM_ZIP_H
#define SM_ZIP_H

#include "sm_engine.h"

typedef struct {
    char *name;             /* NUL-terminated copy */
    uint16_t method;        /* 0 = stored; anything else is refused on access */
    uint64_t size;          /* uncompressed size from the central directory */
    uint64_t csize;         /* compressed size */
    uint64_t data_offset;   /* from the file start; valid and in bounds */
} sm_zip_entry;

typedef struct {
    const uint8_t *buf;
    size_t len;
    sm_zip_entry *entries;
    size_t n;
} sm_zip;

/* Parses the directory. Messages name `path` and the entry at fault. */
sm_status sm_zip_open(sm_zip *z, const uint8_t *buf, size_t len, const char *path, sm_error *err);
void sm_zip_free(sm_zip *z);  /* accepts NULL and zeroed readers */
/* Exact name, or NULL. */
const sm_zip_entry *sm_zip_find(const sm_zip *z, const char *name);
/* The only entry whose name ends in suffix (e.g. "/data.pkl"). NULL and
 * *count = 0 when none; NULL and *count > 1 when ambiguous. */
const sm_zip_entry *sm_zip_find_suffix(const sm_zip *z, const char *suffix, size_t *count);
/* The bytes of a stored entry; SM_ERR_UNSUPPORTED for a compressed one. */
sm_status sm_zip_data(const sm_zip *z, const sm_zip_entry *e, const char *path,
                      const uint8_t **data, size_t *size, sm_error *err);

#endif
