/* libFuzzer entry point for the settings file parser (viewer/config.c: lines,
 * keys, values checked through the command-line parser, --print-config). The
 * parser opens a path, so each input goes to an in-memory file reached
 * through /proc/self/fd. */
// SOURCES: engine/core/*.c viewer/config.c viewer/cli.c
#include "config.h"

#include "fuzz_memfd.h"

#include <stdio.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    int fd = fuzz_memfd(data, size, "fuzz.config", path, sizeof path);
    if (fd < 0)
        return 0;
    char *argv[] = {"smartmirror", "--config", path, "--headless", NULL};
    sm_viewer_config cfg;
    sm_error err;
    if (sm_viewer_config_load(4, argv, &cfg, NULL, &err) == SM_OK) {
        FILE *out = fopen("/dev/null", "w");
        if (out) {
            sm_viewer_config_print(&cfg, cfg.argc, cfg.argv, out);
            fclose(out);
        }
    }
    sm_viewer_config_free(&cfg);
    close(fd);
    return 0;
}
