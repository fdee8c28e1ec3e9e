/* matcher_server.c - the matcher service wired together (see
 * matcher_server.h).
 *
 * The design decision to know: nothing blocks the loop for long. Queries
 * are answered in their receive callback; a follower's batch is applied in
 * one LMDB transaction and the index updated right after; shortlists that
 * a large batch made stale are recomputed by an idle handle in slices of
 * rebuild_slice_us, between socket work. */
#include "matcher_server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jm/bus.h"
#include "jm/clock.h"
#include "jm/err.h"
#include "jm/esco.h"
#include "jm/follower.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"
#include "jm/rpc.h"
#include "jm/svc.h"
#include "matcher_par.h"
#include "matcher_query.h"
#include "matcher_view.h"

struct matcher_server {
    uv_loop_t *loop;
    const matcher_config *config;
    jm_esco_t *esco;
    matcher_index_t *ix;
    matcher_live_t *live;
    matcher_view_t *view;
    jm_bus_t *bus;
    jm_rpc_server_t *rpc;
    jm_sock_t *pub;
    jm_follower_t **followers;
    size_t nfollowers;
    jm_svc_t *svc;
    uv_idle_t idle;    /* background shortlist work */
    uv_timer_t closer; /* closes the bus one turn after stopping */
    int open_handles;  /* idle and closer, until their close callbacks */
    bool destroyed;    /* free when the handles are closed */
    bool curve;
    char public_key[JM_KEY_Z85_LEN + 1];
    char secret_key[JM_KEY_Z85_LEN + 1];
    char (*source_keys)[JM_KEY_Z85_LEN + 1];
    uint64_t queries;
    int32_t today; /* the day the live lists were computed for */
    bool stopped;
    bool failed;
};

/* ---- notifications ---- */

static void
on_publish(void *arg, const char *order_id, size_t id_len,
           const matcher_hit *hits, size_t n, uint64_t cause_seq)
{
    matcher_server_t *s = arg;
    Jobmatch__V1__ShortlistChanged msg = JOBMATCH__V1__SHORTLIST_CHANGED__INIT;
    matcher_live_stats ls;
    char id[72], **ids = jm_xcalloc(n + 1, sizeof(char *));
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;

    if (s->pub == NULL)
        goto out;
    memcpy(id, order_id, id_len);
    id[id_len] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t len;
        const char *p = matcher_slot_id(s->ix, hits[i].slot, &len);

        ids[i] = jm_xstrndup(p, len);
    }
    msg.order_id = id;
    msg.profile_ids = ids;
    msg.n_profile_ids = n;
    msg.time_ms = jm_clock_now_ms();
    msg.cause_seq = cause_seq;
    /* The live lists count every notification, this one included (also
     * those not sent): a subscriber sees any gap. */
    matcher_live_get_stats(s->live, &ls);
    msg.seq = ls.published;
    jm_msg_pack(&msg.base, &data, &size);
    /* A hint: PUB drops when a subscriber is slow, and that is fine. */
    if ((rc = jm_sock_publish(s->pub, "shortlist", data, size)) != 0)
        jm_log(JM_LOG_DEBUG, "matcher", "shortlist of %s not published: %s", id,
               jm_strerror(rc));
    free(data);
out:
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

/* ---- background work ---- */

static void
on_idle(uv_idle_t *idle)
{
    matcher_server_t *s = idle->data;

    if (s->stopped ||
        !matcher_live_work(s->live, (uint64_t) s->config->rebuild_slice_us))
        uv_idle_stop(idle);
}

/* Starts the idle handle while shortlists are stale; it stops itself
 * when the queue is empty. */
static void
kick(matcher_server_t *s)
{
    if (!s->stopped && s->open_handles > 0 && matcher_live_pending(s->live) > 0)
        uv_idle_start(&s->idle, on_idle);
}

/* The view's events go to the live lists. */
static void
on_begin(void *arg, size_t touched, unsigned source, uint64_t cause_seq)
{
    matcher_server_t *s = arg;

    (void) source;
    matcher_live_begin(s->live, touched, cause_seq);
}

static void
on_before(void *arg, const matcher_change *change)
{
    matcher_live_before(((matcher_server_t *) arg)->live, change);
}

static void
on_change(void *arg, const matcher_change *change)
{
    matcher_live_change(((matcher_server_t *) arg)->live, change);
}

static void
on_pending_order(void *arg, const struct matcher_order_rec *rec, size_t size)
{
    matcher_live_precompute(((matcher_server_t *) arg)->live, rec, size);
}

