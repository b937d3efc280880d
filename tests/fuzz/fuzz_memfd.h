/* For harnesses whose reader opens a path: the input as an in-memory file,
 * reached through /proc/self/fd/N (written into path). Returns the fd to
 * close afterwards, or -1 (skip this input). */
#ifndef SM_FUZZ_MEMFD_H
#define SM_FUZZ_MEMFD_H

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

static inline int fuzz_memfd(const uint8_t *data, size_t size, const char *name, char *path, size_t cap)
{
    int fd = memfd_create(name, 0);
    if (fd < 0)
        return -1;
    if (write(fd, data, size) != (ssize_t)size) {
        close(fd);
        return -1;
    }
    snprintf(path, cap, "/proc/self/fd/%d", fd);
    return fd;
}

#endif
