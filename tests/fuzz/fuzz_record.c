/* fuzz_record.c - any bytes as a job order or a citizen profile the way a
 * source's log delivers them to the matcher (the wire checked, nothing
 * else: a source is another program, and its bugs are outside input
 * too), through what the matcher's view does with one: the compact record
 * (matcher_record_order / _profile), the record check it applies to what
 * it reads back, and the index. The first byte picks the kind (bit 0: a
 * citizen, else an order) and the form (bit 1: the rest is a record as
 * the view reads it back from its store, else the message).
 *
 * What must hold: no crash or sanitizer report; a record made passes the
 * record check and the index takes it (even once the term dictionary is
 * full, which a long run reaches: new terms are dropped); and the search with
 * pruning gives exactly the exhaustive scan's answer (matcher_topk_order_scan),
 * for the new order, or for every order once the new citizen is in. The record
 * is then removed, so every input meets the same index. */
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "matcher_dict.h"
#include "matcher_fixture.h"
#include "matcher_record.h"

#define K 5

static matcher_index_t *ix;
static matcher_live_t *live;
static const jm_esco_t *esco;
static size_t fixture_terms; /* the dictionary as setup left it */

/* The fixture's index, the seeds' terms, then the dictionary filled all
 * but 8 terms: an input's new terms after the first few are dropped, as in
 * a matcher whose dictionary filled up (the path where a bug was found). */
static void
setup(void)
{
    static const char *const seed_terms[] = {FX_BARCODE, FX_WAREHOUSE_WORKER};
    uint16_t id;

    fuzz_index(&ix, &live, &esco);
    for (size_t i = 0; i < sizeof(seed_terms) / sizeof(seed_terms[0]); i++)
        fuzz_check(fx_intern(ix->dict, seed_terms[i], &id) == 0);
    for (size_t t = matcher_dict_count(ix->dict); t < MATCHER_TERMS_MAX - 8;
         t++) {
        char uri[48];

        snprintf(uri, sizeof(uri), "urn:fuzz:filler:%zu", t);
        fuzz_check(matcher_dict_add(ix->dict, (uint16_t) t, uri, strlen(uri)) ==
                   0);
    }
    fixture_terms = matcher_dict_count(ix->dict);
}

/* The view keeps records whose id is 1-64 bytes (matcher_view.c). */
static bool
id_ok(const char *id)
{
    size_t len = id != NULL ? strlen(id) : 0;

    return len > 0 && len <= 64;
}

/* Puts the order in, compares the pruned search for it with the scan,
 * takes it out again. made_here: the record was made with this index's
 * dictionary, so the index must take it. */
static void
try_order(const struct matcher_order_rec *rec, size_t size, bool made_here)
{
    uint32_t slot = matcher_index_put_order(ix, rec, size);

    if (slot == MATCHER_NONE) {
        fuzz_check(!made_here); /* a stored one may name unknown terms */
        return;
    }
    fuzz_search_equals_scan(ix, &ix->orders[slot], K);
    fuzz_check(matcher_index_remove_order(ix, matcher_order_id(rec),
                                          rec->id_len) == slot);
}

/* The same for a citizen: every order's search against the scan while
 * they are in. */
static void
try_citizen(const struct matcher_profile_rec *rec, size_t size, bool made_here)
{
    uint32_t slot = matcher_index_put_profile(ix, rec, size);

    if (slot == MATCHER_NONE) {
        fuzz_check(!made_here);
        return;
    }
    for (uint32_t o = 0; o < ix->oused; o++) {
        if (ix->orders[o].rec != NULL)
            fuzz_search_equals_scan(ix, &ix->orders[o], K);
    }
    fuzz_check(matcher_index_remove_profile(ix, matcher_profile_id(rec),
                                            rec->id_len) == slot);
}

static void
order(const Jobmatch__V1__JobOrder *msg)
{
    _Alignas(8) static uint8_t buf[MATCHER_ORDER_REC_MAX];
    matcher_encoder enc = {esco, fx_intern, ix->dict};
    int n;

    if (!id_ok(msg->id) ||
        msg->status != JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN)
        return; /* the view drops it, or deletes the order */
    if ((n = matcher_record_order(&enc, msg, 0, buf)) <= 0)
        return;
    fuzz_check(matcher_record_order_valid(buf, (size_t) n));
    try_order((const struct matcher_order_rec *) (const void *) buf, (size_t) n,
              true);
}

static void
citizen(const Jobmatch__V1__CitizenProfile *msg)
{
    _Alignas(8) static uint8_t buf[MATCHER_PROFILE_REC_MAX];
    matcher_encoder enc = {esco, fx_intern, ix->dict};
    int n;

    if (!id_ok(msg->id))
        return;
    if ((n = matcher_record_profile(&enc, msg, 0, buf)) <= 0)
        return;
    fuzz_check(matcher_record_profile_valid(buf, (size_t) n));
    try_citizen((const struct matcher_profile_rec *) (const void *) buf,
                (size_t) n, true);
}

