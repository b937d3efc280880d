/* A small inflate (RFC 1950/1951), a PNG decoder for non-interlaced 8-bit
 * grey, grey+alpha, RGB and RGBA images (alpha is dropped), and writers for
 * PNG (zlib stored blocks: no compression, always valid) and 24-bit BMP.
 * Everything is bounds-checked: hostile input gives an error, not a crash.
 * The viewer's image sources and the command-line tools share it. */
#include "sm_image.h"

#include <stdbool.h>

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- inflate --------------------------------------------------------------- */

typedef struct {
    const uint8_t *in;
    size_t len, pos;
    uint32_t bits;
    int nbits;
    bool overrun;
} bitrd;

static uint32_t getbits(bitrd *b, int n)
{
    while (b->nbits < n) {
        if (b->pos >= b->len) {
            b->overrun = true;
            return 0;
        }
        b->bits |= (uint32_t)b->in[b->pos++] << b->nbits;
        b->nbits += 8;
    }
    uint32_t v = b->bits & ((1u << n) - 1);
    b->bits >>= n;
    b->nbits -= n;
    return v;
}

/* Canonical Huffman table: counts per length and symbols sorted by code. */
typedef struct {
    uint16_t count[16];
    uint16_t symbol[320];
} huff;

static bool huff_build(huff *h, const uint8_t *lengths, int n)
{
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[lengths[i]]++;
    h->count[0] = 0;
    int left = 1;
    for (int l = 1; l < 16; l++) {
        left <<= 1;
        left -= h->count[l];
        if (left < 0)
            return false; /* over-subscribed */
    }
    uint16_t offs[16];
    offs[1] = 0;
    for (int l = 1; l < 15; l++)
        offs[l + 1] = (uint16_t)(offs[l] + h->count[l]);
    for (int i = 0; i < n; i++)
        if (lengths[i])
            h->symbol[offs[lengths[i]]++] = (uint16_t)i;
    return true;
}

