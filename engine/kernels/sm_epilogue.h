/* Shared epilogue for kernels that include sm_simd.h: residual add, then activation. */
#ifndef SM_EPILOGUE_H
#define SM_EPILOGUE_H

static inline vf sm_epi_act(vf v, sm_act act, const float *alpha)
{
    switch (act) {
    case SM_ACT_RELU: return v_max(v, v_zero());
    case SM_ACT_SILU: return v_silu(v);
    case SM_ACT_SIGMOID: return v_sigmoid(v);
    case SM_ACT_PRELU: return v_prelu(v, v_load(alpha));
    default: return v;
    }
}

/* Stores n (1..VN) lanes of act(v + residual) to out. */
static inline void sm_epi_store(float *out, vf v, size_t n, const float *res, sm_act act,
                                const float *alpha)
{
    if (n == VN) {
        if (res)
            v = v_add(v, v_load(res));
        v_store(out, sm_epi_act(v, act, alpha));
    } else {
        if (res)
            v = v_add(v, v_loadn(res, n));
        v_storen(out, sm_epi_act(v, act, alpha), n);
    }
}

#endif
