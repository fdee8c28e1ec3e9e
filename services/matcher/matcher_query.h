/* matcher_query.h - the matcher's queries: checking a request, deciding
 * what the caller may see, and building the explained reply.
 *
 * Who sees what (DESIGN.md section 4): "local" (plain sockets), "admin"
 * and "service:*" see everything. "municipality:X", "consultant:X" and
 * "caseworker:X" see only orders owned by municipality X, and only
 * citizens who live in X or whom sharing lets X's orders see (they
 * consented to neighbour matching and an agreement of X covers where they
 * live, or no agreements are configured). Anyone else is refused.
 *
 * Replies are built in an arena that lives until the reply is sent. */
#ifndef MATCHER_QUERY_H
#define MATCHER_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "matcher_index.h"
#include "matcher_live.h"

/* ---- an arena for reply memory ---- */

typedef struct matcher_arena {
    struct matcher_chunk *chunks;
} matcher_arena;

/* Zeroed memory, freed with the arena. Never fails. */
void *matcher_arena_alloc(matcher_arena *arena, size_t size);
char *matcher_arena_strndup(matcher_arena *arena, const char *s, size_t len);
void matcher_arena_release(matcher_arena *arena);

/* ---- who may see what ---- */

typedef struct matcher_scope {
    bool all;       /* sees everything */
    uint16_t owner; /* else: this municipality's orders and citizens */
} matcher_scope;

/* Parses a principal. false: it may not query the matcher at all. */
bool matcher_scope_of(const char *principal, matcher_scope *scope);

/* ---- the queries ---- */

typedef struct matcher_query_ctx {
    matcher_index_t *ix;
    matcher_live_t *live;
} matcher_query_ctx;

/* Answers req if its body is one of MatchOrder, MatchProfile,
 * GetSkillGaps, GetOrderBottlenecks, Assign: fills reply from arena and
 * returns 0, or fills err and returns a positive value (invalid field,
 * permission denied, not found). Returns -ENOTSUP for other bodies. */
int matcher_query(const matcher_query_ctx *q, const char *principal,
                  const Jobmatch__V1__Request *req, matcher_arena *arena,
                  Jobmatch__V1__Reply *reply, jm_error *err);

#endif
