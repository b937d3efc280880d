/* analyzer_pipeline.h: app/pipeline.c behind the viewer's analyzer interface
 * (analyzer.h). The adapter depends on the interface, never the reverse: the
 * program that wants the real analysis (app.c) includes this header. */
#ifndef SM_VIEWER_ANALYZER_PIPELINE_H
#define SM_VIEWER_ANALYZER_PIPELINE_H

#include "analyzer.h"

/* Fills a with the pipeline's init/process/free/recalibrate. */
void sm_viewer_analyzer_pipeline(sm_viewer_analyzer *a);

#endif