static int huff_decode(bitrd *b, const huff *h)
{
    int code = 0, first = 0, index = 0;
    for (int l = 1; l < 16; l++) {
        code |= (int)getbits(b, 1);
        if (b->overrun)
            return -1;
        int count = h->count[l];
        if (code - count < first)
            return h->symbol[index + (code - first)];
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    return -1;
}

static const uint16_t len_base[29] = {3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
                                      35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2,
                                      3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129,
                                       193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097,
                                       6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static const char *inflate_block(bitrd *b, const huff *lit, const huff *dist, uint8_t *out, size_t cap,
                                 size_t *n)
{
    for (;;) {
        int sym = huff_decode(b, lit);
        if (sym < 0)
            return b->overrun ? "compressed data ends early" : "bad literal/length code";
        if (sym < 256) {
            if (*n >= cap)
                return "more data than the image needs";
            out[(*n)++] = (uint8_t)sym;
        } else if (sym == 256) {
            return NULL;
        } else {
            sym -= 257;
            if (sym >= 29)
                return "bad length symbol";
            size_t len = len_base[sym] + getbits(b, len_extra[sym]);
            int ds = huff_decode(b, dist);
            if (ds < 0 || ds >= 30)
                return b->overrun ? "compressed data ends early" : "bad distance code";
            size_t d = dist_base[ds] + getbits(b, dist_extra[ds]);
            if (b->overrun)
                return "compressed data ends early";
            if (d > *n)
                return "distance reaches before the start of the data";
            if (len > cap - *n)
                return "more data than the image needs";
            for (size_t i = 0; i < len; i++, (*n)++)
                out[*n] = out[*n - d];
        }
    }
}

static const char *inflate_raw(bitrd *b, uint8_t *out, size_t cap, size_t *n)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    huff lit, dist;
    int last;
    do {
        last = (int)getbits(b, 1);
        int type = (int)getbits(b, 2);
        if (b->overrun)
            return "compressed data ends early";
        if (type == 0) {
            b->bits = 0;
            b->nbits = 0; /* to a byte boundary (whole bytes are never pre-read past it) */
            if (b->len - b->pos < 4)
                return "compressed data ends early";
            unsigned len = b->in[b->pos] | b->in[b->pos + 1] << 8;
            unsigned nlen = b->in[b->pos + 2] | b->in[b->pos + 3] << 8;
            b->pos += 4;
            if ((len ^ 0xffffu) != nlen)
                return "stored block length check failed";
            if (len > b->len - b->pos)
                return "compressed data ends early";
            if (len > cap - *n)
                return "more data than the image needs";
            memcpy(out + *n, b->in + b->pos, len);
            b->pos += len;
            *n += len;
        } else if (type == 1 || type == 2) {
            uint8_t lengths[320];
            int nlen = 288, ndist = 30;
            if (type == 1) {
                for (int i = 0; i < 144; i++) lengths[i] = 8;
                for (int i = 144; i < 256; i++) lengths[i] = 9;
                for (int i = 256; i < 280; i++) lengths[i] = 7;
                for (int i = 280; i < 288; i++) lengths[i] = 8;
                for (int i = 0; i < 30; i++) lengths[288 + i] = 5;
            } else {
                nlen = (int)getbits(b, 5) + 257;
                ndist = (int)getbits(b, 5) + 1;
                int ncode = (int)getbits(b, 4) + 4;
                if (nlen > 286 || ndist > 30)
                    return "bad dynamic block header";
                uint8_t cl[19] = {0};
                for (int i = 0; i < ncode; i++)
                    cl[order[i]] = (uint8_t)getbits(b, 3);
                huff clh;
                if (b->overrun || !huff_build(&clh, cl, 19))
                    return "bad code-length code";
                int i = 0;
                while (i < nlen + ndist) {
                    int sym = huff_decode(b, &clh);
                    if (sym < 0)
                        return "bad code lengths";
                    if (sym < 16) {
                        lengths[i++] = (uint8_t)sym;
                        continue;
                    }
                    int rep, val = 0;
                    if (sym == 16) {
                        if (i == 0)
                            return "repeat with no previous length";
                        val = lengths[i - 1];
                        rep = 3 + (int)getbits(b, 2);
                    } else if (sym == 17) {
                        rep = 3 + (int)getbits(b, 3);
                    } else {
                        rep = 11 + (int)getbits(b, 7);
                    }
                    if (i + rep > nlen + ndist)
                        return "code lengths overflow";
                    while (rep--)
                        lengths[i++] = (uint8_t)val;
                }
                if (lengths[256] == 0)
                    return "no end-of-block code";
                memmove(lengths + 288, lengths + nlen, (size_t)ndist);
            }
            if (!huff_build(&lit, lengths, nlen) || !huff_build(&dist, lengths + 288, ndist))
                return "bad Huffman table";
            const char *e = inflate_block(b, &lit, &dist, out, cap, n);
            if (e)
                return e;
        } else {
            return "bad block type 3";
        }
    } while (!last);
    return NULL;
}

sm_status sm_zlib_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, size_t *produced,
                          sm_error *err)
{
    *produced = 0;
    if (in_len < 6)
        return sm_error_set(err, SM_ERR_FORMAT, "zlib stream too short");
    if ((in[0] & 0x0f) != 8 || (in[0] >> 4) > 7 || ((in[0] << 8) | in[1]) % 31 != 0)
        return sm_error_set(err, SM_ERR_FORMAT, "bad zlib header");
    if (in[1] & 0x20)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "zlib preset dictionary not supported");
    bitrd b = {in, in_len - 4, 2, 0, 0, false};
    size_t n = 0;
    const char *e = inflate_raw(&b, out, out_len, &n);
    if (e)
        return sm_error_set(err, SM_ERR_FORMAT, "inflate: %s", e);
    const uint8_t *t = in + in_len - 4;
    uint32_t want = (uint32_t)t[0] << 24 | t[1] << 16 | t[2] << 8 | t[3];
    uint32_t s1 = 1, s2 = 0;
    for (size_t i = 0; i < n; i++) {
        s1 = (s1 + out[i]) % 65521;
        s2 = (s2 + s1) % 65521;
    }
    if ((s2 << 16 | s1) != want)
        return sm_error_set(err, SM_ERR_FORMAT, "zlib Adler-32 mismatch");
    *produced = n;
    return SM_OK;
}

