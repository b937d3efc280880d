#include "zip.h"

#include <stdlib.h>
#include <string.h>

#define ZIP_MAX_ENTRIES (1u << 20)

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16; }
static uint64_t rd64(const uint8_t *p) { return (uint64_t)rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* True when [off, off+n) lies inside the buffer. */
static bool in_bounds(size_t len, uint64_t off, uint64_t n)
{
    return off <= len && n <= len - off;
}

void sm_zip_free(sm_zip *z)
{
    if (!z)
        return;
    for (size_t i = 0; i < z->n; i++)
        free(z->entries[i].name);
    free(z->entries);
    memset(z, 0, sizeof *z);
}

/* ZIP64 extended information extra field (id 1) replaces saturated fields, in order. */
static bool apply_zip64_extra(const uint8_t *ex, size_t ex_len, uint64_t *usize, uint64_t *csize,
                              uint64_t *local_off)
{
    size_t i = 0;
    while (i + 4 <= ex_len) {
        uint16_t id = rd16(ex + i), sz = rd16(ex + i + 2);
        if (i + 4 + sz > ex_len)
            return false;
        if (id == 1) {
            const uint8_t *p = ex + i + 4;
            size_t k = 0;
            uint64_t *fields[3] = {usize, csize, local_off};
            uint64_t limits[3] = {0xffffffffu, 0xffffffffu, 0xffffffffu};
            for (int f = 0; f < 3; f++) {
                if (*fields[f] != limits[f])
                    continue;
                if (k + 8 > sz)
                    return false;
                *fields[f] = rd64(p + k);
                k += 8;
            }
            return true;
        }
        i += 4 + (size_t)sz;
    }
    return true;
}

sm_status sm_zip_open(sm_zip *z, const uint8_t *buf, size_t len, const char *path, sm_error *err)
{
    memset(z, 0, sizeof *z);
    z->buf = buf;
    z->len = len;
    if (len < 22)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: zip: file too short (%zu bytes) for an end record", path, len);
    /* The EOCD is the last 22 bytes plus a comment of up to 65535 bytes. */
    size_t eocd = SIZE_MAX;
    size_t lo = len - 22 > 65535 ? len - 22 - 65535 : 0;
    for (size_t i = len - 22 + 1; i-- > lo;) {
        if (!memcmp(buf + i, "PK\x05\x06", 4) && (size_t)rd16(buf + i + 20) == len - 22 - i) {
            eocd = i;
            break;
        }
    }
    if (eocd == SIZE_MAX)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: zip: no end-of-central-directory record", path);
    uint64_t n_entries = rd16(buf + eocd + 10);
    uint64_t cd_size = rd32(buf + eocd + 12);
    uint64_t cd_off = rd32(buf + eocd + 16);
    if (eocd >= 20 && !memcmp(buf + eocd - 20, "PK\x06\x07", 4)) {
        uint64_t rec = rd64(buf + eocd - 20 + 8);
        if (!in_bounds(len, rec, 56) || memcmp(buf + rec, "PK\x06\x06", 4))
            return sm_error_set(err, SM_ERR_FORMAT,
                                "%s: zip: ZIP64 locator points to offset %llu, which holds no ZIP64 end record",
                                path, (unsigned long long)rec);
        n_entries = rd64(buf + rec + 32);
        cd_size = rd64(buf + rec + 40);
        cd_off = rd64(buf + rec + 48);
    } else if (n_entries == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
        return sm_error_set(err, SM_ERR_FORMAT, "%s: zip: saturated end record without a ZIP64 locator", path);
    }
    if (!in_bounds(len, cd_off, cd_size))
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: zip: central directory [%llu, +%llu) lies past the end of the file (%zu bytes)",
                            path, (unsigned long long)cd_off, (unsigned long long)cd_size, len);
    if (n_entries > ZIP_MAX_ENTRIES || n_entries * 46 > cd_size)
        return sm_error_set(err, SM_ERR_FORMAT,
                            "%s: zip: %llu entries cannot fit a %llu-byte central directory", path,
                            (unsigned long long)n_entries, (unsigned long long)cd_size);
    z->entries = calloc(n_entries ? n_entries : 1, sizeof *z->entries);
    if (!z->entries)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: zip: out of memory", path);
    uint64_t p = cd_off, end = cd_off + cd_size;
    for (uint64_t i = 0; i < n_entries; i++) {
        if (p + 46 > end || memcmp(buf + p, "PK\x01\x02", 4)) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: bad central directory: entry %llu at offset %llu has no PK\\1\\2 signature",
                         path, (unsigned long long)i, (unsigned long long)p);
            goto fail;
        }
        const uint8_t *h = buf + p;
        uint16_t method = rd16(h + 10);
        uint64_t csize = rd32(h + 20), usize = rd32(h + 24);
        size_t nlen = rd16(h + 28), xlen = rd16(h + 30), clen = rd16(h + 32);
        uint64_t loff = rd32(h + 42);
        if (p + 46 + nlen + xlen + clen > end) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: bad central directory: entry %llu runs past the directory",
                         path, (unsigned long long)i);
            goto fail;
        }
        sm_zip_entry *e = &z->entries[z->n];
        e->name = malloc(nlen + 1);
        if (!e->name) {
            sm_error_set(err, SM_ERR_NOMEM, "%s: zip: out of memory", path);
            goto fail;
        }
        memcpy(e->name, h + 46, nlen);
        e->name[nlen] = '\0';
        z->n++;
        if (memchr(e->name, '\0', nlen)) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: entry %llu has a NUL byte in its name", path, (unsigned long long)i);
            goto fail;
        }
        if (!apply_zip64_extra(h + 46 + nlen, xlen, &usize, &csize, &loff)) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: entry '%s' has a malformed ZIP64 extra field", path, e->name);
            goto fail;
        }
        /* The local header's own name and extra lengths decide where the data starts
         * (torch pads the local extra field; the central one is empty). */
        if (!in_bounds(len, loff, 30) || memcmp(buf + loff, "PK\x03\x04", 4)) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: entry '%s': local header offset %llu is past the end of the file or has no PK\\3\\4 signature",
                         path, e->name, (unsigned long long)loff);
            goto fail;
        }
        uint64_t data = loff + 30 + rd16(buf + loff + 26) + rd16(buf + loff + 28);
        if (!in_bounds(len, data, csize)) {
            sm_error_set(err, SM_ERR_FORMAT,
                         "%s: zip: entry '%s': data [%llu, +%llu) lies past the end of the file (%zu bytes)",
                         path, e->name, (unsigned long long)data, (unsigned long long)csize, len);
            goto fail;
        }
        if (method == 0 && csize != usize) {
            sm_error_set(err, SM_ERR_FORMAT, "%s: zip: stored entry '%s' has compressed size %llu but size %llu",
                         path, e->name, (unsigned long long)csize, (unsigned long long)usize);
            goto fail;
        }
        e->method = method;
        e->size = usize;
        e->csize = csize;
        e->data_offset = data;
        p += 46 + nlen + xlen + clen;
    }
    return SM_OK;
