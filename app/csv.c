/* Line and field reading for the analysis' CSV files; see csv.h. */
#include "csv.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static sm_status take_text(sm_csv *c, uint8_t *buf, size_t len, sm_error *err)
{
    char *t = realloc(buf, len + 1);
    if (!t) {
        free(buf);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c->name);
    }
    t[len] = '\0';
    if (strlen(t) != len) {
        free(t);
        return sm_error_set(err, SM_ERR_FORMAT, "%s: NUL byte in a text file", c->name);
    }
    c->text = c->cur = t;
    return SM_OK;
}

static void set_name(sm_csv *c, const char *name)
{
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name ? name : "(csv)");
}

sm_status sm_csv_open(const char *path, size_t max_bytes, sm_csv *c, sm_error *err)
{
    set_name(c, path);
    uint8_t *buf;
    size_t len;
    sm_status st = sm_file_read_all(path, max_bytes, &buf, &len, err);
    return st != SM_OK ? st : take_text(c, buf, len, err);
}

sm_status sm_csv_from_memory(const char *name, const void *data, size_t len, sm_csv *c, sm_error *err)
{
    set_name(c, name);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", c->name);
    if (len)
        memcpy(buf, data, len);
    return take_text(c, buf, len, err);
}

void sm_csv_close(sm_csv *c)
{
    if (!c)
        return;
    free(c->text);
    c->text = c->cur = NULL;
}

char *sm_csv_next(sm_csv *c)
{
    char *s = c->cur;
    if (!s || !*s)
        return NULL;
    char *e = strchr(s, '\n');
    if (e) {
        *e = '\0';
        c->cur = e + 1;
    } else {
        c->cur = s + strlen(s);
    }
    size_t l = strlen(s);
    if (l && s[l - 1] == '\r')
        s[l - 1] = '\0';
    c->line++;
    return s;
}

sm_status sm_csv_header(sm_csv *c, const char *header, sm_error *err)
{
    const char *l = sm_csv_next(c);
    if (!l || strcmp(l, header) != 0)
        return sm_error_set(err, SM_ERR_FORMAT, "%s:1: expected the header '%s', found '%.80s'", c->name, header,
                            l ? l : "(empty file)");
    return SM_OK;
}

int sm_csv_split(char *line, char **f, int max)
{
    int n = 0;
    for (char *p = line;;) {
        if (n == max)
            return max + 1;
        f[n++] = p;
        char *comma = strchr(p, ',');
        if (!comma)
            break;
        *comma = '\0';
        p = comma + 1;
    }
    return n;
}

bool sm_csv_number(const char *s, double *v)
{
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    return end != s && !*end && errno != ERANGE;
}
