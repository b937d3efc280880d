/* smartmirror's session outputs end to end: --record survives kill -9 with
 * only the last seconds lost and stays appendable; --summary and the printed
 * summary agree with a per-second recomputation from the JSON lines done by
 * Python (an independent implementation of the binning in models/session.c);
 * --history parsing. */
#include "cli.h"
#include "session.h"
#include "sm_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *python(void)
{
    const char *p = getenv("SM_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static bool have_python(void)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import csv, json' >/dev/null 2>&1", python());
    return system(cmd) == 0;
}

static const char *bin(void)
{
    const char *b = getenv("SM_BIN");
    return b && *b ? b : "build";
}

static int run_py(const char *script, const char *args, char *out, size_t cap)
{
    char path[4096], cmd[16384];
    snprintf(path, sizeof path, "%s/check.py", sm_test_tmpdir());
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs(script, f);
    fclose(f);
    snprintf(cmd, sizeof cmd, "'%s' '%s' %s 2>&1", python(), path, args);
    FILE *p = popen(cmd, "r");
    size_t k = fread(out, 1, cap - 1, p);
    out[k] = '\0';
    return pclose(p);
}

/* The CSV after a kill: every line complete, the documented columns, t
 * consecutive from 0 in each session, and no more than FLUSH_S + 1 seconds
 * missing behind the last analysed frame of the JSON lines (flushed per line). */
static const char csv_check_py[] =
    "import csv, json, math, sys\n"
    "path, jsonl, flush = sys.argv[1], sys.argv[2], int(sys.argv[3])\n"
    "raw = open(path, 'rb').read()\n"
    "assert raw.endswith(b'\\n'), 'torn last line'\n"
    "rows = list(csv.reader(open(path, newline='')))\n"
    "want = ['session','t[s]','time_utc','face[share 0..1]','ear[ratio]','mar[ratio]','level[0..1]','alert[0/1]',\n"
    "        'bpm[1/min]','quality[0..1]','stress[0..100]','emotion[label]','emotion_p[0..1]','valence[-1..1]',\n"
    "        'arousal[-1..1]','advisor_action[0..2]','events']\n"
    "assert rows[0] == want, rows[0]\n"
    "body = rows[1:]\n"
    "assert all(len(r) == len(want) for r in body)\n"
    "sessions = {}\n"
    "for r in body:\n"
    "    sessions.setdefault(r[0], []).append(int(r[1]))\n"
    "for k, ts in sessions.items():\n"
    "    assert ts == list(range(len(ts))), (k, ts)\n"
    "first = body[:len(sessions[body[0][0]])] if body else []\n"
    "last_t = max(json.loads(l)['t'] for l in open(jsonl))\n"
    "lost = math.floor(last_t) - len(first)\n"
    "assert len(first) >= 2 and lost <= flush + 1, ('rows', len(first), 'last t', last_t)\n"
    "print('csv ok: %d sessions, first has %d rows, JSON reached t=%.1f' % (len(sessions), len(first), last_t))\n";

