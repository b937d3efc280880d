/* smartmirror: the SDL2 mirror (or --headless JSON lines). See viewer/app.c. */
#include "app.h"

int main(int argc, char **argv) { return sm_viewer_main(argc, argv); }
