/* esco.c - loads the shipped ESCO subset (the data/esco TSV files) into one
 * immutable table.
 *
 * Shape: each file is read whole into one buffer and split in place (tabs
 * and newlines become NULs), so labels point into those buffers and the
 * only other allocations are one array per kind of entry. URIs get one
 * fixed-stride buffer per kind ("prefix + uuid" at index * stride), which
 * gives callers a full URI for free, and a hash table of their uuids for
 * look-ups.
 * The files are checked completely on load (see esco.h): the matcher trusts
 * the indexes afterwards and never re-checks them on its hot path. */
#include "jm/esco.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"

#if !defined(JM_ESCO_INSTALL_DIR) || !defined(JM_ESCO_SOURCE_DIR)
#error "JM_ESCO_INSTALL_DIR and JM_ESCO_SOURCE_DIR come from CMake"
#endif

#define UUID_LEN              36
#define SKILL_PREFIX_LEN      (sizeof(JM_ESCO_SKILL_PREFIX) - 1)
#define OCCUPATION_PREFIX_LEN (sizeof(JM_ESCO_OCCUPATION_PREFIX) - 1)
#define SKILL_STRIDE          (SKILL_PREFIX_LEN + UUID_LEN + 1)
#define OCCUPATION_STRIDE     (OCCUPATION_PREFIX_LEN + UUID_LEN + 1)

/* The shipped files total under 2 MB; anything this big is not ours. */
#define MAX_FILE_SIZE (64u << 20)

enum { F_ISCO, F_SKILLS, F_OCCUPATIONS, F_LINKS, F_COUNT };

static const char *const file_names[F_COUNT] = {
    [F_ISCO] = "isco_groups.tsv",
    [F_SKILLS] = "skills.tsv",
    [F_OCCUPATIONS] = "occupations.tsv",
    [F_LINKS] = "occupation_skills.tsv",
};

struct skill {
    const char *label;
    char type;
};

/* links[essential .. optional) are the essential skills and
 * links[optional .. end) the optional ones. */
struct occupation {
    const char *label;
    const char *isco;
    uint32_t essential, optional, end;
};

struct isco_group {
    const char *code;
    const char *label;
};

/* A hash table of a URI table's uuids: slot -> row + 1 (0: empty), open
 * addressing, at most half full. */
struct uri_index {
    uint32_t *slots;
    size_t mask;
};

struct jm_esco {
    char *data[F_COUNT]; /* the file contents, split in place */
    char *skill_uris;    /* skill_count * SKILL_STRIDE */
    struct skill *skills;
    size_t skill_count;
    struct uri_index skill_index;
    char *occupation_uris; /* occupation_count * OCCUPATION_STRIDE */
    struct occupation *occupations;
    size_t occupation_count;
    struct uri_index occupation_index;
    uint32_t *links;
    struct isco_group *isco;
    size_t isco_count;
};

static void uri_index_build(struct uri_index *ix, const char *uris,
                            size_t count, size_t stride, size_t prefix_len);

/* A cursor over one file's lines, for parsing and for error messages. */
struct reader {
    const char *path;
    char *pos, *end;
    unsigned line;
    size_t lines; /* number of '\n' in the file */
};

/* Logs "path:line: reason" and returns -EINVAL, so parsers can write
 * `return malformed(r, "...")`. */
static int
malformed(const struct reader *r, const char *reason)
{
    if (r->line == 0) /* a problem with the file as a whole */
        jm_log(JM_LOG_ERR, "esco", "%s: %s", r->path, reason);
    else
        jm_log(JM_LOG_ERR, "esco", "%s:%u: %s", r->path, r->line, reason);
    return -EINVAL;
}

static char *
join_path(const char *dir, const char *name)
{
    size_t dir_len = strlen(dir), name_len = strlen(name);
    char *path = jm_xmalloc(dir_len + 1 + name_len + 1);

    memcpy(path, dir, dir_len);
    path[dir_len] = '/';
    memcpy(path + dir_len + 1, name, name_len + 1);
    return path;
}

