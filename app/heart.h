/* Heart rate the mirror can stand behind (issue 15, docs/HEART.md).
 *
 * Input, one sm_heart_sample per analysed frame (sm_heart_measure fills it
 * from the frame and the 478 landmarks; a trace CSV replays it without the
 * video, heart_trace.h):
 *   t             the frame's timestamp, s (any origin; uneven intervals)
 *   rgb[r], n[r]  mean RGB and pixel count of the skin pixels of three regions:
 *                 forehead (between the brows and the hairline), right and
 *                 left cheek (below the eyes, beside the nose, above the mouth);
 *                 eyes, brows, nostrils, mouth and hair are outside the
 *                 polygons, and pixels failing a loose YCbCr skin test are left
 *                 out unless too few pass
 *   box           bounding box of the landmarks (x, y, w, h px): size and motion
 *   light, sat    mean luma of the region pixels (0..255) and the share of them
 *                 with a clipped channel (>= 250)
 *
 * Per sample:
 *   segment   a run of samples without a face loss, a gap > SM_HEART_MAX_GAP s,
 *             a jump of the face box (> SM_HEART_JUMP_MOVE box widths or
 *             SM_HEART_JUMP_SCALE in size in one frame) or of the skin colour
 *             (> SM_HEART_JUMP_COLOUR relative, a light switch). A break
 *             starts a new segment; repeated or reordered timestamps are
 *             ignored (counted: many in a row mark the reading stale).
 *   estimate  (at most every SM_HEART_EST_PERIOD s) the last SM_HEART_SPECTRUM_S
 *             s of the segment are resampled linearly onto a uniform
 *             SM_HEART_FS grid per region; each channel is detrended by its
 *             mean over sliding 1.6 s windows (the normalisation POS and CHROM
 *             both start from), then
 *               POS   (Wang et al. 2017) S1 = G - B, S2 = G + B - 2R,
 *                     h = S1 + (std S1 / std S2) S2 per window, overlap-added,
 *               CHROM (de Haan & Jeanne 2013) X = 3R - 2G, Y = 1.5R + G - 1.5B,
 *                     band-passed, S = X - (std X / std Y) Y per window,
 *                     Hann-weighted overlap-add;
 *             zero-phase Butterworth band-pass 0.6-3.5 Hz, Hann-windowed
 *             zero-padded power spectrum per region, normalised to unit band
 *             power and summed with weights (pixel count x the region's own
 *             peak SNR) so a clean cheek outvotes a forehead under hair.
 *             Peak in 42-210 BPM, parabolic refinement; SNR in dB = power
 *             within +-0.1 Hz of the peak and its harmonic over the rest.
 *   tracker   the shown rate follows the spectral peak nearest to it among
 *             peaks of at least SM_HEART_TRACK_REL of the strongest, moving at
 *             most SM_HEART_SLEW BPM/s; at lock-on a peak whose half has 40 %
 *             of its power is taken as a harmonic. When the strongest peak stays
 *             elsewhere for SM_HEART_RELOCK_S s the reading is withdrawn
 *             ("signal unsteady") and the tracker re-locks: the shown value
 *             never jumps between harmonics.
 *   gate      a reading is shown only with a face of >= SM_HEART_MIN_FACE_PX
 *             px and >= SM_HEART_MIN_PIXELS region pixels ("face too small"),
 *             light >= SM_HEART_MIN_LIGHT ("too dark"), clipped share <=
 *             SM_HEART_MAX_SAT ("too bright"), >= SM_HEART_MIN_FPS frames/s
 *             ("frame rate too low"), face movement within the last
 *             second <= SM_HEART_MAX_MOTION box widths ("hold still"), >=
 *             SM_HEART_MIN_CLEAN_S s in the segment ("collecting: N s left")
 *             and SNR >= SM_HEART_MIN_SNR_DB with the raw peak within 6 BPM
 *             of the tracked rate for SM_HEART_AGREE_S s ("weak signal").
 *             quality = SNR mapped linearly from SM_HEART_MIN_SNR_DB (0) to
 *             +SM_HEART_SNR_SPAN_DB (1), times the motion margin.
 *   stale     once the gate closes, the last shown value is kept with its age;
 *             it is "valid" (shown as current) for SM_HEART_STALE_S s, then
 *             stale (shown greyed with its age) until SM_HEART_FORGET_S s. */
#ifndef SM_HEART_H
#define SM_HEART_H

