/* fuzz.h - the fuzz targets' common entry (tests/fuzz/README.md).
 *
 * Each fuzz_<name>.c defines LLVMFuzzerTestOneInput, the libFuzzer entry:
 * it must accept any bytes, and every bug it can reach shows as a crash,
 * a sanitizer report or a failed check (fuzz_check). Built with clang and
 * JM_FUZZ=ON each target is a libFuzzer program; otherwise fuzz_replay.c
 * gives it a main that runs it over files, which is how ctest replays the
 * seeds and every input that once found a bug (tests/fuzz/corpus/). */
#ifndef JM_FUZZ_H
#define JM_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Optional, per target: writes valid inputs to start from into dir (one
 * file each); returns how many, or -1. fuzz_replay.c calls it for
 * --write-seeds DIR. */
int fuzz_write_seeds(const char *dir);

/* A property the target checks on every input: abort (a crash libFuzzer
 * reports with the input) when it does not hold. */
#define fuzz_check(cond)                                                     \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            abort();                                                         \
        }                                                                    \
    } while (0)

/* Writes size bytes to dir/name; 0 or -1. */
int fuzz_write_file(const char *dir, const char *name, const void *data,
                    size_t size);

/* Writes the input to this process's temporary file (made with mkstemp:
 * mode 0600, removed at exit) for the targets whose code reads a file;
 * returns its path. */
const char *fuzz_input_file(const uint8_t *data, size_t size);

#endif
