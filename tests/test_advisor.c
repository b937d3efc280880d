/* The advisor against tests/gen/gen_analysis_advisor.py (a transcription of
 * app.py's RLAgent, compute_reward and its 180 s / 15 s schedule), and the
 * Q-table file: round trip, a save killed half-way, corrupt files set aside. */
#include "advisor.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static FILE *open_fixture(const char *name)
{
    const char *p = sm_test_fixture(name);
    ck_assert_msg(p != NULL, "fixture %s missing (tests/gen/gen_analysis_advisor.py)", name);
    FILE *f = fopen(p, "r");
    ck_assert_ptr_nonnull(f);
    return f;
}

START_TEST(python_rounding_of_keys)
{
    FILE *f = open_fixture("analysis_advisor_keys.txt");
    int n;
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    for (int i = 0; i < n; i++) {
        double v;
        int want;
        ck_assert_int_eq(fscanf(f, "%lf %d", &v, &want), 2);
        ck_assert_msg(sm_advisor_round_tenths(v) == want, "round(%.17g, 1): %d tenths, want %d",
                      v, sm_advisor_round_tenths(v), want);
    }
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    for (int i = 0; i < n; i++) {
        double v;
        int want;
        ck_assert_int_eq(fscanf(f, "%lf %d", &v, &want), 2);
        ck_assert_msg(sm_advisor_stress_bin(v) == want, "%.17g // 20: %d, want %d", v,
                      sm_advisor_stress_bin(v), want);
    }
    fclose(f);
}
END_TEST

/* Plays the scripted episode; returns the number of frames. */
static int play_episode(sm_advisor *a)
{
    FILE *f = open_fixture("analysis_advisor_episode.txt");
    int n;
    ck_assert_int_eq(fscanf(f, "%d", &n), 1);
    int acted_n = 0, rewarded_n = 0;
    for (int i = 0; i < n; i++) {
        double t, p, stress, reward;
        char label[32];
        int acted, action, rewarded;
        ck_assert_int_eq(fscanf(f, "%lf %31s %lf %lf %d %d %d %lf", &t, label, &p, &stress,
                                &acted, &action, &rewarded, &reward), 8);
        sm_advisor_state s = {label, p, stress};
        sm_advisor_event ev;
        sm_advisor_step(a, t, &s, &ev);
        ck_assert_msg(ev.acted == (acted != 0), "frame %d (t %.1f): acted %d want %d", i, t,
                      ev.acted, acted);
        if (acted) {
            ck_assert_int_eq(ev.action, action);
            acted_n++;
        }
        ck_assert_msg(ev.rewarded == (rewarded != 0), "frame %d: rewarded", i);
        if (rewarded) {
            ck_assert_msg(ev.reward == reward, "frame %d reward %.17g want %.17g", i, ev.reward,
                          reward);
            rewarded_n++;
        }
    }
    ck_assert_int_gt(acted_n, 50);
    ck_assert_int_ge(rewarded_n, acted_n - 1);
    /* the final table, in Python's insertion order, bit for bit */
    int nq;
    ck_assert_int_eq(fscanf(f, "%d", &nq), 1);
    ck_assert_int_eq((int)sm_advisor_size(a), nq);
    int nonzero = 0;
    for (int i = 0; i < nq; i++) {
        char label[32];
        int tenths, bin;
        double q[3];
        ck_assert_int_eq(fscanf(f, "%31s %d %d %lf %lf %lf", label, &tenths, &bin, &q[0], &q[1],
                                &q[2]), 6);
        const sm_qentry *e = sm_advisor_entry(a, (size_t)i);
        ck_assert_str_eq(e->label, label);
        ck_assert_int_eq(e->tenths, tenths);
        ck_assert_int_eq(e->stress_bin, bin);
        for (int k = 0; k < 3; k++) {
            ck_assert_msg(e->q[k] == q[k], "entry %d q%d %.17g want %.17g", i, k, e->q[k], q[k]);
            nonzero += q[k] != 0.0;
        }
    }
    ck_assert_int_gt(nonzero, 20);
    fclose(f);
    return n;
}

