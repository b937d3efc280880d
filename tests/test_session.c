/* The session (app/session.h): per-second series, history, event counts,
 * the summary and the CSV recorder, on a scripted 25 s track whose expected
 * numbers are worked out by hand in the comments below (not by the code under
 * test). The program-level tests (kill -9 during --record, the summary against
 * the JSON lines) are in test_viewer_session.c. */
#include "json_print.h"
#include "json_writer.h"
#include "session.h"
#include "sm_test.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static const char *const labels8[8] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "tired"};

/* The documented CSV header (docs/JSON.md, "Recording"). */
static const char header[] =
    "session,t[s],time_utc,face[share 0..1],ear[ratio],mar[ratio],level[0..1],alert[0/1],bpm[1/min],"
    "quality[0..1],stress[0..100],emotion[label],emotion_p[0..1],valence[-1..1],arousal[-1..1],"
    "advisor_action[0..2],events\n";

/* The scripted track, 10 frames per second, frame i at t = i / 10:
 *   face        absent in seconds 0-1 (frames 0-19), present after   -> face_s 23
 *   eyes shut   frames 50-56 (0.6 s: one long closure at t 5.5),
 *               frames 100-112 (1.2 s: long closure at 10.5, microsleep at 11.0)
 *   blinks      cumulative counter 1 at frame 30, 2 at 40, 3 at 150  -> 3 blinks, 3 / (23/60) = 7.8 /min
 *   yawns       counter 1 from frame 200                             -> 1 yawn, mark in second 20
 *   alert       frames 120-139 and 160-164                           -> 2 alerts, marks in seconds 12, 16
 *   level       0.9 while alert, else 0.2                             -> level 0.9 in s 12-13, 0.55 in s 16
 *   rules       none given (as --fatigue-rules seed): closures are counted by the session
 *   BPM         trusted from second 6: 60 + 2 (second - 6), quality 0.75 -> 19 s, mean 78, range 60..96
 *   stress      from second 6: 20 (s 6-11), 45 (s 12-17), 80 (s 18-24) -> 6/19 low, 6/19 moderate, 7/19 high,
 *                                                                     mean (120 + 270 + 560) / 19 = 50.0
 *   emotion     top class happy in seconds 2-9, neutral in 10-24      -> shares 8/23, 15/23
 *   advisor     decision 1 (action 1, a suggestion) at frame 20, reward +0.5 at 170,
 *               decision 2 (action 0) at 200, reward -0.2 at 215      -> 2 decisions, 1 suggestion,
 *                                                                       2 rewards, 1 helped, mean 0.15 */
static void scripted_frame(int i, sm_mirror_result *r)
{
    memset(r, 0, sizeof *r);
    r->frame = i;
    r->t = i / 10.0;
    int sec = i / 10;
    bool face = i >= 20;
    r->face.valid = face;
    sm_fatigue_result *fa = &r->fatigue;
    fa->available = true;
    fa->valid = face;
    bool alert = (i >= 120 && i < 140) || (i >= 160 && i < 165);
    if (face) {
        fa->ear = 0.30f;
        fa->mar = 0.20f;
        fa->eyes_closed = (i >= 50 && i <= 56) || (i >= 100 && i <= 112);
        fa->blinks = (i >= 30) + (i >= 40) + (i >= 150);
        fa->yawns = i >= 200;
        fa->p_drowsy = fa->level = alert ? 0.9f : 0.2f;
        fa->alert = alert;
    }
    sm_heart_result *h = &r->heart;
    if (sec >= 6) {
        h->valid_bpm = true;
        h->bpm = (float)(60 + 2 * (sec - 6));
        h->quality = 0.75f;
        h->valid_stress = true;
        h->stress = sec < 12 ? 20.0f : sec < 18 ? 45.0f : 80.0f;
    }
    sm_emotion_result *e = &r->emotion;
    e->available = true;
    e->n_labels = 8;
    for (int k = 0; k < 8; k++) {
        e->labels[k] = labels8[k];
        e->probs[k] = 0.3f / 7;
    }
    e->label_argmax = -1;
    if (face) {
        e->valid = true;
        e->label_argmax = sec < 10 ? 3 : 6;
        e->probs[e->label_argmax] = 0.7f;
        e->valence = 0.25f;
        e->arousal = -0.5f;
    }
    sm_advisor_result *a = &r->advisor;
    if (i >= 20) {
        a->valid = true;
        a->n_actions = 1 + (i >= 200);
        a->action = i >= 200 ? 0 : 1;
        a->n_rewards = (i >= 170) + (i >= 215);
        a->has_reward = i >= 170;
        a->reward = i >= 215 ? -0.2f : 0.5f;
    }
}

