/* test_zap.c - who may connect: CURVE with the ZAP handler and its allow
 * lists, routing ids that are never identities, and the CURVE self-test
 * (key files: test_keys.c).
 *
 * Where a test needs what the API cannot make (a DEALER that queues before
 * its handshake, a CURVE server in a context with no ZAP handler), it uses
 * libzmq directly, in a context of its own. */
#include <arpa/inet.h>
#include <sys/stat.h>
#include <zmq.h>

#include "bus_test_support.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"

/* ---- CURVE, ZAP and identity ---- */

static jm_sock_t *
curve_server(struct fixture *f, const struct keys *k, struct seen *seen)
{
    jm_sock_opts opts = {.curve_secret_key = k->secret_key,
                         .curve_domain = "jobmatch"};
    jm_sock_t *server = NULL;

    assert_int_equal(
        jm_sock_new(&server, f->bus, JM_SOCK_ROUTER, &opts, record, seen), 0);
    assert_int_equal(jm_sock_bind(server, ANY_PORT), 0);
    return server;
}

/* A CURVE client of type (a DEALER or a SUB) with key pair k, connected. */
static jm_sock_t *
curve_peer(struct fixture *f, jm_sock_type type, const struct keys *server,
           const struct keys *k, const char *routing_id, const char *endpoint,
           jm_sock_recv_cb on_recv, void *arg)
{
    jm_sock_opts opts = {.curve_server_key = server->public_key,
                         .curve_public_key = k->public_key,
                         .curve_secret_key = k->secret_key,
                         .routing_id = routing_id};
    jm_sock_t *client = NULL;

    assert_int_equal(jm_sock_new(&client, f->bus, type, &opts, on_recv, arg),
                     0);
    assert_int_equal(jm_sock_connect(client, endpoint), 0);
    return client;
}

static jm_sock_t *
curve_client(struct fixture *f, const struct keys *server, const struct keys *k,
             const char *routing_id, const char *endpoint)
{
    return curve_peer(f, JM_SOCK_DEALER, server, k, routing_id, endpoint, NULL,
                      NULL);
}

static void
test_curve_refuses_unknown_keys_and_names_known_ones(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, known, stranger;
    struct seen seen = {0};
    struct zap_wait wait = {.bus = f->bus};
    struct retry_send retry = {0};
    jm_sock_t *server, *client;
    uint64_t accepted, refused;
    void *raw_ctx, *raw;
    int zero = 0;

    make_keys(&server_keys);
    make_keys(&known);
    make_keys(&stranger);
    assert_int_equal(
        jm_bus_allow(f->bus, "jobmatch", known.public_key, "municipality:101"),
        0);
    server = curve_server(f, &server_keys, &seen);

    /* A stranger that queues a message before the handshake (a foreign
     * DEALER, no IMMEDIATE): the handshake is refused, nothing arrives. */
    raw_ctx = zmq_ctx_new();
    raw = zmq_socket(raw_ctx, ZMQ_DEALER);
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(raw, ZMQ_CURVE_SERVERKEY, server_keys.public_key, 40);
    zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, stranger.public_key, 40);
    zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, stranger.secret_key, 40);
    assert_int_equal(zmq_connect(raw, jm_sock_endpoint(server)), 0);
    assert_int_equal(zmq_send(raw, "forged", 6, ZMQ_DONTWAIT), 6);
    wait.refused = 1;
    assert_true(
        jm_test_run_until(&f->loop, zap_refused_at_least, &wait, 10000));

    /* The known key gets in, and carries its principal. */
    client =
        curve_client(f, &server_keys, &known, NULL, jm_sock_endpoint(server));
    retry_send_start(&f->loop, &retry, client, "hello");
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    assert_int_equal(seen.count, 1); /* "forged" never arrived */
    assert_string_equal(seen.body, "hello");
    assert_false(seen.principal_null);
    assert_string_equal(seen.principal, "municipality:101");
    jm_bus_zap_counts(f->bus, &accepted, &refused);
    assert_int_equal(accepted, 1);
    assert_true(refused >= 1);

    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);
    jm_sock_close(&server);
    zmq_close(raw);
    zmq_ctx_term(raw_ctx);
    f->finished = true;
}

