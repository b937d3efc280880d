/* libFuzzer entry point for the advisor's Q-table file reader
 * (sm_qtable_parse, what sm_advisor_init reads back from disk); a table it
 * accepts must serialise and parse again to the same entries. */
// SOURCES: engine/core/*.c app/advisor.c
#include "advisor.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sm_qentry *q = NULL;
    size_t n = 0;
    sm_error err;
    if (sm_qtable_parse((const char *)data, size, "fuzz.qtable", &q, &n, &err) != SM_OK)
        return 0;
    char *buf = NULL;
    size_t len = 0;
    if (sm_qtable_serialize(q, n, &buf, &len, &err) == SM_OK) {
        sm_qentry *q2 = NULL;
        size_t n2 = 0;
        if (sm_qtable_parse(buf, len, "fuzz.qtable (again)", &q2, &n2, &err) != SM_OK || n2 != n)
            abort();
        free(q2);
    }
    free(buf);
    free(q);
    return 0;
}