static sm_session *run_track(int frames, const char *csv)
{
    sm_session *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    if (csv)
        ck_assert_msg(sm_session_record(s, csv, &err) == SM_OK, "%s", err.msg);
    sm_mirror_result *r = malloc(sizeof *r);
    for (int i = 0; i < frames; i++) {
        scripted_frame(i, r);
        ck_assert_int_eq(sm_session_push(s, r, 1.8e9 + i / 10.0, &err), SM_OK);
    }
    free(r);
    ck_assert_int_eq(sm_session_finish(s, &err), SM_OK);
    return s;
}

START_TEST(summary_of_scripted_track)
{
    sm_session *s = run_track(250, NULL);
    sm_session_summary o;
    sm_session_summarize(s, &o);
    ck_assert_int_eq(o.frames, 250);
    ck_assert_int_eq(o.seconds, 25);
    ck_assert_double_eq_tol(o.duration_s, 24.9, 1e-9);
    ck_assert_double_eq_tol(o.face_s, 23.0, 1e-9);
    ck_assert_int_eq(o.blinks, 3);
    ck_assert_double_eq_tol(o.blinks_per_min, 3.0 / (23.0 / 60.0), 1e-9);
    ck_assert_int_eq(o.long_closures, 2);
    ck_assert_int_eq(o.microsleeps, 1);
    ck_assert_int_eq(o.yawns, 1);
    ck_assert_int_eq(o.alerts, 2);
    ck_assert_int_eq(o.bpm_n, 19);
    ck_assert_double_eq_tol(o.bpm_mean, 78.0, 1e-6);
    ck_assert_double_eq_tol(o.bpm_min, 60.0, 1e-6);
    ck_assert_double_eq_tol(o.bpm_max, 96.0, 1e-6);
    ck_assert_int_eq(o.stress_n, 19);
    ck_assert_double_eq_tol(o.stress_mean, 50.0, 1e-6);
    ck_assert_double_eq_tol(o.stress_low, 6.0 / 19, 1e-9);
    ck_assert_double_eq_tol(o.stress_moderate, 6.0 / 19, 1e-9);
    ck_assert_double_eq_tol(o.stress_high, 7.0 / 19, 1e-9);
    ck_assert_int_eq(o.emotion_n, 23);
    ck_assert_int_eq(o.n_labels, 8);
    ck_assert_str_eq(o.labels[3], "happy");
    ck_assert_double_eq_tol(o.emotion_share[3], 8.0 / 23, 1e-9);
    ck_assert_double_eq_tol(o.emotion_share[6], 15.0 / 23, 1e-9);
    ck_assert_double_eq_tol(o.emotion_share[0], 0.0, 1e-12);
    ck_assert_int_eq(o.actions, 2);
    ck_assert_int_eq(o.suggestions, 1);
    ck_assert_int_eq(o.rewards, 2);
    ck_assert_int_eq(o.rewards_positive, 1);
    ck_assert_double_eq_tol(o.reward_mean, 0.15, 1e-6);
    ck_assert_double_eq_tol(o.wall_start, 1.8e9, 1e-3);

    char *j = sm_session_summary_json(&o);
    ck_assert_ptr_nonnull(j);
    const char *want[] = {"{\"summary\":1,\"start_utc\":\"2027-01-15T08:00:00Z\"", "\"frames\":250,\"seconds\":25",
                          "\"duration_s\":24.90", "\"face_s\":23.0", "\"blinks\":3,\"blinks_per_min\":7.8",
                          "\"long_closures\":2,\"microsleeps\":1,\"yawns\":1,\"alerts\":2",
                          "\"heart\":{\"seconds\":19,\"bpm_mean\":78.0,\"bpm_min\":60.0,\"bpm_max\":96.0}",
                          "\"stress\":{\"seconds\":19,\"mean\":50.0,\"low\":0.316,\"moderate\":0.316,\"high\":0.368}",
                          "\"happy\":0.348", "\"neutral\":0.652",
                          "\"advisor\":{\"decisions\":2,\"suggestions\":1,\"rewards\":2,\"helped\":1,\"reward_mean\":0.150}}"};
    for (size_t k = 0; k < sizeof want / sizeof *want; k++)
        ck_assert_msg(strstr(j, want[k]), "missing %s in %s", want[k], j);
    free(j);
    sm_session_free(s);

    /* nothing pushed: a summary of nulls */
    ck_assert_int_eq(sm_session_init(&s, NULL), SM_OK);
    ck_assert_int_eq(sm_session_finish(s, NULL), SM_OK);
    sm_session_summarize(s, &o);
    j = sm_session_summary_json(&o);
    ck_assert_msg(strstr(j, "\"start_utc\":null") && strstr(j, "\"frames\":0,\"seconds\":0") &&
                      strstr(j, "\"blinks_per_min\":null") && strstr(j, "\"heart\":null") &&
                      strstr(j, "\"emotion\":null") && strstr(j, "\"reward_mean\":null"), "%s", j);
    free(j);
    sm_session_free(s);
}
END_TEST

