/* main.c - jobmatch-profiles: parse arguments, load config, run the server
 * until SIGINT/SIGTERM. Everything else is in profiles_server.c. */
#include <errno.h>
#include <stdbool.h>

#include <uv.h>

#include "jm/log.h"
#include "jm/svc.h"
#include "profiles_server.h"

int
main(int argc, char **argv)
{
    struct profiles_config cfg;
    profiles_server_t *server = NULL;
    uv_loop_t loop;
    bool served = false;
    int rc;

    /* 0: run; 1: done (-h, -v, -t), exit 0; < 0: bad arguments (reported) */
    rc = jm_cfg_from_args(&cfg, profiles_config_table, &profiles_program, argc,
                          argv);
    if (rc != 0)
        return rc > 0 ? 0 : 2;
    jm_log_set_level(cfg.log_level);
    jm_log_set_timestamps(cfg.log_timestamps);
    if ((rc = uv_loop_init(&loop)) != 0) {
        jm_log(JM_LOG_ERR, "profiles", "uv_loop_init: %s", uv_strerror(rc));
        jm_cfg_release(&cfg, profiles_config_table);
        return 1;
    }
    /* profiles_server_new logs why it failed, where it knows the file or
     * endpoint at fault; a summary here would only repeat it. */
    if ((rc = profiles_server_new(&server, &loop, &cfg)) != 0)
        goto out;
    served = true;
    uv_run(&loop, UV_RUN_DEFAULT); /* returns after SIGTERM/SIGINT */
    if (profiles_server_failed(server))
        rc = -EACCES;

out:
    profiles_server_destroy(&server); /* closes the store and the handles */
    rc = jm_svc_finish(&loop, "profiles", served, rc == 0 ? 0 : 1);
    jm_cfg_release(&cfg, profiles_config_table);
    return rc;
}
