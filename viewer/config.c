/* The config file (format and keys in config.h). */
#include "config.h"

#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_VALUE, K_BOOL } key_kind;

/* key, option, kind, option when "no" (bools), other options that override it, default shown by --print-config */
static const struct {
    const char *key, *opt;
    key_kind kind;
    const char *opt_no, *also[2], *def;
} keys[] = {
    {"camera", "--camera", K_VALUE, NULL, {"--video", "--images"}, "/dev/video0"},
    {"video", "--video", K_VALUE, NULL, {"--camera", "--images"}, "(none)"},
    {"images", "--images", K_VALUE, NULL, {"--camera", "--video"}, "(none)"},
    {"size", "--size", K_VALUE, NULL, {NULL, NULL}, "1280x760"},
    {"models", "--models", K_VALUE, NULL, {NULL, NULL}, "models"},
    {"emotion", "--emotion", K_VALUE, NULL, {NULL, NULL}, "MODELS/emotion.smw"},
    {"fatigue", "--fatigue", K_VALUE, NULL, {NULL, NULL}, "MODELS/fatigue_mlp.smw"},
    {"rppg", "--rppg", K_VALUE, NULL, {NULL, NULL}, "MODELS/ultralight_rppg.smw"},
    {"face-detector", "--face-detector", K_VALUE, NULL, {NULL, NULL}, "MODELS/face_detection_short_range.smw"},
    {"face-mesh", "--face-mesh", K_VALUE, NULL, {NULL, NULL}, "MODELS/face_landmark_with_attention.smw"},
    {"refine", NULL, K_BOOL, "--no-refine", {NULL, NULL}, "yes"},
    {"threads", "--threads", K_VALUE, NULL, {NULL, NULL}, "all cores"},
    {"emotion-hz", "--emotion-hz", K_VALUE, NULL, {NULL, NULL}, "10"},
    {"qtable", "--qtable", K_VALUE, NULL, {"--no-qtable", NULL}, "$XDG_STATE_HOME/smartmirror/qtable.txt"},
    {"history", "--history", K_VALUE, NULL, {NULL, NULL}, "5m"},
    {"sound", "--sound", K_BOOL, "--no-sound", {NULL, NULL}, "no"},
    {"sound-every", "--sound-every", K_VALUE, NULL, {NULL, NULL}, "60"},
    {"mirror", NULL, K_BOOL, "--no-mirror", {NULL, NULL}, "yes"},
    {"checkpoints", "--checkpoints", K_VALUE, NULL, {NULL, NULL}, "../shared/seed/checkpoints"},
};
#define N_KEYS (int)(sizeof keys / sizeof *keys)

/* $XDG_CONFIG_HOME/smartmirror/config or $HOME/.config/smartmirror/config. */
static sm_status sm_viewer_config_default_path(char *buf, size_t cap, sm_error *err)
{
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(buf, cap, "%s/smartmirror/config", xdg);
    else if (home && home[0])
        n = snprintf(buf, cap, "%s/.config/smartmirror/config", home);
    else
        return sm_error_set(err, SM_ERR_ARG, "neither XDG_CONFIG_HOME nor HOME is set: no config file");
    if (n < 0 || (size_t)n >= cap)
        return sm_error_set(err, SM_ERR_ARG, "config path too long");
    return SM_OK;
}

static int find_key(const char *k)
{
    for (int i = 0; i < N_KEYS; i++)
        if (!strcmp(keys[i].key, k))
            return i;
    return -1;
}

static int parse_bool(const char *v)
{
    if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on") || !strcmp(v, "1"))
        return 1;
    if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off") || !strcmp(v, "0"))
        return 0;
    return -1;
}

/* The command line names this key (or one that overrides it). */
static bool on_command_line(int k, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((keys[k].opt && !strcmp(a, keys[k].opt)) || (keys[k].opt_no && !strcmp(a, keys[k].opt_no)) ||
            (keys[k].also[0] && !strcmp(a, keys[k].also[0])) || (keys[k].also[1] && !strcmp(a, keys[k].also[1])))
            return true;
    }
    return false;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* The options a config entry stands for: 0, 1 or 2 tokens. */
static int entry_tokens(int k, const char *value, const char **tok)
{
    if (keys[k].kind == K_BOOL) {
        int b = parse_bool(value);
        if (b == 1 && keys[k].opt) {
            tok[0] = keys[k].opt;
            return 1;
        }
        if (b == 0) {
            tok[0] = keys[k].opt_no;
            return 1;
        }
        return 0;
    }
    tok[0] = keys[k].opt;
    tok[1] = value;
    return 2;
}