static void
test_allow_list_validation_and_file(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, listed, other;
    struct seen seen = {0};
    struct retry_send retry = {0};
    jm_sock_t *server, *client;
    char dir[256], path[300], bad[300];
    FILE *file;

    make_keys(&server_keys);
    make_keys(&listed);
    make_keys(&other);
    assert_int_equal(jm_bus_allow(f->bus, "jobmatch", "short", "x"), -EINVAL);
    assert_int_equal(jm_bus_allow(f->bus, "jobmatch", listed.public_key, ""),
                     -EINVAL);
    assert_int_equal(jm_bus_allow(f->bus, "", listed.public_key, "x"), -EINVAL);
    /* The name of a service's own requests (intake's expiry) is no key's. */
    assert_int_equal(
        jm_bus_allow(f->bus, "jobmatch", listed.public_key, "service"),
        -EINVAL);

    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/allow", dir);
    file = fopen(path, "w");
    assert_non_null(file);
    fprintf(file, "# jobcentre systems allowed to call\n\n");
    fprintf(file, "#%s service:commented-out\n", other.public_key);
    fprintf(file, "  %s   service:matcher-2  \n", listed.public_key);
    fclose(file);
    snprintf(bad, sizeof(bad), "%s/bad", dir);
    file = fopen(bad, "w");
    assert_non_null(file);
    fprintf(file, "%s service:first\n%s\n", other.public_key, other.public_key);
    fclose(file);
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", bad, NULL, NULL, NULL), -EINVAL);
    file = fopen(bad, "w");
    assert_non_null(file);
    fprintf(file, "%s service\n", other.public_key);
    fclose(file);
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", bad, NULL, NULL, NULL), -EINVAL);
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", dir, NULL, NULL, NULL), -EISDIR);
    strcat(bad, "-missing");
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", bad, NULL, NULL, NULL), -ENOENT);
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", path, NULL, NULL, NULL), 0);

    /* The listed key gets in with its principal. The bad files added
     * nothing (all or nothing; the reserved name), and the commented-out key is
     * not listed: checked through the ZAP refusal count below. */
    server = curve_server(f, &server_keys, &seen);
    client =
        curve_client(f, &server_keys, &listed, NULL, jm_sock_endpoint(server));
    retry_send_start(&f->loop, &retry, client, "hi");
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    assert_string_equal(seen.principal, "service:matcher-2");
    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);

    client =
        curve_client(f, &server_keys, &other, NULL, jm_sock_endpoint(server));
    {
        struct zap_wait wait = {.bus = f->bus, .refused = 1};

        assert_true(
            jm_test_run_until(&f->loop, zap_refused_at_least, &wait, 10000));
    }
    jm_sock_close(&client);
    jm_sock_close(&server);
    jm_test_rmtree(dir);
    f->finished = true;
}

/* Writes an allow-list file of the given lines. */
static bool
admits(struct fixture *f, jm_sock_t *server, const struct keys *server_keys,
       const struct keys *k)
{
    return jm_test_curve_admits(&f->loop, jm_sock_endpoint(server),
                                server_keys->public_key, JM_SOCK_DEALER,
                                k->public_key, k->secret_key);
}

/* A service loads its allow list again at SIGHUP (jm_bus_allow_load): the
 * file is the whole list, so a key it no longer names is refused from its
 * next handshake, and the narrower list of the event log's sockets (those
 * that see every record) is made again with it; a file with a bad line
 * changes neither. */
