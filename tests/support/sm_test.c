#include "sm_test.h"

#include "model_registry.h"

#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char path_buf[8][8192];
static int path_next;

static const char *path_join(const char *dir, const char *name)
{
    char *p = path_buf[path_next++ & 7];
    snprintf(p, 8192, "%.4000s/%.4000s", dir, name);
    return p;
}

const char *sm_test_fixture(const char *name)
{
    const char *dir = getenv("SM_FIXTURES");
    if (!dir || !*dir)
        return NULL;
    const char *p = path_join(dir, name);
    return access(p, R_OK) == 0 ? p : NULL;
}

const char *sm_test_committed(const char *name)
{
    const char *repo = getenv("SM_REPO");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/fixtures", repo && *repo ? repo : ".");
    return path_join(dir, name);
}

const char *sm_test_committedf(const char *fmt, ...)
{
    char rel[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rel, sizeof rel, fmt, ap);
    va_end(ap);
    return sm_test_committed(rel);
}

const char *sm_test_shared(const char *rel)
{
    const char *dir = getenv("SM_SHARED");
    if (!dir || !*dir)
        return NULL;
    const char *p = path_join(dir, rel);
    return access(p, R_OK) == 0 ? p : NULL;
}

const char *sm_test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char *p = path_buf[path_next++ & 7];
    snprintf(p, 8192, "%.4000s/smtest.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(p))
        return NULL;
    return p;
}

const char *sm_test_tmpfile(const char *name)
{
    const char *dir = sm_test_tmpdir();
    return dir ? path_join(dir, name) : NULL;
}

void sm_test_smw_run_refuses(const char *model, const char *input, const char *dir, const char *needle)
{
    char args[12800];
    static char out[65536];
    snprintf(args, sizeof args, "'%s' --input '%s' --out-dir '%s'", model, input, dir);
    ck_assert_int_eq(sm_test_run("smw-run", args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, needle) != NULL, "smw-run %s: output lacks '%s':\n%s", input, needle, out);
}

void sm_test_remove_tmpfile(const char *path)
{
    char dir[8192];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    unlink(path);
    if (slash) {
        *slash = '\0';
        rmdir(dir);
    }
}

int sm_test_run(const char *prog, const char *args, char *out, size_t cap)
{
    const char *bin = getenv("SM_BIN");
    const char *runner = getenv("SM_TEST_RUNNER");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s '%s/%s' %s 2>&1", runner ? runner : "", bin && *bin ? bin : "build",
             prog, args);
    return sm_test_shell(cmd, out, cap);
}

