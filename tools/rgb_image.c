/* rgb_image: PNG (own inflate, RFC 1950/1951) and PPM P6 readers. Every read is
 * checked against the bytes left; hostile input gives an error, never a crash. */
#include "rgb_image.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- inflate --------------------------------------------------------------------- */

typedef struct {
    const uint8_t *in;
    size_t len, pos;
    uint32_t bitbuf;
    int bitcnt;
    bool overrun;
    uint8_t *out;
    size_t cap, n;
} inflater;

static int bits(inflater *s, int need)
{
    uint32_t v = s->bitbuf;
    while (s->bitcnt < need) {
        if (s->pos >= s->len) {
            s->overrun = true;
            return 0;
        }
        v |= (uint32_t)s->in[s->pos++] << s->bitcnt;
        s->bitcnt += 8;
    }
    s->bitbuf = v >> need;
    s->bitcnt -= need;
    return (int)(v & ((1u << need) - 1));
}

#define MAXBITS 15

typedef struct {
    short count[MAXBITS + 1];
    short symbol[288];
} huffman;

/* Canonical code from code lengths; false for an over-subscribed set. */
static bool build(huffman *h, const short *length, int n)
{
    short offs[MAXBITS + 1];
    memset(h->count, 0, sizeof h->count);
    for (int i = 0; i < n; i++)
        h->count[length[i]]++;
    if (h->count[0] == n)
        return true; /* no codes: decoding will fail if used */
    int left = 1;
    for (int len = 1; len <= MAXBITS; len++) {
        left <<= 1;
        left -= h->count[len];
        if (left < 0)
            return false;
    }
    offs[1] = 0;
    for (int len = 1; len < MAXBITS; len++)
        offs[len + 1] = (short)(offs[len] + h->count[len]);
    for (int i = 0; i < n; i++)
        if (length[i])
            h->symbol[offs[length[i]]++] = (short)i;
    return true;
}

static int decode(inflater *s, const huffman *h)
{
    int code = 0, first = 0, index = 0;
    for (int len = 1; len <= MAXBITS; len++) {
        code |= bits(s, 1);
        if (s->overrun)
            return -1;
        int count = h->count[len];
        if (code - count < first)
            return h->symbol[index + (code - first)];
        index += count;
        first = (first + count) << 1;
        code <<= 1;
    }
    return -1;
}

static const short len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                   31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const short len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const short dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                    193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const short dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static const char *codes(inflater *s, const huffman *lencode, const huffman *distcode)
{
    for (;;) {
        int sym = decode(s, lencode);
        if (sym < 0)
            return "bad literal/length code";
        if (sym < 256) {
            if (s->n >= s->cap)
                return "more image data than the header says";
            s->out[s->n++] = (uint8_t)sym;
        } else if (sym == 256) {
            return NULL;
        } else {
            sym -= 257;
            if (sym >= 29)
                return "bad length symbol";
            size_t len = (size_t)(len_base[sym] + bits(s, len_extra[sym]));
            int ds = decode(s, distcode);
            if (ds < 0 || ds >= 30)
                return "bad distance code";
            size_t dist = (size_t)(dist_base[ds] + bits(s, dist_extra[ds]));
            if (s->overrun)
                return "truncated data";
            if (dist > s->n)
                return "distance too far back";
            if (len > s->cap - s->n)
                return "more image data than the header says";
            for (size_t i = 0; i < len; i++, s->n++)
                s->out[s->n] = s->out[s->n - dist];
        }
    }
}

