/* face_mp_hooks: binds the MediaPipe custom operators and the 478-point
 * refinement (models/mediapipe_ops) to the graph executor's hook table. The
 * only file of the face pipeline that depends on mediapipe_ops. */
#ifndef SM_FACE_MP_HOOKS_H
#define SM_FACE_MP_HOOKS_H

#include <stdbool.h>

#include "sm_graph.h"

/* sm_face_custom_ops() is declared in face_mesh.h. */
bool sm_face_refine_available(void);
/* Normalised (x/192) inputs: mesh 468x3, lips 80x2, eyes 71x2, irises 5x2 -> 478x3. */
void sm_face_refine(const float *mesh, const float *lips, const float *left_eye, const float *right_eye,
                    const float *left_iris, const float *right_iris, float *out);

#endif