int sm_test_shell(const char *cmd, char *out, size_t cap)
{
    FILE *f = popen(cmd, "r");
    if (!f)
        return -1;
    size_t n = 0;
    char tmp[4096];
    size_t r;
    while ((r = fread(tmp, 1, sizeof tmp, f)) > 0) {
        if (out && n + 1 < cap) {
            size_t k = r < cap - 1 - n ? r : cap - 1 - n;
            memcpy(out + n, tmp, k);
            n += k;
        }
    }
    if (out && cap)
        out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool sm_test_convert(const char *src, const char *name, char *out, size_t cap, char *msg, size_t msg_cap)
{
    const char *dir = sm_test_tmpdir();
    if (msg && msg_cap)
        snprintf(msg, msg_cap, "no temporary directory");
    if (!dir || (size_t)snprintf(out, cap, "%s/%s", dir, name) >= cap) {
        if (cap)
            out[0] = '\0';
        return false;
    }
    char args[8400];
    snprintf(args, sizeof args, "'%.4000s' -o '%.4000s'", src, out);
    if (sm_test_run("smw-convert", args, msg, msg_cap) != 0) {
        out[0] = '\0';
        return false;
    }
    return true;
}

void sm_test_load_npy_f32(const char *rel, sm_npy *a)
{
    const char *p = sm_test_fixture(rel);
    ck_assert_msg(p != NULL, "fixture %s missing", rel);
    sm_error err;
    ck_assert_msg(sm_npy_load(p, a, &err) == SM_OK, "%s", err.msg);
    ck_assert_msg(a->dtype == SM_DTYPE_F32, "fixture %s is not float32", rel);
}

void sm_test_assert_rejected(sm_status st, const void *out, const sm_error *err, const char *const *needles)
{
    ck_assert_msg(st != SM_OK, "accepted; expected a message with '%s'", needles[0] ? needles[0] : "");
    ck_assert_ptr_null(out);
    sm_test_assert_has_all(err->msg, needles);
}

void sm_test_expect_load_error(const char *arch, const char *path, const char *const *needles)
{
    const sm_model_kind *kind = sm_model_kind_find(arch, strlen(arch));
    ck_assert_msg(kind != NULL, "no model kind '%s'", arch);
    sm_model *m = (sm_model *)1;
    sm_error err = {0};
    sm_status st = sm_model_open(path, kind, NULL, &m, &err);
    sm_test_assert_rejected(st, m, &err, needles); /* m read after the call */
}

void sm_test_assert_has_all(const char *msg, const char *const *needles)
{
    for (; *needles; needles++)
        ck_assert_msg(strstr(msg, *needles) != NULL, "message '%s' lacks '%s'", msg, *needles);
}

bool sm_test_quick(void)
{
    static int quick = -1;
    if (quick < 0) {
        const char *q = getenv("SM_TEST_QUICK");
        quick = q && strcmp(q, "1") == 0;
        if (quick) {
            printf("quick: SM_TEST_QUICK=1, the longest suites run fewer cases\n");
            fflush(stdout);
        }
    }
    return quick == 1;
}

void sm_test_skip(const char *test, const char *why)
{
    printf("skipped: %s: %s\n", test, why);
    fflush(stdout);
}

/* Copies every metadata entry of f into w, replacing the architecture when asked. */
static void copy_meta(sm_smw_writer *w, const sm_smw *f, const char *arch)
{
    sm_error err;
    for (size_t i = 0; i < f->n_meta; i++) {
        const sm_meta *m = &f->meta[i];
        sm_status st = SM_OK;
        char buf[256];
        if (!strcmp(m->key, "general.architecture") && arch) {
            st = sm_smw_writer_add_string(w, m->key, arch, &err);
        } else if (m->type == SM_META_STRING) {
            snprintf(buf, sizeof buf, "%.*s", (int)m->v.str.len, m->v.str.ptr);
            st = sm_smw_writer_add_string(w, m->key, buf, &err);
        } else if (m->type == SM_META_U32) {
            st = sm_smw_writer_add_u32(w, m->key, m->v.u32, &err);
        } else if (m->type == SM_META_ARRAY && m->elem_type == SM_META_STRING) {
            char s[16][64];
            const char *p[16];
            ck_assert_uint_le(m->count, 16);
            for (uint64_t k = 0; k < m->count; k++) {
                snprintf(s[k], sizeof s[k], "%.*s", (int)m->strings[k].len, m->strings[k].ptr);
                p[k] = s[k];
            }
            st = sm_smw_writer_add_array(w, m->key, SM_META_STRING, p, (size_t)m->count, &err);
        } else if (m->type == SM_META_ARRAY && m->elem_type == SM_META_F32) {
            float v[16];
            ck_assert_uint_le(m->count, 16);
            memcpy(v, m->array_data, (size_t)m->count * 4);
            st = sm_smw_writer_add_array(w, m->key, SM_META_F32, v, (size_t)m->count, &err);
        } else {
            ck_abort_msg("metadata %s of type %s not copied by this test", m->key, sm_meta_type_name(m->type));
        }
        ck_assert_msg(st == SM_OK, "%s", err.msg);
    }
}

const char *sm_test_smw_rewrite(const char *src, const char *arch, const char *reshape, uint32_t nd,
                                const uint64_t *nd_dims, const char *drop)
{
    static char path[8192];
    sm_smw *f;
    sm_smw_writer *w;
    sm_error err;
    ck_assert_msg(sm_smw_open(src, NULL, &f, &err) == SM_OK, "%s", err.msg);
    ck_assert_int_eq(sm_smw_writer_init(&w, &err), SM_OK);
    copy_meta(w, f, arch);
    for (size_t i = 0; i < f->n_tensors; i++) {
        const sm_tensor_info *t = &f->tensors[i];
        sm_status st;
        if (drop && !strcmp(t->name, drop))
            continue;
        if (reshape && !strcmp(t->name, reshape)) {
            size_t n = 1;
            for (uint32_t d = 0; d < nd; d++)
                n *= (size_t)nd_dims[d];
            void *z = calloc(n ? n : 1, sm_dtype_size(t->dtype));
            st = sm_smw_writer_add_tensor(w, t->name, t->dtype, nd, nd_dims, z, &err);
            free(z);
        } else {
            st = sm_smw_writer_add_tensor(w, t->name, t->dtype, t->ndim, t->dims, t->data, &err);
        }
        ck_assert_msg(st == SM_OK, "%s", err.msg);
    }
    snprintf(path, sizeof path, "%.4000s/bad.smw", sm_test_tmpdir());
    ck_assert_int_eq(sm_smw_writer_save(w, path, &err), SM_OK);
    sm_smw_writer_free(w);
    sm_smw_free(f);
    return path;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

void sm_test_seed(uint64_t seed) { rng_state = seed ? seed : 0x9e3779b97f4a7c15ull; }

float sm_test_uniform(float lo, float hi)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    float u = (float)((rng_state >> 40) & 0xffffff) / (float)0x1000000;
    return lo + (hi - lo) * u;
}

const double sm_test_pbv[3] = {0.33, 0.77, 0.53};

double sm_test_gauss(void)
{
    double s = 0;
    for (int i = 0; i < 12; i++)
        s += sm_test_uniform(0.0f, 1.0f);
    return s - 6.0;
}

TCase *sm_test_tcase(Suite *s, const char *name, double timeout)
{
    TCase *tc = tcase_create(name);
    tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

static int remove_entry(const char *path, const struct stat *st, int kind, struct FTW *where)
{
    (void)st;
    (void)kind;
    (void)where;
    remove(path);
    return 0;
}

/* Every temporary a suite makes goes below one folder of its own, removed when the
 * suite ends: the forked tests, the programs they start and the Python references
 * all honour TMPDIR. Left in /tmp, each run's temporaries (tens of megabytes of
 * models, truncated copies, outputs) filled CI's disk. */
static int enter_suite_tmpdir(char *root, size_t cap)
{
    const char *env = getenv("TMPDIR");
    const char *base = env && *env ? env : "/tmp";
    snprintf(root, cap, "%.4000s/smsuite.XXXXXX", base);
    if (!mkdtemp(root)) {
        fprintf(stderr, "note: no folder for temporaries in %s; tests use it directly\n", base);
        return 0;
    }
    setenv("TMPDIR", root, 1);
    return 1;
}

int sm_test_main(Suite *s)
{
    char tmp_root[4096];
    int own_tmp = enter_suite_tmpdir(tmp_root, sizeof tmp_root);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (own_tmp)
        nftw(tmp_root, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return failed == 0 ? 0 : 1;
}

double sm_test_cosine(const float *a, const float *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    return ab / sqrt(aa * bb);
}
