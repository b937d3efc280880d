/* Bump arena and aligned heap blocks. */
#include "sm_engine.h"

#include <stdlib.h>
#include <string.h>

void *sm_aligned_alloc(size_t size)
{
    size_t rounded;
    if (!sm_size_add(size ? size : 1, 63, &rounded))
        return NULL;
    rounded &= ~(size_t)63;
    return aligned_alloc(64, rounded);
}

void sm_aligned_free(void *p) { free(p); }

sm_status sm_arena_init(sm_arena *arena, size_t capacity, sm_error *err)
{
    memset(arena, 0, sizeof *arena);
    arena->base = sm_aligned_alloc(capacity);
    if (!arena->base)
        return sm_error_set(err, SM_ERR_NOMEM, "arena: cannot allocate %zu bytes", capacity);
    arena->capacity = capacity;
    return SM_OK;
}

void *sm_arena_alloc(sm_arena *arena, size_t size, size_t align)
{
    if (align == 0)
        align = 64;
    if (align & (align - 1))
        return NULL;
    size_t start = (arena->used + align - 1) & ~(align - 1);
    size_t end;
    if (start < arena->used || !sm_size_add(start, size, &end) || end > arena->capacity)
        return NULL;
    arena->used = end;
    if (end > arena->high_water)
        arena->high_water = end;
    return arena->base + start;
}

void sm_arena_reset(sm_arena *arena) { arena->used = 0; }

void sm_arena_free(sm_arena *arena)
{
    if (!arena)
        return;
    sm_aligned_free(arena->base);
    memset(arena, 0, sizeof *arena);
}