static void
test_allow_load_replaces_both_lists(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, caseworker, matcher, newcomer;
    struct seen seen = {0}, narrow_seen = {0};
    jm_sock_opts narrow_opts = {.curve_domain = "narrow"};
    jm_sock_t *server, *narrow;
    char dir[256], path[300], text[512];
    size_t keys = 0;

    make_keys(&server_keys);
    make_keys(&caseworker);
    make_keys(&matcher);
    make_keys(&newcomer);
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/allow", dir);
    snprintf(text, sizeof(text), "%s caseworker:101\n%s service:matcher\n",
             caseworker.public_key, matcher.public_key);
    jm_test_write_file(path, text);
    assert_int_equal(jm_bus_allow_load(f->bus, "jobmatch", path, "narrow",
                                       jm_principal_sees_all, &keys),
                     0);
    assert_int_equal(keys, 2);
    server = curve_server(f, &server_keys, &seen);
    narrow_opts.curve_secret_key = server_keys.secret_key;
    assert_int_equal(jm_sock_new(&narrow, f->bus, JM_SOCK_ROUTER, &narrow_opts,
                                 record, &narrow_seen),
                     0);
    assert_int_equal(jm_sock_bind(narrow, ANY_PORT), 0);
    assert_true(admits(f, server, &server_keys, &caseworker));
    assert_true(admits(f, server, &server_keys, &matcher));
    assert_false(admits(f, narrow, &server_keys, &caseworker));
    assert_true(admits(f, narrow, &server_keys, &matcher));
    assert_false(admits(f, server, &server_keys, &newcomer));

    /* The matcher's key revoked, a newcomer added. */
    snprintf(text, sizeof(text), "%s caseworker:101\n%s caseworker:147\n",
             caseworker.public_key, newcomer.public_key);
    jm_test_write_file(path, text);
    assert_int_equal(jm_bus_allow_load(f->bus, "jobmatch", path, "narrow",
                                       jm_principal_sees_all, &keys),
                     0);
    assert_int_equal(keys, 2);
    assert_true(admits(f, server, &server_keys, &caseworker));
    assert_true(admits(f, server, &server_keys, &newcomer));
    assert_false(admits(f, server, &server_keys, &matcher));
    assert_false(admits(f, narrow, &server_keys, &matcher));

    /* A bad line (a key without its principal): nothing changes. */
    snprintf(text, sizeof(text), "%s service:matcher\n%s\n", matcher.public_key,
             caseworker.public_key);
    jm_test_write_file(path, text);
    assert_int_equal(jm_bus_allow_load(f->bus, "jobmatch", path, "narrow",
                                       jm_principal_sees_all, &keys),
                     -EINVAL);
    assert_true(admits(f, server, &server_keys, &newcomer));
    assert_false(admits(f, server, &server_keys, &matcher));
    assert_false(admits(f, narrow, &server_keys, &matcher));

    jm_sock_close(&narrow);
    jm_sock_close(&server);
    jm_test_rmtree(dir);
    f->finished = true;
}

/* What a SIGHUP does: the list file written anew as text, then read. */
static void
reload_allow_list(struct fixture *f, const char *path, const char *text)
{
    jm_test_write_file(path, text);
    assert_int_equal(
        jm_bus_allow_load(f->bus, "jobmatch", path, NULL, NULL, NULL), 0);
}

struct seen_count {
    const struct seen *seen;
    int count;
};

static bool
seen_count_reached(void *arg)
{
    const struct seen_count *w = arg;

    return w->seen->count >= w->count;
}

/* Sends text on a client whose connection is up and waits until the
 * server has seen it (the count-th message). */
static void
send_and_see(struct fixture *f, jm_sock_t *client, const char *text,
             struct seen *seen, int count)
{
    struct seen_count wait = {seen, count};

    assert_int_equal(jm_sock_send(client, NULL, text, strlen(text)), 0);
    assert_true(jm_test_run_until(&f->loop, seen_count_reached, &wait, 10000));
    assert_string_equal(seen->body, text);
}

