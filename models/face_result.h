/* One tracked face in frame pixels: what the face networks hand to the analysis
 * above them (app/mirror_types.h embeds it in the per-frame result). */
#ifndef SM_FACE_RESULT_H
#define SM_FACE_RESULT_H

#include <stdbool.h>

#define SM_MAX_LANDMARKS 478
typedef struct {
    bool valid;                    /* a face was found in this frame */
    float score;                   /* detector score or mesh presence, 0..1 */
    float box[4];                  /* x, y, w, h */
    int n_landmarks;               /* 478 (refined) or 468 */
    float landmarks[SM_MAX_LANDMARKS][3]; /* x, y in frame pixels; z in the same scale */
} sm_face_result;

#endif
