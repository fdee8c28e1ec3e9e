/* fsync_latency.c - how long this machine takes to make a small write
 * durable: the floor under every acknowledged write (an LMDB commit makes
 * two: the data pages, then the meta page).
 *
 * Writes 4 KiB at one of 16 offsets and calls fdatasync, n times (default
 * 1000), in a file under DIR, and prints the percentiles.
 *
 *   fsync_latency DIR [N] */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double
now_us(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec * 1e6 + (double) t.tv_nsec / 1e3;
}

static int
cmp(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
    char path[4096], block[4096];
    int n = argc > 2 ? atoi(argv[2]) : 1000, fd;
    double *lat;

    if (argc < 2 || n < 10) {
        fprintf(stderr, "usage: fsync_latency DIR [N >= 10]\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/fsync-latency.tmp", argv[1]);
    fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(path);
        return 1;
    }
    lat = calloc((size_t) n, sizeof(double));
    if (lat == NULL) {
        perror("calloc");
        return 1;
    }
    memset(block, 0x5a, sizeof(block));
    for (int i = 0; i < n; i++) {
        double t;

        block[0] = (char) i;
        if (pwrite(fd, block, sizeof(block), (off_t) (i % 16) * 4096) !=
            (ssize_t) sizeof(block)) {
            perror("pwrite");
            return 1;
        }
        t = now_us();
        if (fdatasync(fd) != 0) {
            perror("fdatasync");
            return 1;
        }
        lat[i] = now_us() - t;
    }
    close(fd);
    unlink(path);
    qsort(lat, (size_t) n, sizeof(double), cmp);
    printf("fdatasync of a 4 KiB write in %s: p50 %.0f us, p99 %.0f us, max "
           "%.0f us (%d runs)\n",
           argv[1], lat[n / 2], lat[n * 99 / 100], lat[n - 1], n);
    printf("RESULT fsync_p50_us=%.0f fsync_p99_us=%.0f\n", lat[n / 2],
           lat[n * 99 / 100]);
    free(lat);
    return 0;
}