fail:
    sm_zip_free(z);
    return err ? err->status : SM_ERR_FORMAT;
}

const sm_zip_entry *sm_zip_find(const sm_zip *z, const char *name)
{
    for (size_t i = 0; i < z->n; i++)
        if (!strcmp(z->entries[i].name, name))
            return &z->entries[i];
    return NULL;
}

const sm_zip_entry *sm_zip_find_suffix(const sm_zip *z, const char *suffix, size_t *count)
{
    const sm_zip_entry *found = NULL;
    size_t k = strlen(suffix), c = 0;
    for (size_t i = 0; i < z->n; i++) {
        size_t n = strlen(z->entries[i].name);
        if (n >= k && !strcmp(z->entries[i].name + n - k, suffix)) {
            found = &z->entries[i];
            c++;
        }
    }
    if (count)
        *count = c;
    return c == 1 ? found : NULL;
}

sm_status sm_zip_data(const sm_zip *z, const sm_zip_entry *e, const char *path,
                      const uint8_t **data, size_t *size, sm_error *err)
{
    if (e->method != 0)
        return sm_error_set(err, SM_ERR_UNSUPPORTED,
                            "%s: zip: unsupported compression method %u in entry '%s' (only stored entries, as torch.save writes them)",
                            path, e->method, e->name);
    *data = z->buf + e->data_offset;
    *size = (size_t)e->size;
    return SM_OK;
}
