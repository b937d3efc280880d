/* face_mp_hooks: binds the MediaPipe custom operators and the 478-point
 * refinement (models/mediapipe_ops) to the graph executor's hook table. The
 * only file of the face pipeline that depends on mediapipe_ops. */
#ifndef SM_FACE_MP_HOOKS_H
#define SM_FACE_MP_HOOKS_H

#include <stdbool.h>
#include <stddef.h>

#include "sm_graph.h"

/* The custom ops of the attention model (models/mediapipe_ops); n = 0 when
 * they are not built in. face_mesh.h includes this header, never the reverse. */
const sm_graph_custom_op *sm_face_custom_ops(size_t *n);
bool sm_face_refine_available(void);
/* Normalised (x/192) inputs: mesh 468x3, lips 80x2, eyes 71x2, irises 5x2 -> 478x3. */
void sm_face_refine(const float *mesh, const float *lips, const float *left_eye, const float *right_eye,
                    const float *left_iris, const float *right_iris, float *out);

#endif
