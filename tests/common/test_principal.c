/* test_principal.c - the names of principals, as every service reads them. */
#include <string.h>

#include "jm/mem.h"
#include "jm/principal.h"
#include "jm_test.h"

static void
test_every_kind_and_its_municipality(void **state)
{
    static const struct {
        const char *name;
        jm_principal_kind kind;
        const char *municipality;
        bool sees_all;
    } cases[] = {
        {"local", JM_PRINCIPAL_LOCAL, "", true},
        {"admin", JM_PRINCIPAL_ADMIN, "", true},
        {"service:matcher-2", JM_PRINCIPAL_SERVICE, "", true},
        {"service", JM_PRINCIPAL_SELF, "", false},
        {"municipality:161", JM_PRINCIPAL_MUNICIPALITY, "161", false},
        {"consultant:101", JM_PRINCIPAL_CONSULTANT, "101", false},
        {"caseworker:851", JM_PRINCIPAL_CASEWORKER, "851", false},
        /* counts only: neither trusted with records nor municipal */
        {"monitor", JM_PRINCIPAL_MONITOR, "", false},
        {"monitor:prometheus", JM_PRINCIPAL_MONITOR, "", false},
    };

    jm_principal p;

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(cases); i++) {
        jm_principal_parse(cases[i].name, &p);
        assert_int_equal(p.kind, cases[i].kind);
        assert_string_equal(p.municipality, cases[i].municipality);
        assert_int_equal(jm_principal_is_municipal(&p),
                         cases[i].municipality[0] != '\0');
        assert_int_equal(jm_principal_is_trusted(&p), cases[i].sees_all);
        assert_int_equal(jm_principal_sees_all(cases[i].name),
                         cases[i].sees_all);
    }
}

/* Anything not exactly one of the forms gets no rights at all: a typo in
 * an allow list locks the key out rather than granting something. */
static void
test_unknown_forms_are_nobody(void **state)
{
    static const char *const unknown[] = {
        "",
        "Admin",
        "local ",
        "service:",
        "services:matcher",
        "municipality:",
        "municipality:999", /* not one of the 98 */
        "municipality:16",
        "municipality:1610",
        "municipality:161 ",
        "caseworker:abc",
        "consultant",
        "monitor:",
        "monitors",
        "citizen:161",
        "161",
    };
    jm_principal p;

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(unknown); i++) {
        jm_principal_parse(unknown[i], &p);
        if (p.kind != JM_PRINCIPAL_UNKNOWN)
            fail_msg("\"%s\" parsed as kind %d", unknown[i], (int) p.kind);
        assert_string_equal(p.municipality, "");
        assert_false(jm_principal_is_municipal(&p));
        assert_false(jm_principal_sees_all(unknown[i]));
    }
    jm_principal_parse(NULL, &p);
    assert_int_equal(p.kind, JM_PRINCIPAL_UNKNOWN);
    assert_false(jm_principal_sees_all(NULL));
}

/* What may be given to callers (allow lists, a plain principal): any name
 * but the reserved one and malformed text; unknown names are allowed (they
 * are refused everything, which locks a key out). */
static void
test_problem_refuses_reserved_and_malformed(void **state)
{
    static const char *const fine[] = {
        "local",        "admin", "service:matcher", "municipality:161",
        "someone:else", /* unknown: refused everything, not malformed */
    };
    static const char *const refused[] = {
        "", JM_PRINCIPAL_SELF_NAME, "admin\n", "local\tx", "x\x7f",
    };
    char longest[JM_PRINCIPAL_MAX_LEN + 2];

    (void) state;
    for (size_t i = 0; i < JM_COUNTOF(fine); i++)
        if (jm_principal_problem(fine[i]) != NULL)
            fail_msg("\"%s\" refused: %s", fine[i],
                     jm_principal_problem(fine[i]));
    for (size_t i = 0; i < JM_COUNTOF(refused); i++)
        if (jm_principal_problem(refused[i]) == NULL)
            fail_msg("principal %zu accepted", i);
    assert_non_null(strstr(jm_principal_problem("service"), "reserved"));
    assert_non_null(jm_principal_problem(NULL));
    memset(longest, 'a', sizeof(longest));
    longest[JM_PRINCIPAL_MAX_LEN] = '\0';
    assert_null(jm_principal_problem(longest));
    longest[JM_PRINCIPAL_MAX_LEN] = 'a';
    longest[JM_PRINCIPAL_MAX_LEN + 1] = '\0';
    assert_non_null(jm_principal_problem(longest));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_and_its_municipality),
        cmocka_unit_test(test_unknown_forms_are_nobody),
        cmocka_unit_test(test_problem_refuses_reserved_and_malformed),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
