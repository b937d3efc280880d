/* Shared loader steps of the seed models; see model_load.h. */
#include "model_load.h"

sm_status sm_model_expect_arch(const sm_smw *f, const char *arch, sm_error *err)
{
    if (sm_smw_arch_is(f, arch))
        return SM_OK;
    const sm_meta *a = sm_smw_find_meta(f, "general.architecture");
    if (a && a->type == SM_META_STRING)
        return sm_error_set(err, SM_ERR_FORMAT, "%s: architecture '%.*s', expected '%s'", f->path,
                            (int)(a->v.str.len > 64 ? 64 : a->v.str.len), a->v.str.ptr, arch);
    return sm_error_set(err, SM_ERR_FORMAT, "%s: no string metadata 'general.architecture' (expected '%s')", f->path,
                        arch);
}

sm_status sm_model_f32(const sm_smw *f, const char *name, uint32_t ndim, int64_t d0, int64_t d1, int64_t d2,
                       int64_t d3, const float **out, sm_error *err)
{
    const int64_t dims[4] = {d0, d1, d2, d3};
    const sm_tensor_info *t;
    sm_status st = sm_smw_get_tensor(f, name, SM_DTYPE_F32, ndim, dims, &t, err);
    if (st == SM_OK)
        *out = t->data;
    return st;
}
