/* app.h: the smartmirror program (main.c only calls this). */
#ifndef SM_VIEWER_APP_H
#define SM_VIEWER_APP_H

/* Returns the process exit status: 0 ok, 1 runtime error, 2 bad command line. */
int sm_viewer_main(int argc, char **argv);

#endif