/* Reads the whole file into a new NUL-terminated buffer (*data_p, caller
 * frees) and sets up the reader. The last byte must be '\n': the script
 * always writes one, so its absence means a cut-off copy. */
static int
read_file(struct reader *r, char **data_p)
{
    struct stat st;
    char *data = NULL;
    size_t done = 0;
    int fd, rc;

    if ((fd = open(r->path, O_RDONLY | O_CLOEXEC)) < 0) {
        rc = -errno;
        if (rc == -ENOENT)
            jm_log(JM_LOG_ERR, "esco",
                   "%s: missing (ESCO data directory: set JOBMATCH_DATA_DIR "
                   "or install data/esco)",
                   r->path);
        else
            jm_log(JM_LOG_ERR, "esco", "%s: open: %s", r->path,
                   jm_strerror(rc));
        return rc;
    }
    if (fstat(fd, &st) != 0) {
        rc = -errno;
        jm_log(JM_LOG_ERR, "esco", "%s: fstat: %s", r->path, jm_strerror(rc));
        goto fail;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t) MAX_FILE_SIZE) {
        rc = malformed(r, "not a regular file of sane size");
        goto fail;
    }
    data = jm_xmalloc((size_t) st.st_size + 1);
    while (done < (size_t) st.st_size) {
        ssize_t n = read(fd, data + done, (size_t) st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) { /* 0: the file shrank under us */
            rc = n < 0 ? -errno : -EIO;
            jm_log(JM_LOG_ERR, "esco", "%s: read: %s", r->path,
                   jm_strerror(rc));
            goto fail;
        }
        done += (size_t) n;
    }
    data[done] = '\0';
    close(fd);
    fd = -1;

    /* Counting lines first lets every parser allocate its array once. */
    r->pos = data;
    r->end = data + done;
    r->line = 0;
    r->lines = 0;
    for (char *p = data; (p = memchr(p, '\n', (size_t) (r->end - p))) != NULL;
         p++)
        r->lines++;
    if (done == 0) {
        rc = malformed(r, "empty file");
        goto fail;
    }
    /* A NUL would end a field early without any other sign. */
    if (memchr(data, '\0', done) != NULL) {
        rc = malformed(r, "NUL byte in file");
        goto fail;
    }
    if (data[done - 1] != '\n') {
        r->line = (unsigned) r->lines + 1;
        rc = malformed(r, "last line has no newline (truncated file?)");
        goto fail;
    }
    /* Counts become int indexes and uint32_t link entries. */
    if (r->lines > INT_MAX) {
        rc = malformed(r, "too many lines");
        goto fail;
    }
    *data_p = data;
    return 0;

fail:
    if (fd >= 0)
        close(fd);
    free(data);
    return rc;
}

/* Splits the next line into exactly n tab-separated fields (NUL-terminated
 * in place). Returns 0, 1 at the end of the file, or -EINVAL. */
static int
next_line(struct reader *r, char **fields, int n)
{
    char *nl, *p;
    int count = 0;

    if (r->pos >= r->end)
        return 1;
    r->line++;
    /* Never NULL: read_file() made sure the file ends in '\n'. */
    nl = memchr(r->pos, '\n', (size_t) (r->end - r->pos));
    *nl = '\0';
    p = r->pos;
    r->pos = nl + 1;
    if (nl > p && nl[-1] == '\r')
        return malformed(r, "CR-LF line end (files must be '\\n' only)");
    for (;;) {
        char *tab = strchr(p, '\t');
        if (count == n)
            return malformed(r, "too many fields");
        fields[count++] = p;
        if (tab == NULL)
            break;
        *tab = '\0';
        p = tab + 1;
    }
    return count == n ? 0 : malformed(r, "too few fields");
}

/* ESCO mints lower-case 8-4-4-4-12 uuids; since look-ups match exactly,
 * this is the only spelling a file may use. */