START_TEST(history_and_marks)
{
    sm_session *s = run_track(250, NULL);
    ck_assert_int_eq(sm_session_seconds(s), 25);
    float v[30];
    uint8_t m[30];
    sm_session_history(s, SM_SERIES_LEVEL, 30, v, m);
    /* 5 seconds before the start, then seconds 0..24 */
    for (int i = 0; i < 7; i++)
        ck_assert_msg(isnan(v[i]), "slot %d: %g", i, v[i]);
    ck_assert_float_eq_tol(v[5 + 2], 0.2f, 1e-6f);
    ck_assert_float_eq_tol(v[5 + 12], 0.9f, 1e-6f);
    ck_assert_float_eq_tol(v[5 + 13], 0.9f, 1e-6f);
    ck_assert_float_eq_tol(v[5 + 16], 0.55f, 1e-6f);
    ck_assert_int_eq(m[5 + 12], SM_MARK_ALERT);
    ck_assert_int_eq(m[5 + 16], SM_MARK_ALERT);
    ck_assert_int_eq(m[5 + 5], SM_MARK_LONG_CLOSURE);
    ck_assert_int_eq(m[5 + 10], SM_MARK_LONG_CLOSURE);
    ck_assert_int_eq(m[5 + 11], SM_MARK_MICROSLEEP);
    ck_assert_int_eq(m[5 + 20], SM_MARK_YAWN);
    ck_assert_int_eq(m[5 + 2], SM_MARK_SUGGESTION);
    int marked = 0;
    for (int i = 0; i < 30; i++)
        marked += m[i] != 0;
    ck_assert_int_eq(marked, 7);
    sm_session_history(s, SM_SERIES_BPM, 3, v, NULL);
    ck_assert_float_eq_tol(v[0], 92.0f, 1e-4f);
    ck_assert_float_eq_tol(v[2], 96.0f, 1e-4f);
    sm_session_history(s, SM_SERIES_EMOTION, 25, v, NULL);
    ck_assert_str_eq(sm_session_label(s, (int)v[2]), "happy");
    ck_assert_str_eq(sm_session_label(s, (int)v[24]), "neutral");
    ck_assert(isnan(v[0]));
    ck_assert_ptr_null(sm_session_label(s, 8));
    sm_session_history(s, SM_SERIES_FACE, 2, v, NULL);
    ck_assert_float_eq(v[1], 1.0f);
    sm_session_free(s);

    /* the ring keeps the last 30 minutes: 40 minutes at 2 frames/s */
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    sm_mirror_result *r = calloc(1, sizeof *r);
    for (int i = 0; i < 40 * 60 * 2; i++) {
        r->t = i * 0.5;
        r->fatigue.available = r->fatigue.valid = true;
        r->fatigue.level = (float)(i / 2) / 10000.0f; /* the second's index / 1e4 */
        ck_assert_int_eq(sm_session_push(s, r, 0, &err), SM_OK);
    }
    free(r);
    sm_session_finish(s, &err);
    ck_assert_int_eq(sm_session_seconds(s), 2400);
    float *h = malloc(sizeof(float) * (SM_SESSION_MAX_S + 1));
    sm_session_history(s, SM_SERIES_LEVEL, SM_SESSION_MAX_S + 1, h, NULL);
    ck_assert(isnan(h[0])); /* older than the ring */
    ck_assert_float_eq_tol(h[1], 600 / 1e4f, 1e-6f);
    ck_assert_float_eq_tol(h[SM_SESSION_MAX_S], 2399 / 1e4f, 1e-6f);
    free(h);
    sm_session_free(s);
}
END_TEST

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* The line of the CSV whose t column is sec (within one session). */
static const char *csv_row(const char *csv, int sec, char *out, size_t cap)
{
    const char *p = strchr(csv, '\n') + 1;
    while (*p) {
        const char *e = strchr(p, '\n');
        const char *c1 = strchr(p, ',');
        if (c1 && atoi(c1 + 1) == sec) {
            snprintf(out, cap, "%.*s", (int)(e - p), p);
            return out;
        }
        p = e + 1;
    }
    return NULL;
}