static void
on_end(void *arg)
{
    matcher_server_t *s = arg;

    matcher_live_end(s->live);
    kick(s);
}

/* ---- requests ---- */

/* A matcher is not a log source: its Pong has no log id or head, but
 * names its PUB endpoint and its last notification's seq for clients that
 * want notifications (matcher watch). */
static void
reply_pong(matcher_server_t *s, jm_rpc_call_t *call)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__Pong pong = JOBMATCH__V1__PONG__INIT;
    matcher_live_stats ls;

    matcher_live_get_stats(s->live, &ls);
    pong.published_seq = ls.published;
    pong.service = "matcher";
    pong.version = JM_VERSION;
    pong.principal = (char *) jm_rpc_call_principal(call);
    pong.publish_endpoint = (char *) matcher_server_publish_endpoint(s);
    reply.body_case = JOBMATCH__V1__REPLY__BODY_PONG;
    reply.pong = &pong;
    jm_rpc_reply(call, &reply);
}

/* Counts of the index and, per source, how far its log has been read
 * (jm_follower_get_status). */
static void
reply_stats(matcher_server_t *s, jm_rpc_call_t *call)
{
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    Jobmatch__V1__MatcherStats st = JOBMATCH__V1__MATCHER_STATS__INIT;
    Jobmatch__V1__SourceStatus *src =
        jm_xcalloc(s->nfollowers + 1, sizeof(*src));
    Jobmatch__V1__SourceStatus **srcp =
        jm_xcalloc(s->nfollowers + 1, sizeof(*srcp));
    matcher_live_stats ls;

    st.open_orders = s->ix->olive;
    st.profiles = s->ix->plive;
    for (uint32_t t = 0; t < s->ix->nterms; t++)
        st.skills_indexed += s->ix->skill_profiles[t].count > 0;
    st.queries = s->queries;
    st.stale_shortlists = (uint32_t) matcher_live_pending(s->live);
    matcher_live_get_stats(s->live, &ls);
    st.shortlists_published = ls.published;
    st.shortlists_precomputed = ls.precomputed;
    st.precomputed_used = ls.precomputed_used;
    if (matcher_view_profiles_left_out(s->view, &st.profiles_left_out) != 0)
        jm_log(JM_LOG_WARN, "matcher", "stats: cannot count the citizens");
    for (size_t i = 0; i < s->nfollowers; i++) {
        jm_follower_status fs;

        jm_follower_get_status(s->followers[i], &fs);
        jobmatch__v1__source_status__init(&src[i]);
        src[i].endpoint = (char *) fs.endpoint;
        src[i].source = (char *) fs.source;
        src[i].log_id = (char *) fs.log_id;
        src[i].applied_seq = fs.applied_seq;
        src[i].head_seq = fs.head_seq;
        src[i].connected = fs.connected;
        src[i].snapshots = fs.snapshots;
        src[i].tick_endpoint = (char *) fs.tick_endpoint;
        src[i].tick_batches = fs.tick_batches;
        src[i].problem = (char *) fs.problem;
        st.events_applied += fs.events_applied;
        srcp[i] = &src[i];
    }
    st.sources = srcp;
    st.n_sources = s->nfollowers;
    reply.body_case = JOBMATCH__V1__REPLY__BODY_MATCHER_STATS;
    reply.matcher_stats = &st;
    jm_rpc_reply(call, &reply);
    free(src);
    free(srcp);
}

/* SIGHUP: the allow list again (the publish socket's follows it). */
static void
on_reload(void *arg)
{
    matcher_server_t *s = arg;

    jm_bus_allow_reload(s->bus, "matcher", JM_CURVE_DOMAIN_API,
                        s->curve ? s->config->allow_file : NULL,
                        JM_CURVE_DOMAIN_PUBLISH, jm_principal_sees_all);
}

static bool
is_monitor(const char *principal)
{
    jm_principal p;

    jm_principal_parse(principal, &p);
    return p.kind == JM_PRINCIPAL_MONITOR;
}

