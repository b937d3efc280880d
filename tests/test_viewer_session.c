/* smartmirror's session outputs end to end: --record survives kill -9 with
 * only the last seconds lost and stays appendable; --summary and the printed
 * summary agree with a per-second recomputation from the JSON lines done by
 * Python (an independent implementation of the binning in app/session.c);
 * --history parsing. */
#include "canvas.h"
#include "chime.h"
#include "cli.h"
#include "config.h"
#include "overlay.h"
#include "plots.h"
#include "session.h"
#include "sm_image.h"
#include "sm_test.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
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
    "    lvl = mean([o['fatigue']['level'] for o in os_ if o['fatigue']])\n"
    "    b = mean([o['heart']['bpm'] for o in os_ if o['heart'] and o['heart']['bpm'] is not None and not o['heart']['stale']])\n"
    "    q = mean([o['heart']['quality'] for o in os_ if o['heart'] and o['heart']['quality'] is not None\n"
    "              and (o['heart']['bpm'] is not None or o['heart']['reason'] is not None)])\n"
    "    st = mean([o['heart']['stress'] for o in os_ if o['heart'] and o['heart']['stress'] is not None])\n"
    "    for key, v, dec in (('face[share 0..1]', face, 2), ('ear[ratio]', ear, 3), ('level[0..1]', lvl, 3),\n"
    "                        ('bpm[1/min]', b, 1), ('stress[0..100]', st, 1),\n"
    "                        ('quality[0..1]', q, 2)):\n"
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
    "assert len(bpm) >= 3, 'no trusted heart rate in 15 s of the pulse clip: %d s' % len(bpm)\n"
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
             "%s '%s/smartmirror' --headless --video '%s' --loop --frames 450 --models '%s' --qtable '%s/q.txt' --no-landmarks "
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

/* Runs smartmirror headless with extra options; stderr into err_path; returns
 * the exit status. */