START_TEST(csv_rows_header_and_append)
{
    const char *dir = sm_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/rec.csv", dir);
    sm_session_free(run_track(250, path));
    const char *csv = slurp(path);
    ck_assert_msg(strncmp(csv, header, strlen(header)) == 0, "header:\n%.400s", csv);
    ck_assert_int_eq(count_lines(csv), 26);
    char row[512];
    /* session id, t, wall clock (1.8e9 s = 2027-01-15T08:00:00Z), then the series */
    ck_assert_str_eq(csv_row(csv, 0, row, sizeof row),
                     "2027-01-15T08:00:00Z,0,2027-01-15T08:00:00Z,0.00,,,,0,,,,,,,,,");
    ck_assert_str_eq(csv_row(csv, 12, row, sizeof row),
                     "2027-01-15T08:00:00Z,12,2027-01-15T08:00:12Z,1.00,0.300,0.200,0.900,1,72.0,0.75,45.0,neutral,0.700,"
                     "0.250,-0.500,1,alert");
    ck_assert_str_eq(csv_row(csv, 11, row, sizeof row),
                     "2027-01-15T08:00:00Z,11,2027-01-15T08:00:11Z,1.00,0.300,0.200,0.200,0,70.0,0.75,20.0,neutral,0.700,"
                     "0.250,-0.500,1,microsleep");
    ck_assert_msg(strstr(csv_row(csv, 20, row, sizeof row), ",0,yawn"), "%s", row);
    ck_assert_msg(strstr(csv_row(csv, 2, row, sizeof row), ",happy,0.700,0.250,-0.500,1,suggestion"), "%s", row);

    /* a second session appends rows, not a second header */
    sm_session_free(run_track(30, path));
    csv = slurp(path);
    ck_assert_int_eq(count_lines(csv), 26 + 3);
    ck_assert_ptr_null(strstr(csv + 1, "session,t[s]"));

    /* a torn last line (a crash mid-write) is cut off before appending */
    FILE *f = fopen(path, "a");
    fputs("2027-01-15T08:00:00Z,3,2027-01-15T08:0", f);
    fclose(f);
    sm_session_free(run_track(10, path));
    csv = slurp(path);
    ck_assert_int_eq(count_lines(csv), 26 + 3 + 1);
    ck_assert_ptr_null(strstr(csv, "08:0\n"));
    ck_assert_ptr_null(strstr(csv, "08:02027"));
}
END_TEST

