/* esco.h - the compact ESCO v1.1.1 subset jobmatch ships, loaded read-only.
 *
 * data/esco/ holds four TSV files cut from the ESCO export by
 * tools/esco_compact.py (see data/esco/README.md for the format, counts,
 * source and licence: CC BY 4.0, "This service uses the ESCO classification
 * of the European Commission."): the skills, the occupations with their
 * ISCO-08 unit group, each occupation's essential and optional skills, and
 * the ISCO-08 group labels. jm_esco_load() reads them into one immutable
 * table (a few buffers, no per-entry allocation) in a few milliseconds.
 *
 * Skills and occupations are addressed by index: 0 .. count-1, in uuid
 * order, stable for one data version (an index is NOT a stable id across
 * ESCO versions: store URIs, keep indexes in memory only). Look-ups by URI
 * are hash look-ups (no allocation, any thread) and match exactly:
 * JM_ESCO_SKILL_PREFIX or JM_ESCO_OCCUPATION_PREFIX followed by the lower-case
 * 36-character uuid.
 *
 * Every string returned is borrowed from the table and stays valid until
 * jm_esco_destroy(). The table is never modified after loading, so it may be
 * shared freely (even read from a uv_queue_work thread). Passing an index
 * out of range is a programmer error and aborts (JM_ASSERT). */
#ifndef JM_ESCO_H
#define JM_ESCO_H

#include <stddef.h>
#include <stdint.h>

#define JM_ESCO_SKILL_PREFIX      "http://data.europa.eu/esco/skill/"
#define JM_ESCO_OCCUPATION_PREFIX "http://data.europa.eu/esco/occupation/"

typedef struct jm_esco jm_esco_t;

/* ESCO's skillType. Six ESCO 1.1.1 skills (digital-competence headings such
 * as "ICT safety") have none. */
enum jm_esco_skill_type {
    JM_ESCO_SKILL_TYPE_UNKNOWN = 0,
    JM_ESCO_SKILL_TYPE_COMPETENCE = 'S', /* "skill/competence" */
    JM_ESCO_SKILL_TYPE_KNOWLEDGE = 'K',  /* "knowledge" */
};

/* Loads skills.tsv, occupations.tsv, occupation_skills.tsv and
 * isco_groups.tsv from dir (NULL: jm_esco_default_dir()) and checks them
 * completely: field counts, uuid syntax and order, skill types, row numbers
 * in range and ascending, one relation line per occupation, each
 * occupation's ISCO code present in isco_groups.tsv, every file ending in a
 * newline (a cut-off file fails). On success *esco_p owns the table (free
 * with jm_esco_destroy) and one INFO line gives the counts and the time.
 * Errors (*esco_p untouched, one ERR line logged saying what and where):
 *   -ENOENT  the directory or one of the files is missing
 *   -EINVAL  a file is malformed (logged as "path:line: reason")
 *   other -errno from open/read (-EACCES, -EIO, ...) */
int jm_esco_load(jm_esco_t **esco_p, const char *dir);

/* Frees the table and sets *esco_p to NULL; safe on NULL and twice. Every
 * string and array borrowed from the table dies with it. */
void jm_esco_destroy(jm_esco_t **esco_p);

/* Where to load from when no directory is configured:
 *   $JOBMATCH_DATA_DIR/esco  if that variable is set and not empty;
 *   else the installed copy (${CMAKE_INSTALL_FULL_DATADIR}/jobmatch/esco)
 *   if that directory exists;
 *   else the source tree's data/esco (so build-tree binaries and tests run
 *   without installing).
 * Caller owns the returned string; free with free(). Never NULL. */
char *jm_esco_default_dir(void);

/* ---- skills -------------------------------------------------------- */

size_t jm_esco_skill_count(const jm_esco_t *esco);

/* Index of the skill with this URI, or -ENOENT when the URI is unknown or
 * not of the form JM_ESCO_SKILL_PREFIX + uuid (an occupation URI, another
 * host or scheme, upper-case hex, trailing characters ...). */
int jm_esco_skill_find(const jm_esco_t *esco, const char *uri);

/* The full URI ("http://data.europa.eu/esco/skill/<uuid>"), the English
 * preferred label and the type of the skill at index. Strings borrowed. */
const char *jm_esco_skill_uri(const jm_esco_t *esco, size_t index);
const char *jm_esco_skill_label(const jm_esco_t *esco, size_t index);
enum jm_esco_skill_type jm_esco_skill_type(const jm_esco_t *esco, size_t index);

/* ---- occupations --------------------------------------------------- */

size_t jm_esco_occupation_count(const jm_esco_t *esco);

/* Index of the occupation with this URI, or -ENOENT (as for skills). */
int jm_esco_occupation_find(const jm_esco_t *esco, const char *uri);

/* The full URI, the English preferred label, and the 4-digit ISCO-08 unit
 * group code ("2512") of the occupation at index. Strings borrowed. */
const char *jm_esco_occupation_uri(const jm_esco_t *esco, size_t index);
const char *jm_esco_occupation_label(const jm_esco_t *esco, size_t index);
const char *jm_esco_occupation_isco(const jm_esco_t *esco, size_t index);

/* The occupation's essential (resp. optional) skills: sets *skills to an
 * array of skill indexes, strictly ascending (so two lists intersect by a
 * merge), and returns its length, which may be 0 (then *skills is not
 * dereferenceable). No skill is in both lists. The array is borrowed. */
size_t jm_esco_occupation_essential(const jm_esco_t *esco, size_t index,
                                    const uint32_t **skills);
size_t jm_esco_occupation_optional(const jm_esco_t *esco, size_t index,
                                   const uint32_t **skills);

/* ---- ISCO-08 and convenience --------------------------------------- */

/* Label of an ISCO-08 group by code: 1 digit (major group) to 4 digits
 * (unit group), e.g. "2512" -> "Software developers", "25" -> "Information
 * and communications technology professionals". NULL if unknown. Borrowed.
 */
const char *jm_esco_isco_label(const jm_esco_t *esco, const char *code);

/* Label of any skill or occupation URI, for showing next to a URI; NULL if
 * the URI is unknown or malformed. Borrowed. */
const char *jm_esco_label(const jm_esco_t *esco, const char *uri);

#endif
