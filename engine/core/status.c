/* Status codes, error messages and logging. */
#include "sm_engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

sm_status sm_error_set(sm_error *err, sm_status st, const char *fmt, ...)
{
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}

void sm_error_prefix(sm_error *err, const char *fmt, ...)
{
    if (!err)
        return;
    char prefix[SM_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    char joined[2 * SM_ERROR_MAX + 2];
    snprintf(joined, sizeof joined, "%s: %s", prefix, err->msg);
    memcpy(err->msg, joined, SM_ERROR_MAX - 1);
    err->msg[SM_ERROR_MAX - 1] = '\0';
}

void sm_error_clear(sm_error *err)
{
    if (err) {
        err->status = SM_OK;
        err->msg[0] = '\0';
    }
}

void sm_assert_fail(const char *cond, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: assertion '%s' failed\n", file, line, func, cond);
    fflush(stderr);
    abort();
}

const char *sm_status_name(sm_status st)
{
    switch (st) {
    case SM_OK: return "ok";
    case SM_ERR_IO: return "I/O error";
    case SM_ERR_FORMAT: return "format error";
    case SM_ERR_SHAPE: return "shape error";
    case SM_ERR_UNSUPPORTED: return "unsupported";
    case SM_ERR_NOMEM: return "out of memory";
    case SM_ERR_ARG: return "bad argument";
    }
    return "unknown status";
}

static int log_level = -1;

static sm_log_level log_level_from_env(void)
{
    const char *s = getenv("SM_LOG_LEVEL");
    if (!s)
        return SM_LOG_WARN;
    if (!strcmp(s, "error")) return SM_LOG_ERROR;
    if (!strcmp(s, "info")) return SM_LOG_INFO;
    if (!strcmp(s, "debug")) return SM_LOG_DEBUG;
    return SM_LOG_WARN;
}

sm_log_level sm_log_get_level(void)
{
    if (log_level < 0)
        log_level = (int)log_level_from_env();
    return (sm_log_level)log_level;
}

void sm_log_set_level(sm_log_level level) { log_level = (int)level; }

void sm_log(sm_log_level level, const char *fmt, ...)
{
    if (level > sm_log_get_level())
        return;
    static const char *const names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "smartmirror %s: ", names[level]);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void sm_notes_append(char *buf, size_t cap, const char *fmt, ...)
{
    size_t used = strlen(buf);
    if (used + 2 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + used, cap - used - 1, fmt, ap);
    va_end(ap);
    used = strlen(buf);
    buf[used] = '\n';
    buf[used + 1] = '\0';
}