START_TEST(csv_flushes_while_running)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/live.csv", sm_test_tmpdir());
    sm_session *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    ck_assert_int_eq(sm_session_record(s, path, &err), SM_OK);
    ck_assert_int_eq(count_lines(slurp(path)), 1); /* the header at once */
    sm_mirror_result *r = calloc(1, sizeof *r);
    int lines_at[6] = {0};
    for (int i = 0; i < 60; i++) {
        r->t = i / 10.0;
        ck_assert_int_eq(sm_session_push(s, r, 0, &err), SM_OK);
        if (i % 10 == 0)
            lines_at[i / 10] = count_lines(slurp(path)) - 1;
    }
    /* on the first frame of second k, rows are written once 2 seconds are pending */
    ck_assert_int_eq(lines_at[0], 0);
    ck_assert_int_eq(lines_at[1], 0);
    ck_assert_int_eq(lines_at[2], 2);
    ck_assert_int_eq(lines_at[3], 2);
    ck_assert_int_eq(lines_at[4], 4);
    ck_assert_int_eq(lines_at[5], 4);
    ck_assert_int_eq(sm_session_finish(s, &err), SM_OK);
    ck_assert_int_eq(count_lines(slurp(path)) - 1, 6);
    sm_session_free(s);
    free(r);

    /* seconds without frames become empty rows */
    snprintf(path, sizeof path, "%s/gap.csv", sm_test_tmpdir());
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    ck_assert_int_eq(sm_session_record(s, path, &err), SM_OK);
    r = calloc(1, sizeof *r);
    double ts[] = {0.0, 0.5, 4.2};
    for (int i = 0; i < 3; i++) {
        r->t = ts[i];
        r->face.valid = true;
        ck_assert_int_eq(sm_session_push(s, r, 0, &err), SM_OK);
    }
    sm_session_finish(s, &err);
    free(r);
    const char *csv = slurp(path);
    char row[512];
    ck_assert_int_eq(count_lines(csv), 1 + 5);
    ck_assert_msg(strstr(csv_row(csv, 0, row, sizeof row), ",0,,1.00,"), "%s", row);
    ck_assert_msg(strstr(csv_row(csv, 2, row, sizeof row), ",2,,,,"), "%s", row);
    ck_assert_msg(strstr(csv_row(csv, 4, row, sizeof row), ",4,,1.00,"), "%s", row);
    sm_session_free(s);
}
END_TEST

START_TEST(files_refused_and_summary_never_through_symlink)
{
    const char *dir = sm_test_tmpdir();
    char path[4096], target[4096], msg[1024];
    sm_session *s;
    sm_error err = {0};
    /* another CSV */
    snprintf(path, sizeof path, "%s/other.csv", dir);
    FILE *f = fopen(path, "w");
    fputs("a,b,c\n1,2,3\n", f);
    fclose(f);
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    ck_assert_int_eq(sm_session_record(s, path, &err), SM_ERR_FORMAT);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "other columns"), "%s", err.msg);
    ck_assert_str_eq(slurp(path), "a,b,c\n1,2,3\n"); /* untouched */
    /* a symlink, a directory */
    snprintf(target, sizeof target, "%s/precious.txt", dir);
    f = fopen(target, "w");
    fputs("keep me\n", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/link.csv", dir);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(sm_session_record(s, path, &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "symlink"), "%s", err.msg);
    ck_assert_int_eq(sm_session_record(s, dir, &err), SM_ERR_IO);
    snprintf(msg, sizeof msg, "%s", err.msg);
    ck_assert_msg(strstr(msg, dir), "%s", msg);
    ck_assert_str_eq(slurp(target), "keep me\n");
    sm_session_free(s);

    /* the summary replaces a symlink at its path; the link's target is untouched */
    s = run_track(40, NULL);
    sm_session_summary o;
    sm_session_summarize(s, &o);
    snprintf(path, sizeof path, "%s/summary.json", dir);
    ck_assert_int_eq(symlink(target, path), 0);
    ck_assert_int_eq(sm_session_summary_write(&o, path, &err), SM_OK);
    ck_assert_str_eq(slurp(target), "keep me\n");
    struct stat st;
    ck_assert_int_eq(lstat(path, &st), 0);
    ck_assert(S_ISREG(st.st_mode));
    const char *j = slurp(path);
    ck_assert_msg(strncmp(j, "{\"summary\":1,", 13) == 0 && j[strlen(j) - 1] == '\n' && count_lines(j) == 1, "%s", j);
    /* an unwritable place: an error naming it */
    ck_assert_int_eq(sm_session_summary_write(&o, "/nonexistent-dir/s.json", &err), SM_ERR_IO);
    ck_assert_msg(strstr(err.msg, "/nonexistent-dir/s.json"), "%s", err.msg);
    sm_session_free(s);
}
END_TEST

