/* toy_sources.h - stand-ins for intake and profiles in the matcher's
 * component tests, built on jm_source like test_follower's toy: job orders
 * (submit, change status) and citizen profiles (put, erase), each change
 * an event in the log the matcher follows. They check nothing but ids:
 * the real services validate; these only make the log. */
#ifndef TOY_SOURCES_H
#define TOY_SOURCES_H

#include <uv.h>

#include "jm/source.h"

typedef struct toy_source toy_source_t;

/* kind "orders" or "profiles"; data_dir is the store. */
int toy_source_new(toy_source_t **toy_p, uv_loop_t *loop, const char *kind,
                   const char *data_dir);
/* The same, its callers all taken for principal (plain sockets; NULL:
 * "local"), e.g. "monitor", who may not read the log. */
int toy_source_new_as(toy_source_t **toy_p, uv_loop_t *loop, const char *kind,
                      const char *data_dir, const char *principal);
void toy_source_destroy(toy_source_t **toy_p);
const char *toy_source_endpoint(toy_source_t *toy);
uint64_t toy_source_head(toy_source_t *toy);

#endif
