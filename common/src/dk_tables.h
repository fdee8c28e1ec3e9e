/* dk_tables.h - the compiled-in Danish tables, shared between dk.c and the
 * dk_tables.c that cmake/EmbedData.cmake generates from data/ at build time.
 *
 * The arrays are sorted by code (the generator sorts and rejects
 * duplicates), which is what lets dk.c binary-search them. Internal to
 * jm_common: services use the functions of jm/dk.h. */
#ifndef JM_DK_TABLES_H
#define JM_DK_TABLES_H

#include <stdbool.h>
#include <stddef.h>

#include "jm/dk.h"

extern const jm_dk_municipality jm__dk_municipalities[];
extern const size_t jm__dk_municipality_count;

extern const jm_dk_postcode jm__dk_postcodes[];
extern const size_t jm__dk_postcode_count;

/* In the order of data/target_groups.csv. */
extern const jm_dk_target_group jm__dk_target_groups[];
extern const size_t jm__dk_target_group_count;

/* JM_DK_TARGET_GROUP_DEFAULT_LIST at configure time ("2025"). */
extern const char jm__dk_target_group_default_list[];

#endif
