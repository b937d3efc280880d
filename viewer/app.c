/*
 * The smartmirror program: command line, source, threads, headless JSON and
 * the SDL2 window.
 *
 * Threads: a capture thread reads the source and hands frames on through two
 * one-slot mailboxes: `analysis` (blocking for files, so every frame is
 * analysed in order; latest-wins for cameras and --realtime, which drop frames
 * to stay live) and `display` (always latest-wins). In window mode an
 * analysis thread runs the analyzer and publishes the newest result; the main
 * thread renders, so a slow model never freezes the picture. Headless runs
 * the analysis on the main thread and prints one JSON line per frame.
 * SIGINT/SIGTERM (and q/Esc) set a stop flag every loop checks at least
 * every 100 ms; then the threads are joined and everything is freed.
 */
#include "app.h"

#include "advisor.h"
#include "analyzer_pipeline.h"
#include "canvas.h"
#include "capture.h"
#include "chime.h"
#include "cli.h"
#include "config.h"
#include "json.h"
#include "overlay.h"
#include "session.h"
#include "source_open.h"
#include "sm_kernels.h"

#include <SDL.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_s(double s)
{
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

/* ---- one-slot mailbox ------------------------------------------------------- */

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    sm_frame slot;
    bool full, closed;
    long long dropped;
} mailbox;

static void mb_init(mailbox *m)
{
    memset(m, 0, sizeof *m);
    pthread_mutex_init(&m->mu, NULL);
    pthread_cond_init(&m->cv, NULL);
}

static void mb_destroy(mailbox *m)
{
    sm_frame_free(&m->slot);
    pthread_mutex_destroy(&m->mu);
    pthread_cond_destroy(&m->cv);
}

static void timed_wait(mailbox *m, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    pthread_cond_timedwait(&m->cv, &m->mu, &ts);
}

/* Blocking: waits while the slot is full (until taken, closed or stop). */
static sm_status mb_put(mailbox *m, const sm_frame *f, bool blocking, sm_error *err)
{
    pthread_mutex_lock(&m->mu);
    while (blocking && m->full && !m->closed && !g_stop)
        timed_wait(m, 100);
    if (m->full)
        m->dropped++;
    sm_status st = sm_frame_copy(&m->slot, f, err);
    if (st == SM_OK)
        m->full = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
    return st;
}

/* 1: *f holds a frame; 0: timeout; -1: closed and empty. */
static int mb_take(mailbox *m, sm_frame *f, int timeout_ms)
{
    pthread_mutex_lock(&m->mu);
    if (!m->full && !m->closed && timeout_ms > 0)
        timed_wait(m, timeout_ms);
    int r;
    if (m->full) {
        sm_frame t = *f;
        *f = m->slot;
        m->slot = t;
        m->full = false;
        r = 1;
        pthread_cond_broadcast(&m->cv);
    } else {
        r = m->closed ? -1 : 0;
    }
    pthread_mutex_unlock(&m->mu);
    return r;
}

static void mb_close(mailbox *m)
{
    pthread_mutex_lock(&m->mu);
    m->closed = true;
    pthread_cond_broadcast(&m->cv);
    pthread_mutex_unlock(&m->mu);
}

/* ---- the pipeline ------------------------------------------------------------- */

typedef struct {
    const sm_viewer_opts *o;
    sm_source *src;
    bool live;       /* drop frames to stay live */
    bool pace;       /* hold file frames to their timestamps */
    bool window;
    mailbox analysis, display;
    pthread_mutex_t mu;   /* guards the fields below */
    char status[300];     /* camera trouble, shown as a banner */
    char error[SM_ERROR_MAX];
    bool failed, ended;
    sm_mirror_result result;
    bool have_result;
    unsigned long long result_seq;
    sm_viewer_analyzer an;
    sm_session *session;  /* history, summary, --record (guarded by mu) */
    bool record_failed;
} pipeline;