static const char *inflate_raw(inflater *s)
{
    huffman lencode, distcode;
    int last;
    do {
        last = bits(s, 1);
        int type = bits(s, 2);
        if (s->overrun)
            return "truncated data";
        if (type == 0) {
            s->bitbuf = 0;
            s->bitcnt = 0;
            if (s->len - s->pos < 4)
                return "truncated stored block";
            unsigned len = s->in[s->pos] | (unsigned)s->in[s->pos + 1] << 8;
            unsigned nlen = s->in[s->pos + 2] | (unsigned)s->in[s->pos + 3] << 8;
            s->pos += 4;
            if (len != (~nlen & 0xffffu))
                return "stored block length check failed";
            if (s->len - s->pos < len)
                return "truncated stored block";
            if (len > s->cap - s->n)
                return "more image data than the header says";
            memcpy(s->out + s->n, s->in + s->pos, len);
            s->pos += len;
            s->n += len;
        } else if (type == 1) {
            short lengths[288 + 30];
            int i = 0;
            for (; i < 144; i++)
                lengths[i] = 8;
            for (; i < 256; i++)
                lengths[i] = 9;
            for (; i < 280; i++)
                lengths[i] = 7;
            for (; i < 288; i++)
                lengths[i] = 8;
            build(&lencode, lengths, 288);
            for (i = 0; i < 30; i++)
                lengths[i] = 5;
            build(&distcode, lengths, 30);
            const char *e = codes(s, &lencode, &distcode);
            if (e)
                return e;
        } else if (type == 2) {
            static const short order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
            short lengths[320];
            int nlen = bits(s, 5) + 257, ndist = bits(s, 5) + 1, ncode = bits(s, 4) + 4;
            if (s->overrun)
                return "truncated data";
            if (nlen > 286 || ndist > 30)
                return "bad dynamic block counts";
            int idx;
            for (idx = 0; idx < ncode; idx++)
                lengths[order[idx]] = (short)bits(s, 3);
            for (; idx < 19; idx++)
                lengths[order[idx]] = 0;
            if (s->overrun)
                return "truncated data";
            if (!build(&lencode, lengths, 19))
                return "bad code-length code";
            idx = 0;
            while (idx < nlen + ndist) {
                int sym = decode(s, &lencode);
                if (sym < 0)
                    return "bad code length";
                if (sym < 16) {
                    lengths[idx++] = (short)sym;
                } else {
                    short len = 0;
                    int rep;
                    if (sym == 16) {
                        if (idx == 0)
                            return "repeat with no previous length";
                        len = lengths[idx - 1];
                        rep = 3 + bits(s, 2);
                    } else if (sym == 17) {
                        rep = 3 + bits(s, 3);
                    } else {
                        rep = 11 + bits(s, 7);
                    }
                    if (idx + rep > nlen + ndist)
                        return "too many code lengths";
                    while (rep--)
                        lengths[idx++] = len;
                }
            }
            if (lengths[256] == 0)
                return "no end-of-block code";
            if (!build(&lencode, lengths, nlen) || !build(&distcode, lengths + nlen, ndist))
                return "bad literal/distance code lengths";
            const char *e = codes(s, &lencode, &distcode);
            if (e)
                return e;
        } else {
            return "invalid block type";
        }
    } while (!last);
    return NULL;
}

/* ---- PNG ------------------------------------------------------------------------------ */

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

