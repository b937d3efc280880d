/* Whole-file reads and atomic writes (temp file + fsync + rename). */
#define _POSIX_C_SOURCE 200809L
#include "file_open.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sm_file_open_regular(const char *path, uint64_t *size, sm_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        sm_error_set(err, SM_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        sm_error_set(err, SM_ERR_IO, "%s: not a regular file", path);
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

sm_status sm_file_read_all(const char *path, size_t max_len, uint8_t **buf, size_t *len,
                           sm_error *err)
{
    *buf = NULL;
    *len = 0;
    if (max_len == 0)
        max_len = (size_t)4 << 30;
    uint64_t size;
    int fd = sm_file_open_regular(path, &size, err);
    if (fd < 0)
        return SM_ERR_IO;
    if (size > max_len) {
        close(fd);
        return sm_error_set(err, SM_ERR_FORMAT, "%s: %llu bytes is larger than the %zu allowed",
                            path, (unsigned long long)size, max_len);
    }
    size_t n = (size_t)size;
    uint8_t *data = malloc(n ? n : 1);
    if (!data) {
        close(fd);
        return sm_error_set(err, SM_ERR_NOMEM, "%s: cannot allocate %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, data + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            free(data);
            close(fd);
            return sm_error_set(err, SM_ERR_IO, "%s: read failed after %zu of %zu bytes", path,
                                got, n);
        }
        got += (size_t)r;
    }
    close(fd);
    *buf = data;
    *len = n;
    return SM_OK;
}

sm_status sm_file_write_atomic(const char *path, const void *data, size_t len, sm_error *err)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp)
        return sm_error_set(err, SM_ERR_NOMEM, "%s: out of memory", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp.XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        sm_status st = sm_error_set(err, SM_ERR_IO, "%s: cannot create a temporary file: %s",
                                    path, strerror(errno));
        free(tmp);
        return st;
    }
    const uint8_t *p = data;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    int saved_errno = errno;
    bool ok = done == len && fchmod(fd, 0644) == 0 && fsync(fd) == 0;
    if (!ok && done == len)
        saved_errno = errno;
    if (close(fd) != 0 && ok) {
        ok = false;
        saved_errno = errno;
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        saved_errno = errno;
    }
    if (!ok) {
        unlink(tmp);
        free(tmp);
        return sm_error_set(err, SM_ERR_IO, "%s: write failed: %s", path, strerror(saved_errno));
    }
    free(tmp);
    return SM_OK;
}
