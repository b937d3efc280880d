#include "sm_test.h"

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

int sm_test_run(const char *prog, const char *args, char *out, size_t cap)
{
    const char *bin = getenv("SM_BIN");
    const char *runner = getenv("SM_TEST_RUNNER");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s '%s/%s' %s 2>&1", runner ? runner : "", bin && *bin ? bin : "build",
             prog, args);
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

void sm_test_skip(const char *test, const char *why)
{
    printf("skipped: %s: %s\n", test, why);
    fflush(stdout);
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

int sm_test_main(Suite *s)
{
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}