static void
on_request(jm_rpc_call_t *call, const Jobmatch__V1__Request *req, void *arg)
{
    matcher_server_t *s = arg;
    const char *principal = jm_rpc_call_principal(call);
    matcher_query_ctx q = {s->ix, s->live};
    Jobmatch__V1__Reply reply = JOBMATCH__V1__REPLY__INIT;
    matcher_arena arena = {NULL};
    matcher_scope scope;
    jm_error err = {0};
    int rc;

    if (s->stopped) {
        jm_error_set(&err, JM_E_UNAVAILABLE, "", "the matcher is stopping");
        err.retryable = true;
        jm_rpc_reply_error(call, &err);
        return;
    }
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_PING) {
        reply_pong(s, call);
        return;
    }
    s->queries++;
    if (req->body_case == JOBMATCH__V1__REQUEST__BODY_GET_MATCHER_STATS) {
        /* Counts, no record: a monitoring system may ask too. */
        if (matcher_scope_of(principal, &scope) || is_monitor(principal)) {
            reply_stats(s, call);
            return;
        }
        jm_error_set(&err, JM_E_PERMISSION_DENIED, "",
                     "%s may not query the matcher", principal);
        jm_rpc_reply_error(call, &err);
        return;
    }
    rc = matcher_query(&q, principal, req, &arena, &reply, &err);
    if (rc == 0) {
        jm_rpc_reply(call, &reply);
    } else {
        if (rc == -ENOTSUP)
            jm_error_set(&err, JM_E_UNSUPPORTED, "",
                         "the matcher does not serve this request");
        jm_log(JM_LOG_DEBUG, "matcher", "query refused: %s %s", err.field_path,
               err.message);
        jm_rpc_reply_error(call, &err);
    }
    matcher_arena_release(&arena);
}

/* ---- life ---- */

/* The server embeds two uv handles: it is freed in the last close
 * callback, after matcher_server_destroy returned. */
static void
on_handle_closed(uv_handle_t *handle)
{
    matcher_server_t *s = handle->data;

    if (--s->open_handles == 0 && s->destroyed)
        free(s);
}

static void
on_closer(uv_timer_t *timer)
{
    matcher_server_t *s = timer->data;

    jm_bus_destroy(&s->bus);
}

static void
stop_serving(matcher_server_t *s)
{
    if (s->stopped)
        return;
    s->stopped = true;
    for (size_t i = 0; i < s->nfollowers; i++)
        jm_follower_destroy(&s->followers[i]);
    jm_rpc_server_destroy(&s->rpc);
    jm_sock_close(&s->pub);
    jm_svc_destroy(&s->svc);
    if (s->open_handles > 0) {
        uv_idle_stop(&s->idle);
        /* Not at once: a stop can come from a bus callback. The bus's ZAP
         * socket keeps the loop alive until it is closed. */
        uv_timer_start(&s->closer, on_closer, 0, 0);
    }
}

static void
on_stop(void *arg)
{
    matcher_server_t *s = arg;

    jm_log(JM_LOG_NOTICE, "matcher", "stopping");
    stop_serving(s);
}

/* Once per housekeeping_ms: clear reader slots of dead processes (a
 * backup tool, say); when the day changes, rebuild every shortlist (who
 * is available and how recent a skill is depend on the date); note the
 * backlog at debug level. */
static void
on_housekeeping(void *arg)
{
    matcher_server_t *s = arg;
    int32_t today = jm_clock_today();
    int dead = 0;

    if (s->stopped)
        return;
    if (today != s->today) {
        s->today = today;
        matcher_live_rebuild(s->live, true);
        kick(s);
    }
    jm_store_reader_check(matcher_view_store(s->view), &dead);
    if (dead > 0)
        jm_log(JM_LOG_NOTICE, "matcher", "cleared %d stale LMDB readers", dead);
    jm_log(JM_LOG_DEBUG, "matcher", "%u citizens, %u orders, %zu stale lists",
           s->ix->plive, s->ix->olive, matcher_live_pending(s->live));
}

static void
announce_ready(matcher_server_t *s)
{
    jm_svc_ready(s->svc, "api", matcher_server_api_endpoint(s), "publish",
                 matcher_server_publish_endpoint(s), NULL);
}

static void
on_selftest(int status, void *arg)
{
    matcher_server_t *s = arg;

    if (status == 0) {
        jm_log(JM_LOG_INFO, "matcher",
               "CURVE self-test: an unknown key was refused");
        announce_ready(s);
        return;
    }
    jm_log(JM_LOG_ERR, "matcher",
           "CURVE self-test failed (%s): refusing to serve",
           jm_strerror(status));
    s->failed = true;
    stop_serving(s);
}

/* CURVE: this matcher's key pair (server and client), the sources'
 * public keys, and the allow list for its api. */
