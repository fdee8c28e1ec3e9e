/* fuzz_util.c - what the fuzz targets share in both builds (fuzz.h). */
#include "fuzz.h"

#include <unistd.h>

int
fuzz_write_file(const char *dir, const char *name, const void *data,
                size_t size)
{
    char path[4096];
    FILE *f;
    int rc;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if ((f = fopen(path, "wb")) == NULL)
        return -1;
    rc = fwrite(data, 1, size, f) == size ? 0 : -1;
    return fclose(f) == 0 ? rc : -1;
}

static char input_path[64];

static void
remove_input_file(void)
{
    (void) unlink(input_path);
}

const char *
fuzz_input_file(const uint8_t *data, size_t size)
{
    FILE *f;

    if (input_path[0] == '\0') {
        int fd;

        snprintf(input_path, sizeof(input_path), "/tmp/jm-fuzz-input-XXXXXX");
        fd = mkstemp(input_path);
        fuzz_check(fd >= 0);
        close(fd);
        atexit(remove_input_file);
    }
    f = fopen(input_path, "wb");
    fuzz_check(f != NULL);
    fuzz_check(fwrite(data, 1, size, f) == size);
    fuzz_check(fclose(f) == 0);
    return input_path;
}
