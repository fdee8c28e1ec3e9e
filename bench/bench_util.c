/* bench_util.c - clock, statistics and machine facts for the benchmarks. */
#include "bench_util.h"

#include <malloc.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

uint64_t
bench_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

static int
compare_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return (x > y) - (x < y);
}

static int
compare_unsigned(const void *a, const void *b)
{
    unsigned x = *(const unsigned *) a, y = *(const unsigned *) b;

    return (x > y) - (x < y);
}

double
bench_percentile(double *values, size_t n, double p)
{
    size_t rank;

    if (n == 0)
        return 0;
    qsort(values, n, sizeof(double), compare_double);
    /* Nearest rank: the smallest value with at least p % at or below. */
    rank = (size_t) (p / 100.0 * (double) n + 0.999999);
    rank = rank < 1 ? 1 : rank > n ? n : rank;
    return values[rank - 1];
}

double
bench_gini(unsigned *counts, size_t n)
{
    double weighted = 0, total = 0;

    if (n == 0)
        return 0;
    qsort(counts, n, sizeof(unsigned), compare_unsigned);
    /* G = sum_i (2i - n - 1) x_i / (n sum x), i = 1..n, x ascending. */
    for (size_t i = 0; i < n; i++) {
        weighted += (2.0 * (double) (i + 1) - (double) n - 1.0) * counts[i];
        total += counts[i];
    }
    return total > 0 ? weighted / ((double) n * total) : 0;
}

void
bench_machine(char *buf, size_t size)
{
    char line[256], model[128] = "unknown CPU";
    double mem_gib = 0;
    struct utsname u;
    FILE *f;

    if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
        while (fgets(line, sizeof(line), f) != NULL) {
            char *colon = strchr(line, ':');

            if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
                (void) snprintf(model, sizeof(model), "%s", colon + 2);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        }
        fclose(f);
    }
    if ((f = fopen("/proc/meminfo", "r")) != NULL) {
        unsigned long kb;

        if (fscanf(f, "MemTotal: %lu kB", &kb) == 1)
            mem_gib = (double) kb / (1024.0 * 1024.0);
        fclose(f);
    }
    if (uname(&u) != 0)
        strcpy(u.release, "?");
    (void) snprintf(buf, size, "%s, %ld CPUs, %.1f GiB RAM, Linux %s", model,
                    sysconf(_SC_NPROCESSORS_ONLN), mem_gib, u.release);
}

size_t
bench_heap_bytes(void)
{
    struct mallinfo2 mi = mallinfo2();

    return mi.uordblks + mi.hblkhd;
}

void
bench_fail(const char *fmt, ...)
{
    va_list ap;

    fputs("bench: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}