static void set_status(pipeline *p, const char *s)
{
    pthread_mutex_lock(&p->mu);
    snprintf(p->status, sizeof p->status, "%s", s ? s : "");
    pthread_mutex_unlock(&p->mu);
}

static sm_status open_source(const sm_viewer_opts *o, sm_source **src, sm_error *err);

static void *capture_main(void *arg)
{
    pipeline *p = arg;
    sm_frame f = {0};
    double t0 = -1, first_t = 0;
    bool troubled = false;
    /* --loop: the file starts again, its time and frame numbers go on */
    double loop_t = 0, last_t = 0, period = 0;
    int64_t loop_index = 0, last_index = -1;
    while (!g_stop) {
        bool eof = false;
        sm_error err = {0};
        sm_status st = sm_source_read(p->src, &f, &eof, &err);
        if (st != SM_OK) {
            if (p->src->live) {
                char msg[300];
                snprintf(msg, sizeof msg, "%.200s: retrying every second", err.msg);
                if (!troubled)
                    fprintf(stderr, "smartmirror: %s\n", msg);
                troubled = true;
                set_status(p, msg);
                for (int i = 0; i < 10 && !g_stop; i++)
                    sleep_s(0.1);
                continue;
            }
            pthread_mutex_lock(&p->mu);
            snprintf(p->error, sizeof p->error, "%s", err.msg);
            p->failed = true;
            pthread_mutex_unlock(&p->mu);
            break;
        }
        if (troubled) {
            fprintf(stderr, "smartmirror: %s is back\n", p->src->name);
            troubled = false;
            set_status(p, NULL);
        }
        if (eof && p->o->loop && last_index >= 0) {
            sm_source *again = NULL;
            if (open_source(p->o, &again, &err) != SM_OK) {
                fprintf(stderr, "smartmirror: --loop: %s\n", err.msg);
                break;
            }
            sm_source_close(p->src);
            p->src = again;
            loop_t = last_t + (period > 0 ? period : 1.0 / 30);
            loop_index = last_index + 1;
            continue;
        }
        if (eof)
            break;
        if (p->o->loop) {
            f.t += loop_t;
            f.index += loop_index;
            if (last_index >= 0 && f.t > last_t)
                period = f.t - last_t;
            last_t = f.t;
            last_index = f.index;
        }
        if (p->pace) {
            if (t0 < 0) {
                t0 = now_s();
                first_t = f.t;
            }
            double wait = t0 + (f.t - first_t) - now_s();
            while (wait > 0 && !g_stop) {
                sleep_s(wait > 0.1 ? 0.1 : wait);
                wait = t0 + (f.t - first_t) - now_s();
            }
        }
        if (p->window && mb_put(&p->display, &f, false, &err) != SM_OK)
            break;
        if (mb_put(&p->analysis, &f, !p->live, &err) != SM_OK)
            break;
    }
    pthread_mutex_lock(&p->mu);
    p->ended = true;
    pthread_mutex_unlock(&p->mu);
    mb_close(&p->analysis);
    mb_close(&p->display);
    sm_frame_free(&f);
    return NULL;
}

static sm_status analyse(pipeline *p, const sm_frame *f, sm_mirror_result *r, sm_error *err)
{
    double t = now_s();
    sm_status st = p->an.process(&p->an, f, r, err);
    if (st == SM_OK && r->ms.total <= 0)
        r->ms.total = (now_s() - t) * 1e3;
    if (st == SM_OK)
        r->wall = wall_now();
    return st;
}

/* Feeds the session; a failing --record is reported once and stops (the mirror goes on). */
static void session_push(pipeline *p, const sm_mirror_result *r)
{
    sm_error err = {0};
    pthread_mutex_lock(&p->mu);
    if (sm_session_push(p->session, r, r->wall, &err) != SM_OK && !p->record_failed) {
        p->record_failed = true;
        fprintf(stderr, "smartmirror: recording stopped: %s\n", err.msg);
    }
    pthread_mutex_unlock(&p->mu);
}

