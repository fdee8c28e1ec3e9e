/* main.c - jobmatch-intake: the intake service as a process. Reads the
 * config (file and command line), runs the server on the default loop
 * until SIGINT/SIGTERM, and exits 0, 1 (could not serve) or 2 (bad
 * arguments or config). Everything else is in intake_core. */
#include <stdio.h>

#include <uv.h>

#include "intake_config.h"
#include "intake_server.h"
#include "jm/log.h"

int
main(int argc, char **argv)
{
    intake_config config;
    intake_server_t *server = NULL;
    uv_loop_t *loop = uv_default_loop();
    int rc, status = 0;

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
    uv_run(loop, UV_RUN_DEFAULT);
    if (intake_server_failed(server))
        status = 1;

out:
    intake_server_destroy(&server);
    /* Let the closing handles run their callbacks, so that ASan sees no
     * leak and the loop closes cleanly. */
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    jm_cfg_release(&config, intake_config_table);
    return status;
}
