/* The wellness advisor: app.py's tabular Q-learning agent (RLAgent) and its
 * compute_reward, scheduled on the frame clock (DESIGN 7.5).
 *
 * State key   (emotion label, round(p_drowsy, 1), int(stress // 20)) with
 *             Python's rounding (ties to even on the exact binary value) and
 *             floor division; stored as (label, tenths, bin).
 * Actions     0 nothing, 1 short break, 2 power nap; greedy argmax with ties to
 *             the lowest action (np.argmax). app.py never explores (epsilon 0);
 *             a positive epsilon draws from a seeded xorshift generator.
 * Update      Q[s][a] += lr * (reward + gamma * max Q[s'] - Q[s][a]),
 *             lr 0.1, gamma 0.9.
 * Schedule    app.py: an action when more than 180 s have passed since the last
 *             one (the first frame acts at once, as app.py's clock starts at 0),
 *             the reward when more than 15 s have passed since that action.
 *
 * Persistence: a text file, written atomically (temp, fsync, rename) after
 * every update and by sm_advisor_save:
 *     smartmirror-qtable 1
 *     entries <n>
 *     <label> <tenths> <bin> <q0> <q1> <q2>        (n lines, %.17g)
 *     crc32 <8 hex digits of every byte above this line>
 * A file that is truncated, corrupt, of another version or fails its checksum
 * is renamed to <path>.corrupt, reported (sm_advisor_load_note, and a warning
 * in the log) and the agent starts empty: never silently reused. */
#ifndef SM_ADVISOR_H
#define SM_ADVISOR_H

#include "sm_engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_ADVISOR_ACTIONS 3
#define SM_ADVISOR_LABEL_MAX 31
#define SM_ADVISOR_FORMAT_VERSION 1

typedef struct {
    const char *emotion;   /* label, "neutral" when there is none (app.py) */
    double p_drowsy;
    double stress;         /* 0..100 */
} sm_advisor_state;

typedef struct {
    char label[SM_ADVISOR_LABEL_MAX + 1];
    int tenths;            /* round(p_drowsy, 1) * 10 */
    int stress_bin;        /* stress // 20 */
    double q[SM_ADVISOR_ACTIONS];
} sm_qentry;

typedef struct {
    const char *path;      /* NULL: default path; "": no persistence */
    double lr, gamma, epsilon;
    uint64_t seed;
    double period_s, reward_delay_s;
} sm_advisor_config;

/* app.py's values: lr 0.1, gamma 0.9, epsilon 0, 180 s, 15 s, seed 1, default path. */
sm_advisor_config sm_advisor_config_default(void);

typedef struct sm_advisor sm_advisor;

/* Loads the table from the path if it exists (see above for bad files). */
sm_status sm_advisor_init(sm_advisor **out, const sm_advisor_config *cfg, sm_error *err);
void sm_advisor_free(sm_advisor *a);
/* What happened to the file at init: "" (loaded or absent) or a message. */
const char *sm_advisor_load_note(const sm_advisor *a);
const char *sm_advisor_path(const sm_advisor *a);   /* "" when not persisted */
/* $XDG_STATE_HOME/smartmirror/qtable.txt, else $HOME/.local/state/smartmirror/qtable.txt. */
sm_status sm_advisor_default_path(char *buf, size_t cap, sm_error *err);

/* RLAgent.get_action and RLAgent.update. */
int sm_advisor_get_action(sm_advisor *a, const sm_advisor_state *s);
void sm_advisor_update(sm_advisor *a, const sm_advisor_state *new_state, double reward);
/* compute_reward(prev, new). */
double sm_advisor_reward(const sm_advisor_state *prev, const sm_advisor_state *now);

typedef struct {
    bool acted;            /* an action was chosen on this call */
    int action;
    bool rewarded;         /* a reward was computed and learned on this call */
    double reward;
    bool has_action, has_reward; /* last_action / last_reward hold a value */
    int last_action;
    double last_reward;
} sm_advisor_event;

/* Once per frame: t = frame timestamp (s). Saves after each update when
 * persistent (a failed save is logged and the table kept in memory). */
void sm_advisor_step(sm_advisor *a, double t, const sm_advisor_state *s, sm_advisor_event *ev);

sm_status sm_advisor_save(sm_advisor *a, sm_error *err);

/* The table in insertion order. */
size_t sm_advisor_size(const sm_advisor *a);
const sm_qentry *sm_advisor_entry(const sm_advisor *a, size_t i);
const sm_qentry *sm_advisor_find(const sm_advisor *a, const char *label, int tenths, int bin);
/* Key helpers (Python round(x, 1) in tenths, int(x // 20)). */
int sm_advisor_round_tenths(double x);
int sm_advisor_stress_bin(double stress);

/* Serialise / parse the file format (exposed for tests). */
sm_status sm_qtable_serialize(const sm_qentry *e, size_t n, char **buf, size_t *len, sm_error *err);
sm_status sm_qtable_parse(const char *buf, size_t len, const char *name, sm_qentry **out,
                          size_t *n, sm_error *err);

#endif