static bool
uuid_valid(const char *s)
{
    for (int i = 0; i < UUID_LEN; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return false;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return s[UUID_LEN] == '\0';
}

static bool
digits_only(const char *s, size_t min_len, size_t max_len)
{
    size_t len = strlen(s);

    if (len < min_len || len > max_len)
        return false;
    return strspn(s, "0123456789") == len;
}

/* Binary search for code in the sorted ISCO table; NULL if absent. */
static const struct isco_group *
isco_find(const jm_esco_t *self, const char *code)
{
    size_t low = 0, high = self->isco_count;

    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int cmp = strcmp(code, self->isco[mid].code);
        if (cmp == 0)
            return &self->isco[mid];
        if (cmp < 0)
            high = mid;
        else
            low = mid + 1;
    }
    return NULL;
}

/* isco_groups.tsv: code TAB label, all ISCO-08 levels, sorted by code. */
static int
parse_isco(jm_esco_t *self, struct reader *r)
{
    char *f[2];
    int rc;

    self->isco = jm_xcalloc(r->lines, sizeof(*self->isco));
    while ((rc = next_line(r, f, 2)) == 0) {
        if (!digits_only(f[0], 1, 4))
            return malformed(r, "ISCO code is not 1-4 digits");
        if (f[1][0] == '\0')
            return malformed(r, "empty label");
        if (self->isco_count > 0 &&
            strcmp(self->isco[self->isco_count - 1].code, f[0]) >= 0)
            return malformed(r, "ISCO codes not in ascending order");
        self->isco[self->isco_count].code = f[0];
        self->isco[self->isco_count].label = f[1];
        self->isco_count++;
    }
    return rc < 0 ? rc : 0;
}

/* Validates a uuid field, checks that it sorts after the previous entry's,
 * and writes "prefix + uuid" into the URI slot. */
static int
put_uri(const struct reader *r, char *slot, const char *prefix,
        size_t prefix_len, const char *uuid, const char *previous)
{
    if (!uuid_valid(uuid))
        return malformed(r, "not a lower-case uuid");
    if (previous != NULL && memcmp(previous + prefix_len, uuid, UUID_LEN) >= 0)
        return malformed(r, "uuids not in ascending order");
    memcpy(slot, prefix, prefix_len);
    memcpy(slot + prefix_len, uuid, UUID_LEN + 1);
    return 0;
}

/* skills.tsv: uuid TAB type TAB label, sorted by uuid. */
static int
parse_skills(jm_esco_t *self, struct reader *r)
{
    char *f[3];
    int rc;

    self->skills = jm_xcalloc(r->lines, sizeof(*self->skills));
    self->skill_uris = jm_xmalloc(r->lines * SKILL_STRIDE);
    while ((rc = next_line(r, f, 3)) == 0) {
        size_t i = self->skill_count;
        char *uri = self->skill_uris + i * SKILL_STRIDE;

        rc = put_uri(r, uri, JM_ESCO_SKILL_PREFIX, SKILL_PREFIX_LEN, f[0],
                     i > 0 ? uri - SKILL_STRIDE : NULL);
        if (rc != 0)
            return rc;
        if (strcmp(f[1], "S") != 0 && strcmp(f[1], "K") != 0 && f[1][0] != '\0')
            return malformed(r, "skill type is not S, K or empty");
        if (f[2][0] == '\0')
            return malformed(r, "empty label");
        self->skills[i].type = f[1][0];
        self->skills[i].label = f[2];
        self->skill_count++;
    }
    return rc < 0 ? rc : 0;
}

/* occupations.tsv: uuid TAB isco_code TAB label, sorted by uuid. Needs the
 * ISCO table: every occupation's unit group must be known. */
static int
parse_occupations(jm_esco_t *self, struct reader *r)
{
    char *f[3];
    int rc;

    self->occupations = jm_xcalloc(r->lines, sizeof(*self->occupations));
    self->occupation_uris = jm_xmalloc(r->lines * OCCUPATION_STRIDE);
    while ((rc = next_line(r, f, 3)) == 0) {
        size_t i = self->occupation_count;
        char *uri = self->occupation_uris + i * OCCUPATION_STRIDE;

        rc = put_uri(r, uri, JM_ESCO_OCCUPATION_PREFIX, OCCUPATION_PREFIX_LEN,
                     f[0], i > 0 ? uri - OCCUPATION_STRIDE : NULL);
        if (rc != 0)
            return rc;
        if (!digits_only(f[1], 4, 4) || isco_find(self, f[1]) == NULL)
            return malformed(r, "ISCO code is not a known unit group");
        if (f[2][0] == '\0')
            return malformed(r, "empty label");
        self->occupations[i].isco = f[1];
        self->occupations[i].label = f[2];
        self->occupation_count++;
    }
    return rc < 0 ? rc : 0;
}

