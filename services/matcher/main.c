/* main.c - jobmatch-matcher: the matcher as a process. Reads the config
 * (file and command line), runs the server on the default loop until
 * SIGINT/SIGTERM, and exits 0, 1 (could not serve) or 2 (bad arguments or
 * config). Everything else is in matcher_core. */
#include <stdbool.h>

#include <uv.h>

#include "jm/log.h"
#include "jm/svc.h"
#include "matcher_config.h"
#include "matcher_server.h"

int
main(int argc, char **argv)
{
    matcher_config config;
    matcher_server_t *server = NULL;
    uv_loop_t *loop = uv_default_loop();
    int rc, status = 0;
    bool served = false;

    rc = jm_cfg_from_args(&config, matcher_config_table, &matcher_program, argc,
                          argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    /* The whole-config checks ran in jm_cfg_from_args
     * (matcher_program.check), for -t as for a start. */
    jm_log_set_level(config.log_level);
    jm_log_set_timestamps(config.log_timestamps);
    if ((rc = matcher_server_new(&server, loop, &config)) != 0) {
        status = 1;
        goto out;
    }
    served = true;
    uv_run(loop, UV_RUN_DEFAULT);
    if (matcher_server_failed(server))
        status = 1;

out:
    matcher_server_destroy(&server); /* closes the store */
    status = jm_svc_finish(loop, "matcher", served, status);
    jm_cfg_release(&config, matcher_config_table);
    return status;
}