static int paeth(int a, int b, int c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

static sm_status decode_png(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    size_t pos = 8;
    uint32_t w = 0, h = 0;
    int channels = 0;
    bool have_ihdr = false, have_iend = false;
    uint8_t *z = NULL;
    size_t zlen = 0;
    sm_status st = SM_OK;
    while (pos < len && !have_iend) {
        if (len - pos < 12) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG chunk header truncated at byte %zu", name, pos);
            break;
        }
        uint32_t clen = be32(buf + pos);
        const uint8_t *type = buf + pos + 4, *data = buf + pos + 8;
        if (clen > len - pos - 12) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG chunk '%.4s' of %u bytes runs past the end", name,
                              (const char *)type, clen);
            break;
        }
        uint32_t crc = sm_crc32(0, type, (size_t)clen + 4);
        if (crc != be32(data + clen)) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG chunk '%.4s' has a bad CRC", name, (const char *)type);
            break;
        }
        if (!memcmp(type, "IHDR", 4)) {
            if (clen != 13) {
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: IHDR of %u bytes", name, clen);
                break;
            }
            w = be32(data);
            h = be32(data + 4);
            int depth = data[8], ct = data[9];
            channels = ct == 0 ? 1 : ct == 2 ? 3 : ct == 4 ? 2 : ct == 6 ? 4 : 0;
            if (w == 0 || h == 0 || w > SM_RGB_IMAGE_MAX_SIDE || h > SM_RGB_IMAGE_MAX_SIDE) {
                st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PNG size %ux%u (1..%d per side)", name, w, h,
                                  SM_RGB_IMAGE_MAX_SIDE);
                break;
            }
            if (depth != 8 || !channels || data[10] != 0 || data[11] != 0 || data[12] != 0) {
                st = sm_error_set(err, SM_ERR_UNSUPPORTED,
                                  "%s: PNG bit depth %d, colour type %d, interlace %d: only 8-bit grey, grey+alpha, "
                                  "RGB or RGBA, not interlaced", name, depth, ct, data[12]);
                break;
            }
            have_ihdr = true;
        } else if (!memcmp(type, "IDAT", 4)) {
            if (!have_ihdr) {
                st = sm_error_set(err, SM_ERR_FORMAT, "%s: IDAT before IHDR", name);
                break;
            }
            uint8_t *nz = realloc(z, zlen + clen + 1);
            if (!nz) {
                st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
                break;
            }
            z = nz;
            memcpy(z + zlen, data, clen);
            zlen += clen;
        } else if (!memcmp(type, "IEND", 4)) {
            have_iend = true;
        } else if (!(type[0] & 0x20)) {
            st = sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: critical PNG chunk '%.4s' not supported", name,
                              (const char *)type);
            break;
        }
        pos += (size_t)clen + 12;
    }
    if (st == SM_OK && (!have_ihdr || !zlen))
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG without %s", name, have_ihdr ? "IDAT" : "IHDR");
    size_t rowbytes = (size_t)w * (size_t)channels, raw_len = (rowbytes + 1) * h;
    uint8_t *raw = NULL;
    /* deflate cannot expand more than 1032:1: refuse before allocating for a lying header */
    if (st == SM_OK && raw_len / 1032 > zlen + 64)
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG header says %ux%u but holds only %zu compressed bytes", name, w,
                          h, zlen);
    if (st == SM_OK) {
        raw = malloc(raw_len);
        img->rgb = malloc((size_t)w * h * 3);
        if (!raw || !img->rgb)
            st = sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory for %ux%u pixels", name, w, h);
    }
    if (st == SM_OK) {
        if (zlen < 2 || (z[0] & 0x0f) != 8 || (z[0] >> 4) > 7 || ((unsigned)z[0] << 8 | z[1]) % 31 || (z[1] & 0x20))
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: bad zlib header in IDAT", name);
    }
    if (st == SM_OK) {
        inflater s = {z, zlen, 2, 0, 0, false, raw, raw_len, 0};
        const char *e = inflate_raw(&s);
        if (!e && s.n != raw_len)
            e = "less image data than the header says";
        if (e)
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG data: %s", name, e);
    }
    for (uint32_t y = 0; st == SM_OK && y < h; y++) {
        uint8_t *row = raw + (size_t)y * (rowbytes + 1), *cur = row + 1;
        const uint8_t *prev = y ? raw + (size_t)(y - 1) * (rowbytes + 1) + 1 : NULL;
        int ft = row[0];
        if (ft > 4) {
            st = sm_error_set(err, SM_ERR_FORMAT, "%s: PNG row %u has filter type %d", name, y, ft);
            break;
        }
        for (size_t i = 0; i < rowbytes; i++) {
            int a = i >= (size_t)channels ? cur[i - (size_t)channels] : 0, b = prev ? prev[i] : 0;
            int c = prev && i >= (size_t)channels ? prev[i - (size_t)channels] : 0;
            int p = ft == 0 ? 0 : ft == 1 ? a : ft == 2 ? b : ft == 3 ? (a + b) / 2 : paeth(a, b, c);
            cur[i] = (uint8_t)(cur[i] + p);
        }
        uint8_t *o = img->rgb + (size_t)y * w * 3;
        for (uint32_t x = 0; x < w; x++) {
            const uint8_t *px = cur + (size_t)x * (size_t)channels;
            o[3 * x] = px[0];
            o[3 * x + 1] = channels >= 3 ? px[1] : px[0];
            o[3 * x + 2] = channels >= 3 ? px[2] : px[0];
        }
    }
    free(z);
    free(raw);
    if (st) {
        free(img->rgb);
        img->rgb = NULL;
        return st;
    }
    img->width = (int)w;
    img->height = (int)h;
    img->stride = (size_t)w * 3;
    return SM_OK;
}