/* Appends the comma-separated row numbers of field s to self->links,
 * checking each is a skill row and larger than the one before. */
static int
parse_rows(jm_esco_t *self, const struct reader *r, const char *s,
           uint32_t *count)
{
    long previous = -1;

    if (*s == '\0')
        return 0; /* no skills of this kind */
    for (;;) {
        long value = 0;
        const char *start = s;

        /* At most 9 digits: no overflow, and far above any skill count. */
        while (*s >= '0' && *s <= '9' && s - start < 9)
            value = value * 10 + (*s++ - '0');
        if (s == start || (*s != ',' && *s != '\0'))
            return malformed(r, "bad skill row number");
        if ((size_t) value >= self->skill_count)
            return malformed(r, "skill row out of range");
        if (value <= previous)
            return malformed(r, "skill rows not strictly ascending");
        self->links[(*count)++] = (uint32_t) value;
        previous = value;
        if (*s++ == '\0')
            return 0;
    }
}

/* True if the two ascending lists share an element (a merge walk). */
static bool
lists_overlap(const uint32_t *a, size_t a_len, const uint32_t *b, size_t b_len)
{
    size_t i = 0, j = 0;

    while (i < a_len && j < b_len) {
        if (a[i] == b[j])
            return true;
        if (a[i] < b[j])
            i++;
        else
            j++;
    }
    return false;
}

/* occupation_skills.tsv: row TAB essential rows TAB optional rows, one line
 * per occupation in row order. */
static int
parse_links(jm_esco_t *self, struct reader *r)
{
    size_t capacity = 0;
    uint32_t count = 0;
    char *f[3];
    int rc;

    /* Every number but the last of a field is followed by a comma, and a
     * line has two fields: an exact upper bound without a second pass. */
    for (const char *p = r->pos; p < r->end; p++)
        capacity += *p == ',';
    capacity += 2 * r->lines;
    if (capacity > UINT32_MAX) {
        r->line = 1;
        return malformed(r, "too many skill rows");
    }
    self->links =
        jm_xmalloc((capacity > 0 ? capacity : 1) * sizeof(*self->links));

    while ((rc = next_line(r, f, 3)) == 0) {
        size_t i = r->line - 1;
        struct occupation *occ;
        char expected[24];

        if (i >= self->occupation_count)
            return malformed(r, "more lines than occupations");
        (void) snprintf(expected, sizeof(expected), "%zu", i);
        if (strcmp(f[0], expected) != 0)
            return malformed(r, "occupation row is not the line number - 1");
        occ = &self->occupations[i];
        occ->essential = count;
        if ((rc = parse_rows(self, r, f[1], &count)) != 0)
            return rc;
        occ->optional = count;
        if ((rc = parse_rows(self, r, f[2], &count)) != 0)
            return rc;
        occ->end = count;
        if (lists_overlap(
                self->links + occ->essential, occ->optional - occ->essential,
                self->links + occ->optional, occ->end - occ->optional))
            return malformed(r, "a skill is both essential and optional");
    }
    if (rc < 0)
        return rc;
    if (r->line != self->occupation_count)
        return malformed(r, "fewer lines than occupations");
    return 0;
}

static double
elapsed_ms(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double) (now.tv_sec - start->tv_sec) * 1e3 +
           (double) (now.tv_nsec - start->tv_nsec) / 1e6;
}

