/* The --sound chime (chime.h). */
#include "chime.h"

#include <math.h>

size_t sm_chime_render(float *out, size_t cap, int rate)
{
    static const double pi = 3.14159265358979323846;
    /* E5 at 0 s, A5 at 0.18 s: a rising fourth sounds like a doorbell, not an alarm */
    static const double freq[2] = {659.255, 880.0}, start[2] = {0.0, 0.18};
    size_t n = (size_t)(rate * SM_CHIME_SECONDS);
    double peak = 0;
    if (n > cap)
        n = cap;
    for (size_t i = 0; i < n; i++) {
        double t = (double)i / rate, v = 0;
        for (int k = 0; k < 2; k++) {
            double u = t - start[k];
            if (u < 0)
                continue;
            double env = fmin(u / 0.015, 1.0) * exp(-u / 0.35);
            v += 0.5 * env * sin(2 * pi * freq[k] * u);
        }
        /* a short fade at the end so the buffer stops at silence */
        double tail = (SM_CHIME_SECONDS - t) / 0.05;
        if (tail < 1)
            v *= tail > 0 ? tail : 0;
        out[i] = (float)v;
        peak = fmax(peak, fabs(v));
    }
    for (size_t i = 0; i < n && peak > 0; i++)
        out[i] = (float)(out[i] * (SM_CHIME_PEAK / peak));
    return n;
}

bool sm_chime_due(double now, double *last, double every)
{
    if (*last >= 0 && now - *last < every)
        return false;
    *last = now;
    return true;
}
