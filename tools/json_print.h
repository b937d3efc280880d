/* json_print.h: JSON output of the command-line tools (smw-info --json,
 * smw-run's result lines). */
#ifndef SM_JSON_PRINT_H
#define SM_JSON_PRINT_H

#include <stddef.h>
#include <stdio.h>

/* s[0, n) as a JSON string: quotes, '"' and '\' escaped, control bytes as
 * \u00XX; other bytes (UTF-8 included) pass through. */
void sm_json_print_string(FILE *f, const char *s, size_t n);

#endif
