/* face_mp_hooks: placeholder until models/mediapipe_ops lands: no custom ops,
 * so the attention model is refused at load with a message naming the op. */
#include "face_mp_hooks.h"

#include <string.h>

#include "face_mesh.h"

const sm_tfg_custom_op *sm_face_custom_ops(size_t *n)
{
    *n = 0;
    return NULL;
}

bool sm_face_refine_available(void) { return false; }

void sm_face_refine(const float *mesh, const float *lips, const float *left_eye, const float *right_eye,
                    const float *left_iris, const float *right_iris, float *out)
{
    (void)lips;
    (void)left_eye;
    (void)right_eye;
    (void)left_iris;
    (void)right_iris;
    memcpy(out, mesh, sizeof(float) * 468 * 3);
}
