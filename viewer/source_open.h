/* source_open.h: the reader registry, above every file reader: picks the
 * reader for --video by the file's magic bytes, runs ffmpeg for everything
 * else, and reads --images directories. Cameras are capture.h. */
#ifndef SM_SOURCE_OPEN_H
#define SM_SOURCE_OPEN_H

#include "source.h"

/* --video: Y4M and MJPEG AVI natively; any other container, and AVI files of
 * another codec (DivX, H.264, ...), through ffmpeg. Without ffmpeg those give
 * SM_ERR_UNSUPPORTED naming the codec (AVI) and that ffmpeg is needed.
 * fps_override > 0 replaces the file's own rate for timestamps. */
sm_status sm_source_open_video(const char *path, double fps_override, sm_source **out, sm_error *err);
/* --images: the .jpg, .jpeg and .png files in dir, sorted by name (byte order); t = index / fps
 * (fps <= 0: 30). */
sm_status sm_source_open_images(const char *dir, double fps, sm_source **out, sm_error *err);

#endif