/* ZeroMQ authenticates a connection once, at its handshake, and keeps it
 * for as long as the peer likes; the list read again at SIGHUP applies to
 * the messages of connections made before it too: a key taken off is
 * marked unlisted (no principal) from its next message, a key whose
 * principal changed carries the new one. */
static void
test_reloaded_list_applies_to_open_connections(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, kept, revoked;
    struct seen seen = {0};
    struct retry_send retry = {0};
    jm_sock_t *server, *kept_client, *revoked_client;
    char dir[256], path[300], text[512];

    make_keys(&server_keys);
    make_keys(&kept);
    make_keys(&revoked);
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/allow", dir);
    snprintf(text, sizeof(text), "%s caseworker:101\n%s municipality:101\n",
             kept.public_key, revoked.public_key);
    reload_allow_list(f, path, text);
    server = curve_server(f, &server_keys, &seen);
    kept_client =
        curve_client(f, &server_keys, &kept, NULL, jm_sock_endpoint(server));
    revoked_client =
        curve_client(f, &server_keys, &revoked, NULL, jm_sock_endpoint(server));
    /* The first message of each waits for its handshake. */
    retry_send_start(&f->loop, &retry, kept_client, "kept 1");
    assert_true(jm_test_run_until(&f->loop, retry_sent, &retry, 10000));
    retry_send_stop(&f->loop, &retry);
    assert_true(jm_test_run_until(&f->loop, seen_one, &seen, 10000));
    assert_string_equal(seen.principal, "caseworker:101");
    memset(&retry, 0, sizeof(retry));
    retry_send_start(&f->loop, &retry, revoked_client, "revoked 1");
    assert_true(jm_test_run_until(&f->loop, retry_sent, &retry, 10000));
    retry_send_stop(&f->loop, &retry);
    {
        struct seen_count wait = {&seen, 2};

        assert_true(
            jm_test_run_until(&f->loop, seen_count_reached, &wait, 10000));
    }
    assert_string_equal(seen.principal, "municipality:101");
    assert_false(seen.unlisted);

    /* SIGHUP: one key off the list, the other with another principal. */
    snprintf(text, sizeof(text), "%s caseworker:147\n", kept.public_key);
    reload_allow_list(f, path, text);
    send_and_see(f, revoked_client, "revoked 2", &seen, 3);
    assert_true(seen.unlisted);
    assert_true(seen.principal_null);
    send_and_see(f, kept_client, "kept 2", &seen, 4);
    assert_false(seen.unlisted);
    assert_string_equal(seen.principal, "caseworker:147");

    /* Listed again: its next message has its principal back. */
    snprintf(text, sizeof(text), "%s caseworker:147\n%s municipality:147\n",
             kept.public_key, revoked.public_key);
    reload_allow_list(f, path, text);
    send_and_see(f, revoked_client, "revoked 3", &seen, 5);
    assert_false(seen.unlisted);
    assert_string_equal(seen.principal, "municipality:147");

    jm_sock_close(&kept_client);
    jm_sock_close(&revoked_client);
    jm_sock_close(&server);
    jm_test_rmtree(dir);
    f->finished = true;
}

/* What one subscriber received, by phase of the test below. */
struct phases {
    int before, same, after;
};

static void
count_phase(jm_sock_t *sock, const jm_sock_msg *msg, void *arg)
{
    struct phases *p = arg;

    (void) sock;
    if (msg->size == 6 && memcmp(msg->data, "before", 6) == 0)
        p->before++;
    else if (msg->size == 4 && memcmp(msg->data, "same", 4) == 0)
        p->same++;
    else if (msg->size == 5 && memcmp(msg->data, "after", 5) == 0)
        p->after++;
}

/* Publishes text every few ms while the test waits. */
struct publisher {
    uv_timer_t timer;
    jm_sock_t *pub;
    const char *text;
};