START_TEST(episode_matches_app_py)
{
    sm_advisor_config cfg = sm_advisor_config_default();
    cfg.path = "";
    sm_advisor *a;
    sm_error err;
    ck_assert_int_eq(sm_advisor_init(&a, &cfg, &err), SM_OK);
    ck_assert_str_eq(sm_advisor_path(a), "");
    play_episode(a);
    sm_advisor_free(a);
    sm_advisor_free(NULL);
}
END_TEST

START_TEST(reward_and_update_by_hand)
{
    sm_advisor_state sad = {"sad", 0.8, 70.0}, happy = {"happy", 0.2, 50.0};
    /* (2-0)*2 + (0.8-0.2)*3 + (70-50)*0.1 */
    double r = sm_advisor_reward(&sad, &happy);
    ck_assert(fabs(r - (4.0 + 1.8 + 2.0)) < 1e-12);
    sm_advisor_state unknown = {"confused", 0.2, 50.0}, none = {NULL, 0.2, 50.0};
    ck_assert(fabs(sm_advisor_reward(&sad, &unknown) - (2.0 + 1.8 + 2.0)) < 1e-12);
    ck_assert(fabs(sm_advisor_reward(&none, &unknown)) < 1e-12);

    sm_advisor_config cfg = sm_advisor_config_default();
    cfg.path = "";
    sm_advisor *a;
    ck_assert_int_eq(sm_advisor_init(&a, &cfg, NULL), SM_OK);
    sm_advisor_update(a, &happy, 5.0); /* no action yet: nothing learnt */
    ck_assert_int_eq((int)sm_advisor_size(a), 0);
    ck_assert_int_eq(sm_advisor_get_action(a, &sad), 0); /* ties -> lowest */
    sm_advisor_update(a, &happy, -1.0);                 /* Q = 0.1 * -1 */
    const sm_qentry *e = sm_advisor_find(a, "sad", 8, 3);
    ck_assert_ptr_nonnull(e);
    ck_assert(e->q[0] == 0.1 * (-1.0 + 0.9 * 0.0 - 0.0));
    ck_assert_int_eq(sm_advisor_get_action(a, &sad), 1); /* 0 is now worse than 1 and 2 */
    sm_advisor_free(a);
}
END_TEST

START_TEST(exploration_is_seeded)
{
    sm_advisor_config cfg = sm_advisor_config_default();
    cfg.path = "";
    cfg.epsilon = 0.5;
    cfg.seed = 99;
    sm_advisor *a, *b;
    ck_assert_int_eq(sm_advisor_init(&a, &cfg, NULL), SM_OK);
    ck_assert_int_eq(sm_advisor_init(&b, &cfg, NULL), SM_OK);
    sm_advisor_state s = {"neutral", 0.3, 40};
    int counts[3] = {0, 0, 0};
    for (int i = 0; i < 300; i++) {
        int x = sm_advisor_get_action(a, &s);
        ck_assert_int_eq(x, sm_advisor_get_action(b, &s));
        counts[x]++;
    }
    ck_assert(counts[1] > 20 && counts[2] > 20 && counts[0] > counts[1]);
    sm_advisor_free(a);
    sm_advisor_free(b);
    cfg.epsilon = 1.5;
    ck_assert_int_eq(sm_advisor_init(&a, &cfg, NULL), SM_ERR_ARG);
}
END_TEST

static char *path_in(const char *dir, const char *name)
{
    static char buf[4][4096];
    static int k;
    char *p = buf[k++ & 3];
    snprintf(p, 4096, "%s/%s", dir, name);
    return p;
}

static sm_advisor *open_at(const char *path)
{
    sm_advisor_config cfg = sm_advisor_config_default();
    cfg.path = path;
    sm_advisor *a;
    sm_error err;
    ck_assert_int_eq(sm_advisor_init(&a, &cfg, &err), SM_OK);
    return a;
}

