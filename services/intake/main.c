/* main.c - jobmatch-intake: the intake service as a process. Reads the
 * config (file and command line), runs the server on the default loop
 * until SIGINT/SIGTERM, and exits 0, 1 (could not serve) or 2 (bad
 * arguments or config). Everything else is in intake_core. */
#include <stdbool.h>
#include <stdio.h>

#include <uv.h>

#include "intake_config.h"
#include "intake_server.h"
#include "jm/log.h"
#include "jm/svc.h"

int
main(int argc, char **argv)
{
    intake_config config;
    intake_server_t *server = NULL;
    uv_loop_t *loop = uv_default_loop();
    int rc, status = 0;
    bool served = false;

    rc = jm_cfg_from_args(&config, intake_config_table, &intake_program, argc,
                          argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    jm_log_set_level(config.log_level);
    jm_log_set_timestamps(config.log_timestamps);
    if (intake_server_new(&server, loop, &config) != 0) {
        status = 1;
        goto out;
    }
    served = true;
    uv_run(loop, UV_RUN_DEFAULT);
    if (intake_server_failed(server))
        status = 1;

out:
    intake_server_destroy(&server); /* closes the store */
    status = jm_svc_finish(loop, "intake", served, status);
    jm_cfg_release(&config, intake_config_table);
    return status;
}