/* ---- PNG decode ------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

sm_status sm_png_decode_rgb8(const uint8_t *d, size_t len, const char *name, uint8_t **rgb, int *width,
                             int *height, sm_error *err)
{
    *rgb = NULL;
    *width = *height = 0;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len < 8 || memcmp(d, sig, 8))
        return sm_error_set(err, SM_ERR_FORMAT, "%s: not a PNG (bad signature)", name);
    size_t pos = 8, idat_len = 0;
    uint32_t w = 0, h = 0;
    int ctype = -1, chans = 0;
    uint8_t *idat = NULL;
    sm_status st = SM_OK;
    bool got_end = false;
    for (int k = 0; !got_end; k++) {
        if (len - pos < 12) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: truncated (chunk header at offset %zu)", name, pos);
            break;
        }
        uint32_t clen = be32(d + pos);
        const uint8_t *type = d + pos + 4, *data = d + pos + 8;
        if (clen > len - pos - 12) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: chunk '%.4s' at offset %zu runs past the end (truncated?)",
                              name, (const char *)type, pos);
            break;
        }
        if (sm_crc32(0, type, (size_t)clen + 4) != be32(data + clen)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: CRC mismatch in chunk '%.4s'", name, (const char *)type);
            break;
        }
        if (k == 0 && memcmp(type, "IHDR", 4)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: first chunk is not IHDR", name);
            break;
        }
        if (!memcmp(type, "IHDR", 4)) {
            if (clen != 13) {
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: IHDR has %u bytes, not 13", name, clen);
                break;
            }
            w = be32(data);
            h = be32(data + 4);
            int depth = data[8];
            ctype = data[9];
            if (w == 0 || h == 0 || w > SM_IMAGE_MAX_DIM || h > SM_IMAGE_MAX_DIM)
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: image size %ux%u outside 1..%d", name, w, h,
                                  SM_IMAGE_MAX_DIM);
            else if (depth != 8)
                st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: bit depth %d not supported (8-bit only)", name, depth);
            else if (ctype == 3)
                st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: palette PNGs are not supported (grey, RGB, RGBA are)",
                                  name);
            else if (ctype != 0 && ctype != 2 && ctype != 4 && ctype != 6)
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: bad colour type %d", name, ctype);
            else if (data[10] != 0 || data[11] != 0)
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: unknown compression or filter method", name);
            else if (data[12] != 0)
                st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: interlaced PNGs are not supported", name);
            if (st != SM_OK)
                break;
            chans = ctype == 0 ? 1 : ctype == 2 ? 3 : ctype == 4 ? 2 : 4;
        } else if (!memcmp(type, "IDAT", 4)) {
            uint8_t *p = realloc(idat, idat_len + clen + 1);
            if (!p) {
                st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
                break;
            }
            idat = p;
            memcpy(idat + idat_len, data, clen);
            idat_len += clen;
        } else if (!memcmp(type, "IEND", 4)) {
            got_end = true;
        } else if (!(type[0] & 0x20)) {
            st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: unknown critical chunk '%.4s'", name, (const char *)type);
            break;
        }
        pos += (size_t)clen + 12;
    }
    if (st == SM_OK && !idat)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: no image data (IDAT)", name);
    uint8_t *raw = NULL;
    size_t row = (size_t)w * chans, need = (row + 1) * h;
    /* deflate cannot expand more than 1032:1: refuse a lying header before allocating */
    if (st == SM_OK && need / 1032 > idat_len + 64)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG header says %ux%u but holds only %zu compressed bytes",
                          name, w, h, idat_len);
    if (st == SM_OK && !(raw = malloc(need)))
        st = sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    if (st == SM_OK) {
        size_t got = 0;
        st = sm_zlib_inflate(idat, idat_len, raw, need, &got, err);
        if (st == SM_OK && got != need)
            st = sm_error_set(err, SM_ERR_FORMAT, "image data too short: %zu of %zu bytes", got, need);
        if (st != SM_OK)
            sm_error_prefix(err, "%s", name);
    }
    uint8_t *pixels = NULL;
    if (st == SM_OK && !(pixels = malloc((size_t)w * h * 3)))
        st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %ux%u pixels", name, w, h);
    if (st == SM_OK) {
        /* unfilter in place: row y's bytes start at raw + y*(row+1) + 1 */
        for (uint32_t y = 0; y < h && st == SM_OK; y++) {
            uint8_t *cur = raw + y * (row + 1) + 1, *prev = y ? cur - (row + 1) : NULL;
            int ft = cur[-1];
            for (size_t i = 0; i < row; i++) {
                int a = i >= (size_t)chans ? cur[i - chans] : 0, b = prev ? prev[i] : 0;
                int c = prev && i >= (size_t)chans ? prev[i - chans] : 0;
                switch (ft) {
                case 0: break;
                case 1: cur[i] = (uint8_t)(cur[i] + a); break;
                case 2: cur[i] = (uint8_t)(cur[i] + b); break;
                case 3: cur[i] = (uint8_t)(cur[i] + ((a + b) >> 1)); break;
                case 4: cur[i] = (uint8_t)(cur[i] + paeth(a, b, c)); break;
                default:
                    st = sm_error_set(err, SM_ERR_FORMAT, "%s: bad filter type %d on row %u", name, ft, y);
                    i = row;
                }
            }
            uint8_t *o = pixels + (size_t)y * w * 3;
            for (uint32_t x = 0; x < w; x++) {
                const uint8_t *p = cur + (size_t)x * chans;
                if (chans <= 2) {
                    o[3 * x] = o[3 * x + 1] = o[3 * x + 2] = p[0];
                } else {
                    o[3 * x] = p[0];
                    o[3 * x + 1] = p[1];
                    o[3 * x + 2] = p[2];
                }
            }
        }
    }
    free(raw);
    free(idat);
    if (st != SM_OK) {
        free(pixels);
        return st;
    }
    *rgb = pixels;
    *width = (int)w;
    *height = (int)h;
    return SM_OK;
}

