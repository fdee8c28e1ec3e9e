/* fuzz_index.h - what the matcher's fuzz targets share: the search
 * checked against the scan, and a small index of real ESCO warehouse
 * skills to query: six orders ("o1".."o6") and twelve citizens
 * ("p1".."p12") in Glostrup (161) and Albertslund (165), which share
 * (Glostrup may see Albertslund's consenting citizens). */
#ifndef FUZZ_INDEX_H
#define FUZZ_INDEX_H

#include "jm/esco.h"
#include "matcher_index.h"
#include "matcher_live.h"

/* 2026-11-24 00:00 UTC: the clock is fixed there, so the fixture's dates
 * (availability, recency) are the same on every run. */
#define FUZZ_NOW_MS 1795478400000LL

/* Builds it (once per process: the targets call it on their first input)
 * with live shortlists, and the ESCO data it was made with. */
void fuzz_index(matcher_index_t **ix_p, matcher_live_t **live_p,
                const jm_esco_t **esco_p);

/* The pruned search for order o in ix equals the exhaustive scan for k
 * (at most FUZZ_KMAX), bit for bit, unseeded and seeded with the second
 * half of the scan's answer (the live lists seed a search with an order's
 * old list); aborts otherwise. */
#define FUZZ_KMAX 20
void fuzz_search_equals_scan(matcher_index_t *ix, const matcher_order *o,
                             size_t k);

#endif