static int
load_keys(matcher_server_t *s)
{
    const matcher_config *c = s->config;
    int rc;

    if (c->key_file == NULL || c->key_file[0] == '\0') {
        jm_log(JM_LOG_WARN, "matcher",
               "CURVE is off: every caller is '%s'. Use this only on "
               "loopback or ipc:// for development",
               c->plain_principal);
        return 0;
    }
    s->curve = true;
    if ((rc = jm_keys_load_logged("matcher", "the key pair", c->key_file,
                                  s->public_key, s->secret_key)) != 0)
        return rc;
    s->source_keys = jm_xcalloc(c->sources.count + 1, sizeof(*s->source_keys));
    for (size_t i = 0; i < c->source_keys.count; i++) {
        rc = jm_keys_load_logged("matcher", "the source key",
                                 c->source_keys.items[i], s->source_keys[i],
                                 NULL);
        if (rc != 0)
            return rc;
    }
    if (c->allow_file[0] != '\0' &&
        (rc = jm_bus_allow_load(s->bus, JM_CURVE_DOMAIN_API, c->allow_file,
                                JM_CURVE_DOMAIN_PUBLISH, jm_principal_sees_all,
                                NULL)) != 0) {
        jm_log(JM_LOG_ERR, "matcher", "cannot load allow list %s: %s",
               c->allow_file, jm_strerror(rc));
        return rc;
    }
    return 0;
}

/* One follower per source, each with its cursor "source-N" in the
 * matcher's store and the view's handler for that position. */
static int
start_followers(matcher_server_t *s)
{
    const matcher_config *c = s->config;

    s->followers = jm_xcalloc(c->sources.count, sizeof(*s->followers));
    for (size_t i = 0; i < c->sources.count; i++) {
        jm_follower_opts opts = {
            .credit = (unsigned) c->credit,
            .poll_ms = (unsigned) c->poll_ms,
        };
        jm_follower_handler handler;
        void *arg;
        int rc;

        matcher_view_handler(s->view, (unsigned) i, &handler, &arg,
                             &opts.cursor_name);
        /* A source without a key (no source_key lines) is reached in
         * plain: loopback development with a CURVE-protected api. */
        if (s->curve && s->source_keys[i][0] != '\0') {
            opts.rpc.sock.curve_public_key = s->public_key;
            opts.rpc.sock.curve_secret_key = s->secret_key;
            opts.rpc.sock.curve_server_key = s->source_keys[i];
        }
        rc = jm_follower_new(&s->followers[i], s->bus,
                             matcher_view_store(s->view), c->sources.items[i],
                             &opts, &handler, arg);
        if (rc != 0) {
            jm_log(JM_LOG_ERR, "matcher", "cannot follow %s: %s",
                   c->sources.items[i], jm_strerror(rc));
            return rc;
        }
        s->nfollowers = i + 1;
    }
    return 0;
}