/* ---- writers ------------------------------------------------------------------ */

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint8_t *put_chunk(uint8_t *p, const char *type, const uint8_t *data, uint32_t len)
{
    put_be32(p, len);
    memcpy(p + 4, type, 4);
    if (len)
        memmove(p + 8, data, len);
    put_be32(p + 8 + len, sm_crc32(0, p + 4, (size_t)len + 4));
    return p + 12 + len;
}

sm_status sm_png_write(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err)
{
    if (w <= 0 || h <= 0 || w > SM_IMAGE_MAX_DIM || h > SM_IMAGE_MAX_DIM)
        return sm_error_set(err, SM_ERR_ARG, "%s: bad image size %dx%d", path, w, h);
    size_t row = (size_t)w * 3 + 1, raw = row * h;
    size_t nblocks = (raw + 65534) / 65535;
    size_t zlen = 2 + raw + 5 * nblocks + 4;
    size_t total = 8 + 25 + 12 + zlen + 12;
    uint8_t *buf = malloc(total), *z = malloc(zlen);
    if (!buf || !z) {
        free(buf);
        free(z);
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    }
    /* zlib: stored blocks over the filter-0 rows */
    size_t zp = 0, done = 0;
    z[zp++] = 0x78;
    z[zp++] = 0x01;
    uint32_t s1 = 1, s2 = 0;
    size_t y = 0, x = 0; /* byte position in the raw stream: row y, offset x */
    while (done < raw) {
        size_t n = raw - done > 65535 ? 65535 : raw - done;
        z[zp++] = done + n == raw ? 1 : 0;
        z[zp++] = (uint8_t)n;
        z[zp++] = (uint8_t)(n >> 8);
        z[zp++] = (uint8_t)~n;
        z[zp++] = (uint8_t)(~n >> 8);
        for (size_t i = 0; i < n; i++) {
            uint8_t v = x == 0 ? 0 : rgb[y * stride + x - 1];
            if (++x == row) {
                x = 0;
                y++;
            }
            z[zp++] = v;
            s1 = (s1 + v) % 65521;
            s2 = (s2 + s1) % 65521;
        }
        done += n;
    }
    put_be32(z + zp, s2 << 16 | s1);
    zp += 4;
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    memcpy(buf, sig, 8);
    uint8_t ihdr[13] = {0};
    put_be32(ihdr, (uint32_t)w);
    put_be32(ihdr + 4, (uint32_t)h);
    ihdr[8] = 8;
    ihdr[9] = 2;
    uint8_t *p = put_chunk(buf + 8, "IHDR", ihdr, 13);
    p = put_chunk(p, "IDAT", z, (uint32_t)zp);
    p = put_chunk(p, "IEND", NULL, 0);
    free(z);
    sm_status st = sm_file_write_atomic(path, buf, (size_t)(p - buf), err);
    free(buf);
    return st;
}

sm_status sm_bmp_write(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err)
{
    if (w <= 0 || h <= 0 || w > SM_IMAGE_MAX_DIM || h > SM_IMAGE_MAX_DIM)
        return sm_error_set(err, SM_ERR_ARG, "%s: bad image size %dx%d", path, w, h);
    size_t row = ((size_t)w * 3 + 3) & ~(size_t)3, total = 54 + row * h;
    uint8_t *b = calloc(1, total);
    if (!b)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    b[0] = 'B';
    b[1] = 'M';
    uint32_t v[] = {(uint32_t)total, 0, 54, 40, (uint32_t)w, (uint32_t)h};
    for (int i = 0; i < 6; i++)
        for (int k = 0; k < 4; k++)
            b[2 + 4 * i + k] = (uint8_t)(v[i] >> (8 * k));
    b[26] = 1;  /* planes */
    b[28] = 24; /* bits per pixel */
    uint32_t img = (uint32_t)(row * h);
    for (int k = 0; k < 4; k++)
        b[34 + k] = (uint8_t)(img >> (8 * k));
    for (int y = 0; y < h; y++) {
        const uint8_t *s = rgb + (size_t)(h - 1 - y) * stride;
        uint8_t *o = b + 54 + (size_t)y * row;
        for (int x = 0; x < w; x++) {
            o[3 * x] = s[3 * x + 2];
            o[3 * x + 1] = s[3 * x + 1];
            o[3 * x + 2] = s[3 * x];
        }
    }
    sm_status st = sm_file_write_atomic(path, b, total, err);
    free(b);
    return st;
}

sm_status sm_image_save(const char *path, const uint8_t *rgb, int w, int h, size_t stride, sm_error *err)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strcasecmp(dot, ".png"))
        return sm_png_write(path, rgb, w, h, stride, err);
    if (dot && !strcasecmp(dot, ".bmp"))
        return sm_bmp_write(path, rgb, w, h, stride, err);
    return sm_error_set(err, SM_ERR_ARG, "%s: screenshot name must end in .png or .bmp", path);
}