static void same_tables(const sm_advisor *a, const sm_advisor *b)
{
    ck_assert_int_eq((int)sm_advisor_size(a), (int)sm_advisor_size(b));
    for (size_t i = 0; i < sm_advisor_size(a); i++)
        ck_assert(memcmp(sm_advisor_entry(a, i), sm_advisor_entry(b, i), sizeof(sm_qentry)) == 0);
}

START_TEST(persistence_round_trip_and_kill_during_save)
{
    const char *dir = sm_test_tmpdir();
    /* nested directories that do not exist yet are created */
    const char *path = path_in(dir, "state/smartmirror/qtable.txt");
    sm_advisor *a = open_at(path);
    ck_assert_str_eq(sm_advisor_load_note(a), "");
    play_episode(a); /* saves after every reward */
    ck_assert_int_eq(access(path, R_OK), 0);
    sm_advisor *b = open_at(path);
    ck_assert_str_eq(sm_advisor_load_note(b), "");
    same_tables(a, b);

    /* a save killed half-way leaves only a truncated temp file next to the
     * table: the table still loads, unchanged */
    char *buf;
    size_t len;
    ck_assert_int_eq(sm_qtable_serialize(sm_advisor_entry(a, 0), 3, &buf, &len, NULL), SM_OK);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp.Xk3j9q", path);
    FILE *f = fopen(tmp, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(buf, 1, len / 2, f);
    fclose(f);
    free(buf);
    sm_advisor *c = open_at(path);
    ck_assert_str_eq(sm_advisor_load_note(c), "");
    same_tables(a, c);
    sm_advisor_free(a);
    sm_advisor_free(b);
    sm_advisor_free(c);
}
END_TEST

static void expect_set_aside(const char *dir, const char *file, const void *bytes, size_t len,
                             const char *why)
{
    const char *path = path_in(dir, file);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fwrite(bytes, 1, len, f);
    fclose(f);
    sm_advisor *a = open_at(path);
    ck_assert_msg(strstr(sm_advisor_load_note(a), why) != NULL, "note '%s' lacks '%s'",
                  sm_advisor_load_note(a), why);
    ck_assert_ptr_nonnull(strstr(sm_advisor_load_note(a), ".corrupt"));
    ck_assert_int_eq((int)sm_advisor_size(a), 0);
    ck_assert_int_ne(access(path, F_OK), 0);
    char corrupt[4200];
    snprintf(corrupt, sizeof corrupt, "%s.corrupt", path);
    uint8_t *back;
    size_t blen;
    ck_assert_int_eq(sm_file_read_all(corrupt, 0, &back, &blen, NULL), SM_OK);
    ck_assert(blen == len && memcmp(back, bytes, len) == 0);
    free(back);
    /* the next save writes a fresh, valid table */
    ck_assert_int_eq(sm_advisor_save(a, NULL), SM_OK);
    sm_advisor_free(a);
    a = open_at(path);
    ck_assert_str_eq(sm_advisor_load_note(a), "");
    sm_advisor_free(a);
}

START_TEST(corrupt_files_set_aside)
{
    const char *dir = sm_test_tmpdir();
    sm_qentry e[2] = {{"happy", 3, 2, {0.5, -0.25, 1e-300}}, {"tired", 9, 4, {0, 0, -3}}};
    char *buf;
    size_t len;
    ck_assert_int_eq(sm_qtable_serialize(e, 2, &buf, &len, NULL), SM_OK);
    sm_qentry *back;
    size_t n;
    sm_error err;
    ck_assert_int_eq(sm_qtable_parse(buf, len, "x", &back, &n, &err), SM_OK);
    ck_assert_int_eq((int)n, 2);
    ck_assert(memcmp(back, e, sizeof e) == 0);
    free(back);
    /* every strict prefix is rejected */
    for (size_t k = 0; k < len; k++) {
        ck_assert_msg(sm_qtable_parse(buf, k, "x", &back, &n, &err) != SM_OK, "prefix %zu", k);
        ck_assert_ptr_null(back);
    }

    char *bad = malloc(len + 16);
    memcpy(bad, buf, len);
    char *digit = strstr(bad, "0.5");
    digit[2] = '6';
    expect_set_aside(dir, "flipped.txt", bad, len, "checksum");
    expect_set_aside(dir, "truncated.txt", buf, len - 7, "truncated");
    memcpy(bad, buf, len);
    memcpy(bad + len, "extra\n", 6);
    expect_set_aside(dir, "trailing.txt", bad, len + 6, "after the checksum");
    memcpy(bad, buf, len);
    bad[19] = '7';
    expect_set_aside(dir, "version.txt", bad, len, "version 7");
    expect_set_aside(dir, "garbage.txt", "\x7f" "ELF\x02\x01\x01\0\0\0", 10, "not a smartmirror");
    expect_set_aside(dir, "empty.txt", "", 0, "not a smartmirror");
    /* a repeated key (found by tests/fuzz/fuzz_qtable: the message once read
     * the freed entries) */
    sm_qentry twice[2] = {{"tired", 9, 4, {1, 2, 3}}, {"tired", 9, 4, {0, 0, 0}}};
    char *rep;
    size_t rlen;
    ck_assert_int_eq(sm_qtable_serialize(twice, 2, &rep, &rlen, NULL), SM_OK);
    ck_assert_int_eq(sm_qtable_parse(rep, rlen, "rep.txt", &back, &n, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, "rep.txt: entry 2 repeats the key (tired, 9, 4)"), "%s", err.msg);
    ck_assert_ptr_null(back);
    free(rep);
    free(bad);
    free(buf);
}
END_TEST

START_TEST(qtable_at_a_symlink_replaces_the_link)
{
    /* The table is a whole file written by temp + rename: a symlink planted at
     * its path is replaced by the new table, never written through. */
    const char *dir = sm_test_tmpdir();
    char victim[4200], link[4200];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(link, sizeof link, "%s/qtable.txt", dir);
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    ck_assert_int_eq(symlink(victim, link), 0);
    sm_advisor *a = open_at(link);
    play_episode(a); /* saves after every reward */
    ck_assert_int_eq(sm_advisor_save(a, NULL), SM_OK);
    uint8_t *back;
    size_t n;
    ck_assert_int_eq(sm_file_read_all(victim, 0, &back, &n, NULL), SM_OK);
    ck_assert(n == 9 && memcmp(back, "precious\n", 9) == 0);
    free(back);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    sm_advisor *b = open_at(link);
    ck_assert_str_eq(sm_advisor_load_note(b), "");
    same_tables(a, b);
    sm_advisor_free(a);
    sm_advisor_free(b);
}
END_TEST

START_TEST(default_path)
{
    char p[4096];
    setenv("XDG_STATE_HOME", "/var/xdg", 1);
    ck_assert_int_eq(sm_advisor_default_path(p, sizeof p, NULL), SM_OK);
    ck_assert_str_eq(p, "/var/xdg/smartmirror/qtable.txt");
    unsetenv("XDG_STATE_HOME");
    setenv("HOME", "/home/u", 1);
    ck_assert_int_eq(sm_advisor_default_path(p, sizeof p, NULL), SM_OK);
    ck_assert_str_eq(p, "/home/u/.local/state/smartmirror/qtable.txt");
    setenv("XDG_STATE_HOME", "relative", 1); /* the spec ignores relative paths */
    ck_assert_int_eq(sm_advisor_default_path(p, sizeof p, NULL), SM_OK);
    ck_assert_str_eq(p, "/home/u/.local/state/smartmirror/qtable.txt");
    unsetenv("HOME");
    sm_error err;
    ck_assert_int_eq(sm_advisor_default_path(p, sizeof p, &err), SM_ERR_ARG);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("advisor");
    TCase *tc = tcase_create("advisor");
    tcase_add_test(tc, python_rounding_of_keys);
    tcase_add_test(tc, episode_matches_app_py);
    tcase_add_test(tc, reward_and_update_by_hand);
    tcase_add_test(tc, exploration_is_seeded);
    tcase_add_test(tc, persistence_round_trip_and_kill_during_save);
    tcase_add_test(tc, corrupt_files_set_aside);
    tcase_add_test(tc, default_path);
    tcase_add_test(tc, qtable_at_a_symlink_replaces_the_link);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
