/* mem.h - allocation that cannot fail, and the always-on assert.
 *
 * Running out of memory is not an error jobmatch can recover from in a
 * useful way (Redis zmalloc, CLASS): these wrappers print and abort, so
 * callers never test for NULL. JM_ASSERT catches programmer errors and is
 * compiled in every build; it is never used on outside input. */
#ifndef JM_MEM_H
#define JM_MEM_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup, but abort() on failure. Caller owns
 * the result; free with free(). jm_xmalloc(0) returns a unique pointer. */
void *jm_xmalloc(size_t size);
void *jm_xcalloc(size_t count, size_t size);
void *jm_xrealloc(void *ptr, size_t size);
char *jm_xstrdup(const char *s);
/* Copies len bytes and adds a terminating NUL. */
char *jm_xstrndup(const char *s, size_t len);

/* What malloc really takes for a block of size bytes (glibc on 64 bits:
 * an 8-byte header, 16-byte granules, 32 bytes at least): for memory
 * accounting that counts the heap, not the bytes asked for. */
static inline size_t
jm_heap_bytes(size_t size)
{
    size_t n = (size + 8 + 15) & ~(size_t) 15;

    return n < 32 ? 32 : n;
}

/* Prints "file:line: assertion failed: expr" to stderr and aborts. */
_Noreturn void jm__assert_fail(const char *expr, const char *file, int line);

#define JM_ASSERT(expr) \
    ((expr) ? (void) 0 : jm__assert_fail(#expr, __FILE__, __LINE__))

/* Number of elements of a true array (not a pointer). */
#define JM_COUNTOF(a) (sizeof(a) / sizeof((a)[0]))

#endif
