/* source_y4m.h: the YUV4MPEG2 reader (source_y4m.c) behind the generic
 * source interface. Also reads ffmpeg's yuv4mpegpipe output (source_open.c). */
#ifndef SM_SOURCE_Y4M_H
#define SM_SOURCE_Y4M_H

#include "source.h"

/* fps_override > 0 replaces the file's own rate for timestamps. A file cut
 * inside a frame delivers the whole frames before the cut, then ends with a
 * warning (sm_source_truncated); cut before its first frame it is an error. */
sm_status sm_source_open_y4m(const char *path, double fps_override, sm_source **out, sm_error *err);
/* Reads Y4M from an open stream (owned from now on; closed with pclose when
 * `is_pipe`). */
sm_status sm_source_open_y4m_stream(FILE *fp, bool is_pipe, const char *name, double fps_override,
                                    sm_source **out, sm_error *err);

#endif
