/* cmd_watch.c - `jobmatch matcher watch`: the matcher's "shortlist
 * changed" notifications as they are published, one line each.
 *
 * The matcher names its publish endpoint in its Pong; the watch subscribes
 * there (with the node's or the given CURVE keys: only admin and service
 * principals are admitted, docs/protocol.md) and prints each
 * ShortlistChanged until Ctrl-C or --count notifications. A notification
 * is a hint (PUB drops when a subscriber is slow, and what is published
 * while the subscription is being made is not seen): `match order ID`
 * gives the list with its explanation. Notifications are numbered, and
 * the matcher's Pong, asked before subscribing, names the last one it
 * published: every notification after it that does not arrive, while
 * subscribing or later, is counted on stderr when the next one comes. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_commands.h"
#include "jm/err.h"
#include "jm/json.h"
#include "jm/mem.h"
#include "jobmatch/v1/matcher.pb-c.h"

/* How many of a list's ids a readable line shows. */
#define IDS_SHOWN 5
/* How often the matcher is asked again where it publishes: a matcher
 * restarted with an ephemeral publish port publishes elsewhere. */
#define PING_EVERY_MS 2000

static const char watch_usage[] =
    "usage: jobmatch matcher watch [--order ID] [--count N]\n"
    "\n"
    "Prints the matcher's \"shortlist changed\" notifications as they come:\n"
    "when an order's best citizens change (a new order, a changed order or\n"
    "citizen, an order closed: an empty list), its id and the new list, best\n"
    "first. It follows the matcher when a restart moves its publish port.\n"
    "Ctrl-C stops it.\n"
    "\n"
    "  --order ID   only this order's\n"
    "  --count N    stop after N notifications\n"
    "  --json       one JSON object per line (ShortlistChanged)\n"
    "\n"
    "Subscribing needs an admin or service:<name> key when the matcher uses\n"
    "CURVE (`--node DIR` gives the node's admin key); with another key the\n"
    "watch says so and exits 1. Notifications are hints: `jobmatch match\n"
    "order ID --explain` gives the list explained.\n"
    "They are numbered (seq): notifications lost on the way, also those\n"
    "published while the watch subscribes, are counted on stderr (\"missed N\n"
    "notifications\") when the next one arrives.\n";

struct watch {
    cli *c;
    const char *order;      /* NULL: every order */
    unsigned long long max; /* 0: until stopped */
    unsigned long long seen;
    uv_signal_t sigint, sigterm;
    uv_timer_t ping_timer;
    jm_rpc_client_t *client; /* asks the matcher where it publishes */
    jm_sock_opts opts;       /* of the subscription */
    jm_sock_t *sub;
    char *endpoint; /* where sub is connected */
    /* ShortlistChanged.seq last received on this subscription, or before
     * the first the matcher's last when the subscription was made. */
    uint64_t last_seq;
    bool received; /* a notification on this subscription */
    bool pinging;  /* a Ping in flight */
    bool silent;   /* the matcher did not answer the last Ping */
    bool stopped;
    int closed; /* handles closed (they live on the stack) */
};

static void
on_closed(uv_handle_t *handle)
{
    ((struct watch *) handle->data)->closed++;
}

static void
stop(struct watch *w)
{
    if (w->stopped)
        return;
    w->stopped = true;
    uv_signal_stop(&w->sigint);
    uv_signal_stop(&w->sigterm);
    uv_timer_stop(&w->ping_timer);
    uv_close((uv_handle_t *) &w->sigint, on_closed);
    uv_close((uv_handle_t *) &w->sigterm, on_closed);
    uv_close((uv_handle_t *) &w->ping_timer, on_closed);
    jm_sock_close(&w->sub);
    jm_rpc_client_destroy(&w->client); /* a Ping in flight: -ECANCELED */
}

static void
on_signal(uv_signal_t *handle, int signum)
{
    (void) signum;
    stop(handle->data);
}

static void
print_readable(const Jobmatch__V1__ShortlistChanged *sc)
{
    time_t secs = (time_t) (sc->time_ms / 1000);
    struct tm tm;
    char when[16] = "";

    if (localtime_r(&secs, &tm) != NULL)
        strftime(when, sizeof(when), "%H:%M:%S", &tm);
    printf("%s.%03d  %s  ", when, (int) (sc->time_ms % 1000), sc->order_id);
    if (sc->n_profile_ids == 0) {
        printf("no candidates\n");
    } else {
        printf("%zu candidate%s:", sc->n_profile_ids,
               sc->n_profile_ids == 1 ? "" : "s");
        for (size_t i = 0; i < sc->n_profile_ids && i < IDS_SHOWN; i++)
            printf(" %s", sc->profile_ids[i]);
        if (sc->n_profile_ids > IDS_SHOWN)
            printf(" ...");
        putchar('\n');
    }
}

