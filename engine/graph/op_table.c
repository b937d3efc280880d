/* The public view of the executor's op table (graph_ops.inc): names, operand
 * counts and attribute keys, with no reference to the ops' code, so that the
 * converters (and their fuzzers) can ask what the executor runs without
 * linking the kernels. engine/graph/graph.c expands the same list, in the same
 * order, into the ops' implementations. */
#include "sm_graph.h"

#include <string.h>

static const sm_graph_op_info ops[] = {
#define SM_GRAPH_OP(NAME, impl, min_in, max_in, n_out, operands, attributes) \
    {#NAME, min_in, max_in, n_out, operands, attributes},
#include "graph_ops.inc"
#undef SM_GRAPH_OP
};

#define N_OPS (sizeof ops / sizeof *ops)
#define CUSTOM_PREFIX "CUSTOM:"

size_t sm_graph_op_count(void) { return N_OPS; }

const sm_graph_op_info *sm_graph_op_at(size_t i) { return i < N_OPS ? &ops[i] : NULL; }

static const sm_graph_op_info *exact(const char *name, size_t len)
{
    for (size_t i = 0; i < N_OPS; i++)
        if (strlen(ops[i].name) == len && memcmp(ops[i].name, name, len) == 0)
            return &ops[i];
    return NULL;
}

const sm_graph_op_info *sm_graph_find_op_n(const char *name, size_t len)
{
    if (!name)
        return NULL;
    /* CUSTOM:<code> with a non-empty code; a bare "CUSTOM" names no hook */
    size_t np = sizeof CUSTOM_PREFIX - 1;
    if (len >= np - 1 && memcmp(name, CUSTOM_PREFIX, np - 1) == 0)
        return len > np && name[np - 1] == ':' ? exact(CUSTOM_PREFIX, np - 1) : NULL;
    return exact(name, len);
}

const sm_graph_op_info *sm_graph_find_op(const char *name) { return name ? sm_graph_find_op_n(name, strlen(name)) : NULL; }

bool sm_graph_op_reads(const sm_graph_op_info *op, const char *key)
{
    if (!op || !key || !*key)
        return false;
    if (!strcmp(op->name, "CUSTOM"))
        return true;
    size_t n = strlen(key);
    for (const char *p = op->attributes; (p = strstr(p, key)) != NULL; p += n)
        if ((p == op->attributes || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
            return true;
    return false;
}