static int run_mirror(const char *opts, const char *err_path)
{
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s '%s/smartmirror' --headless --models /nonexistent --no-qtable --no-config %s 2>'%s'",
             getenv("SM_TEST_RUNNER") ? getenv("SM_TEST_RUNNER") : "", bin(), opts, err_path);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static char *slurp(const char *path)
{
    uint8_t *buf;
    size_t n;
    sm_error err;
    ck_assert_msg(sm_file_read_all(path, 0, &buf, &n, &err) == SM_OK, "%s", err.msg);
    char *s = realloc(buf, n + 1);
    s[n] = '\0';
    return s;
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The file the planted link points at still holds "precious\n"; the path
 * itself is of type `type` (S_IFLNK: refused, S_IFREG: replaced). */
static void victim_untouched_and_link_is(const char *victim, const char *link, mode_t type)
{
    char *v = slurp(victim);
    ck_assert_str_eq(v, "precious\n");
    free(v);
    struct stat st;
    ck_assert_int_eq(lstat(link, &st), 0);
    ck_assert_int_eq(st.st_mode & S_IFMT, type);
}

START_TEST(outputs_never_follow_symlinks)
{
    const char *clip = sm_test_fixture("viewer/clip_420jpeg.y4m");
    ck_assert_msg(clip != NULL, "viewer/clip_420jpeg.y4m missing (tests/gen/gen_viewer_sources.py)");
    const char *dir = sm_test_tmpdir();
    char victim[4200], link[4200], errp[4200], opts[16384];
    snprintf(victim, sizeof victim, "%s/victim.txt", dir);
    snprintf(link, sizeof link, "%s/planted", dir);
    snprintf(errp, sizeof errp, "%s/stderr.txt", dir);
    FILE *f = fopen(victim, "w");
    fputs("precious\n", f);
    fclose(f);
    ck_assert_int_eq(symlink(victim, link), 0);
    /* --out (a stream) and --record (an appended stream): refused, naming the file */
    const char *flags[2] = {"--out", "--record"};
    for (int i = 0; i < 2; i++) {
        snprintf(opts, sizeof opts, "--video '%s' %s '%s'", clip, flags[i], link);
        ck_assert_int_ne(run_mirror(opts, errp), 0);
        char *e = slurp(errp);
        ck_assert_msg(strstr(e, link) && strstr(e, "symlink"), "%s: %s", flags[i], e);
        free(e);
        victim_untouched_and_link_is(victim, link, S_IFLNK);
    }
    /* --summary (a whole file, temp + rename): the link itself is replaced */
    snprintf(opts, sizeof opts, "--video '%s' --out /dev/null --summary '%s'", clip, link);
    ck_assert_int_eq(run_mirror(opts, errp), 0);
    victim_untouched_and_link_is(victim, link, S_IFREG);
    char *s = slurp(link);
    ck_assert_msg(!strncmp(s, "{\"summary\":1,", 13) && strstr(s, "\"frames\":5,"), "%s", s);
    free(s);
}
END_TEST

START_TEST(cut_video_plays_what_it_has)
{
    /* a Y4M cut inside its 4th frame: 3 JSON lines, exit 0, one warning */
    const char *clip = sm_test_fixture("viewer/clip_420jpeg.y4m");
    ck_assert_msg(clip != NULL, "viewer/clip_420jpeg.y4m missing (tests/gen/gen_viewer_sources.py)");
    uint8_t *buf;
    size_t n;
    sm_error err;
    ck_assert_int_eq(sm_file_read_all(clip, 0, &buf, &n, &err), SM_OK);
    const char *dir = sm_test_tmpdir();
    char cut[4200], out[4200], errp[4200], opts[16384];
    snprintf(cut, sizeof cut, "%s/cut.y4m", dir);
    snprintf(out, sizeof out, "%s/cut.jsonl", dir);
    snprintf(errp, sizeof errp, "%s/stderr.txt", dir);
    /* header + 3 whole frames (64x48 4:2:0: "FRAME\n" + 4608 bytes each) + 1000 bytes */
    const char *first = memchr(buf, '\n', n);
    size_t keep = (size_t)(first - (const char *)buf) + 1 + 3 * (6 + 4608) + 1000;
    ck_assert_uint_lt(keep, n);
    FILE *f = fopen(cut, "wb");
    ck_assert(fwrite(buf, 1, keep, f) == keep);
    fclose(f);
    free(buf);
    snprintf(opts, sizeof opts, "--video '%s' --out '%s'", cut, out);
    ck_assert_int_eq(run_mirror(opts, errp), 0);
    char *lines = slurp(out), *e = slurp(errp);
    ck_assert_int_eq(count_of(lines, "\n"), 3);
    ck_assert_msg(strstr(lines, "{\"frame\":2,") && !strstr(lines, "{\"frame\":3,"), "%s", lines);
    char want[4300];
    snprintf(want, sizeof want, "%s: truncated after frame 2; stopping", cut);
    ck_assert_msg(count_of(e, want) == 1, "warning '%s' not once in:\n%s", want, e);
    free(lines);
    free(e);
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


/* ---- window layout: plots, panels and summary at 1280x800 and 800x480 ------------ */

static const char *const labels8[8] = {"angry", "disgust", "fear", "happy", "sad", "surprise", "neutral", "tired"};

/* Ten minutes of varied data at 2 frames/s: every plot has lines, gaps and marks. */
static sm_session *busy_session(void)
{
    sm_session *s;
    sm_error err = {0};
    ck_assert_int_eq(sm_session_init(&s, &err), SM_OK);
    sm_mirror_result *r = calloc(1, sizeof *r);
    for (int i = 0; i < 1200; i++) {
        memset(r, 0, sizeof *r);
        r->t = i * 0.5;
        int sec = i / 2;
        r->face.valid = sec % 97 > 5;
        r->fatigue.available = true;
        r->fatigue.valid = r->face.valid;
        r->fatigue.p_drowsy = r->fatigue.level = (float)(0.5 + 0.45 * sin(sec / 40.0));
        r->fatigue.alert = r->fatigue.level > 0.9f;
        r->fatigue.eyes_closed = sec % 150 < 2;
        r->heart.valid_bpm = sec % 60 > 12;
        r->heart.bpm = (float)(72 + 9 * sin(sec / 25.0));
        r->heart.quality = (float)(0.5 + 0.5 * sin(sec / 7.0));
        r->heart.valid_stress = r->heart.valid_bpm;
        r->heart.stress = (float)(50 + 45 * sin(sec / 33.0));
        r->emotion.available = r->emotion.valid = r->face.valid;
        r->emotion.n_labels = 8;
        for (int k = 0; k < 8; k++)
            r->emotion.labels[k] = labels8[k];
        r->emotion.label_argmax = r->face.valid ? (sec / 45) % 8 : -1;
        ck_assert_int_eq(sm_session_push(s, r, 1.8e9 + r->t, &err), SM_OK);
    }
    free(r);
    return s;
}

static void full_result(sm_mirror_result *r, bool face)
{
    memset(r, 0, sizeof *r);
    r->frame = 1234;
    r->t = 599.5;
    r->width = 640;
    r->height = 480;
    r->face.valid = face;
    r->face.score = 0.97f;
    r->face.box[0] = 220;
    r->face.box[1] = 120;
    r->face.box[2] = 200;
    r->face.box[3] = 240;
    r->fatigue = (sm_fatigue_result){.available = true, .valid = true, .ear = 0.287f, .mar = 0.412f, .tilt_deg = -12.5f,
                                     .pitch_ratio = 1.02f, .p_drowsy = 0.86f, .estimator = "mlp", .perclos = 0.123f,
                                     .blinks_per_min = 14.5f, .yawns = 12, .alert = true,
                                     /* the default rules' lines (issue 14) take room too */
                                     .rules = "wellness", .level = 0.93f, .state = "drowsy", .eyes_closed = true,
                                     .closed_s = 12.4f, .microsleeps = 3, .calibrated = false,
                                     .calib_remaining_s = 7.2f};
    sm_emotion_result *e = &r->emotion;
    e->available = e->valid = true;
    e->n_labels = 8;
    for (int i = 0; i < 8; i++) {
        e->labels[i] = labels8[i];
        e->probs[i] = i == 5 ? 0.65f : 0.05f;
    }
    e->label = e->label_argmax = 5;
    e->conf = 0.65f;
    e->valence = -0.44f;
    e->arousal = 0.73f;
    r->heart = (sm_heart_result){.valid_pos = true, .bpm_pos = 112.5f, .quality_db = 14.2f, .available_net = true,
                                 .valid_net = true, .bpm_net = 101.5f, .valid_stress = true, .stress = 88.0f,
                                 .stress_level = "HIGH (Stressed)", .stress_source = "net"};
    r->advisor = (sm_advisor_result){.valid = true, .action = 2, .action_text = "2 = Power nap suggestion",
                                     .has_reward = true, .reward = -0.25f};
    r->ms = (sm_stage_ms){13.1, 0.2, 78.4, 1.1, 0.01, 92.9};
}

static bool boxes_meet(const sm_text_box *a, const sm_text_box *b)
{
    return a->x < b->x + b->w && b->x < a->x + a->w && a->y < b->y + b->h && b->y < a->y + a->h;
}

START_TEST(layout_no_text_overlaps)
{
    static const int sizes[2][2] = {{1280, 800}, {800, 480}};
    sm_session *s = busy_session();
    sm_mirror_result *r = malloc(sizeof *r);
    sm_frame f = {0};
    sm_error err = {0};
    ck_assert_int_eq(sm_frame_reserve(&f, 640, 480, &err), SM_OK);
    for (int y = 0; y < 480; y++)
        for (int x = 0; x < 640; x++) {
            uint8_t *p = f.rgb + ((size_t)y * 640 + x) * 3;
            p[0] = (uint8_t)(x / 3);
            p[1] = (uint8_t)(y / 2);
            p[2] = 90;
        }
    f.index = 1234;
    f.t = 599.5;
    static sm_text_box boxes[1024];
    for (int k = 0; k < 2; k++)
        for (int mode = 0; mode < 4; mode++) {
            int W = sizes[k][0], H = sizes[k][1];
            uint8_t *px = calloc((size_t)W * H, 3);
            sm_canvas c = {px, W, H, (size_t)W * 3};
            full_result(r, mode != 1);
            sm_overlay_state st = {.advice_age_s = 12, .mirror = true, .mesh = false, .fps = 29.7, .source = "/dev/video0",
                                   .session = s, .history_s = mode == 2 ? 60 : mode == 3 ? 1800 : 300,
                                   .summary = mode == 1, .quitting = mode == 1, .paused = mode == 0};
            int n = 0;
            sm_canvas_text_log(boxes, 1024, &n);
            sm_overlay_render(&c, &f, r, &st);
            sm_canvas_text_log(NULL, 0, NULL);
            ck_assert_int_lt(n, 1024);
            ck_assert_int_gt(n, 30);
            for (int i = 0; i < n; i++) {
                const sm_text_box *a = &boxes[i];
                ck_assert_msg(a->x >= 0 && a->y >= 0 && a->x + a->w <= W && a->y + a->h <= H,
                              "%dx%d mode %d: '%s' at %d,%d %dx%d leaves the window", W, H, mode, a->text, a->x, a->y,
                              a->w, a->h);
                for (int j = 0; j < i; j++)
                    ck_assert_msg(!boxes_meet(a, &boxes[j]), "%dx%d mode %d: '%s' (%d,%d %dx%d) overlaps '%s' (%d,%d %dx%d)",
                                  W, H, mode, a->text, a->x, a->y, a->w, a->h, boxes[j].text, boxes[j].x, boxes[j].y,
                                  boxes[j].w, boxes[j].h);
            }
            /* the band: every plot named, the time axis labelled, the drowsiness line drawn */
            const char *want[] = {"Drowsiness", "Heart rate", "Stress", "Emotion", "now", mode == 2 ? "-30s" : "-5m",
                                  "BREAKS", mode == 1 ? "q: quit now   any other key: stay" : "How about a short nap?",
                                  mode == 1 ? "BREAKS" : "learning your eyes: 8 s"};
            for (size_t w = 0; w < sizeof want / sizeof *want; w++) {
                bool found = false;
                for (int i = 0; i < n && !found; i++)
                    found = !strcmp(boxes[i].text, want[w]);
                ck_assert_msg(found, "%dx%d mode %d: no '%s'", W, H, mode, want[w]);
            }
            for (int i = 0; i < n; i++)
                ck_assert_msg(!strstr(boxes[i].text, "RL Last Action"), "the raw advisor text is shown");
            int vx, vy, vw, vh;
            sm_overlay_video_rect(W, H, 0, &vx, &vy, &vw, &vh);
            ck_assert_int_gt(H - vh, 80);
            long green = 0, red = 0;
            for (int y = vh; y < H; y++)
                for (int x = vx; x < vx + vw; x++) {
                    const uint8_t *p = px + ((size_t)y * W + x) * 3;
                    green += p[0] == 80 && p[1] == 220 && p[2] == 120;
                    red += p[0] == 235 && p[1] == 60 && p[2] == 55;
                }
            ck_assert_msg(green > 50 && red > 20, "%dx%d mode %d: plot colours green %ld red %ld", W, H, mode, green, red);
            if (k == 1 && mode == 0) {
                char path[4200];
                snprintf(path, sizeof path, "%s/layout-%dx%d.png", sm_test_tmpdir(), W, H);
                ck_assert_int_eq(sm_image_save(path, px, W, H, (size_t)W * 3, &err), SM_OK);
                printf("layout: %d text boxes at %dx%d, none overlapping (picture: %s)\n", n, W, H, path);
            }
            free(px);
        }
    sm_frame_free(&f);
    free(r);
    sm_session_free(s);
}
END_TEST

/* The real window under Xvfb at both sizes: it opens at --size, shows the band. */
START_TEST(window_sizes_under_xvfb)
{
    if (system("command -v xvfb-run >/dev/null 2>&1") != 0) {
        sm_test_skip("window_sizes_under_xvfb", "xvfb-run is not installed (apt-get install -y xvfb)");
        return;
    }
    const char *clip = sm_test_fixture("viewer/e2e.y4m");
    ck_assert_msg(clip != NULL, "fixture viewer/e2e.y4m missing");
    static const int sizes[2][2] = {{1280, 800}, {800, 480}};
    int k = _i;
    char shot[4200], cmd[16384];
    snprintf(shot, sizeof shot, "%s/shot.bmp", sm_test_tmpdir());
    /* display numbers from 170, apart from test_viewer's (suites run side by side) */
    snprintf(cmd, sizeof cmd,
             "ASAN_OPTIONS=\"${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0\" "
             "xvfb-run -a -n 170 -s '-screen 0 %dx%dx24' '%s/smartmirror' --video '%s' --size %dx%d --frames 24 "
             "--models /nonexistent --screenshot '%s' >/dev/null 2>&1",
             sizes[k][0], sizes[k][1], bin(), clip, sizes[k][0], sizes[k][1], shot);
    ck_assert_int_eq(system(cmd), 0);
    uint8_t *px = NULL;
    int W = 0, H = 0;
    FILE *f = fopen(shot, "rb");
    ck_assert(f != NULL);
    uint8_t hdr[54];
    ck_assert_int_eq(fread(hdr, 1, 54, f), 54);
    W = hdr[18] | hdr[19] << 8 | hdr[20] << 16;
    H = hdr[22] | hdr[23] << 8 | hdr[24] << 16;
    fclose(f);
    (void)px;
    ck_assert_int_eq(W, sizes[k][0]);
    ck_assert_int_eq(H, sizes[k][1]);
}
END_TEST

/* ---- settings that stick ---------------------------------------------------------- */

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    ck_assert(f != NULL);
    fputs(text, f);
    fclose(f);
}

START_TEST(config_file_precedence_and_errors)
{
    const char *dir = sm_test_tmpdir();
    char cfgdir[4200], path[4300], warnpath[4300], out[8192], args[9000];
    snprintf(cfgdir, sizeof cfgdir, "%s/smartmirror", dir);
    ck_assert_int_eq(mkdir(cfgdir, 0755), 0);
    snprintf(path, sizeof path, "%s/config", cfgdir);
    write_text(path, "# my mirror\n"
                     "camera = /dev/video7\n"
                     "\n"
                     "  size =  800x480  \n"
                     "history = 30m\n"
                     "colour = blue\n"
                     "sound = yes\n"
                     "sound-every = 120\n"
                     "history = 60s\n"
                     "mirror = no\n");
    setenv("XDG_CONFIG_HOME", dir, 1);
    /* in-process: the merged options; the later history line wins; the unknown key warns */
    snprintf(warnpath, sizeof warnpath, "%s/warn.txt", dir);
    FILE *warn = fopen(warnpath, "w");
    sm_viewer_config cfg;
    sm_viewer_opts o;
    sm_error err = {0};
    char *argv1[] = {"smartmirror", "--history", "5m", NULL};
    ck_assert_int_eq(sm_viewer_config_load(3, argv1, &cfg, warn, &err), SM_OK);
    fclose(warn);
    ck_assert_int_eq(sm_viewer_parse_args(cfg.argc, cfg.argv, &o, &err), SM_OK);
    ck_assert_str_eq(o.source, "/dev/video7");
    ck_assert_int_eq(o.win_w, 800);
    ck_assert_int_eq(o.win_h, 480);
    ck_assert_int_eq(o.history_s, 300); /* the flag wins over both config lines */
    ck_assert(o.sound);
    ck_assert_int_eq(o.sound_every, 120);
    ck_assert(!o.mirror);
    sm_viewer_config_free(&cfg);
    FILE *w = fopen(warnpath, "r");
    size_t k = fread(out, 1, sizeof out - 1, w);
    out[k] = '\0';
    fclose(w);
    ck_assert_msg(strstr(out, "config:6: unknown key 'colour'") && strstr(out, "warning"), "%s", out);
    /* without the flag the later config line wins; a source flag replaces the config's camera */
    char *argv2[] = {"smartmirror", "--video", "clip.y4m", "--no-sound", NULL};
    ck_assert_int_eq(sm_viewer_config_load(4, argv2, &cfg, NULL, &err), SM_OK);
    ck_assert_int_eq(sm_viewer_parse_args(cfg.argc, cfg.argv, &o, &err), SM_OK);
    ck_assert_int_eq(o.kind, SM_SRC_VIDEO);
    ck_assert_str_eq(o.source, "clip.y4m");
    ck_assert_int_eq(o.history_s, 60);
    ck_assert(!o.sound);
    sm_viewer_config_free(&cfg);
    /* --no-config reads nothing */
    char *argv3[] = {"smartmirror", "--no-config", NULL};
    ck_assert_int_eq(sm_viewer_config_load(2, argv3, &cfg, NULL, &err), SM_OK);
    ck_assert_int_eq(sm_viewer_parse_args(cfg.argc, cfg.argv, &o, &err), SM_OK);
    ck_assert_str_eq(o.source, "/dev/video0");
    ck_assert_int_eq(cfg.n_keys, 0);
    sm_viewer_config_free(&cfg);

    /* the program: --print-config names each value's origin */
    snprintf(args, sizeof args, "--print-config --history 5m");
    ck_assert_int_eq(sm_test_run("smartmirror", args, out, sizeof out), 0);
    char line[5000];
    snprintf(line, sizeof line, "/dev/video7");
    ck_assert_msg(strstr(out, line), "%s", out);
    snprintf(line, sizeof line, "%s:2", path);
    ck_assert_msg(strstr(out, line), "camera's origin: %s", out);
    snprintf(line, sizeof line, "%s:4", path);
    ck_assert_msg(strstr(out, line), "size's origin: %s", out);
    ck_assert_msg(strstr(out, "# command line") && strstr(out, "unknown key 'colour'"), "%s", out);
    const char *h = strstr(out, "history ");
    ck_assert_msg(h && strstr(h, "5m") && strstr(h, "# command line") < strstr(h, "\nsound"), "%s", out);

    /* bad lines: an error naming FILE:LINE, exit 2 */
    const char *bad[][2] = {
        {"camera = /dev/video1\nsize 800x480\n", ":2: expected 'key = value'"},
        {"size = 80x48\n", ":1: --size: '80x48'"},
        {"sound = maybe\n", ":1: sound: 'maybe' is not yes or no"},
        {"\n\nhistory = 2h\n", ":3: --history: '2h'"},
        {" = 5\n", ":1: a value without a key"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_text(path, bad[i][0]);
        ck_assert_int_eq(sm_test_run("smartmirror", "--print-config", out, sizeof out), 2);
        snprintf(line, sizeof line, "%s%s", path, bad[i][1]);
        ck_assert_msg(strstr(out, line), "want '%s' in: %s", line, out);
    }
    /* --config FILE that does not exist is an error; the default one missing is not */
    ck_assert_int_eq(sm_test_run("smartmirror", "--config /nonexistent/cfg --print-config", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "/nonexistent/cfg"), "%s", out);
    unlink(path);
    ck_assert_int_eq(sm_test_run("smartmirror", "--print-config", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "(none read)"), "%s", out);
    unsetenv("XDG_CONFIG_HOME");
}
END_TEST

START_TEST(chime_is_gentle_and_rate_limited)
{
    static float buf[44100 * 2];
    size_t n = sm_chime_render(buf, sizeof buf / sizeof *buf, 44100);
    ck_assert_int_eq(n, (size_t)(44100 * SM_CHIME_SECONDS));
    float peak = 0;
    for (size_t i = 0; i < n; i++)
        peak = fmaxf(peak, fabsf(buf[i]));
    ck_assert_float_eq_tol(peak, SM_CHIME_PEAK, 1e-6f); /* a fifth of full scale: a chime, not an alarm */
    ck_assert_float_lt(fabsf(buf[0]), 1e-3f);          /* starts and ends at silence: no click */
    ck_assert_float_lt(fabsf(buf[n - 1]), 1e-3f);
    /* the first note is E5: 659 Hz = 2 x 659 zero crossings per second (first 0.15 s) */
    int zc = 0;
    for (size_t i = 10; i < (size_t)(0.15 * 44100); i++)
        zc += (buf[i - 1] < 0) != (buf[i] < 0);
    ck_assert_msg(abs(zc - (int)(2 * 659.255 * (0.15 - 10 / 44100.0))) <= 2, "%d zero crossings", zc);
    ck_assert_int_eq(sm_chime_render(buf, 100, 44100), 100);
    /* at most one chime per period */
    double last = -1;
    ck_assert(sm_chime_due(5.0, &last, 60));
    ck_assert(!sm_chime_due(30.0, &last, 60));
    ck_assert(!sm_chime_due(64.9, &last, 60));
    ck_assert(sm_chime_due(65.0, &last, 60));
    ck_assert_double_eq(last, 65.0);
}
END_TEST

/* --loop: the demo plays again and again; frame numbers and time go on. */
START_TEST(loop_keeps_time_going)
{
    if (!have_python()) {
        sm_test_skip("loop_keeps_time_going", "python3 not available");
        return;
    }
    const char *clip = sm_test_fixture("viewer/e2e.y4m"); /* 24 frames at 10 fps */
    ck_assert_msg(clip != NULL, "fixture viewer/e2e.y4m missing");
    char path[4200], args[9000], out[8192];
    snprintf(path, sizeof path, "%s/loop.jsonl", sm_test_tmpdir());
    snprintf(args, sizeof args, "--headless --video '%s' --loop --frames 60 --models /nonexistent --out '%s'", clip, path);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    static const char py[] = "import json, sys\n"
                             "o = [json.loads(l) for l in open(sys.argv[1])]\n"
                             "assert [x['frame'] for x in o] == list(range(60)), [x['frame'] for x in o]\n"
                             "assert all(abs(x['t'] - x['frame'] / 10) < 1e-6 for x in o), [x['t'] for x in o]\n"
                             "print('loop ok')\n";
    snprintf(args, sizeof args, "'%s'", path);
    ck_assert_msg(run_py(py, args, out, sizeof out) == 0, "%s", out);
    ck_assert_int_eq(sm_test_run("smartmirror", "--loop --camera /dev/video0", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "--loop is for --video or --images"), "%s", out);
}
END_TEST

/* The learnt Q-table can be forgotten or never saved; the notes say where checkpoints were looked for. */
START_TEST(qtable_reset_and_checkpoint_notes)
{
    const char *dir = sm_test_tmpdir();
    char q[4200], args[9000], out[8192];
    snprintf(q, sizeof q, "%s/q.txt", dir);
    write_text(q, "smartmirror-qtable 1\nentries 0\ncrc32 00000000\n");
    const char *clip = sm_test_fixture("viewer/e2e.y4m");
    ck_assert(clip != NULL);
    snprintf(args, sizeof args, "--headless --video '%s' --frames 1 --models /nonexistent --qtable '%s' --reset-qtable "
             "--checkpoints '%s/ck'", clip, q, dir);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(access(q, F_OK) != 0, "the Q-table is still there");
    ck_assert_msg(strstr(out, "starts afresh: removed") && strstr(out, q), "%s", out);
    char want[4400];
    snprintf(want, sizeof want, "looked for your checkpoint best_model.pth in %s/ck", dir);
    ck_assert_msg(strstr(out, want), "%s", out);
    /* a checkpoint that is there but not converted: the note gives the command */
    snprintf(want, sizeof want, "%s/ck", dir);
    ck_assert_int_eq(mkdir(want, 0755), 0);
    snprintf(want, sizeof want, "%s/ck/fatigue_mlp.joblib", dir);
    write_text(want, "x");
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "is there but not converted") && strstr(out, "smw-convert"), "%s", out);
    /* --no-qtable: the advisor runs (it needs the face models) but writes nothing; without it, it does */
    const char *mesh = sm_test_fixture("face/face_landmark_with_attention.smw");
    const char *pulse = sm_test_fixture("pipeline/pulse.y4m");
    if (!mesh || !pulse) {
        sm_test_skip("qtable_reset_and_checkpoint_notes (--no-qtable part)", "face models or pipeline/pulse.y4m missing");
        return;
    }
    char models[4200];
    snprintf(models, sizeof models, "%s", mesh);
    *strrchr(models, '/') = '\0';
    setenv("XDG_STATE_HOME", dir, 1);
    snprintf(want, sizeof want, "%s/smartmirror/qtable.txt", dir);
    /* 15.7 s of video: the advisor decides at once and learns its first reward at 15 s, when a
     * persisted table is saved (advisor.h) */
    snprintf(args, sizeof args, "--headless --video '%s' --loop --frames 470 --models '%s' --no-landmarks --out /dev/null "
             "--no-qtable", pulse, models);
    ck_assert_msg(sm_test_run("smartmirror", args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "\"decisions\":1,\"suggestions\":0,\"rewards\":1"), "no reward learnt: %s", out);
    ck_assert_msg(access(want, F_OK) != 0, "--no-qtable wrote %s", want);
    unsetenv("XDG_STATE_HOME");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("viewer_session");
    TCase *tc = tcase_create("viewer_session");
    tcase_add_test(tc, history_option);
    tcase_add_test(tc, outputs_never_follow_symlinks);
    tcase_add_test(tc, cut_video_plays_what_it_has);
    tcase_add_test(tc, record_survives_kill_9);
    tcase_add_test(tc, summary_matches_json_lines);
    tcase_add_test(tc, ffmpeg_failure_message);
    tcase_add_test(tc, layout_no_text_overlaps);
    tcase_add_test(tc, config_file_precedence_and_errors);
    tcase_add_test(tc, chime_is_gentle_and_rate_limited);
    tcase_add_test(tc, loop_keeps_time_going);
    tcase_add_test(tc, qtable_reset_and_checkpoint_notes);
    tcase_add_loop_test(tc, window_sizes_under_xvfb, 0, 2);
    tcase_set_timeout(tc, 120);
    suite_add_tcase(s, tc);
    return sm_test_main(s);
}