static void
on_publish_phase(uv_timer_t *timer)
{
    struct publisher *p = timer->data;

    assert_int_equal(jm_sock_publish(p->pub, "t", p->text, strlen(p->text)), 0);
}

static void
publish_start(struct fixture *f, struct publisher *p, const char *text)
{
    p->text = text;
    assert_int_equal(uv_timer_init(&f->loop, &p->timer), 0);
    p->timer.data = p;
    assert_int_equal(uv_timer_start(&p->timer, on_publish_phase, 0, 5), 0);
}

struct both_saw {
    const int *first, *second;
    int at_least;
};

static bool
both_saw(void *arg)
{
    const struct both_saw *w = arg;

    return *w->first >= w->at_least && *w->second >= w->at_least;
}

struct after_revocation {
    const struct phases *kept;
    jm_bus_t *bus;
    uint64_t refused_before;
};

/* The kept subscriber is back and has had several messages published
 * after the reload, and the revoked one has tried again and been refused. */
static bool
revocation_settled(void *arg)
{
    const struct after_revocation *w = arg;
    uint64_t accepted, refused;

    jm_bus_zap_counts(w->bus, &accepted, &refused);
    return w->kept->after >= 5 && refused > w->refused_before;
}

static jm_sock_t *
curve_subscriber(struct fixture *f, const struct keys *server,
                 const struct keys *k, const char *endpoint, struct phases *p)
{
    return curve_peer(f, JM_SOCK_SUB, server, k, NULL, endpoint, count_phase,
                      p);
}

/* A PUB cannot refuse a message per subscriber, so a key taken off its
 * list at SIGHUP loses the connection itself: every subscriber of the
 * domain's PUB sockets is dropped, the listed ones come back through ZAP
 * and receive again, the revoked one is refused and receives nothing
 * published after the reload. A reload that takes no key off drops
 * nobody. */
static void
test_revoked_subscriber_loses_its_subscription(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, kept, revoked, newcomer;
    struct phases kept_got = {0}, revoked_got = {0};
    struct publisher publisher = {0};
    jm_sock_opts pub_opts = {.curve_domain = "jobmatch"};
    jm_sock_t *pub, *kept_sub, *revoked_sub;
    char dir[256], path[300], text[512];
    uint64_t accepted, refused, accepted_now;

    make_keys(&server_keys);
    make_keys(&kept);
    make_keys(&revoked);
    make_keys(&newcomer);
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/allow", dir);
    snprintf(text, sizeof(text), "%s service:matcher\n%s service:matcher-2\n",
             kept.public_key, revoked.public_key);
    reload_allow_list(f, path, text);
    pub_opts.curve_secret_key = server_keys.secret_key;
    assert_int_equal(
        jm_sock_new(&pub, f->bus, JM_SOCK_PUB, &pub_opts, NULL, NULL), 0);
    assert_int_equal(jm_sock_bind(pub, ANY_PORT), 0);
    kept_sub = curve_subscriber(f, &server_keys, &kept, jm_sock_endpoint(pub),
                                &kept_got);
    revoked_sub = curve_subscriber(f, &server_keys, &revoked,
                                   jm_sock_endpoint(pub), &revoked_got);
    publisher.pub = pub;
    publish_start(f, &publisher, "before");
    {
        struct both_saw wait = {&kept_got.before, &revoked_got.before, 1};

        assert_true(jm_test_run_until(&f->loop, both_saw, &wait, 10000));
    }

    /* A key added, none taken off: both connections stay (no handshake
     * since) and both go on receiving. */
    jm_bus_zap_counts(f->bus, &accepted, &refused);
    snprintf(text, sizeof(text),
             "%s service:matcher\n%s service:matcher-2\n%s "
             "service:matcher-3\n",
             kept.public_key, revoked.public_key, newcomer.public_key);
    reload_allow_list(f, path, text);
    publisher.text = "same";
    {
        struct both_saw wait = {&kept_got.same, &revoked_got.same, 3};

        assert_true(jm_test_run_until(&f->loop, both_saw, &wait, 10000));
    }
    jm_bus_zap_counts(f->bus, &accepted_now, NULL);
    assert_int_equal(accepted_now, accepted);

    /* One key taken off. */
    snprintf(text, sizeof(text), "%s service:matcher\n", kept.public_key);
    jm_bus_zap_counts(f->bus, &accepted, &refused);
    reload_allow_list(f, path, text);
    publisher.text = "after";
    {
        struct after_revocation wait = {&kept_got, f->bus, refused};

        assert_true(
            jm_test_run_until(&f->loop, revocation_settled, &wait, 10000));
    }
    close_handle(&f->loop, &publisher.timer);
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(revoked_got.after, 0);
    jm_bus_zap_counts(f->bus, &accepted_now, NULL);
    assert_true(accepted_now > accepted); /* the kept one came back */

    jm_sock_close(&kept_sub);
    jm_sock_close(&revoked_sub);
    jm_sock_close(&pub);
    jm_test_rmtree(dir);
    f->finished = true;
}