#include "sm_engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SM_HEART_NREG 3              /* forehead, right cheek, left cheek */
#define SM_HEART_FS 30.0             /* resampling grid, Hz */
#define SM_HEART_WINDOW_S 1.6
#define SM_HEART_SPECTRUM_S 10.0
#define SM_HEART_MIN_RAW_S 5.0       /* an (ungated) estimate needs this much segment */
#define SM_HEART_MIN_CLEAN_S 8.0     /* the gate needs this much */
#define SM_HEART_EST_PERIOD 0.25     /* s between estimates */
#define SM_HEART_BAND_LO_HZ 0.6
#define SM_HEART_BAND_HI_HZ 3.5
#define SM_HEART_BPM_MIN 42.0
#define SM_HEART_BPM_MAX 210.0
#define SM_HEART_FFT_N 4096
#define SM_HEART_MAX_GAP 0.5
#define SM_HEART_MIN_FPS 7.0          /* below: "frame rate too low" (5 fps measured 6 BPM off) */
#define SM_HEART_JUMP_MOVE 0.15
#define SM_HEART_JUMP_SCALE 0.15
#define SM_HEART_JUMP_COLOUR 0.2      /* relative, median of SM_HEART_STEP_S s vs the second before */
#define SM_HEART_STEP_S 0.5
#define SM_HEART_MIN_FACE_PX 64.0
#define SM_HEART_MIN_PIXELS 200
#define SM_HEART_MIN_LIGHT 30.0
#define SM_HEART_MAX_SAT 0.25
#define SM_HEART_MAX_MOTION 0.15     /* box widths the face moved within the last second */
#define SM_HEART_MIN_SNR_DB -3.0
#define SM_HEART_SNR_SPAN_DB 10.0
#define SM_HEART_TRACK_REL 0.3
#define SM_HEART_SLEW 6.0            /* BPM per second */
#define SM_HEART_RELOCK_S 5.0
#define SM_HEART_AGREE_S 2.0         /* raw peak within 6 BPM of the track this long */
#define SM_HEART_STALE_S 3.0
#define SM_HEART_FORGET_S 60.0
#define SM_HEART_FROZEN_FRAMES 15    /* repeated timestamps in a row: stale */

typedef struct {
    double t;
    bool face;
    double rgb[SM_HEART_NREG][3];
    int n[SM_HEART_NREG];
    double box[4];
    double light, sat;
    double bpm_net;                  /* the seed network's reading made on this frame, NaN if none */
} sm_heart_sample;

typedef enum { SM_HEART_POS = 0, SM_HEART_CHROM = 1 } sm_heart_method;

typedef struct {
    sm_heart_method method;          /* the estimator behind the shown reading */
    bool pooled;                     /* one pooled trace of all regions instead of weighted spectra */
} sm_heart_config;

typedef struct {
    /* ungated spectral peaks of the current segment (NaN when < SM_HEART_MIN_RAW_S) */
    double bpm_pos, snr_pos_db, bpm_chrom, snr_chrom_db;
    /* the shown reading */
    bool valid;                      /* trusted and current: show it */
    double bpm;                      /* shown value; while stale, the last one (NaN: none) */
    const char *source;              /* "pos" | "chrom" */
    double quality;                  /* 0..1 */
    const char *reason;              /* why there is no reading (NULL when valid); static string */
    bool stale;                      /* bpm is older than SM_HEART_STALE_S */
    double age_s;                    /* seconds since bpm passed the gate */
    /* gate inputs */
    double signal_s, motion, light, face_px;
} sm_heart_reading;

typedef struct sm_heart sm_heart;

sm_status sm_heart_init(sm_heart **out, const sm_heart_config *cfg, sm_error *err);
void sm_heart_free(sm_heart *h);
void sm_heart_reset(sm_heart *h);
/* One frame. s->face false (or unusable values) is a face loss. Fills out. */
void sm_heart_push(sm_heart *h, const sm_heart_sample *s, sm_heart_reading *out);
const char *sm_heart_method_name(sm_heart_method m);

/* Per-region skin means of one frame (packed RGB8, `stride` bytes a row) from
 * >= 468 landmarks (x, y frame pixels at pts[i * pt_stride]). Fills every field
 * but t and bpm_net; face = false when no region has pixels. */
void sm_heart_measure(const uint8_t *rgb, int width, int height, size_t stride, const float *pts,
                      int n_points, int pt_stride, sm_heart_sample *s);

#endif
