/* test_profiles_cli.c - `jobmatch profile ...` against the real
 * jobmatch-profiles binary: docs/examples/profile.json goes in with
 * `put --json` (one JSON object with id and seq), get shows the personal
 * part and ESCO labels, find, assess, progress, consent and erase work,
 * and the exit codes are the contract: 0 ok, 1 error reply, 2 usage,
 * 3 unreachable. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "jm/log.h"
#include "jm_proc.h"
#include "jm_test.h"
#include "profiles_profile.h"

struct fx {
    uv_loop_t loop;
    char dir[256];
    char endpoint[320];
    jm_proc_t *proc;
    char *out; /* the last command's stdout */
    bool finished;
};

/* Runs jobmatch --profiles EP ARGS... (NULL-terminated); stdout into
 * f->out; returns the exit code. */
static int
run_cli(struct fx *f, const char *first, ...)
{
    const char *argv[32] = {JOBMATCH_BIN, "--profiles", f->endpoint};
    size_t argc = 3;
    va_list ap;
    int rc;

    va_start(ap, first);
    for (const char *a = first; a != NULL; a = va_arg(ap, const char *)) {
        assert_true(argc < 31);
        argv[argc++] = a;
    }
    va_end(ap);
    argv[argc] = NULL;
    free(f->out);
    rc = jm_proc_run(argv, &f->out);
    assert_true(rc >= 0);
    return rc;
}

static json_t *
out_json(struct fx *f)
{
    json_error_t err;
    json_t *json = json_loads(f->out, 0, &err);

    if (json == NULL)
        fail_msg("not one JSON document (%s): %s", err.text, f->out);
    return json;
}

static int
setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    char data[300], log_path[300];
    const char *argv[6];

    jm_log_set_level(JM_LOG_ERR);
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    snprintf(data, sizeof(data), "%s/data", f->dir);
    snprintf(log_path, sizeof(log_path), "%s/profiles.log", f->dir);
    argv[0] = PROFILES_BIN;
    argv[1] = "--data-dir";
    argv[2] = data;
    argv[3] = "--api";
    argv[4] = "tcp://127.0.0.1:*";
    argv[5] = NULL;
    assert_int_equal(uv_loop_init(&f->loop), 0);
    assert_int_equal(jm_proc_start(&f->proc, &f->loop, argv, log_path, 20000),
                     0);
    snprintf(f->endpoint, sizeof(f->endpoint), "%s",
             jm_proc_endpoint(f->proc, "api"));
    *state = f;
    return 0;
}

static int
teardown(void **state)
{
    struct fx *f = *state;

    if (f->finished) {
        jm_proc_destroy(&f->proc);
        jm_test_close_loop(&f->loop, 5000);
        jm_test_rmtree(f->dir);
    } else if (f->proc != NULL) {
        kill(jm_proc_pid(f->proc), SIGKILL); /* never outlive the test */
    }
    free(f->out);
    free(f);
    return 0;
}