static void
on_notification(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct watch *w = arg;
    Jobmatch__V1__ShortlistChanged *sc;
    jm_msg_t *m = NULL;
    jm_error err;

    (void) sock;
    if (w->stopped)
        return;
    if (jm_msg_unpack(&m, &jobmatch__v1__shortlist_changed__descriptor,
                      msg->data, msg->size, msg->size + 1, &err) != 0) {
        fprintf(stderr, "%s: a notification that does not decode: %s\n",
                w->c->prog, err.message);
        return;
    }
    sc = (Jobmatch__V1__ShortlistChanged *) jm_msg_get(m);
    /* The matcher numbers every notification of its run (of any order):
     * a jump is what this subscription lost, a step back a restart. */
    if (sc->seq > w->last_seq + 1) {
        unsigned long long lost = sc->seq - w->last_seq - 1;

        fprintf(stderr,
                "%s: missed %llu notification%s (%s); `jobmatch match order "
                "ID` gives any order's current list\n",
                w->c->prog, lost, lost == 1 ? "" : "s",
                w->received ? "dropped while this watch read too slowly"
                            : "published while this watch subscribed");
    }
    w->last_seq = sc->seq;
    w->received = true;
    if (w->order == NULL || strcmp(sc->order_id, w->order) == 0) {
        if (w->c->json) {
            json_t *json = jm_json_from_message(&sc->base, JM_JSON_DEFAULTS);
            char *text = json_dumps(json, JSON_COMPACT);

            puts(text);
            free(text);
            json_decref(json);
        } else {
            print_readable(sc);
        }
        /* Line by line, also into a pipe. */
        fflush(stdout);
        if (w->max > 0 && ++w->seen >= w->max)
            stop(w);
    }
    jm_msg_free(&m);
}

/* (Re)subscribes at endpoint (taken), where the matcher's last
 * notification was published_seq (its Pong's, asked before). Returns 0 or
 * -errno. */
static int
subscribe(struct watch *w, char *endpoint, uint64_t published_seq)
{
    int rc;

    jm_sock_close(&w->sub);
    free(w->endpoint);
    w->endpoint = endpoint;
    /* Whatever comes after it and does not arrive is counted, what is
     * published while this subscription joins too. */
    w->last_seq = published_seq;
    w->received = false;
    if ((rc = jm_sock_new(&w->sub, w->c->bus, JM_SOCK_SUB, &w->opts,
                          on_notification, w)) != 0 ||
        (rc = jm_sock_connect(w->sub, endpoint)) != 0)
        jm_sock_close(&w->sub);
    return rc;
}

static void
on_pong(int status, const Jobmatch__V1__Reply *reply, void *arg)
{
    struct watch *w = arg;
    char *endpoint;
    int rc;

    w->pinging = false;
    if (status == -ECANCELED || w->stopped)
        return;
    if (status != 0 || reply->body_case != JOBMATCH__V1__REPLY__BODY_PONG ||
        reply->pong->publish_endpoint[0] == '\0') {
        if (!w->silent)
            fprintf(stderr,
                    "%s: the matcher does not answer; still "
                    "watching\n",
                    w->c->prog);
        w->silent = true;
        return;
    }
    w->silent = false;
    endpoint = jm_endpoint_via(reply->pong->publish_endpoint,
                               w->c->endpoints[CLI_MATCHER]);
    if (w->sub != NULL && strcmp(endpoint, w->endpoint) == 0) {
        free(endpoint);
        return;
    }
    /* Restarted elsewhere (an ephemeral port): follow it. What it
     * published before this Pong is not seen (nor counted). */
    if ((rc = subscribe(w, endpoint, reply->pong->published_seq)) != 0)
        fprintf(stderr, "%s: cannot subscribe to %s: %s\n", w->c->prog,
                w->endpoint, jm_strerror(rc));
    else
        fprintf(stderr, "the matcher publishes at %s now\n", w->endpoint);
}

static void
on_ping_timer(uv_timer_t *timer)
{
    struct watch *w = timer->data;
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;

    if (w->pinging || w->stopped)
        return;
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    w->pinging = jm_rpc_client_call(w->client, &req, on_pong, w) == 0;
}

/* CLI_OK if the matcher's publish socket at endpoint admits the user's
 * key; else says why not (only admin and service keys may subscribe:
 * docs/protocol.md) and returns the exit code. */