/* Bytes as the matcher's view reads a record back from its store: only
 * what passes the record check may reach the index, and then it must be
 * safe to index, search and remove, whatever its fields say (a store
 * corrupted on disk must not crash the matcher). */
static void
stored_record(bool is_citizen, const uint8_t *data, size_t size)
{
    _Alignas(8) static uint8_t buf[MATCHER_PROFILE_REC_MAX];

    if (size > sizeof(buf))
        return;
    memcpy(buf, data, size); /* as the view copies a value out of LMDB */
    if (is_citizen && matcher_record_profile_valid(buf, size))
        try_citizen((const struct matcher_profile_rec *) (const void *) buf,
                    size, false);
    else if (!is_citizen && matcher_record_order_valid(buf, size))
        try_order((const struct matcher_order_rec *) (const void *) buf, size,
                  false);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const ProtobufCMessageDescriptor *desc;
    jm_msg_t *msg = NULL;
    jm_error err = {0};

    if (ix == NULL)
        setup();
    if (size == 0)
        return 0;
    /* Every input meets the same dictionary (as the view forgets the terms
     * of a batch that did not commit), so that an input that fails here
     * fails again when replayed alone. */
    matcher_dict_truncate(ix->dict, fixture_terms);
    if (data[0] & 2) {
        stored_record(data[0] & 1, data + 1, size - 1);
        return 0;
    }
    desc = data[0] & 1 ? &jobmatch__v1__citizen_profile__descriptor
                       : &jobmatch__v1__job_order__descriptor;
    if (jm_msg_unpack(&msg, desc, data + 1, size - 1, 1024 * 1024, &err) != 0)
        return 0;
    if (data[0] & 1)
        citizen((const Jobmatch__V1__CitizenProfile *) jm_msg_get(msg));
    else
        order((const Jobmatch__V1__JobOrder *) jm_msg_get(msg));
    jm_msg_free(&msg);
    return 0;
}

/* Orders and citizens of the fixture, packed as a source logs them. */
static int
seed(const char *dir, const char *name, uint8_t kind, const ProtobufCMessage *m)
{
    uint8_t *packed = NULL, *file;
    size_t size = 0;
    int rc;

    if (jm_msg_pack(m, &packed, &size) != 0)
        return -1;
    if ((file = malloc(size + 1)) == NULL) {
        free(packed);
        return -1;
    }
    file[0] = kind;
    memcpy(file + 1, packed, size);
    rc = fuzz_write_file(dir, name, file, size + 1);
    free(file);
    free(packed);
    return rc;
}

/* A record as the view stores it, made from a fixture's message. */
static int
raw_seed(const char *dir, const char *name, const fx_profile *p,
         const fx_order *o)
{
    _Alignas(8) static uint8_t rec[MATCHER_PROFILE_REC_MAX];
    static uint8_t file[1 + MATCHER_PROFILE_REC_MAX];
    matcher_encoder enc;
    int n;

    /* The index's dictionary: the terms get the ids they have in every
     * run. */
    if (ix == NULL)
        setup();
    enc = (matcher_encoder){esco, fx_intern, ix->dict};
    n = p != NULL ? matcher_record_profile(&enc, &p->p, 0, rec)
                  : matcher_record_order(&enc, &o->o, 0, rec);
    if (n <= 0)
        return 0;
    file[0] = p != NULL ? 3 : 2;
    memcpy(file + 1, rec, (size_t) n);
    return fuzz_write_file(dir, name, file, (size_t) n + 1) == 0;
}

int
fuzz_write_seeds(const char *dir)
{
    fx_order o;
    fx_profile p;
    int n = 0;

    fx_order_init(&o, "o-seed");
    fx_order_skill(&o, FX_STACK_GOODS, 2, true);
    fx_order_skill(&o, FX_FORKLIFT, 3, true);
    fx_order_skill(&o, FX_BARCODE, 0, false);
    fx_order_language(&o, "en", 3);
    fx_order_licence(&o, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    o.o.status = JOBMATCH__V1__ORDER_STATUS__ORDER_STATUS_OPEN;
    n += seed(dir, "order", 0, &o.o.base) == 0;
    fx_profile_init(&p, "p-seed");
    fx_profile_skill(&p, FX_STACK_GOODS, 4, 2025);
    fx_profile_skill(&p, FX_FORKLIFT, 2, 2019);
    fx_profile_occupation(&p, FX_WAREHOUSE_WORKER, true);
    fx_profile_language(&p, "en", 4);
    fx_profile_licence(&p, JOBMATCH__V1__LICENCE__LICENCE_FORKLIFT);
    fx_profile_progress(&p, 7);
    n += seed(dir, "citizen", 1, &p.p.base) == 0;
    n += raw_seed(dir, "citizen-record", &p, NULL);
    n += raw_seed(dir, "order-record", NULL, &o);
    return n;
}