static bool
saw_before(void *arg)
{
    return ((const struct phases *) arg)->before > 0;
}

struct refused_after {
    jm_bus_t *bus;
    uint64_t refused_before;
};

static bool
refused_again(void *arg)
{
    const struct refused_after *w = arg;
    uint64_t refused;

    jm_bus_zap_counts(w->bus, NULL, &refused);
    return refused > w->refused_before;
}

/* The narrow list (the event log's ticks: only principals that see every
 * record) loses a key when its principal changes to one that may not
 * read: its subscription there is dropped too, though the key stays on
 * the service's list. */
static void
test_renamed_key_loses_the_narrow_subscription(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, matcher;
    struct phases got = {0};
    struct publisher publisher = {0};
    jm_sock_opts pub_opts = {.curve_domain = "narrow"};
    jm_sock_t *pub, *sub;
    char dir[256], path[300], text[512];
    struct refused_after wait = {.bus = f->bus};

    make_keys(&server_keys);
    make_keys(&matcher);
    jm_test_tmpdir(dir, sizeof(dir));
    snprintf(path, sizeof(path), "%s/allow", dir);
    snprintf(text, sizeof(text), "%s service:matcher\n", matcher.public_key);
    jm_test_write_file(path, text);
    assert_int_equal(jm_bus_allow_load(f->bus, "jobmatch", path, "narrow",
                                       jm_principal_sees_all, NULL),
                     0);
    pub_opts.curve_secret_key = server_keys.secret_key;
    assert_int_equal(
        jm_sock_new(&pub, f->bus, JM_SOCK_PUB, &pub_opts, NULL, NULL), 0);
    assert_int_equal(jm_sock_bind(pub, ANY_PORT), 0);
    sub = curve_subscriber(f, &server_keys, &matcher, jm_sock_endpoint(pub),
                           &got);
    publisher.pub = pub;
    publish_start(f, &publisher, "before");
    assert_true(jm_test_run_until(&f->loop, saw_before, &got, 10000));

    snprintf(text, sizeof(text), "%s caseworker:101\n", matcher.public_key);
    jm_test_write_file(path, text);
    jm_bus_zap_counts(f->bus, NULL, &wait.refused_before);
    assert_int_equal(jm_bus_allow_load(f->bus, "jobmatch", path, "narrow",
                                       jm_principal_sees_all, NULL),
                     0);
    publisher.text = "after";
    assert_true(jm_test_run_until(&f->loop, refused_again, &wait, 10000));
    close_handle(&f->loop, &publisher.timer);
    for (int i = 0; i < 10; i++)
        uv_run(&f->loop, UV_RUN_NOWAIT);
    assert_int_equal(got.after, 0);

    jm_sock_close(&sub);
    jm_sock_close(&pub);
    jm_test_rmtree(dir);
    f->finished = true;
}

