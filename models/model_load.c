/* Shared loader steps of the seed models; see model_load.h. */
#include "model_load.h"

#include <math.h>
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

sm_status sm_model_meta_u32(const sm_smw *f, const char *key, uint32_t def, uint32_t lo, uint32_t hi,
                            uint32_t *out, sm_error *err)
{
    *out = def;
    if (!sm_smw_find_meta(f, key))
        return SM_OK;
    sm_status st = sm_smw_meta_u32(f, key, out, err);
    if (!st && (*out < lo || *out > hi))
        st = sm_error_set(err, SM_ERR_FORMAT, "%s: metadata '%s' is %u, expected %u..%u", f->path, key, *out, lo,
                          hi);
    return st;
}

sm_status sm_model_input_norm(const sm_smw *f, float mean[3], float std[3], sm_error *err)
{
    for (int c = 0; c < 3; c++) {
        mean[c] = 0.0f;
        std[c] = 1.0f;
    }
    sm_status st = SM_OK;
    if (sm_smw_find_meta(f, "input.mean"))
        st = sm_smw_meta_f32_array(f, "input.mean", mean, 3, err);
    if (!st && sm_smw_find_meta(f, "input.std"))
        st = sm_smw_meta_f32_array(f, "input.std", std, 3, err);
    if (st)
        return st;
    for (int c = 0; c < 3; c++)
        if (!isfinite(mean[c]) || !isfinite(std[c]) || std[c] == 0.0f)
            return sm_error_set(err, SM_ERR_FORMAT, "%s: metadata input.mean[%d] = %g / input.std[%d] = %g: "
                                "expected finite values and a non-zero std", f->path, c, mean[c], c, std[c]);
    return SM_OK;
}
