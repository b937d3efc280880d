/* JSON output for the tools; see json_print.h. The escaping is the one of
 * app/json_writer.c (the session summary and the per-frame lines). */
#include "json_print.h"
#include "json_writer.h"

#include <stdlib.h>

void sm_json_print_string(FILE *f, const char *s, size_t n)
{
    sm_json b = {0};
    sm_json_strn(&b, s, n);
    char *text = sm_json_finish(&b);
    /* out of memory: null keeps the output valid JSON */
    fputs(text ? text : "null", f);
    free(text);
}
