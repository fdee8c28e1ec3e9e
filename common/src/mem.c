/* mem.c - allocation wrappers that abort instead of returning NULL. */
#include "jm/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Noreturn void
out_of_memory(size_t size)
{
    fprintf(stderr, "<2>jobmatch: out of memory allocating %zu bytes\n",
            size);
    abort();
}

void *
jm_xmalloc(size_t size)
{
    void *p = malloc(size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

void *
jm_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);

    if (p == NULL)
        out_of_memory(count * size);
    return p;
}

void *
jm_xrealloc(void *ptr, size_t size)
{
    void *p = realloc(ptr, size ? size : 1);

    if (p == NULL)
        out_of_memory(size);
    return p;
}

char *
jm_xstrdup(const char *s)
{
    return jm_xstrndup(s, strlen(s));
}

char *
jm_xstrndup(const char *s, size_t len)
{
    char *p = jm_xmalloc(len + 1);

    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void
jm__assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "<2>%s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}
