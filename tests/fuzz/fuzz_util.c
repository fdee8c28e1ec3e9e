/* fuzz_util.c - what the fuzz targets share in both builds (fuzz.h). */
#include "fuzz.h"

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
