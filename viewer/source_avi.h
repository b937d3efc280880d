/* source_avi.h: the MJPEG AVI reader (source_avi.c) behind the generic source
 * interface. */
#ifndef SM_SOURCE_AVI_H
#define SM_SOURCE_AVI_H

#include "source.h"

/* fps_override > 0 replaces the file's own rate for timestamps.
 * SM_ERR_UNSUPPORTED (message names the codec) when the video stream is not
 * MJPEG: the registry (source_open.c) then hands the file to ffmpeg. A file
 * cut inside a chunk, or whose last frame is a broken JPEG, delivers the
 * frames before it, then ends with a warning (sm_source_truncated). */
sm_status sm_source_open_avi(const char *path, double fps_override, sm_source **out, sm_error *err);

#endif