START_TEST(record_survives_kill_9)
{
    if (!have_python()) {
        sm_test_skip("record_survives_kill_9", "python3 with csv/json not available");
        return;
    }
    const char *img = sm_test_fixture("viewer/images/01.png");
    ck_assert_msg(img != NULL, "fixture viewer/images missing (tests/gen/gen_viewer_sources.py)");
    /* a 12 s source at 5 frames/s: 60 copies of one picture, played in real time */
    const char *dir = sm_test_tmpdir();
    char frames[4200], csv[4200], jsonl[4200], cmd[20000], out[8192];
    snprintf(frames, sizeof frames, "%s/frames", dir);
    ck_assert_int_eq(mkdir(frames, 0755), 0);
    for (int i = 0; i < 60; i++) {
        char link[4400];
        snprintf(link, sizeof link, "%s/%02d.png", frames, i);
        ck_assert_int_eq(symlink(img, link), 0);
    }
    snprintf(csv, sizeof csv, "%s/rec.csv", dir);
    snprintf(jsonl, sizeof jsonl, "%s/run.jsonl", dir);
    snprintf(cmd, sizeof cmd,
             "%s '%s/smartmirror' --headless --realtime --images '%s' --fps 5 --models /nonexistent "
             "--no-landmarks --out '%s' --record '%s' 2>/dev/null & pid=$!; sleep 5.3; kill -9 $pid; wait $pid; "
             "echo \"status $?\"",
             getenv("SM_TEST_RUNNER") ? getenv("SM_TEST_RUNNER") : "", bin(), frames, jsonl, csv);
    FILE *p = popen(cmd, "r");
    size_t k = fread(out, 1, sizeof out - 1, p);
    out[k] = '\0';
    pclose(p);
    ck_assert_msg(strstr(out, "status 137"), "not killed by SIGKILL: %s", out);
    char args[40000];
    snprintf(args, sizeof args, "'%s' '%s' %d", csv, jsonl, SM_SESSION_FLUSH_S);
    int rc = run_py(csv_check_py, args, out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    printf("%s", out);
    /* the killed recording takes a second session (a short one, to the end) */
    snprintf(args, sizeof args, "--headless --images '%s' --fps 5 --frames 12 --models /nonexistent --no-landmarks --out '%s' --record '%s'",
             frames, jsonl, csv);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    snprintf(args, sizeof args, "'%s' '%s' %d", csv, jsonl, SM_SESSION_FLUSH_S);
    rc = run_py(csv_check_py, args, out, sizeof out);
    ck_assert_msg(rc == 0 && strstr(out, "2 sessions"), "%s", out);
}
END_TEST

/* Per-second aggregates recomputed from the JSON lines, against the CSV and
 * the summary file; and the summary printed on stdout equals the file. */
static const char oracle_py[] =
    "import csv, json, math, sys\n"
    "jsonl, path_csv, path_sum, stdout_path = sys.argv[1:5]\n"
    "objs = [json.loads(l) for l in open(jsonl)]\n"
    "t0 = objs[0]['t']\n"
    "secs = {}\n"
    "for o in objs:\n"
    "    secs.setdefault(int(math.floor(o['t'] - t0)), []).append(o)\n"
    "n = max(secs) + 1\n"
    "rows = list(csv.DictReader(open(path_csv, newline='')))\n"
    "assert len(rows) == n, (len(rows), n)\n"
    "def mean(v):\n"
    "    return sum(v) / len(v) if v else None\n"
    "face_s = 0.0; bpm = []; stress = []; alerts = 0; prev_alert = False\n"
    "for s in range(n):\n"
    "    os_ = secs.get(s, [])\n"
    "    r = rows[s]\n"
    "    assert int(r['t[s]']) == s\n"
    "    face = mean([1.0 if o['face'] else 0.0 for o in os_])\n"
    "    ear = mean([o['fatigue']['ear'] for o in os_ if o['fatigue']])\n"
    "    lvl = mean([o['fatigue']['p_drowsy'] for o in os_ if o['fatigue']])\n"
    "    b = mean([o['heart']['bpm_pos'] for o in os_ if o['heart'] and o['heart']['bpm_pos'] is not None])\n"
    "    st = mean([o['heart']['stress'] for o in os_ if o['heart'] and o['heart']['stress'] is not None])\n"
    "    for key, v, dec in (('face[share 0..1]', face, 2), ('ear[ratio]', ear, 3), ('level[0..1]', lvl, 3),\n"
    "                        ('bpm[1/min]', b, 1), ('stress[0..100]', st, 1)):\n"
    "        if v is None:\n"
    "            assert r[key] == '', (s, key, r[key])\n"
    "        else:\n"
    "            assert abs(float(r[key]) - v) <= 0.5 * 10 ** -dec + 1e-6, (s, key, r[key], v)\n"
    "    face_s += face or 0.0\n"
    "    if b is not None: bpm.append(b)\n"
    "    if st is not None: stress.append(st)\n"
    "    for o in os_:\n"
    "        a = bool(o['fatigue'] and o['fatigue']['alert'])\n"
    "        alerts += a and not prev_alert\n"
    "        prev_alert = a\n"
    "summ = json.load(open(path_sum))\n"
    "printed = [json.loads(l) for l in open(stdout_path) if l.startswith('{\"summary\"')]\n"
    "assert printed == [summ], (printed, summ)\n"
    "assert summ['frames'] == len(objs) and summ['seconds'] == n\n"
    "assert abs(summ['duration_s'] - (objs[-1]['t'] - t0)) < 0.006\n"
    "assert abs(summ['face_s'] - face_s) < 0.06, (summ['face_s'], face_s)\n"
    "assert summ['fatigue']['alerts'] == alerts\n"
    "if bpm:\n"
    "    h = summ['heart']\n"
    "    assert h['seconds'] == len(bpm) and abs(h['bpm_mean'] - mean(bpm)) < 0.06 and abs(h['bpm_min'] - min(bpm)) < 0.06 \\\n"
    "        and abs(h['bpm_max'] - max(bpm)) < 0.06, (h, bpm)\n"
    "else:\n"
    "    assert summ['heart'] is None\n"
    "if stress:\n"
    "    sd = summ['stress']\n"
    "    lo = sum(x < 30 for x in stress) / len(stress); hi = sum(x >= 60 for x in stress) / len(stress)\n"
    "    assert sd['seconds'] == len(stress) and abs(sd['low'] - lo) < 6e-4 and abs(sd['high'] - hi) < 6e-4, (sd, stress)\n"
    "print('summary ok: %d frames, %d s, face %.1f s, %d BPM seconds, %d stress seconds' % (len(objs), n, face_s, len(bpm), len(stress)))\n";

START_TEST(summary_matches_json_lines)
{
    if (!have_python()) {
        sm_test_skip("summary_matches_json_lines", "python3 with csv/json not available");
        return;
    }
    const char *clip = sm_test_fixture("pipeline/pulse.y4m");
    const char *mesh = sm_test_fixture("face/face_landmark_with_attention.smw");
    if (!clip || !mesh) {
        sm_test_skip("summary_matches_json_lines",
                     "face models or pipeline/pulse.y4m not in $SM_FIXTURES (gen_face_models.sh / gen_pipeline.py)");
        return;
    }
    char models[4096];
    snprintf(models, sizeof models, "%s", mesh);
    *strrchr(models, '/') = '\0';
    const char *dir = sm_test_tmpdir();
    char jsonl[4200], csv[4200], sum[4200], so[4200], cmd[65536], out[8192];
    snprintf(jsonl, sizeof jsonl, "%s/run.jsonl", dir);
    snprintf(csv, sizeof csv, "%s/rec.csv", dir);
    snprintf(sum, sizeof sum, "%s/summary.json", dir);
    snprintf(so, sizeof so, "%s/stdout.txt", dir);
    snprintf(cmd, sizeof cmd,
             "%s '%s/smartmirror' --headless --video '%s' --models '%s' --qtable '%s/q.txt' --no-landmarks "
             "--out '%s' --record '%s' --summary '%s' > '%s' 2>/dev/null",
             getenv("SM_TEST_RUNNER") ? getenv("SM_TEST_RUNNER") : "", bin(), clip, models, dir, jsonl, csv, sum, so);
    ck_assert_int_eq(system(cmd), 0);
    char args[40000];
    snprintf(args, sizeof args, "'%s' '%s' '%s' '%s'", jsonl, csv, sum, so);
    int rc = run_py(oracle_py, args, out, sizeof out);
    ck_assert_msg(rc == 0, "%s", out);
    printf("%s", out);
    /* without --out the JSON lines take stdout and the summary goes to stderr, as one line */
    snprintf(cmd, sizeof cmd,
             "%s '%s/smartmirror' --headless --video '%s' --models /nonexistent --frames 3 2>&1 >/dev/null | "
             "grep -c '^{\"summary\":1,'",
             getenv("SM_TEST_RUNNER") ? getenv("SM_TEST_RUNNER") : "", bin(), clip);
    FILE *p = popen(cmd, "r");
    size_t k = fread(out, 1, sizeof out - 1, p);
    out[k] = '\0';
    pclose(p);
    ck_assert_str_eq(out, "1\n");
}
END_TEST

START_TEST(history_option)
{
    int s = 0;
    sm_error err = {0};
    ck_assert_int_eq(sm_viewer_parse_duration("--history", "60s", &s, &err), SM_OK);
    ck_assert_int_eq(s, 60);
    ck_assert_int_eq(sm_viewer_parse_duration("--history", "5m", &s, &err), SM_OK);
    ck_assert_int_eq(s, 300);
    ck_assert_int_eq(sm_viewer_parse_duration("--history", "30m", &s, &err), SM_OK);
    ck_assert_int_eq(s, 1800);
    ck_assert_int_eq(sm_viewer_parse_duration("--history", "90", &s, &err), SM_OK);
    ck_assert_int_eq(s, 90);
    const char *bad[] = {"31m", "5s", "0", "-5m", "5h", "m", "", "5mm"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        ck_assert_msg(sm_viewer_parse_duration("--history", bad[i], &s, &err) == SM_ERR_ARG, "%s accepted", bad[i]);
        ck_assert_msg(strstr(err.msg, "--history") && strstr(err.msg, "10s to 30m"), "%s", err.msg);
    }
    char out[8192];
    ck_assert_int_eq(sm_test_run("smartmirror", "--history 2h", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "'2h'"), "%s", out);
    ck_assert_int_eq(sm_test_run("smartmirror", "--help", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "--record FILE.csv") && strstr(out, "--summary FILE.json") && strstr(out, "--history"), "%s",
                  out);
    /* a --record that cannot be opened stops the start with a message naming it */
    ck_assert_int_eq(sm_test_run("smartmirror", "--headless --images /nonexistent --record /nonexistent-dir/r.csv", out,
                                 sizeof out),
                     1);
    ck_assert_msg(strstr(out, "/nonexistent"), "%s", out);
}
END_TEST

/* A file ffmpeg cannot read is not an "empty file" (issue 16, found as a new user). */
START_TEST(ffmpeg_failure_message)
{
    if (system("command -v ffmpeg >/dev/null 2>&1") != 0) {
        sm_test_skip("ffmpeg_failure_message", "ffmpeg not installed");
        return;
    }
    char path[4200], args[8600], out[8192];
    snprintf(path, sizeof path, "%s/notavideo.mp4", sm_test_tmpdir());
    FILE *f = fopen(path, "w");
    fputs("this is text, not a video\n", f);
    fclose(f);
    snprintf(args, sizeof args, "--headless --video '%s' --models /nonexistent", path);
    ck_assert_int_eq(sm_test_run("smartmirror", args, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "no video stream came out") && !strstr(out, "empty file") && strstr(out, path), "%s", out);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("viewer_session");
    TCase *tc = tcase_create("viewer_session");
    tcase_add_test(tc, history_option);
    tcase_add_test(tc, record_survives_kill_9);
    tcase_add_test(tc, summary_matches_json_lines);
    tcase_add_test(tc, ffmpeg_failure_message);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
