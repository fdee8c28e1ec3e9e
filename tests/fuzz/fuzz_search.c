/* fuzz_search.c - any order against a population large enough that the
 * search takes its cell-by-cell path: the pruned top-k search
 * (matcher_topk_order, and seeded as the live lists seed it) must give
 * exactly the exhaustive scan's answer (matcher_topk_order_scan), for
 * every order a source could send or a store could hold.
 *
 * The population is matcher_gen's, fixed by its seed: 3,000 citizens at
 * real Danish postcodes, Zipf-distributed skills from a vocabulary of 300
 * (the commonest held by more than MATCHER_SPLIT_AT citizens, so their
 * lists are split by cell), ranges of 5-100 km, every hard filter
 * excluding some, packed as after a load (positions in cells' order). The
 * first input byte picks the form of the order (bit
 * 0: the rest is a compact record as the view stores it, its terms as
 * 16-bit ids, which the fuzzer finds easily; else a JobOrder message with
 * skill URIs); the rest is the order. The record must pass the record
 * check and its terms be known, as in the service; then it is put in,
 * searched for k = 1, 5 and 20, seeded and not, and taken out.
 *
 * What must hold: no crash or sanitizer report, and the search equal to
 * the scan, bit for bit, ties included. */
#include <string.h>

#include "fuzz.h"
#include "fuzz_index.h"
#include "jm/clock.h"
#include "jm/msg.h"
#include "jobmatch/v1/envelope.pb-c.h"
#include "matcher_dict.h"
#include "matcher_fixture.h"
#include "matcher_gen.h"
#include "matcher_record.h"

static matcher_index_t *ix;
static size_t population_terms;

static void
setup(void)
{
    gen_opts opts = {
        .profiles = 3000,
        .orders = 8,
        .vocab = 300,
        .occupations = 30,
        .zipf = 1.0,
        .skills_min = 3,
        .skills_max = 20,
        .oskills_min = 1,
        .oskills_max = 15,
        .clones = 50,
        .seed = 11,
    };
    gen_t g;

    jm_clock_set_fake(FUZZ_NOW_MS);
    matcher_index_new(&ix);
    gen_init(&g, &opts);
    gen_populate(&g, ix);
    gen_release(&g);
    /* Packed, as a matcher's index is after its load: signatures given,
     * positions in cells' order, so that short lists are read through
     * their blocks' cells. */
    matcher_index_compact(ix);
    population_terms = matcher_dict_count(ix->dict);
}

static void
search(const struct matcher_order_rec *rec, size_t size)
{
    static const size_t ks[] = {1, 5, FUZZ_KMAX};
    uint32_t slot;

    if (!matcher_record_order_valid(rec, size))
        return;
    slot = matcher_index_put_order(ix, rec, size);
    if (slot == MATCHER_NONE)
        return; /* names a term the dictionary does not hold */
    for (size_t i = 0; i < sizeof(ks) / sizeof(ks[0]); i++)
        fuzz_search_equals_scan(ix, &ix->orders[slot], ks[i]);
    fuzz_check(matcher_index_remove_order(ix, matcher_order_id(rec),
                                          rec->id_len) == slot);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    _Alignas(8) static uint8_t buf[MATCHER_ORDER_REC_MAX];

    if (ix == NULL)
        setup();
    if (size == 0)
        return 0;
    matcher_dict_truncate(ix->dict, population_terms);
    if (data[0] & 1) {
        if (size - 1 <= sizeof(buf)) {
            memcpy(buf, data + 1, size - 1);
            search((const struct matcher_order_rec *) (const void *) buf,
                   size - 1);
        }
    } else {
        matcher_encoder enc = {NULL, fx_intern, ix->dict};
        const Jobmatch__V1__JobOrder *order;
        jm_msg_t *msg = NULL;
        jm_error err = {0};
        int n;

        if (jm_msg_unpack(&msg, &jobmatch__v1__job_order__descriptor, data + 1,
                          size - 1, 1024 * 1024, &err) != 0)
            return 0;
        order = (const Jobmatch__V1__JobOrder *) jm_msg_get(msg);
        if (order->id[0] != '\0' && strlen(order->id) <= 64 &&
            (n = matcher_record_order(&enc, order, 0, buf)) > 0)
            search((const struct matcher_order_rec *) (const void *) buf,
                   (size_t) n);
        jm_msg_free(&msg);
    }
    return 0;
}

/* The population's own orders, as the view stores them. */
int
fuzz_write_seeds(const char *dir)
{
    static uint8_t file[1 + MATCHER_ORDER_REC_MAX];
    int n = 0;

    if (ix == NULL)
        setup();
    for (uint32_t o = 0; o < ix->oused; o++) {
        const struct matcher_order_rec *rec = ix->orders[o].rec;
        char name[32];
        size_t size;

        if (rec == NULL)
            continue;
        size = matcher_order_size(rec);
        file[0] = 1;
        memcpy(file + 1, rec, size);
        snprintf(name, sizeof(name), "order-%u", o);
        n += fuzz_write_file(dir, name, file, size + 1) == 0;
    }
    return n;
}
