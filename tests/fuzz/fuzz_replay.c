/* fuzz_replay.c - a main for a fuzz target without libFuzzer: runs it over
 * every file named (a directory: every file in it), so that ctest replays
 * the seeds and the inputs that once found bugs with the normal build and
 * its sanitizers; `--seeds` first runs the target's own seeds (written to
 * a temporary directory). `--write-seeds DIR` only writes them.
 * A failing input aborts the program: ctest reports the test failed, and
 * the last "input" line names the file. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int
run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *data = NULL;
    size_t size = 0, cap = 0, n;

    if (f == NULL) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    for (;;) {
        if (size == cap) {
            cap = cap ? cap * 2 : 4096;
            data = realloc(data, cap);
            if (data == NULL)
                abort();
        }
        n = fread(data + size, 1, cap - size, f);
        if (n == 0)
            break;
        size += n;
    }
    fclose(f);
    fprintf(stderr, "input %s (%zu bytes)\n", path, size);
    (void) LLVMFuzzerTestOneInput(data, size);
    free(data);
    return 0;
}

static int
run_path(const char *path, unsigned *count)
{
    struct stat st;
    DIR *d;
    struct dirent *e;
    int rc = 0;

    if (stat(path, &st) != 0) {
        fprintf(stderr, "%s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        (*count)++;
        return run_file(path);
    }
    if ((d = opendir(path)) == NULL)
        return -1;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        char sub[4096];

        if (e->d_name[0] == '.')
            continue;
        snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
        rc = run_path(sub, count);
    }
    closedir(d);
    return rc;
}

/* The target's seeds, written into a fresh directory, run, removed. */
static int
run_seeds(unsigned *count)
{
    char dir[] = "/tmp/jm-fuzz-seeds-XXXXXX";
    DIR *d;
    struct dirent *e;
    int rc;

    if (mkdtemp(dir) == NULL)
        return -1;
    rc = fuzz_write_seeds(dir) > 0 ? run_path(dir, count) : -1;
    if ((d = opendir(dir)) != NULL) {
        while ((e = readdir(d)) != NULL) {
            char path[4096];

            if (e->d_name[0] == '.')
                continue;
            snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
            (void) unlink(path);
        }
        closedir(d);
    }
    (void) rmdir(dir);
    return rc;
}

int
main(int argc, char **argv)
{
    unsigned count = 0;
    int first = 1;

    if (argc == 3 && strcmp(argv[1], "--write-seeds") == 0) {
        int n = fuzz_write_seeds(argv[2]);

        fprintf(stderr, "%d seeds written to %s\n", n, argv[2]);
        return n > 0 ? 0 : 1;
    }
    if (argc < 2) {
        fprintf(stderr,
                "usage: %s [--seeds] [FILE|DIR...] | --write-seeds DIR\n",
                argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--seeds") == 0) {
        first = 2;
        if (run_seeds(&count) != 0)
            return 1;
    }
    for (int i = first; i < argc; i++) {
        if (run_path(argv[i], &count) != 0)
            return 1;
    }
    fprintf(stderr, "%u inputs ran\n", count);
    return count > 0 ? 0 : 1;
}