START_TEST(summary_write_interrupted_leaves_the_old_file)
{
    /* A write that fails half-way (here: the file-size limit, EFBIG, as a full
     * disk would) must leave the previous summary whole and no temp file. */
    const char *dir = sm_test_tmpdir();
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    FILE *f = fopen(path, "w");
    fputs("{\"old\":1}\n", f);
    fclose(f);
    sm_session *s = run_track(40, NULL);
    sm_session_summary o;
    sm_session_summarize(s, &o);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit rl = {100, 100};
        setrlimit(RLIMIT_FSIZE, &rl);
        sm_error err = {0};
        sm_status st = sm_session_summary_write(&o, path, &err);
        _exit(st == SM_ERR_IO && strstr(err.msg, path) ? 0 : 1);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the cut write was not reported as an I/O error");
    ck_assert_str_eq(slurp(path), "{\"old\":1}\n");
    DIR *d = opendir(dir);
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        ck_assert_msg(!strstr(e->d_name, ".tmp."), "temp file %s left behind", e->d_name);
    closedir(d);
    /* without the limit the same call replaces it */
    sm_error err = {0};
    ck_assert_int_eq(sm_session_summary_write(&o, path, &err), SM_OK);
    ck_assert(strncmp(slurp(path), "{\"summary\":1,", 13) == 0);
    sm_session_free(s);
}
END_TEST

/* One JSON string escaping for the session, the per-frame lines and the
 * tools (RFC 8259 section 7: '"', '\\' and every byte below 0x20 escaped;
 * UTF-8 passes through), also for counted strings with a NUL inside. */
START_TEST(json_strings_escaped)
{
    static const char in[] = {'a', '"', 'b', '\\', 'c', '\n', '\0', '\xc3', '\xa9', '\x1f'};
    const char *want = "\"a\\\"b\\\\c\\u000a\\u0000\xc3\xa9\\u001f\"";
    sm_json b = {0};
    sm_json_strn(&b, in, sizeof in);
    sm_json_add(&b, ",");
    sm_json_str(&b, NULL);
    sm_json_add(&b, ",");
    sm_json_str(&b, "x\ty");
    char *text = sm_json_finish(&b);
    ck_assert_ptr_nonnull(text);
    char all[128];
    snprintf(all, sizeof all, "%s,null,\"x\\u0009y\"", want);
    ck_assert_str_eq(text, all);
    free(text);

    /* the tools' printer writes the same bytes */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_ptr_nonnull(f);
    sm_json_print_string(f, in, sizeof in);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_str_eq(buf, want);
    free(buf);
}
END_TEST

START_TEST(series_table)
{
    /* the recorded columns the issue asks for, in order, each with a unit */
    const char *keys[] = {"face", "ear", "mar", "level", "alert", "bpm", "quality", "stress", "emotion", "emotion_p",
                          "valence", "arousal", "advisor_action"};
    ck_assert_int_eq(SM_SERIES_COUNT, (int)(sizeof keys / sizeof *keys));
    for (int i = 0; i < SM_SERIES_COUNT; i++) {
        const sm_series_info *si = sm_series_get((sm_series_id)i);
        ck_assert_str_eq(si->key, keys[i]);
        ck_assert(si->unit && si->unit[0]);
    }
    ck_assert_ptr_null(sm_series_get(SM_SERIES_COUNT));
}
END_TEST

/* With the calibrated detector (rules "wellness") its own counters are used:
 * eyes_closed runs are ignored, counter steps become marks. */