/* Ends the session: closes the CSV, writes --summary, prints the summary
 * (to `to`, NULL = not printed). Returns false when a file could not be written. */
static bool session_end(pipeline *p, FILE *to)
{
    sm_error err = {0};
    bool ok = true;
    pthread_mutex_lock(&p->mu);
    if (sm_session_finish(p->session, &err) != SM_OK && !p->record_failed) {
        fprintf(stderr, "smartmirror: recording: %s\n", err.msg);
        ok = false;
    }
    sm_session_summary sum;
    sm_session_summarize(p->session, &sum);
    pthread_mutex_unlock(&p->mu);
    if (p->o->summary) {
        if (sm_session_summary_write(&sum, p->o->summary, &err) != SM_OK) {
            fprintf(stderr, "smartmirror: --summary: %s\n", err.msg);
            ok = false;
        }
    }
    if (to) {
        char *j = sm_session_summary_json(&sum);
        if (j)
            fprintf(to, "%s\n", j);
        free(j);
        fflush(to);
    }
    return ok;
}

/* The next frame from the capture thread, analysed and pushed into the
 * session: 1 with *r filled, 0 when none came within 100 ms or its analysis
 * failed (reported), -1 when the source has ended. */
static int next_result(pipeline *p, sm_frame *f, sm_mirror_result *r)
{
    int got = mb_take(&p->analysis, f, 100);
    if (got <= 0)
        return got;
    sm_error err = {0};
    if (analyse(p, f, r, &err) != SM_OK) {
        fprintf(stderr, "smartmirror: analysis of frame %lld failed: %s\n", (long long)f->index, err.msg);
        return 0;
    }
    session_push(p, r);
    return 1;
}

static void *analysis_main(void *arg)
{
    pipeline *p = arg;
    sm_frame f = {0};
    sm_mirror_result *r = calloc(1, sizeof *r);
    while (r && !g_stop) {
        int got = next_result(p, &f, r);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        pthread_mutex_lock(&p->mu);
        p->result = *r;
        p->have_result = true;
        p->result_seq++;
        pthread_mutex_unlock(&p->mu);
    }
    free(r);
    sm_frame_free(&f);
    return NULL;
}

/* ---- headless ------------------------------------------------------------------- */

/* --out: a stream written line by line. Truncated at start (one run, one
 * file), O_APPEND so concurrent writers never overwrite each other's lines,
 * O_CLOEXEC so ffmpeg (popen) does not inherit it, and O_NOFOLLOW: a symlink
 * planted at the path is refused (ELOOP) rather than followed onto another
 * file. A FIFO or /dev/null still works. */
static FILE *open_stream(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0)
        return NULL;
    FILE *f = fdopen(fd, "a");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return f;
}

static int run_headless(pipeline *p)
{
    FILE *out = stdout;
    if (p->o->out && !(out = open_stream(p->o->out))) {
        fprintf(stderr, "smartmirror: cannot write %s: %s%s\n", p->o->out, strerror(errno),
                errno == ELOOP ? " (a symlink: --out never writes through one; give the real file, or leave "
                                 "--out out for stdout)" : "");
        return 1;
    }
    sm_frame f = {0};
    sm_mirror_result *r = calloc(1, sizeof *r);
    long long n = 0;
    int rc = 0;
    while (r && !g_stop) {
        int got = next_result(p, &f, r);
        if (got < 0)
            break;
        if (got == 0)
            continue;
        char *line = sm_result_to_json(r, p->o->landmarks);
        if (!line || fprintf(out, "%s\n", line) < 0 || fflush(out) != 0) {
            fprintf(stderr, "smartmirror: cannot write the JSON output: %s\n", line ? strerror(errno) : "out of memory");
            free(line);
            rc = 1;
            break;
        }
        free(line);
        if (p->o->frames && ++n >= p->o->frames)
            break;
    }
    g_stop = 1; /* lets the capture thread finish */
    free(r);
    sm_frame_free(&f);
    if (out != stdout && fclose(out) != 0) {
        fprintf(stderr, "smartmirror: writing %s failed: %s\n", p->o->out, strerror(errno));
        rc = 1;
    }
    /* the summary: on stdout when the JSON lines went to a file, else on stderr */
    if (!session_end(p, p->o->out ? stdout : stderr))
        rc = 1;
    return rc;
}