static void
test_profile_commands(void **state)
{
    struct fx *f = *state;
    char id[PROFILES_ID_LEN + 1];
    json_t *json, *m;

    /* put --json: one object with the pseudonymous id and the seq. */
    assert_int_equal(
        run_cli(f, "profile", "put", PROFILES_EXAMPLE, "--json", NULL), 0);
    json = out_json(f);
    assert_true(json_is_string(json_object_get(json, "id")));
    assert_true(
        profiles_id_valid(json_string_value(json_object_get(json, "id"))));
    assert_int_equal(json_integer_value(json_object_get(json, "seq")), 1);
    snprintf(id, sizeof(id), "%s",
             json_string_value(json_object_get(json, "id")));
    json_decref(json);
    /* Without --json: the id and the seq in words. */
    assert_int_equal(run_cli(f, "profile", "put", PROFILES_EXAMPLE, NULL), 0);
    assert_non_null(strstr(f->out, id));
    assert_non_null(strstr(f->out, "seq 2"));

    /* get: personal data (a local developer may see it) and labels. */
    assert_int_equal(run_cli(f, "profile", "get", id, NULL), 0);
    assert_non_null(strstr(f->out, "Anders Testesen"));
    assert_non_null(strstr(f->out, "010190-1234"));
    assert_non_null(strstr(f->out, "forklift operator"));
    assert_non_null(strstr(f->out, "operate forklift"));
    assert_int_equal(run_cli(f, "profile", "get", id, "--json", NULL), 0);
    json = out_json(f);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json, "profile"), "id")),
                        id);
    json_decref(json);

    assert_int_equal(
        run_cli(f, "profile", "find", "--cpr", "010190-1234", NULL), 0);
    assert_non_null(strstr(f->out, id));

    assert_int_equal(run_cli(f, "profile", "assess", id, "--dimension",
                             "danish", "--score", "7", "--assessor", "SL",
                             NULL),
                     0);
    assert_int_equal(run_cli(f, "profile", "assess", id, "--dimension",
                             "job_readiness", "--score", "4", "--date",
                             "2026-01-15", NULL),
                     0);
    assert_int_equal(run_cli(f, "profile", "progress", id, "--json", NULL), 0);
    json = out_json(f);
    m = json_object_get(json, "measurements");
    assert_int_equal(json_array_size(m), 2);
    /* Oldest first. */
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(m, 0), "date")),
        "2026-01-15");
    assert_int_equal(
        json_integer_value(json_object_get(json_array_get(m, 1), "score")), 7);
    json_decref(json);
    assert_int_equal(
        run_cli(f, "profile", "progress", id, "--dimension", "danish", NULL),
        0);
    assert_non_null(strstr(f->out, "danish"));
    assert_null(strstr(f->out, "job_readiness"));

    assert_int_equal(run_cli(f, "profile", "consent", id,
                             "--neighbour-matching", "no", NULL),
                     0);
    assert_int_equal(run_cli(f, "profile", "get", id, NULL), 0);
    assert_non_null(strstr(f->out, "neighbour matching no"));
    /* The file saved before the withdrawal (consent given) must not bring
     * the consent back: only `profile consent` changes it. */
    assert_int_equal(run_cli(f, "profile", "put", PROFILES_EXAMPLE, NULL), 1);
    assert_int_equal(run_cli(f, "profile", "get", id, NULL), 0);
    assert_non_null(strstr(f->out, "neighbour matching no"));

    assert_int_equal(run_cli(f, "profile", "erase", id, NULL), 0);
    /* 1: the service answers with an error. */
    assert_int_equal(run_cli(f, "profile", "get", id, NULL), 1);
    assert_int_equal(
        run_cli(f, "profile", "find", "--cpr", "010190-1234", NULL), 1);
    assert_int_equal(run_cli(f, "profile", "erase", id, NULL), 1);
    f->finished = true;
}

static void
test_exit_codes_and_help(void **state)
{
    struct fx *f = *state;
    static const char *const subs[] = {"put",      "get",     "find", "assess",
                                       "progress", "consent", "erase"};

    /* 2: usage. */
    assert_int_equal(run_cli(f, "profile", NULL), 2);
    assert_int_equal(run_cli(f, "profile", "get", NULL), 2);
    assert_int_equal(run_cli(f, "profile", "frobnicate", NULL), 2);
    assert_int_equal(run_cli(f, "profile", "find", "010190-1234", NULL), 2);
    assert_int_equal(run_cli(f, "profile", "assess", "p-aaaaaaaaaaaaaaaaaaaa",
                             "--dimension", "danish", "--score", "11", NULL),
                     2);
    assert_int_equal(run_cli(f, "profile", "assess", "p-aaaaaaaaaaaaaaaaaaaa",
                             "--dimension", "luck", "--score", "5", NULL),
                     2);
    assert_int_equal(run_cli(f, "profile", "consent", "p-aaaaaaaaaaaaaaaaaaaa",
                             "--neighbour-matching", "maybe", NULL),
                     2);
    assert_int_equal(run_cli(f, "profile", "put", "/nonexistent.json", NULL),
                     2);
    /* 1: a field the service refuses. */
    assert_int_equal(run_cli(f, "profile", "get", "not-an-id", NULL), 1);
    /* --help at every level. */
    assert_int_equal(run_cli(f, "profile", "--help", NULL), 0);
    assert_non_null(strstr(f->out, "erase ID"));
    for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
        assert_int_equal(run_cli(f, "profile", subs[i], "--help", NULL), 0);
        assert_non_null(strstr(f->out, "usage: jobmatch profile"));
    }
    /* 3: nobody there (an ipc path nothing listens on). */
    snprintf(f->endpoint, sizeof(f->endpoint), "ipc://%s/nobody.sock", f->dir);
    assert_int_equal(run_cli(f, "--timeout", "300", "profile", "get",
                             "p-aaaaaaaaaaaaaaaaaaaa", NULL),
                     3);
    f->finished = true;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_profile_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exit_codes_and_help, setup,
                                        teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