static void
test_routing_id_is_never_a_principal(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys, known;
    struct seen plain_seen = {0}, curve_seen = {0};
    struct retry_send retry = {0};
    jm_sock_opts forged = {.routing_id = "municipality:101"};
    jm_sock_t *server, *client;

    /* Plain: the ROUTER sees the chosen routing id as an address only. */
    assert_int_equal(
        jm_sock_new(&server, f->bus, JM_SOCK_ROUTER, NULL, record, &plain_seen),
        0);
    assert_int_equal(jm_sock_bind(server, ANY_PORT), 0);
    assert_int_equal(
        jm_sock_new(&client, f->bus, JM_SOCK_DEALER, &forged, NULL, NULL), 0);
    assert_int_equal(jm_sock_connect(client, jm_sock_endpoint(server)), 0);
    retry_send_start(&f->loop, &retry, client, "plain");
    assert_true(jm_test_run_until(&f->loop, seen_one, &plain_seen, 10000));
    assert_int_equal(plain_seen.peer_id_len, strlen("municipality:101"));
    assert_memory_equal(plain_seen.peer_id, "municipality:101",
                        plain_seen.peer_id_len);
    assert_true(plain_seen.principal_null);
    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);
    jm_sock_close(&server);

    /* CURVE: the principal is the ZAP one, whatever the routing id. */
    make_keys(&server_keys);
    make_keys(&known);
    assert_int_equal(
        jm_bus_allow(f->bus, "jobmatch", known.public_key, "municipality:101"),
        0);
    server = curve_server(f, &server_keys, &curve_seen);
    client = curve_client(f, &server_keys, &known, "municipality:999",
                          jm_sock_endpoint(server));
    retry_send_start(&f->loop, &retry, client, "curve");
    assert_true(jm_test_run_until(&f->loop, seen_one, &curve_seen, 10000));
    assert_memory_equal(curve_seen.peer_id, "municipality:999",
                        curve_seen.peer_id_len);
    assert_string_equal(curve_seen.principal, "municipality:101");
    retry_send_stop(&f->loop, &retry);
    jm_sock_close(&client);
    jm_sock_close(&server);
    f->finished = true;
}

/* ---- the CURVE self-test ---- */

struct selftest_result {
    int calls;
    int status;
};

static void
on_selftest(int status, void *arg)
{
    struct selftest_result *r = arg;

    r->calls++;
    r->status = status;
}

static bool
selftest_done(void *arg)
{
    return ((struct selftest_result *) arg)->calls > 0;
}

static int
run_selftest(struct fixture *f, const char *endpoint, const char *key,
             unsigned timeout_ms)
{
    struct selftest_result r = {0};

    assert_int_equal(jm_bus_curve_selftest(f->bus, endpoint, key, timeout_ms,
                                           on_selftest, &r),
                     0);
    assert_true(jm_test_run_until(&f->loop, selftest_done, &r, 10000));
    assert_int_equal(r.calls, 1);
    return r.status;
}

static void
on_silent_connection(uv_stream_t *server, int status)
{
    /* Never accepted: the kernel completes the TCP handshake, nobody ever
     * speaks ZMTP, so the CURVE handshake never finishes. */
    (void) server;
    (void) status;
}