/* ---- window ----------------------------------------------------------------------- */

typedef struct {
    SDL_Window *win;
    SDL_Renderer *ren;
    SDL_Texture *tex;
    sm_canvas c;
    int tw, th;
} window;

static void window_free(window *w)
{
    if (w->tex)
        SDL_DestroyTexture(w->tex);
    if (w->ren)
        SDL_DestroyRenderer(w->ren);
    if (w->win)
        SDL_DestroyWindow(w->win);
    free(w->c.px);
    memset(w, 0, sizeof *w);
}

static bool window_fit(window *w)
{
    int ow = 0, oh = 0;
    if (SDL_GetRendererOutputSize(w->ren, &ow, &oh) != 0 || ow <= 0 || oh <= 0)
        SDL_GetWindowSize(w->win, &ow, &oh);
    if (ow == w->tw && oh == w->th && w->tex)
        return true;
    if (w->tex)
        SDL_DestroyTexture(w->tex);
    w->tex = SDL_CreateTexture(w->ren, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, ow, oh);
    uint8_t *px = realloc(w->c.px, (size_t)ow * oh * 3);
    if (!w->tex || !px) {
        if (px)
            w->c.px = px;
        return false;
    }
    w->c = (sm_canvas){px, ow, oh, (size_t)ow * 3};
    w->tw = ow;
    w->th = oh;
    return true;
}

static void save_screenshot(const sm_canvas *c, const char *path)
{
    sm_error err = {0};
    if (sm_image_save(path, c->px, c->w, c->h, c->stride, &err) == SM_OK)
        printf("smartmirror: screenshot saved to %s (%dx%d)\n", path, c->w, c->h);
    else
        fprintf(stderr, "smartmirror: screenshot failed: %s\n", err.msg);
    fflush(stdout);
}

