/* server_fixture.c - the component tests' in-process server (see
 * server_fixture.h). */
#include "server_fixture.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/clock.h"
#include "jm_test.h"

static void
set(intake_config *config, const char *key, const char *value)
{
    char err[256];

    if (jm_cfg_set(config, intake_config_table, key, value, err, sizeof(err)) !=
        0)
        fail_msg("%s", err);
}

void
fx_start(struct fixture *f, const char *principal, const char *housekeeping)
{
    intake_config config;

    jm_cfg_defaults(&config, intake_config_table);
    set(&config, "data_dir", f->dir);
    set(&config, "api", "tcp://127.0.0.1:*");
    set(&config, "map_size_mb", "64");
    set(&config, "plain_principal", principal);
    set(&config, "housekeeping_ms", housekeeping);
    for (size_t i = 0; f->extra != NULL && f->extra[i] != NULL; i += 2)
        set(&config, f->extra[i], f->extra[i + 1]);
    assert_int_equal(intake_server_new(&f->server, &f->loop, &config), 0);
    jm_cfg_release(&config, intake_config_table);
    f->c = it_client_new(
        &f->loop, jm_source_api_endpoint(intake_server_source(f->server)),
        3000);
}

void
fx_stop(struct fixture *f)
{
    it_client_destroy(&f->c);
    intake_server_destroy(&f->server);
    /* Let the closing handles finish before the store is opened again. */
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
}

int
fx_setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    jm_clock_set_fake(0);
    jm_test_tmpdir(f->dir, sizeof(f->dir));
    assert_int_equal(uv_loop_init(&f->loop), 0);
    fx_start(f, "local", "3600000");
    *state = f;
    return 0;
}

int
fx_teardown(void **state)
{
    struct fixture *f = *state;

    it_client_destroy(&f->c);
    intake_server_destroy(&f->server);
    jm_test_close_loop(&f->loop, 5000);
    jm_test_rmtree(f->dir);
    jm_clock_set_fake(0);
    free(f);
    return 0;
}

uint64_t
fx_head(struct fixture *f)
{
    return jm_source_head(intake_server_source(f->server));
}

uint64_t
fx_submit_ok(struct fixture *f, it_order *o, char *id, size_t size)
{
    const Jobmatch__V1__Reply *r = it_submit(f->c, &o->order, NULL);

    if (r->body_case != JOBMATCH__V1__REPLY__BODY_ACCEPTED)
        fail_msg("submit: %s %s", r->error ? r->error->field_path : "?",
                 r->error ? r->error->message : "?");
    if (id != NULL)
        snprintf(id, size, "%s", r->accepted->id);
    return r->accepted->seq;
}

void
fx_expect_error(const Jobmatch__V1__Reply *r, int code, const char *path)
{
    if (it_error_code(r) != code)
        fail_msg("expected error %d, got body %d (%s)", code, r->body_case,
                 r->error ? r->error->message : "");
    if (path != NULL && strcmp(r->error->field_path, path) != 0)
        fail_msg("expected path %s, got %s (%s)", path, r->error->field_path,
                 r->error->message);
    assert_false(r->error->retryable);
}