static void
test_selftest_tells_guarded_from_open_servers(void **state)
{
    struct fixture *f = *state;
    struct keys server_keys;
    struct seen seen = {0};
    struct selftest_result cancelled = {0};
    jm_sock_t *server, *plain;
    struct sockaddr_storage name;
    struct sockaddr_in addr;
    int name_len = sizeof(name), one = 1, zero = 0;
    uv_tcp_t silent;
    char endpoint[300];
    size_t len = sizeof(endpoint);
    void *raw_ctx, *raw;
    uint64_t accepted, refused;

    make_keys(&server_keys);
    assert_int_equal(jm_bus_curve_selftest(f->bus, ANY_PORT, "bad key", 100,
                                           on_selftest, &cancelled),
                     -EINVAL);

    /* Guarded by our ZAP handler: the random key is refused. */
    server = curve_server(f, &server_keys, &seen);
    assert_int_equal(
        run_selftest(f, jm_sock_endpoint(server), server_keys.public_key, 5000),
        0);
    jm_bus_zap_counts(f->bus, &accepted, &refused);
    assert_int_equal(accepted, 0);
    assert_true(refused >= 1);
    assert_int_equal(seen.count, 0);
    jm_sock_close(&server);

    /* A CURVE server in a context without a ZAP handler lets anyone in. */
    raw_ctx = zmq_ctx_new();
    raw = zmq_socket(raw_ctx, ZMQ_ROUTER);
    zmq_setsockopt(raw, ZMQ_LINGER, &zero, sizeof(zero));
    zmq_setsockopt(raw, ZMQ_CURVE_SERVER, &one, sizeof(one));
    zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, server_keys.secret_key, 40);
    zmq_setsockopt(raw, ZMQ_ZAP_DOMAIN, "jobmatch", 8);
    assert_int_equal(zmq_bind(raw, ANY_PORT), 0);
    zmq_getsockopt(raw, ZMQ_LAST_ENDPOINT, endpoint, &len);
    assert_int_equal(run_selftest(f, endpoint, server_keys.public_key, 5000),
                     -EACCES);
    zmq_close(raw);
    zmq_ctx_term(raw_ctx);

    /* A plain server: the mechanisms differ, nothing is proven. */
    assert_int_equal(
        jm_sock_new(&plain, f->bus, JM_SOCK_ROUTER, NULL, NULL, NULL), 0);
    assert_int_equal(jm_sock_bind(plain, ANY_PORT), 0);
    assert_int_equal(
        run_selftest(f, jm_sock_endpoint(plain), server_keys.public_key, 5000),
        -EPROTO);
    jm_sock_close(&plain);

    /* Nobody answers: -ETIMEDOUT, and a bus destroyed first cancels. */
    assert_int_equal(uv_tcp_init(&f->loop, &silent), 0);
    assert_int_equal(uv_ip4_addr("127.0.0.1", 0, &addr), 0);
    assert_int_equal(uv_tcp_bind(&silent, (struct sockaddr *) &addr, 0), 0);
    assert_int_equal(
        uv_listen((uv_stream_t *) &silent, 8, on_silent_connection), 0);
    assert_int_equal(
        uv_tcp_getsockname(&silent, (struct sockaddr *) &name, &name_len), 0);
    snprintf(endpoint, sizeof(endpoint), "tcp://127.0.0.1:%d",
             ntohs(((struct sockaddr_in *) &name)->sin_port));
    assert_int_equal(run_selftest(f, endpoint, server_keys.public_key, 200),
                     -ETIMEDOUT);
    assert_int_equal(jm_bus_curve_selftest(f->bus, endpoint,
                                           server_keys.public_key, 60000,
                                           on_selftest, &cancelled),
                     0);
    jm_bus_destroy(&f->bus);
    assert_int_equal(cancelled.calls, 1);
    assert_int_equal(cancelled.status, -ECANCELED);
    close_handle(&f->loop, &silent);
    f->finished = true;
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_curve_refuses_unknown_keys_and_names_known_ones, setup,
            teardown),
        cmocka_unit_test_setup_teardown(test_allow_list_validation_and_file,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_allow_load_replaces_both_lists,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_reloaded_list_applies_to_open_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_revoked_subscriber_loses_its_subscription, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_renamed_key_loses_the_narrow_subscription, setup, teardown),
        cmocka_unit_test_setup_teardown(test_routing_id_is_never_a_principal,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_selftest_tells_guarded_from_open_servers, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
