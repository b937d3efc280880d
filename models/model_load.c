/* Shared loader steps of the seed models; see model_load.h. */
#include "model_load.h"

#include <stdlib.h>
#include <string.h>

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

sm_status sm_model_new(const sm_smw *f, const char *arch, size_t size, void **out, sm_error *err)
{
    *out = NULL;
    sm_status st = sm_model_expect_arch(f, arch, err);
    if (st)
        return st;
    if (!(*out = calloc(1, size)))
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", f->path);
    return SM_OK;
}

sm_status sm_model_conv(const sm_smw *f, const char *wname, const char *bname, bool depthwise, uint32_t cin,
                        uint32_t cout, uint32_t k, uint32_t stride, sm_act act, sm_conv_desc *d, sm_error *err)
{
    memset(d, 0, sizeof *d);
    const float *w, *b = NULL;
    sm_status st = sm_model_f32(f, wname, 4, cout, depthwise ? 1 : cin, k, k, &w, err);
    if (!st && bname)
        st = sm_model_f32(f, bname, 1, cout, 0, 0, 0, &b, err);
    if (st)
        return st;
    d->in_ch = cin;
    d->out_ch = cout;
    d->kh = d->kw = k;
    d->stride_h = d->stride_w = stride;
    d->pad = sm_padding_sym((k - 1) / 2);
    d->layout = SM_WLAYOUT_OIHW;
    d->weights = w;
    d->bias = b;
    d->act = act;
    d->name = wname;
    return SM_OK;
}
