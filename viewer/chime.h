/* chime.h: the gentle alert of --sound. A soft two-note chime (E5 then A5,
 * each a sine with a 15 ms rise and an exponential fade, tau 0.35 s; peak
 * amplitude 0.2 of full scale, 1.4 s in all), rendered once into a buffer
 * that the window queues on SDL audio when the drowsiness alert starts, at
 * most once every --sound-every seconds (the window flashes every time). */
#ifndef SM_VIEWER_CHIME_H
#define SM_VIEWER_CHIME_H

#include <stdbool.h>
#include <stddef.h>

#define SM_CHIME_SECONDS 1.4
#define SM_CHIME_PEAK 0.2f

/* Mono float samples at rate into out[cap]; returns the count written
 * (rate * SM_CHIME_SECONDS, or cap if smaller). */
size_t sm_chime_render(float *out, size_t cap, int rate);
/* True (and *last = now) when no chime sounded in the last `every` seconds;
 * *last < 0 means never. */
bool sm_chime_due(double now, double *last, double every);

#endif