static int
refused(cli *c, const char *endpoint)
{
    const cli_curve *curve = &c->curve[CLI_MATCHER];

    switch (cli_curve_probe(c, CLI_MATCHER, endpoint, JM_SOCK_SUB)) {
    case -EACCES:
        return CLI_OK;
    case 0:
        fprintf(stderr,
                "%s: the matcher at %s does not let your key (public %s) "
                "subscribe: notifications are for admin and service keys "
                "(`jobmatch match order ID` answers any caseworker or "
                "consultant)\n",
                c->prog, endpoint, curve->public_key);
        return CLI_ERROR_REPLY;
    case -EPROTO:
        fprintf(stderr,
                "%s: the CURVE handshake with %s failed before your key was "
                "checked: is --matcher-key (%s) the matcher's public key?\n",
                c->prog, endpoint, curve->server_key);
        return CLI_UNREACHABLE;
    default:
        fprintf(stderr,
                "%s: the matcher's publish socket at %s does not "
                "answer\n",
                c->prog, endpoint);
        return CLI_UNREACHABLE;
    }
}

int
cli_matcher_watch(cli *c, const char *order, const char *count, bool help)
{
    Jobmatch__V1__Request req = JOBMATCH__V1__REQUEST__INIT;
    Jobmatch__V1__Ping ping = JOBMATCH__V1__PING__INIT;
    const Jobmatch__V1__Reply *reply;
    struct watch w = {.c = c, .order = order};
    const cli_curve *curve = &c->curve[CLI_MATCHER];
    jm_msg_t *msg = NULL;
    char *endpoint;
    int rc;

    if (help) {
        fputs(watch_usage, stdout);
        return CLI_OK;
    }
    if (count != NULL &&
        (!cli_parse_uint(count, UINT32_MAX, &w.max) || w.max == 0))
        return cli_usage_error(c, "--count must be a positive number\n%s",
                               watch_usage);
    req.body_case = JOBMATCH__V1__REQUEST__BODY_PING;
    req.ping = &ping;
    if ((rc = cli_request(c, CLI_MATCHER, &req, &msg)) != CLI_OK)
        return rc;
    reply = (const Jobmatch__V1__Reply *) jm_msg_get(msg);
    if ((rc = cli_reply_failed(c, reply)) != CLI_OK)
        goto out;
    if (reply->body_case != JOBMATCH__V1__REPLY__BODY_PONG ||
        reply->pong->publish_endpoint[0] == '\0') {
        fprintf(stderr, "%s: the matcher names no publish endpoint\n", c->prog);
        rc = CLI_ERROR_REPLY;
        goto out;
    }
    /* The matcher's default publish endpoint is on its loopback. */
    if (jm_endpoint_on_remote_loopback(reply->pong->publish_endpoint,
                                       c->endpoints[CLI_MATCHER]))
        fprintf(stderr,
                "%s: the matcher publishes on its loopback (%s): if it runs "
                "on another machine, nothing will arrive here; set its "
                "publish endpoint to an address this machine reaches\n",
                c->prog, reply->pong->publish_endpoint);
    w.opts.subscribe = "shortlist";
    endpoint = jm_endpoint_via(reply->pong->publish_endpoint,
                               c->endpoints[CLI_MATCHER]);
    if (curve->server_key[0] != '\0') {
        w.opts.curve_server_key = curve->server_key;
        w.opts.curve_public_key = curve->public_key;
        w.opts.curve_secret_key = curve->secret_key;
        /* A publisher that refuses a subscriber's key drops it without a
         * word, and the watch would wait for ever: ask first. */
        if ((rc = refused(c, endpoint)) != CLI_OK) {
            free(endpoint);
            goto out;
        }
    }
    if ((rc = subscribe(&w, endpoint, reply->pong->published_seq)) != 0) {
        fprintf(stderr, "%s: cannot subscribe to %s: %s\n", c->prog, w.endpoint,
                jm_strerror(rc));
        rc = CLI_UNREACHABLE;
        goto out;
    }
    if ((rc = cli_client_new(c, CLI_MATCHER, &w.client)) != CLI_OK) {
        jm_sock_close(&w.sub);
        goto out;
    }
    uv_signal_init(&c->loop, &w.sigint);
    uv_signal_init(&c->loop, &w.sigterm);
    uv_timer_init(&c->loop, &w.ping_timer);
    w.sigint.data = w.sigterm.data = w.ping_timer.data = &w;
    uv_signal_start(&w.sigint, on_signal, SIGINT);
    uv_signal_start(&w.sigterm, on_signal, SIGTERM);
    uv_timer_start(&w.ping_timer, on_ping_timer, PING_EVERY_MS, PING_EVERY_MS);
    /* On stderr, so that --json output stays one object per line. */
    fprintf(stderr, "watching shortlist changes%s%s at %s (Ctrl-C stops)\n",
            order ? " of " : "", order ? order : "", w.endpoint);
    while (w.closed < 3)
        uv_run(&c->loop, UV_RUN_ONCE);
    rc = CLI_OK;
out:
    free(w.endpoint);
    jm_msg_free(&msg);
    return rc;
}
