/* smw-convert: PyTorch .pth, joblib (scikit-learn) and TFLite files into .smw.
 * Sniffs the input format, adds the general.* metadata, lets the reader add the
 * tensors, prints a summary and writes the output atomically (never a
 * half-written file). Exit codes: 0 ok, 1 conversion error, 2 usage. */
#include "convert.h"
#include "model_registry.h"
#include "sha256.h"
#include "tfjs.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sm_joblib_compression(const uint8_t *buf, size_t len);

static void usage(FILE *f)
{
    fprintf(f,
            "usage: smw-convert INPUT -o OUT.smw [options]\n"
            "Converts a PyTorch .pth (torch.save zip), a joblib scikit-learn file, a\n"
            "TFLite model or a TF.js model (model.json graph model, or face-api's\n"
            "weights manifest) into a .smw weight file. The format is sniffed from the bytes.\n"
            "\n"
            "  -o, --output OUT.smw   output file (written atomically)\n"
            "  --arch NAME            skip detection: novel_emotion_effnet_b3, ultralight_rppg,\n"
            "                         sklearn_mlp_pipeline, or raw (store every .pth tensor as is)\n"
            "  --labels a,b,...       class labels (emotion: 8, default the alphabetical order\n"
            "                         angry,disgust,fear,happy,neutral,sad,surprise,tired)\n"
            "  --input-size N         input.size metadata (emotion 300, rPPG 36 by default)\n"
            "  --mean a,b,c           input.mean metadata (default 0,0,0)\n"
            "  --std a,b,c            input.std metadata (default 1,1,1)\n"
            "  --f16                  store float32 weights as float16 (not the float64 MLP)\n"
            "  --meta KEY=VALUE       add a string metadata entry (repeatable; e.g. source.package=...)\n"
            "  -h, --help             this text\n"
            "\n"
            "Pickles are read by a restricted machine: only known model classes are\n"
            "accepted and no code from the file is ever run.\n"
            "Exit status: 0 converted, 1 conversion error, 2 usage error.\n");
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "smw-convert: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n(see smw-convert --help)\n");
    return 2;
}

static bool parse_floats(const char *s, float *out, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || errno || !isfinite(v))
            return false;
        out[i] = (float)v;
        s = end;
        if (i + 1 < n) {
            if (*s != ',')
                return false;
            s++;
        }
    }
    return *s == '\0';
}

static void print_meta(const sm_meta *m)
{
    printf("  %s = ", m->key);
    switch (m->type) {
    case SM_META_U32: printf("%u", m->v.u32); break;
    case SM_META_I32: printf("%d", m->v.i32); break;
    case SM_META_F32: printf("%g", m->v.f32); break;
    case SM_META_U64: printf("%llu", (unsigned long long)m->v.u64); break;
    case SM_META_I64: printf("%lld", (long long)m->v.i64); break;
    case SM_META_F64: printf("%g", m->v.f64); break;
    case SM_META_BOOL: printf("%s", m->v.b ? "true" : "false"); break;
    case SM_META_STRING: printf("%.*s", (int)m->v.str.len, m->v.str.ptr); break;
    case SM_META_ARRAY:
        printf("[");
        for (uint64_t i = 0; i < m->count && i < 16; i++) {
            const uint8_t *p = m->array_data;
            if (i)
                printf(",");
            switch (m->elem_type) {
            case SM_META_STRING: printf("%.*s", (int)m->strings[i].len, m->strings[i].ptr); break;
            case SM_META_F32: { float f; memcpy(&f, p + 4 * i, 4); printf("%g", f); break; }
            case SM_META_F64: { double d; memcpy(&d, p + 8 * i, 8); printf("%g", d); break; }
            case SM_META_I64: { int64_t v; memcpy(&v, p + 8 * i, 8); printf("%lld", (long long)v); break; }
            case SM_META_U64: { uint64_t v; memcpy(&v, p + 8 * i, 8); printf("%llu", (unsigned long long)v); break; }
            case SM_META_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); printf("%d", v); break; }
            case SM_META_U32: { uint32_t v; memcpy(&v, p + 4 * i, 4); printf("%u", v); break; }
            case SM_META_BOOL: printf("%s", p[i] ? "true" : "false"); break;
            default: printf("?"); break;
            }
        }
        printf("%s]", m->count > 16 ? ",..." : "");
        break;
    default: printf("?"); break;
    }
    printf("\n");
}

/* Parameters exclude BatchNorm running statistics and the scaler's moments. */
static bool is_parameter(const char *name)
{
    size_t n = strlen(name);
    static const char *const buffers[] = {"running_mean", "running_var", "num_batches_tracked"};
    for (size_t i = 0; i < 3; i++) {
        size_t k = strlen(buffers[i]);
        if (n >= k && !strcmp(name + n - k, buffers[i]))
            return false;
    }
    return strncmp(name, "scaler.", 7) != 0;
}