START_TEST(detector_counters_with_wellness_rules)
{
    sm_session *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    sm_mirror_result *r = calloc(1, sizeof *r);
    for (int i = 0; i < 100; i++) {
        r->t = i / 10.0;
        r->face.valid = true;
        r->fatigue.available = r->fatigue.valid = true;
        r->fatigue.rules = "wellness";
        r->fatigue.eyes_closed = i >= 10 && i < 40; /* 3 s shut: would be counted by the session's own tracker */
        r->fatigue.long_closures = (i >= 25) + (i >= 61) + (i >= 62);
        r->fatigue.microsleeps = i >= 35;
        ck_assert_int_eq(sm_session_push(s, r, 0, &err), SM_OK);
    }
    sm_session_finish(s, &err);
    sm_session_summary o;
    sm_session_summarize(s, &o);
    ck_assert_int_eq(o.long_closures, 3);
    ck_assert_int_eq(o.microsleeps, 1);
    uint8_t m[10];
    float v[10];
    sm_session_history(s, SM_SERIES_LEVEL, 10, v, m);
    ck_assert_int_eq(m[2], SM_MARK_LONG_CLOSURE);
    ck_assert_int_eq(m[3], SM_MARK_MICROSLEEP);
    ck_assert_int_eq(m[6], SM_MARK_LONG_CLOSURE);
    ck_assert_int_eq(m[1] | m[4] | m[5] | m[7], 0);
    free(r);
    sm_session_free(s);
}
END_TEST

/* The shown heart rate is recorded only while it is trusted and fresh. */
START_TEST(heart_gaps_without_trusted_reading)
{
    sm_session *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    sm_mirror_result *r = calloc(1, sizeof *r);
    for (int i = 0; i < 40; i++) {
        memset(&r->heart, 0, sizeof r->heart);
        r->t = i / 10.0;
        r->heart.bpm = 70.0f;          /* held in all four seconds */
        r->heart.quality = NAN;
        if (i < 10) {                  /* second 0: trusted */
            r->heart.valid_bpm = true;
            r->heart.quality = 0.8f;
        } else if (i < 20) {           /* second 1: trusted but stale */
            r->heart.valid_bpm = true;
            r->heart.stale = true;
        } else if (i < 30) {           /* second 2: no reading, a reason */
            r->heart.reason = "hold still";
            r->heart.quality = 0.1f;
        }                              /* second 3: nothing at all */
        ck_assert_int_eq(sm_session_push(s, r, 0, &err), SM_OK);
    }
    sm_session_finish(s, &err);
    float v[4], q[4];
    sm_session_history(s, SM_SERIES_BPM, 4, v, NULL);
    sm_session_history(s, SM_SERIES_QUALITY, 4, q, NULL);
    ck_assert_float_eq(v[0], 70.0f);
    ck_assert(isnan(v[1]) && isnan(v[2]) && isnan(v[3]));
    ck_assert_float_eq_tol(q[0], 0.8f, 1e-6f);
    ck_assert(isnan(q[1]));
    ck_assert_float_eq_tol(q[2], 0.1f, 1e-6f);
    ck_assert(isnan(q[3]));
    sm_session_summary o;
    sm_session_summarize(s, &o);
    ck_assert_int_eq(o.bpm_n, 1);
    free(r);
    sm_session_free(s);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("session");
    TCase *tc = tcase_create("session");
    tcase_add_test(tc, series_table);
    tcase_add_test(tc, json_strings_escaped);
    tcase_add_test(tc, summary_of_scripted_track);
    tcase_add_test(tc, history_and_marks);
    tcase_add_test(tc, detector_counters_with_wellness_rules);
    tcase_add_test(tc, heart_gaps_without_trusted_reading);
    tcase_add_test(tc, csv_rows_header_and_append);
    tcase_add_test(tc, csv_flushes_while_running);
    tcase_add_test(tc, files_refused_and_summary_never_through_symlink);
    tcase_add_test(tc, summary_write_interrupted_leaves_the_old_file);
    tcase_set_timeout(tc, 60);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