int
jm_esco_load(jm_esco_t **esco_p, const char *dir)
{
    static int (*const parsers[F_COUNT])(jm_esco_t *, struct reader *) = {
        [F_ISCO] = parse_isco,
        [F_SKILLS] = parse_skills,
        [F_OCCUPATIONS] = parse_occupations,
        [F_LINKS] = parse_links,
    };
    jm_esco_t *self = jm_xcalloc(1, sizeof(*self));
    char *default_dir = NULL;
    struct timespec start;
    int rc = 0;

    JM_ASSERT(esco_p != NULL);
    clock_gettime(CLOCK_MONOTONIC, &start);
    if (dir == NULL)
        dir = default_dir = jm_esco_default_dir();

    /* In dependency order: occupations check their ISCO code, and the
     * relations check their row numbers against both earlier tables. */
    for (int i = 0; i < F_COUNT && rc == 0; i++) {
        struct reader r = {.path = join_path(dir, file_names[i])};

        if ((rc = read_file(&r, &self->data[i])) == 0)
            rc = parsers[i](self, &r);
        free((char *) r.path);
    }
    if (rc != 0)
        goto fail;
    uri_index_build(&self->skill_index, self->skill_uris, self->skill_count,
                    SKILL_STRIDE, SKILL_PREFIX_LEN);
    uri_index_build(&self->occupation_index, self->occupation_uris,
                    self->occupation_count, OCCUPATION_STRIDE,
                    OCCUPATION_PREFIX_LEN);

    jm_log(JM_LOG_INFO, "esco",
           "loaded %zu skills, %zu occupations, %u skill links, %zu ISCO "
           "groups from %s in %.1f ms",
           self->skill_count, self->occupation_count,
           self->occupation_count > 0
               ? self->occupations[self->occupation_count - 1].end
               : 0u,
           self->isco_count, dir, elapsed_ms(&start));
    free(default_dir);
    *esco_p = self;
    return 0;

fail:
    free(default_dir);
    jm_esco_destroy(&self);
    return rc;
}

void
jm_esco_destroy(jm_esco_t **esco_p)
{
    jm_esco_t *self;

    JM_ASSERT(esco_p != NULL);
    if ((self = *esco_p) == NULL)
        return;
    for (int i = 0; i < F_COUNT; i++)
        free(self->data[i]);
    free(self->skill_uris);
    free(self->skills);
    free(self->skill_index.slots);
    free(self->occupation_uris);
    free(self->occupation_index.slots);
    free(self->occupations);
    free(self->links);
    free(self->isco);
    free(self);
    *esco_p = NULL;
}

char *
jm_esco_default_dir(void)
{
    const char *env = getenv("JOBMATCH_DATA_DIR");
    struct stat st;

    if (env != NULL && env[0] != '\0')
        return join_path(env, "esco");
    if (stat(JM_ESCO_INSTALL_DIR, &st) == 0 && S_ISDIR(st.st_mode))
        return jm_xstrdup(JM_ESCO_INSTALL_DIR);
    return jm_xstrdup(JM_ESCO_SOURCE_DIR);
}

/* Where a uuid's probe starts: its first 16 characters (random hex in
 * every real uuid) mixed by a multiplication. */
static size_t
uuid_hash(const char *uuid, size_t mask)
{
    uint64_t a, b;

    memcpy(&a, uuid, 8);
    memcpy(&b, uuid + 9, 8); /* past the first '-' */
    return (size_t) (((a ^ (b << 1)) * UINT64_C(0x9e3779b97f4a7c15)) >> 32) &
           mask;
}

/* Indexes the uuids of count fixed-stride "prefix + uuid" entries (a
 * look-up was a binary search of memcmp over the sorted table, 3 % of
 * intake's loop thread per order for its occupation alone). */
static void
uri_index_build(struct uri_index *ix, const char *uris, size_t count,
                size_t stride, size_t prefix_len)
{
    size_t size = 16;

    while (size < 2 * count)
        size *= 2;
    ix->slots = jm_xcalloc(size, sizeof(*ix->slots));
    ix->mask = size - 1;
    for (size_t row = 0; row < count; row++) {
        size_t at = uuid_hash(uris + row * stride + prefix_len, ix->mask);

        while (ix->slots[at] != 0)
            at = (at + 1) & ix->mask;
        ix->slots[at] = (uint32_t) row + 1;
    }
}