static int convert(const char *in, const char *out, const sm_convert_opts *opts)
{
    sm_error err = {0};
    uint8_t *buf = NULL, *ser = NULL;
    size_t len = 0, ser_len = 0;
    sm_smw_writer *w = NULL;
    sm_smw *f = NULL;
    sm_convert_summary sum;
    memset(&sum, 0, sizeof sum);
    sm_status st = sm_file_read_all(in, 0, &buf, &len, &err);
    if (st != SM_OK)
        goto fail;
    sm_convert_fn fn = NULL;
    const char *kind = NULL;
    if (len >= 4 && !memcmp(buf, "PK\x03\x04", 4)) {
        fn = sm_convert_pth;
        kind = "PyTorch zip checkpoint";
    } else if (len >= 8 && !memcmp(buf + 4, "TFL3", 4)) {
        fn = sm_convert_tflite;
        kind = "TFLite flatbuffer";
    } else if (len >= 14 && !memcmp(buf, "\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 14)) {
        /* torch's legacy magic number 0x1950a86a20f9469cfc6c as a pickled LONG1 */
        st = sm_error_set(&err, SM_ERR_UNSUPPORTED,
                          "%s: legacy torch.save format (_use_new_zipfile_serialization=False) is not supported: "
                          "re-save it with torch.save(torch.load(path), path)", in);
        goto fail;
    } else if (sm_tfjs_sniff(buf, len)) {
        fn = sm_convert_tfjs;
        kind = "TF.js JSON (model.json or weights manifest)";
    } else if ((len >= 1 && buf[0] == 0x80) || sm_joblib_compression(buf, len)) {
        fn = sm_convert_joblib;
        kind = "joblib pickle";
    } else {
        st = sm_error_set(&err, SM_ERR_FORMAT,
                          "%s: unrecognised input format (not a torch.save zip, a joblib pickle, a .tflite file or TF.js JSON)", in);
        goto fail;
    }
    if ((st = sm_smw_writer_init(&w, &err)) != SM_OK)
        goto fail;
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    char hex[65];
    sm_sha256_hex(buf, len, hex);
    if ((st = fn(buf, len, in, opts, w, &sum, &err)) != SM_OK)
        goto fail;
    if (!sum.arch[0]) {
        st = sm_error_set(&err, SM_ERR_FORMAT, "%s: the reader reported no architecture", in);
        goto fail;
    }
    if ((st = sm_smw_writer_add_string(w, "general.architecture", sum.arch, &err)) != SM_OK ||
        (st = sm_smw_writer_add_string(w, "general.source", base, &err)) != SM_OK ||
        (st = sm_smw_writer_add_string(w, "general.source_sha256", hex, &err)) != SM_OK ||
        (st = sm_smw_writer_add_string(w, "general.converter", SM_CONVERTER_VERSION, &err)) != SM_OK)
        goto fail;
    /* --meta KEY=VALUE: provenance the input cannot know (package, licence, ...) */
    for (size_t i = 0; i < opts->n_meta; i++) {
        const char *eq = strchr(opts->meta[i], '=');
        char k[256];
        snprintf(k, sizeof k, "%.*s", (int)(eq - opts->meta[i]), opts->meta[i]);
        if ((st = sm_smw_writer_add_string(w, k, eq + 1, &err)) != SM_OK) {
            sm_error_prefix(&err, "--meta %s", k);
            goto fail;
        }
    }
    /* The summary is read back from the bytes that will be written. */
    if ((st = sm_smw_writer_serialize(w, &ser, &ser_len, &err)) != SM_OK)
        goto fail;
    sm_smw_parse_opts po = {.skip_data_crc = true};
    if ((st = sm_smw_parse(ser, ser_len, out, &po, &f, &err)) != SM_OK)
        goto fail;
    /* A file of a registered architecture must load through its kind (every
     * tensor, shape and metadata value its loader checks) before it is written. */
    const sm_model_kind *mk = sm_model_kind_find(sum.arch, strlen(sum.arch));
    if (mk) {
        void *model = NULL;
        if ((st = mk->load(f, NULL, &model, &err)) != SM_OK) {
            sm_error_prefix(&err, "%s: the converted model does not load as %s", in, mk->arch);
            goto fail;
        }
        mk->free(model);
    }
    uint64_t params = 0, values = 0;
    for (size_t i = 0; i < f->n_tensors; i++) {
        values += f->tensors[i].numel;
        if (is_parameter(f->tensors[i].name))
            params += f->tensors[i].numel;
    }
    printf("input: %s (%s, %zu bytes, sha256 %s)\n", in, kind, len, hex);
    printf("architecture: %s (%s)\n", sum.arch, mk ? "loads through the model registry" : "not a registered model kind");
    printf("tensors: %zu\n", f->n_tensors);
    printf("parameters: %llu (all tensor values: %llu)\n", (unsigned long long)params, (unsigned long long)values);
    printf("metadata:\n");
    /* A TFLite graph stores thousands of per-operator keys; smw-info lists them. */
    size_t graph_op_keys = 0;
    for (size_t i = 0; i < f->n_meta; i++) {
        if (!strncmp(f->meta[i].key, "graph.op.", 9)) {
            graph_op_keys++;
            continue;
        }
        print_meta(&f->meta[i]);
    }
    if (graph_op_keys)
        printf("  graph.op.* = %zu per-operator keys (smw-info OUT.smw lists them)\n", graph_op_keys);
    if (sum.notes[0]) {
        printf("notes:\n");
        for (const char *p = sum.notes; *p;) {
            const char *nl = strchr(p, '\n');
            size_t n = nl ? (size_t)(nl - p) : strlen(p);
            printf("  %.*s\n", (int)n, p);
            p += n + (nl ? 1 : 0);
        }
    }
    sm_smw_free(f);
    f = NULL;
    free(ser);
    ser = NULL;
    free(buf);
    buf = NULL;
    if ((st = sm_smw_writer_save(w, out, &err)) != SM_OK)
        goto fail;
    printf("wrote %s (%zu bytes)\n", out, ser_len);
    sm_smw_writer_free(w);
    return 0;
fail:
    fprintf(stderr, "smw-convert: error: %s\n", err.msg[0] ? err.msg : sm_status_name(st));
    sm_smw_free(f);
    free(ser);
    free(buf);
    sm_smw_writer_free(w);
    return st == SM_ERR_ARG ? 2 : 1;
}

#define MAX_META 32

int main(int argc, char **argv)
{
    sm_convert_opts opts;
    memset(&opts, 0, sizeof opts);
    const char *metas[MAX_META];
    opts.meta = metas;
    const char *in = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) {
            if (!has_val)
                return usage_error("%s needs a file name", a);
            out = argv[++i];
        } else if (!strcmp(a, "--arch")) {
            if (!has_val)
                return usage_error("%s needs a name", a);
            opts.arch = argv[++i];
            /* each reader refuses names it does not know (SM_ERR_ARG -> exit 2) */
        } else if (!strcmp(a, "--labels")) {
            if (!has_val || !argv[i + 1][0])
                return usage_error("%s needs a comma-separated list", a);
            opts.labels = argv[++i];
        } else if (!strcmp(a, "--input-size")) {
            char *end;
            if (!has_val)
                return usage_error("%s needs a number", a);
            long v = strtol(argv[++i], &end, 10);
            if (*end || end == argv[i] || v < 1 || v > 8192)
                return usage_error("--input-size %s: expected an integer in 1..8192", argv[i]);
            opts.input_size = (int)v;
        } else if (!strcmp(a, "--mean") || !strcmp(a, "--std")) {
            bool is_std = a[2] == 's';
            if (!has_val)
                return usage_error("%s needs three comma-separated numbers", a);
            float *dst = is_std ? opts.std : opts.mean;
            if (!parse_floats(argv[++i], dst, 3))
                return usage_error("expected three comma-separated numbers, got '%s'", argv[i]);
            if (is_std && !(dst[0] > 0 && dst[1] > 0 && dst[2] > 0))
                return usage_error("--std %s: every value must be > 0", argv[i]);
            *(is_std ? &opts.n_std : &opts.n_mean) = 3;
        } else if (!strcmp(a, "--meta")) {
            if (!has_val)
                return usage_error("%s needs KEY=VALUE", a);
            const char *kv = argv[++i], *eq = strchr(kv, '=');
            if (!eq || eq == kv || eq - kv > 200 || !strchr(kv, '.') || strchr(kv, '.') > eq)
                return usage_error("--meta %s: expected KEY=VALUE with a dotted KEY (e.g. source.license=MIT)", kv);
            if (opts.n_meta == MAX_META)
                return usage_error("%s", "more than 32 --meta entries");
            metas[opts.n_meta++] = kv;
        } else if (!strcmp(a, "--f16")) {
            opts.f16 = true;
        } else if (a[0] == '-' && a[1]) {
            return usage_error("unknown option %s", a);
        } else if (!in) {
            in = a;
        } else {
            return usage_error("more than one input (%s)", a);
        }
    }
    if (!in)
        return usage_error("%s", "no INPUT given");
    if (!out)
        return usage_error("%s", "no output given (-o OUT.smw)");
    return convert(in, out, &opts);
}