static sm_status read_file(sm_viewer_config *c, const char *path, bool must_exist, FILE *warn, sm_error *err)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT && !must_exist)
            return SM_OK;
        return sm_error_set(err, SM_ERR_IO, "config %s: cannot read: %s", path, strerror(errno));
    }
    snprintf(c->path, sizeof c->path, "%s", path);
    char line[2048];
    int ln = 0;
    sm_status st = SM_OK;
    while (st == SM_OK && fgets(line, sizeof line, f)) {
        ln++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            st = sm_error_set(err, SM_ERR_ARG, "%s:%d: line longer than %zu bytes", path, ln, sizeof line - 2);
            break;
        }
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            st = sm_error_set(err, SM_ERR_ARG, "%s:%d: expected 'key = value', found '%.60s'", path, ln, s);
            break;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        int idx = find_key(k);
        if (!*k) {
            st = sm_error_set(err, SM_ERR_ARG, "%s:%d: a value without a key", path, ln);
            break;
        }
        if (idx < 0) {
            if (warn)
                fprintf(warn, "smartmirror: warning: %s:%d: unknown key '%.40s' (ignored; keys: smartmirror --help)\n",
                        path, ln, k);
            continue;
        }
        if (keys[idx].kind == K_BOOL && parse_bool(v) < 0) {
            st = sm_error_set(err, SM_ERR_ARG, "%s:%d: %s: '%.60s' is not yes or no", path, ln, k, v);
            break;
        }
        /* the value alone through the command-line parser: its checks, this line's name */
        const char *tok[2] = {NULL, NULL};
        int nt = entry_tokens(idx, v, tok);
        if (nt > 0) {
            char *av[4] = {"smartmirror", (char *)tok[0], (char *)tok[1], NULL};
            sm_viewer_opts scratch;
            sm_error e = {0};
            if (sm_viewer_parse_args(1 + nt, av, &scratch, &e) != SM_OK) {
                st = sm_error_set(err, SM_ERR_ARG, "%s:%d: %s", path, ln, e.msg);
                break;
            }
        }
        if (c->n_keys >= (int)(sizeof c->keys / sizeof *c->keys)) {
            st = sm_error_set(err, SM_ERR_ARG, "%s:%d: too many settings", path, ln);
            break;
        }
        for (int j = 0; j < c->n_keys; j++)
            if (!strcmp(c->keys[j].key, k))
                c->keys[j].used = 0; /* the later line wins */
        snprintf(c->keys[c->n_keys].key, sizeof c->keys[0].key, "%s", k);
        snprintf(c->keys[c->n_keys].value, sizeof c->keys[0].value, "%s", v);
        c->keys[c->n_keys].line = ln;
        c->keys[c->n_keys].used = 1;
        c->n_keys++;
    }
    if (st == SM_OK && ferror(f))
        st = sm_error_set(err, SM_ERR_IO, "config %s: read error", path);
    fclose(f);
    return st;
}

sm_status sm_viewer_config_load(int argc, char **argv, sm_viewer_config *c, FILE *warn, sm_error *err)
{
    memset(c, 0, sizeof *c);
    const char *explicit_path = NULL;
    bool none = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-config"))
            none = true;
        else if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc || !argv[i + 1][0])
                return sm_error_set(err, SM_ERR_ARG, "--config needs a file");
            explicit_path = argv[++i];
        }
    }
    sm_status st = SM_OK;
    if (!none) {
        char def[1024];
        if (explicit_path)
            st = read_file(c, explicit_path, true, warn, err);
        else if (sm_viewer_config_default_path(def, sizeof def, NULL) == SM_OK)
            st = read_file(c, def, false, warn, err);
        if (st != SM_OK)
            return st;
    }
    c->argv = calloc((size_t)argc + 2 * (size_t)c->n_keys + 1, sizeof *c->argv);
    if (!c->argv)
        return sm_error_set(err, SM_ERR_NOMEM, "out of memory");
    c->argv[c->argc++] = argv[0];
    for (int j = 0; j < c->n_keys; j++) {
        int k = find_key(c->keys[j].key);
        if (!c->keys[j].used)
            continue;
        if (on_command_line(k, argc, argv)) {
            c->keys[j].used = 0;
            continue;
        }
        const char *tok[2] = {NULL, NULL};
        int nt = entry_tokens(k, c->keys[j].value, tok);
        for (int t = 0; t < nt; t++)
            c->argv[c->argc++] = (char *)tok[t];
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--no-config"))
            continue;
        if (!strcmp(argv[i], "--config")) {
            i++;
            continue;
        }
        c->argv[c->argc++] = argv[i];
    }
    c->argv[c->argc] = NULL;
    return SM_OK;
}

void sm_viewer_config_free(sm_viewer_config *c)
{
    if (!c)
        return;
    free(c->argv);
    c->argv = NULL;
}

void sm_viewer_config_print(const sm_viewer_config *c, int argc, char **argv, FILE *out)
{
    fprintf(out, "# config file: %s\n", c->path[0] ? c->path : "(none read)");
    for (int k = 0; k < N_KEYS; k++) {
        const char *value = keys[k].def, *origin = "default";
        char where[1100], val[1100];
        bool found = false;
        for (int i = argc - 1; i >= 1 && !found; i--) {
            const char *a = argv[i];
            bool as_value = keys[k].opt && !strcmp(a, keys[k].opt) && keys[k].kind == K_VALUE && i + 1 < argc;
            if (as_value || (keys[k].opt && keys[k].kind == K_BOOL && !strcmp(a, keys[k].opt)) ||
                (keys[k].opt_no && !strcmp(a, keys[k].opt_no))) {
                value = as_value ? argv[i + 1] : (keys[k].opt_no && !strcmp(a, keys[k].opt_no)) ? "no" : "yes";
                origin = "command line";
                found = true;
            } else if ((keys[k].also[0] && !strcmp(a, keys[k].also[0])) ||
                       (keys[k].also[1] && !strcmp(a, keys[k].also[1]))) {
                value = "(not used)";
                snprintf(val, sizeof val, "command line %s", a);
                origin = val;
                found = true;
            }
        }
        for (int j = c->n_keys - 1; j >= 0 && !found; j--)
            if (!strcmp(c->keys[j].key, keys[k].key)) {
                value = c->keys[j].value;
                snprintf(where, sizeof where, "%s:%d", c->path, c->keys[j].line);
                origin = where;
                found = true;
            }
        fprintf(out, "%-14s = %-40s # %s\n", keys[k].key, value, origin);
    }
}
