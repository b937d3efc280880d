/* smw-info: prints a .smw file's header, metadata, tensor table, parameter
 * count and checksum status, as text or as one JSON object. */
#include "json_print.h"
#include "sm_engine.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smw-info [--json] [--max-array N] FILE.smw\n"
            "Prints the header, metadata, tensor table (name, dtype, shape, bytes),\n"
            "total parameters and the header/data CRC status of a .smw weight file.\n"
            "  --json          one machine-readable JSON object instead of text\n"
            "  --max-array N   show at most N elements of each metadata array (default 16, 0 = all)\n"
            "Exit status: 0 valid file, 1 invalid or unreadable file, 2 usage error.\n");
}

static void put_json_string(const char *s, size_t n) { sm_json_print_string(stdout, s, n); }

static void put_text_string(const char *s, size_t n)
{
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        putchar(c < 0x20 ? '?' : c);
    }
    putchar('"');
}

/* Shortest %g form that reads back as the same double. */
static void put_double(double d)
{
    char buf[40];
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    fputs(buf, stdout);
}

static void put_meta_value(const sm_meta *m, bool json, uint64_t max_array)
{
    sm_meta element;
    switch (m->type) {
    case SM_META_STRING:
        (json ? put_json_string : put_text_string)(m->v.str.ptr, m->v.str.len);
        return;
    case SM_META_ARRAY: {
        uint64_t shown = (max_array && m->count > max_array && !json) ? max_array : m->count;
        putchar('[');
        for (uint64_t i = 0; i < shown; i++) {
            if (i)
                printf(", ");
            if (m->elem_type == SM_META_STRING)
                (json ? put_json_string : put_text_string)(m->strings[i].ptr, m->strings[i].len);
            else if (sm_meta_array_at(m, i, &element))
                put_meta_value(&element, json, max_array);
        }
        if (shown < m->count)
            printf(", ... (%" PRIu64 " in all)", m->count);
        putchar(']');
        return;
    }
    case SM_META_U32: printf("%" PRIu32, m->v.u32); return;
    case SM_META_I32: printf("%" PRId32, m->v.i32); return;
    case SM_META_F32: put_double((double)m->v.f32); return;
    case SM_META_U64: printf("%" PRIu64, m->v.u64); return;
    case SM_META_I64: printf("%" PRId64, m->v.i64); return;
    case SM_META_F64: put_double(m->v.f64); return;
    case SM_META_BOOL: printf("%s", m->v.b ? "true" : "false"); return;
    default: return;
    }
}

static void put_shape(const sm_tensor_info *t)
{
    putchar('[');
    for (uint32_t d = 0; d < t->ndim; d++)
        printf("%s%" PRIu64, d ? ", " : "", t->dims[d]);
    putchar(']');
}

static uint64_t parameter_count(const sm_smw *f)
{
    uint64_t n = 0;
    for (size_t i = 0; i < f->n_tensors; i++)
        if (f->tensors[i].dtype == SM_DTYPE_F32 || f->tensors[i].dtype == SM_DTYPE_F16 ||
            f->tensors[i].dtype == SM_DTYPE_F64)
            n += f->tensors[i].numel;
    return n;
}

static void print_text(const sm_smw *f, uint64_t max_array)
{
    sm_str arch = {"", 0};
    const sm_meta *am = sm_smw_find_meta(f, "general.architecture");
    if (am && am->type == SM_META_STRING)
        arch = am->v.str;
    printf("%s: .smw format %u.%u, %" PRIu64 " bytes, alignment %u\n", f->path, f->version_major,
           f->version_minor, f->file_size, f->alignment);
    printf("architecture: %.*s\n", (int)arch.len, arch.ptr);
    printf("header CRC: ok (0x%08x)\n", f->header_crc);
    printf("data CRC: %s (0x%08x)\n", f->data_crc_ok ? "ok" : "not checked", f->data_crc);
    printf("metadata: %zu entries\n", f->n_meta);
    for (size_t i = 0; i < f->n_meta; i++) {
        const sm_meta *m = &f->meta[i];
        printf("  %-32s %-8s ", m->key, m->type == SM_META_ARRAY ? "array" : sm_meta_type_name(m->type));
        put_meta_value(m, false, max_array);
        putchar('\n');
    }
    printf("tensors: %zu\n", f->n_tensors);
    printf("  %-56s %-5s %-22s %12s\n", "name", "dtype", "shape", "bytes");
    for (size_t i = 0; i < f->n_tensors; i++) {
        const sm_tensor_info *t = &f->tensors[i];
        char shape[96];
        size_t k = (size_t)snprintf(shape, sizeof shape, "[");
        for (uint32_t d = 0; d < t->ndim && k < sizeof shape; d++)
            k += (size_t)snprintf(shape + k, sizeof shape - k, "%s%" PRIu64, d ? ", " : "", t->dims[d]);
        if (k < sizeof shape)
            snprintf(shape + k, sizeof shape - k, "]");
        printf("  %-56s %-5s %-22s %12" PRIu64 "\n", t->name, sm_dtype_name(t->dtype), shape, t->nbytes);
    }
    printf("parameters: %" PRIu64 " (f32/f16/f64 elements)\n",
           parameter_count(f));
}

static void print_json(const sm_smw *f)
{
    const sm_meta *am = sm_smw_find_meta(f, "general.architecture");
    printf("{\"file\": ");
    put_json_string(f->path, strlen(f->path));
    printf(", \"version\": \"%u.%u\", \"file_size\": %" PRIu64 ", \"alignment\": %u", f->version_major,
           f->version_minor, f->file_size, f->alignment);
    printf(", \"architecture\": ");
    if (am && am->type == SM_META_STRING)
        put_json_string(am->v.str.ptr, am->v.str.len);
    else
        printf("null");
    printf(", \"header_crc_ok\": true, \"data_crc_ok\": %s", f->data_crc_ok ? "true" : "false");
    printf(", \"parameters\": %" PRIu64 ", \"metadata\": {", parameter_count(f));
    for (size_t i = 0; i < f->n_meta; i++) {
        printf("%s", i ? ", " : "");
        put_json_string(f->meta[i].key, strlen(f->meta[i].key));
        printf(": ");
        put_meta_value(&f->meta[i], true, 0);
    }
    printf("}, \"tensors\": [");
    for (size_t i = 0; i < f->n_tensors; i++) {
        const sm_tensor_info *t = &f->tensors[i];
        printf("%s{\"name\": ", i ? ", " : "");
        put_json_string(t->name, strlen(t->name));
        printf(", \"dtype\": \"%s\", \"shape\": ", sm_dtype_name(t->dtype));
        put_shape(t);
        printf(", \"offset\": %" PRIu64 ", \"bytes\": %" PRIu64 "}", t->offset, t->nbytes);
    }
    printf("]}\n");
}

int main(int argc, char **argv)
{
    bool json = false;
    uint64_t max_array = 16;
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--max-array") && i + 1 < argc) {
            char *end;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || argv[i][0] == '-') {
                fprintf(stderr, "smw-info: --max-array wants a count, got '%s'\n", argv[i]);
                return 2;
            }
            max_array = v;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "smw-info: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else if (path) {
            fprintf(stderr, "smw-info: one file at a time ('%s' and '%s')\n", path, argv[i]);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    sm_smw *f;
    sm_error err;
    if (sm_smw_open(path, NULL, &f, &err) != SM_OK) {
        fprintf(stderr, "smw-info: %s\n", err.msg);
        return 1;
    }
    if (json)
        print_json(f);
    else
        print_text(f, max_array);
    sm_smw_free(f);
    return 0;
}
