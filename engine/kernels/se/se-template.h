/* SE gate kernel: SE_FN. w1 [rd][C] rows (dot products over C), w2 [rd][Cp] rows
 * (axpy over C), so both matrices stream contiguously. */
#include "sm_epilogue.h"

void SE_FN(size_t channels, size_t rd, const float *m, const float *w1, const float *b1,
           const float *w2, const float *b2, sm_act act, float *h, float *g)
{
    const size_t cp = (channels + VN - 1) / VN * VN;
    for (size_t r = 0; r < rd; r++) {
        const float *wr = w1 + r * channels;
        vf s0 = v_zero(), s1 = v_zero();
        size_t c = 0;
        for (; c + 2 * VN <= channels; c += 2 * VN) {
            s0 = v_fma(v_load(wr + c), v_load(m + c), s0);
            s1 = v_fma(v_load(wr + c + VN), v_load(m + c + VN), s1);
        }
        for (; c + VN <= channels; c += VN)
            s0 = v_fma(v_load(wr + c), v_load(m + c), s0);
        if (c < channels)
            s1 = v_fma(v_loadn(wr + c, channels - c), v_loadn(m + c, channels - c), s1);
        float v = v_hsum(v_add(s0, s1)) + (b1 ? b1[r] : 0.0f);
        vf hv = sm_epi_act(v_set1(v), act, NULL);
        float t[VN];
        v_store(t, hv);
        h[r] = t[0];
    }
    for (size_t c = 0; c < cp; c += VN) {
        vf acc = v_load(b2 + c);
        for (size_t r = 0; r < rd; r++)
            acc = v_fma(v_set1(h[r]), v_load(w2 + r * cp + c), acc);
        acc = v_sigmoid(acc);
        if (channels - c >= VN)
            v_store(g + c, acc);
        else
            v_storen(g + c, acc, channels - c);
    }
}
