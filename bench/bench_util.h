/* bench_util.h - what the benchmark programs share: a clock, percentiles,
 * the Gini coefficient, a description of the machine, and malloc
 * accounting for memory per item.
 *
 * Benchmarks are programs, never timed tests: they print their figures
 * (a human table on stdout, one JSON line with --json) and exit 0, or exit
 * 1 when a correctness check fails (results that disagree are not a
 * benchmark). */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);

/* The p-th percentile (0-100, nearest rank) of values[0..n-1]; sorts
 * values in place. 0 for n == 0. */
double bench_percentile(double *values, size_t n, double p);

/* Gini coefficient of counts[0..n-1] (0: all equal; towards 1: one holds
 * everything). Sorts counts in place. 0 for n == 0 or an all-zero list. */
double bench_gini(unsigned *counts, size_t n);

/* "AMD EPYC 7B13, 2 CPUs, 23.4 GiB RAM, Linux 6.1.0" into buf. */
void bench_machine(char *buf, size_t size);

/* Bytes currently allocated through malloc (glibc mallinfo2: in-use
 * chunks plus mmapped blocks). For "bytes per profile": measure before and
 * after building a structure. */
size_t bench_heap_bytes(void);

/* Prints a message to stderr and exits 1. */
_Noreturn void bench_fail(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

#endif