/* ---- PPM (P6) --------------------------------------------------------------------------- */

static bool ppm_int(const uint8_t *buf, size_t len, size_t *pos, long *v)
{
    for (;;) {
        while (*pos < len && (buf[*pos] == ' ' || buf[*pos] == '\t' || buf[*pos] == '\n' || buf[*pos] == '\r'))
            (*pos)++;
        if (*pos < len && buf[*pos] == '#') {
            while (*pos < len && buf[*pos] != '\n')
                (*pos)++;
            continue;
        }
        break;
    }
    long x = 0;
    size_t start = *pos;
    while (*pos < len && buf[*pos] >= '0' && buf[*pos] <= '9' && *pos - start < 7)
        x = x * 10 + (buf[(*pos)++] - '0');
    *v = x;
    return *pos > start;
}

static sm_status decode_ppm(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    size_t pos = 2;
    long w, h, maxv;
    if (!ppm_int(buf, len, &pos, &w) || !ppm_int(buf, len, &pos, &h) || !ppm_int(buf, len, &pos, &maxv) ||
        pos >= len)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: bad PPM header", name);
    if (maxv != 255)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PPM maxval %ld (only 255)", name, maxv);
    if (w < 1 || h < 1 || w > SM_RGB_IMAGE_MAX_SIDE || h > SM_RGB_IMAGE_MAX_SIDE)
        return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: PPM size %ldx%ld (1..%d per side)", name, w, h,
                            SM_RGB_IMAGE_MAX_SIDE);
    pos++; /* the single whitespace after maxval */
    size_t n = (size_t)w * (size_t)h * 3;
    if (len - pos < n)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: PPM pixel data truncated (%zu of %zu bytes)", name, len - pos, n);
    img->rgb = malloc(n);
    if (!img->rgb)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", name);
    memcpy(img->rgb, buf + pos, n);
    img->width = (int)w;
    img->height = (int)h;
    img->stride = (size_t)w * 3;
    return SM_OK;
}

sm_status sm_rgb_image_decode(const uint8_t *buf, size_t len, const char *name, sm_rgb_image *img, sm_error *err)
{
    memset(img, 0, sizeof *img);
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (len >= 8 && !memcmp(buf, sig, 8))
        return decode_png(buf, len, name, img, err);
    if (len >= 2 && buf[0] == 'P' && buf[1] == '6')
        return decode_ppm(buf, len, name, img, err);
    return sm_error_set(err, SM_ERR_UNSUPPORTED, "%s: not a PNG or binary PPM (P6) image (JPEG: convert it first)",
                        name);
}

sm_status sm_rgb_image_load(const char *path, sm_rgb_image *img, sm_error *err)
{
    uint8_t *buf;
    size_t len;
    memset(img, 0, sizeof *img);
    sm_status st = sm_file_read_all(path, (size_t)1 << 30, &buf, &len, err);
    if (st)
        return st;
    st = sm_rgb_image_decode(buf, len, path, img, err);
    free(buf);
    return st;
}

void sm_rgb_image_free(sm_rgb_image *img)
{
    if (!img)
        return;
    free(img->rgb);
    img->rgb = NULL;
}
