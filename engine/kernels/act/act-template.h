/* Activation kernels: VRELU_FN, VSILU_FN, VSIGMOID_FN, PRELU_FN. */
#define SM_VUNARY_BODY(OP)                             \
    size_t i = 0;                                      \
    for (; i + VN <= n; i += VN)                       \
        v_store(y + i, OP(v_load(x + i)));             \
    if (i < n)                                         \
        v_storen(y + i, OP(v_loadn(x + i, n - i)), n - i);

static inline vf act_relu(vf v) { return v_max(v, v_zero()); }

void VRELU_FN(size_t n, const float *x, float *y) { SM_VUNARY_BODY(act_relu) }
void VSILU_FN(size_t n, const float *x, float *y) { SM_VUNARY_BODY(v_silu) }
void VSIGMOID_FN(size_t n, const float *x, float *y) { SM_VUNARY_BODY(v_sigmoid) }

void PRELU_FN(size_t pixels, size_t channels, const float *x, const float *alpha, float *y)
{
    SM_VCHANNEL_BODY(v_prelu, pixels, channels, x, alpha, y)
}