int
matcher_server_new(matcher_server_t **server_p, uv_loop_t *loop,
                   const matcher_config *c)
{
    matcher_server_t *s = jm_xcalloc(1, sizeof(*s));
    matcher_live_opts lopts = {
        .shortlist_size = (unsigned) c->shortlist_size,
        .batch_limit = (unsigned) c->batch_limit,
        .threads = c->rebuild_threads > 0 ? (unsigned) c->rebuild_threads
                                          : matcher_par_default_threads(8),
        .publish = on_publish,
        .arg = s,
    };
    matcher_view_opts vopts = {
        .data_dir = c->data_dir,
        .map_size = (size_t) c->map_size_mb << 20,
        .sources = (unsigned) c->sources.count,
        .events = {.begin = on_begin,
                   .before = on_before,
                   .change = on_change,
                   .end = on_end,
                   .pending_order = on_pending_order},
        .arg = s,
    };
    jm_rpc_server_opts ropts = {
        .name = "matcher",
        .max_request_size = (size_t) c->max_request_size,
        .plain_principal = c->plain_principal,
    };
    char err[256];
    int rc;

    s->loop = loop;
    s->config = c;
    uv_idle_init(loop, &s->idle);
    uv_timer_init(loop, &s->closer);
    s->idle.data = s->closer.data = s;
    s->open_handles = 2;
    matcher_index_new(&s->ix);
    matcher_index_set_max_profiles(s->ix, (uint32_t) c->max_citizens);
    if ((rc = matcher_config_check(c, s->ix, err, sizeof(err))) != 0) {
        jm_log(JM_LOG_ERR, "matcher", "%s", err);
        goto fail;
    }
    rc = jm_esco_load(&s->esco, c->esco_dir[0] ? c->esco_dir : NULL);
    if (rc != 0)
        jm_log(JM_LOG_WARN, "matcher",
               "no ESCO data (%s): occupations match only exactly, not by "
               "ISCO group",
               jm_strerror(rc));
    vopts.esco = s->esco;
    matcher_live_new(&s->live, s->ix, &lopts);
    s->today = jm_clock_today();
    /* The keys before the view: a key file that cannot be read leaves no
     * data directory behind (as intake and profiles). */
    if ((rc = jm_bus_new(&s->bus, loop)) != 0 || (rc = load_keys(s)) != 0)
        goto fail;
    if ((rc = matcher_view_open(&s->view, s->ix, &vopts)) != 0)
        goto fail;
    if (s->curve) {
        ropts.sock.curve_public_key = s->public_key;
        ropts.sock.curve_secret_key = s->secret_key;
        ropts.sock.curve_domain = JM_CURVE_DOMAIN_API;
    }
    rc =
        jm_rpc_server_new(&s->rpc, s->bus, c->api, &ropts, on_request, NULL, s);
    if (rc != 0) {
        jm_log(JM_LOG_ERR, "matcher", "cannot open the api on %s: %s", c->api,
               jm_strerror(rc));
        goto fail;
    }
    if (c->publish[0] != '\0') {
        jm_sock_opts publish = ropts.sock;

        if (s->curve)
            publish.curve_domain = JM_CURVE_DOMAIN_PUBLISH;
        if ((rc = jm_sock_new(&s->pub, s->bus, JM_SOCK_PUB, &publish, NULL,
                              NULL)) != 0 ||
            (rc = jm_sock_bind(s->pub, c->publish)) != 0) {
            jm_log(JM_LOG_ERR, "matcher", "cannot bind publish endpoint %s: %s",
                   c->publish, jm_strerror(rc));
            goto fail;
        }
    }
    if ((rc = start_followers(s)) != 0)
        goto fail;
    rc = jm_svc_new(&s->svc, loop, "matcher", (uint64_t) c->housekeeping_ms,
                    on_housekeeping, on_stop, s);
    if (rc != 0)
        goto fail;
    jm_svc_on_reload(s->svc, on_reload);
    kick(s);
    jm_log(JM_LOG_INFO, "matcher",
           "jobmatch matcher %s: %zu sources, view in %s", JM_VERSION,
           c->sources.count, c->data_dir);
    if (s->curve) {
        rc = jm_bus_curve_selftest(s->bus, matcher_server_api_endpoint(s),
                                   s->public_key, 5000, on_selftest, s);
        if (rc != 0)
            goto fail;
    } else {
        announce_ready(s);
    }
    *server_p = s;
    return 0;

fail:
    matcher_server_destroy(&s);
    return rc < 0 ? rc : -EINVAL;
}

void
matcher_server_destroy(matcher_server_t **server_p)
{
    matcher_server_t *s = *server_p;

    if (s == NULL)
        return;
    *server_p = NULL;
    stop_serving(s);
    jm_bus_destroy(&s->bus);
    matcher_view_destroy(&s->view);
    matcher_live_destroy(&s->live);
    matcher_index_destroy(&s->ix);
    jm_esco_destroy(&s->esco);
    free(s->followers);
    free(s->source_keys);
    s->destroyed = true;
    uv_close((uv_handle_t *) &s->idle, on_handle_closed);
    uv_close((uv_handle_t *) &s->closer, on_handle_closed);
}

const char *
matcher_server_api_endpoint(matcher_server_t *s)
{
    return s->rpc ? jm_rpc_server_endpoint(s->rpc) : "";
}

const char *
matcher_server_publish_endpoint(matcher_server_t *s)
{
    return s->pub ? jm_sock_endpoint(s->pub) : "";
}

bool
matcher_server_failed(const matcher_server_t *s)
{
    return s->failed;
}

matcher_index_t *
matcher_server_index(matcher_server_t *s)
{
    return s->ix;
}

matcher_live_t *
matcher_server_live(matcher_server_t *s)
{
    return s->live;
}

uint64_t
matcher_server_applied(matcher_server_t *s, unsigned source)
{
    jm_follower_status st;

    if (source >= s->nfollowers || s->followers[source] == NULL)
        return 0;
    jm_follower_get_status(s->followers[source], &st);
    return st.applied_seq;
}