static int run_window(pipeline *p, window *w)
{
    const sm_viewer_opts *o = p->o;
    pthread_t an;
    if (pthread_create(&an, NULL, analysis_main, p) != 0) {
        fprintf(stderr, "smartmirror: cannot start the analysis thread\n");
        return 1;
    }
    sm_frame shown = {0}, incoming = {0};
    bool have_frame = false;
    sm_mirror_result *res = calloc(1, sizeof *res);
    bool have_res = false;
    sm_overlay_state ov = {0};
    ov.mirror = o->mirror;
    ov.mesh = o->landmarks;
    ov.source = o->source; /* not p->src->name: --loop replaces the source */
    ov.notes = p->an.notes;
    ov.session = p->session;
    ov.history_s = o->history_s;
    ov.advice_age_s = -1;
    ov.calib_done_s = -1;
    bool prev_calibrated = true;
    double calib_done_t = 0;
    /* the alert: a flash every time it starts, a chime at most every --sound-every s */
    SDL_AudioDeviceID audio = 0;
    float *chime = NULL;
    size_t chime_n = 0;
    if (o->sound) {
        SDL_AudioSpec want = {0}, have;
        want.freq = 44100;
        want.format = AUDIO_F32SYS;
        want.channels = 1;
        want.samples = 1024;
        if (SDL_InitSubSystem(SDL_INIT_AUDIO) == 0 &&
            (audio = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0)) != 0 &&
            (chime = malloc(sizeof(float) * (size_t)(want.freq * SM_CHIME_SECONDS + 1))) != NULL) {
            chime_n = sm_chime_render(chime, (size_t)(want.freq * SM_CHIME_SECONDS + 1), want.freq);
            SDL_PauseAudioDevice(audio, 0);
        } else {
            fprintf(stderr, "smartmirror: --sound: no audio output (%s): the alert only flashes\n", SDL_GetError());
            if (audio)
                SDL_CloseAudioDevice(audio);
            audio = 0;
        }
    }
    double last_chime = -1, flash_t = -1e9, advice_t = 0;
    bool prev_alert = false;
    int prev_actions = 0;
    double fps_t = now_s(), fps = 0;
    int fps_n = 0;
    long long rendered = 0;
    int rc = 0;
    bool fullscreen = false;
    char status[SM_ERROR_MAX], last_status[SM_ERROR_MAX] = "";
    unsigned long long seen_seq = 0;
    int rendered_once = 0;
    while (!g_stop && res) {
        SDL_Event ev;
        bool shot = false, dirty = false;
        while (SDL_PollEvent(&ev)) {
            dirty = true;
            if (ev.type == SDL_QUIT)
                g_stop = 1;
            else if (ev.type == SDL_KEYDOWN) {
                SDL_Keycode key = ev.key.keysym.sym;
                if (ov.quitting && key != SDLK_q && key != SDLK_ESCAPE) {
                    ov.quitting = ov.summary = false; /* stay */
                    continue;
                }
                switch (key) {
                case SDLK_q: case SDLK_ESCAPE:
                    /* the first q shows the session summary; the second quits */
                    pthread_mutex_lock(&p->mu);
                    bool has_session = sm_session_seconds(p->session) > 0;
                    pthread_mutex_unlock(&p->mu);
                    if (ov.quitting || !has_session)
                        g_stop = 1;
                    else
                        ov.quitting = ov.summary = true;
                    break;
                case SDLK_t: ov.summary = !ov.summary; ov.quitting = false; break;
                case SDLK_m: ov.mesh = !ov.mesh; break;
                case SDLK_p: ov.paused = !ov.paused; break;
                case SDLK_h: ov.help = !ov.help; break;
                case SDLK_c:
                    if (p->an.recalibrate)
                        p->an.recalibrate(&p->an);
                    break;
                case SDLK_s: shot = true; break;
                case SDLK_f:
                    fullscreen = !fullscreen;
                    SDL_SetWindowFullscreen(w->win, fullscreen ? SDL_WINDOW_FULLSCREEN_DESKTOP : 0);
                    break;
                default: break;
                }
            }
        }
        if (!ov.paused && mb_take(&p->display, &incoming, 0) == 1) {
            sm_frame t = shown;
            shown = incoming;
            incoming = t;
            have_frame = true;
            fps_n++;
            dirty = true;
        }
        double tnow = now_s();
        if (tnow - fps_t >= 0.5) {
            dirty = true;
            fps = fps_n / (tnow - fps_t);
            fps_t = tnow;
            fps_n = 0;
        }
        pthread_mutex_lock(&p->mu);
        if (p->have_result && !ov.paused && p->result_seq != seen_seq) {
            *res = p->result;
            have_res = true;
            seen_seq = p->result_seq;
            dirty = true;
            bool alert = res->fatigue.valid && res->fatigue.alert;
            if (alert && !prev_alert) {
                flash_t = now_s();
                if (audio && sm_chime_due(flash_t, &last_chime, o->sound_every)) {
                    SDL_ClearQueuedAudio(audio);
                    SDL_QueueAudio(audio, chime, (Uint32)(chime_n * sizeof(float)));
                }
            }
            prev_alert = alert;
            if (res->advisor.valid && res->advisor.n_actions != prev_actions) {
                prev_actions = res->advisor.n_actions;
                advice_t = res->t;
            }
            ov.advice_age_s = res->advisor.valid ? res->t - advice_t : -1;
            bool calibrated = !res->fatigue.valid || res->fatigue.calibrated;
            if (calibrated && !prev_calibrated)
                calib_done_t = now_s();
            prev_calibrated = calibrated;
        }
        bool ended = p->ended, failed = p->failed;
        snprintf(status, sizeof status, "%s", failed ? p->error : p->status);
        pthread_mutex_unlock(&p->mu);
        if (ov.ended != (ended && !failed) || strcmp(status, last_status) != 0 || rendered_once == 0)
            dirty = true;
        snprintf(last_status, sizeof last_status, "%s", status);
        ov.ended = ended && !failed;
        double since_calib = now_s() - calib_done_t;
        ov.calib_done_s = calib_done_t > 0 && since_calib < 4 ? since_calib : -1;
        if (ov.calib_done_s >= 0)
            dirty = true;
        double since_flash = now_s() - flash_t;
        ov.flash = since_flash < 1.5 ? (float)(1.0 - since_flash / 1.5) : 0.0f;
        if (ov.flash > 0)
            dirty = true;
        ov.status = status[0] ? status : NULL;
        ov.fps = fps;
        int ow = 0, oh = 0;
        if (SDL_GetRendererOutputSize(w->ren, &ow, &oh) == 0 && (ow != w->tw || oh != w->th))
            dirty = true;
        if (!dirty && !shot) {
            SDL_Delay(8);
            continue;
        }
        rendered_once = 1;
        if (!window_fit(w)) {
            fprintf(stderr, "smartmirror: cannot size the window picture: %s\n", SDL_GetError());
            rc = 1;
            break;
        }
        pthread_mutex_lock(&p->mu); /* the history plots read the session */
        sm_overlay_render(&w->c, have_frame ? &shown : NULL, have_res ? res : NULL, &ov);
        pthread_mutex_unlock(&p->mu);
        SDL_UpdateTexture(w->tex, NULL, w->c.px, (int)w->c.stride);
        SDL_RenderClear(w->ren);
        SDL_RenderCopy(w->ren, w->tex, NULL, NULL);
        SDL_RenderPresent(w->ren);
        if (shot) {
            char name[64];
            time_t tt = time(NULL);
            struct tm tmv;
            localtime_r(&tt, &tmv);
            strftime(name, sizeof name, "smartmirror-%Y%m%d-%H%M%S.bmp", &tmv);
            save_screenshot(&w->c, name);
        }
        /* --frames counts pictures that show something real: a frame with its
         * analysis, or the end / failure of the source */
        if ((have_frame && have_res) || ended)
            rendered++;
        if (o->frames && rendered >= o->frames) {
            if (o->screenshot)
                save_screenshot(&w->c, o->screenshot);
            break;
        }
        SDL_Delay(8);
    }
    g_stop = 1;
    pthread_join(an, NULL);
    if (audio)
        SDL_CloseAudioDevice(audio);
    free(chime);
    if (!session_end(p, stdout) && rc == 0)
        rc = 1;
    free(res);
    sm_frame_free(&shown);
    sm_frame_free(&incoming);
    return rc;
}

