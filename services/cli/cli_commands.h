/* cli_commands.h - the subcommands of `jobmatch`, one file each.
 *
 * The declarations are weak while the tree grows command by command: a
 * command whose file is not built yet is a NULL function, which main.c
 * leaves out of the help and answers as "not in this build". */
#ifndef CLI_COMMANDS_H
#define CLI_COMMANDS_H

#include "cli.h"

#define CLI_OPTIONAL __attribute__((weak))

CLI_OPTIONAL int cli_cmd_order(cli *c, int argc, char **argv); /* cmd_order.c */
CLI_OPTIONAL int cli_cmd_profile(cli *c, int argc,
                                 char **argv); /* cmd_profile.c */
CLI_OPTIONAL int cli_cmd_match(cli *c, int argc, char **argv); /* cmd_match.c */
CLI_OPTIONAL int cli_cmd_gaps(cli *c, int argc, char **argv);  /* cmd_match.c */
CLI_OPTIONAL int cli_cmd_assign(cli *c, int argc,
                                char **argv); /* cmd_match.c */
CLI_OPTIONAL int cli_cmd_matcher(cli *c, int argc,
                                 char **argv); /* cmd_match.c */
/* `matcher watch`: prints ShortlistChanged notifications (of order, or
 * all when NULL) until stopped or count (NULL: no limit) came; with help,
 * its usage. */
CLI_OPTIONAL int cli_matcher_watch(cli *c, const char *order, const char *count,
                                   bool help);                /* cmd_watch.c */
CLI_OPTIONAL int cli_cmd_node(cli *c, int argc, char **argv); /* cmd_node.c */
CLI_OPTIONAL int cli_cmd_sample(cli *c, int argc,
                                char **argv); /* cmd_sample.c */
CLI_OPTIONAL int cli_cmd_metrics(cli *c, int argc,
                                 char **argv);   /* cmd_metrics.c */
int cli_cmd_ping(cli *c, int argc, char **argv); /* cmd_ping.c */

/* Reads c->node_dir/node.json: endpoints (unless given on the command
 * line) and CURVE keys. cmd_node.c. */
CLI_OPTIONAL int cli_node_load(cli *c);

#endif
