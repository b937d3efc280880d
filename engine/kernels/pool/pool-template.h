/* Pool kernels: MAXPOOL_FN, GAVGPOOL_FN; channel tile VN. */
#include <float.h>

void MAXPOOL_FN(size_t channels, size_t out_w, size_t in_w, size_t pad_left, size_t kw, size_t sw,
                const float *const *rows, size_t kh, float *out)
{
    for (size_t x = 0; x < out_w; x++) {
        long ix0 = (long)(x * sw) - (long)pad_left;
        size_t kx0 = ix0 < 0 ? (size_t)(-ix0) : 0;
        size_t kx1 = kw;
        if (ix0 + (long)kw > (long)in_w)
            kx1 = (size_t)((long)in_w - ix0);
        for (size_t c = 0; c < channels; c += VN) {
            size_t n = channels - c < VN ? channels - c : VN;
            vf m = v_set1(-FLT_MAX);
            for (size_t ky = 0; ky < kh; ky++) {
                const float *row = rows[ky];
                if (!row)
                    continue;
                for (size_t kx = kx0; kx < kx1; kx++) {
                    const float *ip = row + (size_t)(ix0 + (long)kx) * channels + c;
                    m = v_max(m, n == VN ? v_load(ip) : v_loadn(ip, n));
                }
            }
            if (n == VN)
                v_store(out + x * channels + c, m);
            else
                v_storen(out + x * channels + c, m, n);
        }
    }
}

void GAVGPOOL_FN(size_t pixels, size_t channels, const float *in, float *out)
{
    const vf scale = v_set1(1.0f / (float)pixels);
    for (size_t c = 0; c < channels; c += VN) {
        size_t n = channels - c < VN ? channels - c : VN;
        vf s0 = v_zero(), s1 = v_zero();
        size_t p = 0;
        if (n == VN) {
            for (; p + 2 <= pixels; p += 2) {
                s0 = v_add(s0, v_load(in + p * channels + c));
                s1 = v_add(s1, v_load(in + (p + 1) * channels + c));
            }
            for (; p < pixels; p++)
                s0 = v_add(s0, v_load(in + p * channels + c));
            v_store(out + c, v_mul(v_add(s0, s1), scale));
        } else {
            for (; p < pixels; p++)
                s0 = v_add(s0, v_loadn(in + p * channels + c, n));
            v_storen(out + c, v_mul(s0, scale), n);
        }
    }
}