/* ---- setup ----------------------------------------------------------------------------- */

static sm_status open_source(const sm_viewer_opts *o, sm_source **src, sm_error *err)
{
    switch (o->kind) {
    case SM_SRC_VIDEO:
        return sm_source_open_video(o->source, o->fps, src, err);
    case SM_SRC_IMAGES:
        return sm_source_open_images(o->source, o->fps, src, err);
    default:
        return sm_source_open_camera(o->source, o->width, o->height, o->fps, NULL, src, err);
    }
}

static bool display_available(const char **why)
{
    const char *d = getenv("DISPLAY"), *wl = getenv("WAYLAND_DISPLAY");
    if ((!d || !*d) && (!wl || !*wl)) {
        *why = "DISPLAY and WAYLAND_DISPLAY are unset";
        return false;
    }
    return true;
}

/* Where the user's checkpoints were looked for (make run converts them into
 * the models folder; the program itself reads only .smw files). */
static void checkpoint_notes(const sm_viewer_opts *o)
{
    static const char *const names[][2] = {
        {"emotion_model_novel_finetuned.pth", SM_MODEL_EMOTION},
        {"fatigue_mlp.joblib", SM_MODEL_FATIGUE},
        {"best_model.pth", SM_MODEL_RPPG},
    };
    const char *dir = o->checkpoints ? o->checkpoints : getenv("SM_CHECKPOINTS");
    if (!dir || !*dir)
        dir = "../shared/seed/checkpoints";
    const char *mdir = o->models.models_dir ? o->models.models_dir : "models";
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char ck[2048], smw[2048];
        snprintf(smw, sizeof smw, "%s/%s", mdir, names[i][1]);
        if (access(smw, R_OK) == 0)
            continue;
        snprintf(ck, sizeof ck, "%s/%s", dir, names[i][0]);
        if (access(ck, R_OK) == 0)
            fprintf(stderr, "smartmirror: note: your checkpoint %s is there but not converted: "
                            "build/smw-convert '%s' -o '%s' (or make run)\n", ck, ck, smw);
        else
            fprintf(stderr, "smartmirror: note: looked for your checkpoint %s in %s (--checkpoints DIR): not there\n",
                    names[i][0], dir);
    }
}

