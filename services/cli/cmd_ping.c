/* cmd_ping.c - `jobmatch ping SERVICE`: does it answer, and who does it
 * think we are? The first thing to run when something does not work. */
#include <stdio.h>
#include <string.h>

#include "cli_commands.h"

int
cli_cmd_ping(cli *c, int argc, char **argv)
{
    static const char *const names[CLI_SERVICES] = {"intake", "profiles",
                                                    "matcher"};
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *reply;
    const Jobmatch__V1__Pong *pong;
    jm_msg_t *msg = NULL;
    int service = -1, rc;

    if (argc == 2 &&
        (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: jobmatch ping intake|profiles|matcher\n\n"
               "Asks the service who it is; prints its version, log head and "
               "endpoints.\n");
        return CLI_OK;
    }
    for (int s = 0; argc == 2 && s < CLI_SERVICES; s++) {
        if (strcmp(argv[1], names[s]) == 0)
            service = s;
    }
    if (service < 0)
        return cli_usage_error(c, "usage: jobmatch ping intake|profiles|"
                                  "matcher");
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    if ((rc = cli_request(c, (cli_service) service, &req, &msg)) != CLI_OK)
        return rc;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if ((rc = cli_reply_failed(c, reply)) != CLI_OK)
        goto out;
    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_PONG) {
        rc = cli_usage_error(c, "unexpected answer to ping");
        goto out;
    }
    pong = reply->pong;
    if (c->json) {
        cli_print_message(&pong->base);
    } else {
        printf("%s %s answers at %s\n", pong->service, pong->version,
               c->endpoints[service]);
        if (pong->log_id[0] != '\0')
            printf("  log %s, head seq %llu\n", pong->log_id,
                   (unsigned long long) pong->head_seq);
        if (pong->tick_endpoint[0] != '\0')
            printf("  ticks on %s\n", pong->tick_endpoint);
        if (pong->publish_endpoint[0] != '\0')
            printf("  notifications on %s\n", pong->publish_endpoint);
        printf("  you are '%s'\n", pong->principal);
    }
out:
    jm_msg_free(&msg);
    return rc;
}