/* The row of uri among the indexed entries, or -ENOENT. Anything but
 * exactly prefix + 36 characters cannot match. */
static int
uri_find(const struct uri_index *ix, const char *uris, size_t stride,
         const char *prefix, size_t prefix_len, const char *uri)
{
    const char *uuid;
    size_t at;

    JM_ASSERT(uri != NULL);
    if (strncmp(uri, prefix, prefix_len) != 0)
        return -ENOENT;
    uuid = uri + prefix_len;
    if (strnlen(uuid, UUID_LEN + 1) != UUID_LEN || ix->slots == NULL)
        return -ENOENT;
    for (at = uuid_hash(uuid, ix->mask); ix->slots[at] != 0;
         at = (at + 1) & ix->mask) {
        size_t row = ix->slots[at] - 1;

        if (memcmp(uuid, uris + row * stride + prefix_len, UUID_LEN) == 0)
            return (int) row; /* counts were checked to fit an int */
    }
    return -ENOENT;
}

size_t
jm_esco_skill_count(const jm_esco_t *esco)
{
    return esco->skill_count;
}

int
jm_esco_skill_find(const jm_esco_t *esco, const char *uri)
{
    return uri_find(&esco->skill_index, esco->skill_uris, SKILL_STRIDE,
                    JM_ESCO_SKILL_PREFIX, SKILL_PREFIX_LEN, uri);
}

const char *
jm_esco_skill_uri(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->skill_count);
    return esco->skill_uris + index * SKILL_STRIDE;
}

const char *
jm_esco_skill_label(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->skill_count);
    return esco->skills[index].label;
}

enum jm_esco_skill_type
jm_esco_skill_type(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->skill_count);
    return (enum jm_esco_skill_type) esco->skills[index].type;
}

size_t
jm_esco_occupation_count(const jm_esco_t *esco)
{
    return esco->occupation_count;
}

int
jm_esco_occupation_find(const jm_esco_t *esco, const char *uri)
{
    return uri_find(&esco->occupation_index, esco->occupation_uris,
                    OCCUPATION_STRIDE, JM_ESCO_OCCUPATION_PREFIX,
                    OCCUPATION_PREFIX_LEN, uri);
}

const char *
jm_esco_occupation_uri(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->occupation_count);
    return esco->occupation_uris + index * OCCUPATION_STRIDE;
}

const char *
jm_esco_occupation_label(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->occupation_count);
    return esco->occupations[index].label;
}

const char *
jm_esco_occupation_isco(const jm_esco_t *esco, size_t index)
{
    JM_ASSERT(index < esco->occupation_count);
    return esco->occupations[index].isco;
}

size_t
jm_esco_occupation_essential(const jm_esco_t *esco, size_t index,
                             const uint32_t **skills)
{
    const struct occupation *occ;

    JM_ASSERT(index < esco->occupation_count && skills != NULL);
    occ = &esco->occupations[index];
    *skills = esco->links + occ->essential;
    return occ->optional - occ->essential;
}

size_t
jm_esco_occupation_optional(const jm_esco_t *esco, size_t index,
                            const uint32_t **skills)
{
    const struct occupation *occ;

    JM_ASSERT(index < esco->occupation_count && skills != NULL);
    occ = &esco->occupations[index];
    *skills = esco->links + occ->optional;
    return occ->end - occ->optional;
}

const char *
jm_esco_isco_label(const jm_esco_t *esco, const char *code)
{
    const struct isco_group *group;

    JM_ASSERT(code != NULL);
    group = isco_find(esco, code);
    return group != NULL ? group->label : NULL;
}

const char *
jm_esco_label(const jm_esco_t *esco, const char *uri)
{
    int index;

    if ((index = jm_esco_skill_find(esco, uri)) >= 0)
        return esco->skills[index].label;
    if ((index = jm_esco_occupation_find(esco, uri)) >= 0)
        return esco->occupations[index].label;
    return NULL;
}