int sm_viewer_main(int argc, char **argv)
{
    sm_viewer_opts o;
    sm_error err = {0};
    sm_viewer_config cfg;
    if (sm_precision_take_arg(&argc, argv, &err) != SM_OK) {
        fprintf(stderr, "smartmirror: %s\n", err.msg);
        return 2;
    }
    if (sm_viewer_config_load(argc, argv, &cfg, stderr, &err) != SM_OK) {
        fprintf(stderr, "smartmirror: %s\n", err.msg);
        return 2;
    }
    int rc_parse = sm_viewer_parse_args(cfg.argc, cfg.argv, &o, &err) != SM_OK;
    /* o keeps pointers to the strings (argv's and cfg.keys' values), not to cfg.argv */
    sm_viewer_config_free(&cfg);
    if (rc_parse) {
        fprintf(stderr, "smartmirror: %s%s\n", err.msg, cfg.n_keys ? " (command line or config file)" : "");
        fprintf(stderr, "Try 'smartmirror --help'.\n");
        return 2;
    }
    if (o.help || o.print_config) {
        if (o.help)
            fputs(sm_viewer_usage, stdout);
        else
            sm_viewer_config_print(&cfg, argc, argv, stdout);
        return 0;
    }
    if (o.reset_qtable) {
        char path[4096];
        const char *q = o.models.qtable;
        if (!q && sm_advisor_default_path(path, sizeof path, NULL) == SM_OK)
            q = path;
        if (q && *q) {
            if (unlink(q) == 0)
                fprintf(stderr, "smartmirror: the advisor starts afresh: removed %s\n", q);
            else if (errno == ENOENT)
                fprintf(stderr, "smartmirror: the advisor starts afresh (%s did not exist)\n", q);
            else
                fprintf(stderr, "smartmirror: --reset-qtable: cannot remove %s: %s\n", q, strerror(errno));
        }
    }
    if (o.list_cameras) {
        int n = sm_v4l2_list_cameras(stdout, NULL);
        if (n == 0)
            printf("no V4L2 capture devices found (/dev/video*); use --video FILE or --images DIR\n");
        return 0;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    bool headless = o.headless;
    window w = {0};
    if (!headless) {
        const char *why = NULL;
        if (!display_available(&why)) {
            if (o.screenshot) {
                fprintf(stderr, "smartmirror: --screenshot needs a display (%s); try xvfb-run\n", why);
                return 1;
            }
            fprintf(stderr, "smartmirror: no display (%s): running headless\n", why);
            headless = true;
        } else {
            SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
            if (SDL_Init(SDL_INIT_VIDEO) != 0) {
                if (o.screenshot) {
                    fprintf(stderr, "smartmirror: cannot open a window (%s)\n", SDL_GetError());
                    return 1;
                }
                fprintf(stderr, "smartmirror: no display (SDL: %s): running headless\n", SDL_GetError());
                headless = true;
            }
        }
    }

    sm_source *src = NULL;
    if (open_source(&o, &src, &err) != SM_OK) {
        fprintf(stderr, "smartmirror: %s\n", err.msg);
        if (o.kind == SM_SRC_CAMERA) {
            fprintf(stderr, "smartmirror: cameras on this machine:\n");
            if (sm_v4l2_list_cameras(stderr, NULL) == 0)
                fprintf(stderr, "  none (/dev/video*): use --video FILE or --images DIR\n");
        }
        if (!headless)
            SDL_Quit();
        return 1;
    }

    pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        sm_source_close(src);
        return 1;
    }
    p->o = &o;
    p->src = src;
    p->live = src->live || o.realtime;
    p->pace = !src->live && (o.realtime || !headless);
    p->window = !headless;
    mb_init(&p->analysis);
    mb_init(&p->display);
    pthread_mutex_init(&p->mu, NULL);
    o.models.live = p->live; /* models that lag behind run on their own threads */
    sm_viewer_analyzer_pipeline(&p->an);
    int rc = 0;
    if (sm_session_init(&p->session, &err) != SM_OK ||
        (o.record && sm_session_record(p->session, o.record, &err) != SM_OK)) {
        fprintf(stderr, "smartmirror: --record: %s\n", err.msg);
        rc = 1;
    } else if (p->an.init(&p->an, &o.models, &err) != SM_OK) {
        fprintf(stderr, "smartmirror: analysis cannot start: %s\n", err.msg);
        rc = 1;
    } else {
        /* what runs (models, the emotion model's precision, threads) and what is
         * off; on stderr, so --headless's JSON lines stay alone on stdout */
        fprintf(stderr, "smartmirror: analysis %s%s\n%s", p->an.name, p->an.notes[0] ? ":" : "", p->an.notes);
        if (p->an.notes[0])
            checkpoint_notes(&o);
    }

    if (rc == 0 && !headless) {
        w.win = SDL_CreateWindow("smartmirror", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, o.win_w, o.win_h,
                                 SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
        if (w.win) {
            w.ren = SDL_CreateRenderer(w.win, -1, SDL_RENDERER_ACCELERATED);
            if (!w.ren)
                w.ren = SDL_CreateRenderer(w.win, -1, SDL_RENDERER_SOFTWARE);
        }
        if (!w.win || !w.ren) {
            fprintf(stderr, "smartmirror: cannot open a window (%s)%s\n", SDL_GetError(),
                    o.screenshot ? "" : ": running headless");
            window_free(&w);
            if (o.screenshot)
                rc = 1;
            headless = true;
            p->window = false;
            p->pace = !src->live && o.realtime;
        }
    }

    if (rc == 0) {
        pthread_t cap;
        if (pthread_create(&cap, NULL, capture_main, p) != 0) {
            fprintf(stderr, "smartmirror: cannot start the capture thread\n");
            rc = 1;
        } else {
            rc = headless ? run_headless(p) : run_window(p, &w);
            g_stop = 1;
            pthread_join(cap, NULL);
            if (p->failed) {
                fprintf(stderr, "smartmirror: %s\n", p->error);
                rc = 1;
            }
        }
    }
    p->an.free(&p->an);
    sm_session_free(p->session);
    window_free(&w);
    if (!o.headless && SDL_WasInit(SDL_INIT_VIDEO))
        SDL_Quit();
    mb_destroy(&p->analysis);
    mb_destroy(&p->display);
    pthread_mutex_destroy(&p->mu);
    sm_source_close(p->src); /* --loop may have reopened it */
    free(p);
    return rc;
}
