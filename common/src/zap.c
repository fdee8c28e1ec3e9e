/* zap.c - who may connect: the ZAP handler (ZeroMQ RFC 27) with its allow
 * lists, and the start-up self-test proving that the handler guards a
 * server socket (the CURVE key files are keys.c's).
 *
 * The decision a reader must know: libzmq lets a CURVE client in unless a
 * ZAP handler bound on inproc://zeromq.zap.01 says no (DESIGN.md section
 * 4). So the handler is bound when the bus is created, before any server
 * socket, runs on the bus's loop through the same adapter as every other
 * socket, and refuses by default: only the CURVE mechanism, only a domain
 * that has an allow list, only a listed key. It returns the key as the ZAP
 * "user id"; bus.c looks the key's principal up for every message, so that
 * a list read again applies to connections already made too.
 *
 * Verified with libzmq 4.3.4 (probe, and test_bus.c): a ZAP reply "400"
 * reaches the client as ZMQ_EVENT_HANDSHAKE_FAILED_AUTH with value 400 (the
 * server sends an ERROR command); "200" gives HANDSHAKE_SUCCEEDED on both
 * sides and the User-Id property on the body frames; a context with no
 * handler accepts any key; a wrong server key gives the client only
 * HANDSHAKE_FAILED_NO_DETAIL. */
#include "bus_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"
#include "jm/principal.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

/* ---- allow lists ----
 *
 * domain -> (public key -> principal). A process has a domain or two and at
 * most a few hundred keys, so each domain is one array kept sorted by key:
 * a lookup per handshake is a binary search, an insert a memmove. */

struct allow_entry {
    char key[JM_KEY_Z85_LEN + 1]; /* canonical Z85 (decoded, re-encoded) */
    char *principal;
};

/* One domain's list, sorted by key for binary search. */
struct jm__domain {
    char *name;
    struct allow_entry *entries;
    size_t count;
    size_t capacity;
};

static struct jm__domain *
find_domain(const jm_bus_t *bus, const void *name, size_t len)
{
    /* Linear: a process has one or two domains. */
    for (size_t i = 0; i < bus->domain_count; i++) {
        struct jm__domain *d = &bus->domains[i];

        if (strlen(d->name) == len && memcmp(d->name, name, len) == 0)
            return d;
    }
    return NULL;
}

/* Index of key in d, or where it would be inserted. */
static size_t
entry_index(const struct jm__domain *d, const char *key, bool *found)
{
    size_t low = 0, high = d->count;

    *found = false;
    while (low < high) {
        size_t mid = low + (high - low) / 2;
        int c = memcmp(d->entries[mid].key, key, JM_KEY_Z85_LEN);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0)
            low = mid + 1;
        else
            high = mid;
    }
    return low;
}

/* Why principal cannot be listed, or NULL if it can. */
static const char *
principal_problem(const char *principal)
{
    /* An allow list's line without its second word. */
    if (principal == NULL || principal[0] == '\0')
        return "expected \"PUBLIC_KEY_Z85 principal\"";
    return jm_principal_problem(principal);
}

int
jm_bus_allow(jm_bus_t *bus, const char *domain, const char *public_key,
             const char *principal)
{
    uint8_t raw[32];
    char canonical[JM_KEY_Z85_LEN + 1];
    struct jm__domain *d;
    size_t at;
    bool found;

    JM_ASSERT(bus != NULL);
    if (domain == NULL || domain[0] == '\0' ||
        !jm__key_valid(public_key, raw) || principal_problem(principal) != NULL)
        return -EINVAL;
    /* Z85 text that decodes to the same bytes is one key: store the form
     * the ZAP handler will produce from the raw key. */
    zmq_z85_encode(canonical, raw, sizeof(raw));
    if ((d = find_domain(bus, domain, strlen(domain))) == NULL) {
        bus->domains = jm_xrealloc(bus->domains, (bus->domain_count + 1) *
                                                     sizeof(*bus->domains));
        d = &bus->domains[bus->domain_count++];
        memset(d, 0, sizeof(*d));
        d->name = jm_xstrdup(domain);
    }
    at = entry_index(d, canonical, &found);
    /* Listed again: the later principal wins (bus.h), so that reloading
     * an edited file can rename a client; connections already made carry
     * the new one from their next message (bus.c looks it up per
     * message). */
    if (found) {
        free(d->entries[at].principal);
        d->entries[at].principal = jm_xstrdup(principal);
        return 0;
    }
    if (d->count == d->capacity) {
        d->capacity = d->capacity ? 2 * d->capacity : 16;
        d->entries = jm_xrealloc(d->entries, d->capacity * sizeof(*d->entries));
    }
    memmove(&d->entries[at + 1], &d->entries[at],
            (d->count - at) * sizeof(*d->entries));
    memcpy(d->entries[at].key, canonical, sizeof(canonical));
    d->entries[at].principal = jm_xstrdup(principal);
    d->count++;
    return 0;
}

/* Empties domain's list (it stays a domain: every key refused). */
static void
allow_clear(jm_bus_t *bus, const char *domain)
{
    struct jm__domain *d = find_domain(bus, domain, strlen(domain));

    for (size_t i = 0; d != NULL && i < d->count; i++)
        free(d->entries[i].principal);
    if (d != NULL)
        d->count = 0;
}

/* Reads path into domain (jm_bus_allow_load), *count_p the keys read. */
static int
allow_file(jm_bus_t *bus, const char *domain, const char *path, size_t *count_p)
{
    struct pair {
        char *key;
        char *principal;
    } *pairs = NULL;

    size_t count = 0, line_cap = 0;
    char *line = NULL;
    unsigned lineno = 0;
    FILE *file;
    int rc = 0;

    JM_ASSERT(bus != NULL);
    JM_ASSERT(path != NULL);
    if ((file = fopen(path, "r")) == NULL)
        return -errno;
    /* Parse everything first: a bad line leaves the allow list as it was,
     * not half loaded. */
    errno = 0;
    while (getline(&line, &line_cap, file) >= 0) {
        char *save = NULL, *key, *principal;
        const char *problem;

        lineno++;
        if ((key = strtok_r(line, " \t\r\n", &save)) == NULL)
            continue;
        /* '#' is also a Z85 character, so a comment is a line whose first
         * word is not key-sized ("# ...", or a commented-out "#KEY ..."
         * of 41 characters). */
        if (key[0] == '#' && strlen(key) != JM_KEY_Z85_LEN)
            continue;
        principal = strtok_r(NULL, " \t\r\n", &save);
        problem = principal_problem(principal);
        if (problem == NULL && (!jm__key_valid(key, NULL) ||
                                strtok_r(NULL, " \t\r\n", &save) != NULL))
            problem = "expected \"PUBLIC_KEY_Z85 principal\"";
        if (problem != NULL) {
            jm_log(JM_LOG_ERR, "bus", "%s:%u: %s", path, lineno, problem);
            rc = -EINVAL;
            goto out;
        }
        pairs = jm_xrealloc(pairs, (count + 1) * sizeof(*pairs));
        pairs[count].key = jm_xstrdup(key);
        pairs[count].principal = jm_xstrdup(principal);
        count++;
    }
    if (ferror(file)) {
        rc = errno != 0 ? -errno : -EIO; /* EISDIR for a directory */
        goto out;
    }
    /* The file is the whole list: keys no longer in it go (a reload is
     * how an operator revokes one). */
    allow_clear(bus, domain);
    for (size_t i = 0; i < count && rc == 0; i++)
        rc = jm_bus_allow(bus, domain, pairs[i].key, pairs[i].principal);
    if (rc == 0 && count_p != NULL)
        *count_p = count;
out:
    for (size_t i = 0; i < count; i++) {
        free(pairs[i].key);
        free(pairs[i].principal);
    }
    free(pairs);
    free(line);
    fclose(file);
    return rc;
}

/* Adds to domain to every entry of domain from whose principal keep
 * accepts. Nothing is added when from does not exist. */
static void
allow_copy(jm_bus_t *bus, const char *from, const char *to,
           bool (*keep)(const char *principal))
{
    const struct jm__domain *d;
    struct allow_entry *kept;
    size_t count = 0;

    JM_ASSERT(bus != NULL);
    JM_ASSERT(keep != NULL);
    if ((d = find_domain(bus, from, strlen(from))) == NULL || d->count == 0)
        return;
    /* Copied out first: adding to another domain may move the domains
     * array, and d with it. */
    kept = jm_xcalloc(d->count, sizeof(*kept));
    for (size_t i = 0; i < d->count; i++)
        if (keep(d->entries[i].principal))
            kept[count++] = d->entries[i];
    for (size_t i = 0; i < count; i++) {
        /* Both were valid in from, so this cannot fail. */
        int rc = jm_bus_allow(bus, to, kept[i].key, kept[i].principal);

        JM_ASSERT(rc == 0);
    }
    free(kept);
}

/* The keys of domain as they are now (a copy; free with free_keys). */
static char **
copy_keys(const jm_bus_t *bus, const char *domain, size_t *count_p)
{
    const struct jm__domain *d = find_domain(bus, domain, strlen(domain));
    char **keys;

    *count_p = d != NULL ? d->count : 0;
    keys = jm_xcalloc(*count_p + 1, sizeof(*keys));
    for (size_t i = 0; i < *count_p; i++)
        keys[i] = jm_xstrdup(d->entries[i].key);
    return keys;
}

static void
free_keys(char **keys, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free(keys[i]);
    free(keys);
}

/* Is one of keys (the list before a reload) no longer in domain? Then the
 * PUB sockets of domain drop their subscribers (pubconns.c), which the
 * per-message check of the other sockets cannot reach. */
static void
drop_if_revoked(jm_bus_t *bus, const char *domain, char **keys, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (jm__allow_principal(bus, domain, keys[i]) == NULL) {
            jm__pubconns_revoked(bus, domain);
            return;
        }
}

int
jm_bus_allow_load(jm_bus_t *bus, const char *domain, const char *path,
                  const char *narrow, bool (*keep)(const char *principal),
                  size_t *count_p)
{
    size_t old_count, old_narrow_count = 0;
    char **old = NULL, **old_narrow = NULL;
    int rc;

    JM_ASSERT(bus != NULL && domain != NULL && path != NULL);
    old = copy_keys(bus, domain, &old_count);
    if (narrow != NULL)
        old_narrow = copy_keys(bus, narrow, &old_narrow_count);
    if ((rc = allow_file(bus, domain, path, count_p)) != 0)
        goto out;
    if (narrow != NULL) {
        allow_clear(bus, narrow);
        allow_copy(bus, domain, narrow, keep);
        drop_if_revoked(bus, narrow, old_narrow, old_narrow_count);
    }
    drop_if_revoked(bus, domain, old, old_count);
out:
    free_keys(old, old_count);
    if (old_narrow != NULL)
        free_keys(old_narrow, old_narrow_count);
    return rc;
}

void
jm_bus_allow_reload(jm_bus_t *bus, const char *who, const char *domain,
                    const char *path, const char *narrow,
                    bool (*keep)(const char *principal))
{
    size_t keys = 0;
    int rc;

    if (path == NULL || path[0] == '\0') {
        jm_log(JM_LOG_NOTICE, who,
               "no allow list to read again (CURVE is off, or no allow_file)");
        return;
    }
    if ((rc = jm_bus_allow_load(bus, domain, path, narrow, keep, &keys)) != 0)
        jm_log(JM_LOG_ERR, who,
               "allow list %s not read again, the one loaded before stays: %s",
               path, jm_strerror(rc));
    else
        jm_log(JM_LOG_NOTICE, who,
               "allow list %s read again: %zu keys (a key no longer listed is "
               "refused from its next request, and loses its subscriptions)",
               path, keys);
}

void
jm_bus_zap_counts(const jm_bus_t *bus, uint64_t *accepted, uint64_t *refused)
{
    JM_ASSERT(bus != NULL);
    if (accepted != NULL)
        *accepted = bus->zap_accepted;
    if (refused != NULL)
        *refused = bus->zap_refused;
}

/* ---- the ZAP handler ----
 *
 * A ROUTER rather than a REP: REP's strict recv/send alternation would
 * wedge the handler for good if one reply could not be sent, while a
 * ROUTER just answers the next request. libzmq's sessions connect to it
 * with an empty routing id, so the ROUTER makes one up and requests come
 * as [id, "", RFC 27 frames...]. */

/* A ZAP request as our ROUTER receives it: the envelope, then RFC 27. */
enum {
    ZAP_ID,
    ZAP_DELIMITER,
    ZAP_VERSION,
    ZAP_REQUEST_ID,
    ZAP_DOMAIN,
    ZAP_ADDRESS,
    ZAP_IDENTITY,
    ZAP_MECHANISM,
    ZAP_CREDENTIALS, /* CURVE: the client's 32-byte public key */
    ZAP_CURVE_FRAMES
};

static bool
frame_is(zmq_msg_t *frame, const char *text)
{
    size_t len = strlen(text);

    return zmq_msg_size(frame) == len &&
           memcmp(zmq_msg_data(frame), text, len) == 0;
}

static const char *
lookup_principal(const jm_bus_t *bus, const void *domain, size_t domain_len,
                 const char *z85)
{
    const struct jm__domain *d = find_domain(bus, domain, domain_len);
    size_t at;
    bool found;

    if (d == NULL)
        return NULL;
    at = entry_index(d, z85, &found);
    return found ? d->entries[at].principal : NULL;
}

const char *
jm__allow_principal(const jm_bus_t *bus, const char *domain, const char *key)
{
    return lookup_principal(bus, domain, strlen(domain), key);
}

static int
send_frame(void *zsock, const void *data, size_t size, bool more)
{
    int flags = ZMQ_DONTWAIT | (more ? ZMQ_SNDMORE : 0);

    return zmq_send(zsock, data, size, flags) < 0 ? jm__zmq_err() : 0;
}

/* Answers one request: 200 with the principal for a listed CURVE key in
 * a known domain, 400 for anything else (another mechanism, an unknown
 * domain, an unknown key), 500 for a request we cannot read. */
static void
on_zap_request(jm_sock_t *sock, struct jm__frames *req)
{
    jm_bus_t *bus = sock->arg;
    zmq_msg_t *f = req->frame;
    const char *status = "400", *text = "not allowed", *principal = NULL;
    char z85[JM_KEY_Z85_LEN + 1] = "";
    int rc;

    /* Without the envelope and a request id there is nobody to answer;
     * libzmq never sends that, so it is not worth more than a line. */
    if (req->total <= ZAP_REQUEST_ID || zmq_msg_size(&f[ZAP_DELIMITER]) != 0) {
        jm_log(JM_LOG_WARN, "bus", "ZAP: dropped a malformed request");
        return;
    }
    if (!frame_is(&f[ZAP_VERSION], "1.0") || req->total <= ZAP_MECHANISM) {
        status = "500";
        text = "malformed request";
    } else if (frame_is(&f[ZAP_MECHANISM], "CURVE") &&
               req->total == ZAP_CURVE_FRAMES &&
               zmq_msg_size(&f[ZAP_CREDENTIALS]) == 32) {
        zmq_z85_encode(z85, zmq_msg_data(&f[ZAP_CREDENTIALS]), 32);
        principal = lookup_principal(bus, zmq_msg_data(&f[ZAP_DOMAIN]),
                                     zmq_msg_size(&f[ZAP_DOMAIN]), z85);
        if (principal != NULL) {
            status = "200";
            text = "OK";
        }
    }
    if (principal != NULL) {
        bus->zap_accepted++;
        jm_log(JM_LOG_DEBUG, "bus", "ZAP: admitted %s", principal);
    } else {
        bus->zap_refused++;
        /* info, not warn: a refused client retries every reconnect
         * interval and would flood the log; the count is the metric. */
        if (req->total > ZAP_MECHANISM)
            jm_log(JM_LOG_INFO, "bus", "ZAP: refused %.*s client from %.*s",
                   (int) zmq_msg_size(&f[ZAP_MECHANISM]),
                   (const char *) zmq_msg_data(&f[ZAP_MECHANISM]),
                   (int) zmq_msg_size(&f[ZAP_ADDRESS]),
                   (const char *) zmq_msg_data(&f[ZAP_ADDRESS]));
        else
            jm_log(JM_LOG_WARN, "bus", "ZAP: refused a malformed request");
    }
    /* Reply: envelope, version, request id, status code and text, user id
     * (the key: bus.c looks its principal up per message, in the list as
     * it is then), metadata (none). */
    if ((rc = send_frame(sock->zsock, zmq_msg_data(&f[ZAP_ID]),
                         zmq_msg_size(&f[ZAP_ID]), true)) ||
        (rc = send_frame(sock->zsock, "", 0, true)) ||
        (rc = send_frame(sock->zsock, "1.0", 3, true)) ||
        (rc = send_frame(sock->zsock, zmq_msg_data(&f[ZAP_REQUEST_ID]),
                         zmq_msg_size(&f[ZAP_REQUEST_ID]), true)) ||
        (rc = send_frame(sock->zsock, status, 3, true)) ||
        (rc = send_frame(sock->zsock, text, strlen(text), true)) ||
        (rc = send_frame(sock->zsock, z85, principal ? JM_KEY_Z85_LEN : 0,
                         true)) ||
        (rc = send_frame(sock->zsock, "", 0, false)))
        /* The handshake then times out on the server (HANDSHAKE_IVL). */
        jm_log(JM_LOG_WARN, "bus", "ZAP: reply not sent: %s", jm_strerror(rc));
    jm__sock_rearm(sock);
}

static void selftest_finish(struct jm__selftest *test, int status);

int
jm__zap_start(jm_bus_t *bus)
{
    jm_sock_opts opts = {.heartbeat_ivl_ms = -1}; /* inproc: no heartbeats */
    int rc;

    if ((rc = jm__sock_open(&bus->zap, bus, ZMQ_ROUTER, &opts, on_zap_request,
                            bus)) != 0)
        return rc;
    if (zmq_bind(bus->zap->zsock, ZAP_ENDPOINT) != 0) {
        rc = jm__zmq_err();
        jm__sock_close(bus->zap);
        bus->zap = NULL;
        return rc;
    }
    snprintf(bus->zap->endpoint, sizeof(bus->zap->endpoint), "%s",
             ZAP_ENDPOINT);
    return 0;
}

void
jm__zap_stop(jm_bus_t *bus)
{
    while (bus->selftests != NULL)
        selftest_finish(bus->selftests, -ECANCELED);
    if (bus->zap != NULL)
        jm__sock_close(bus->zap);
    bus->zap = NULL;
    for (size_t i = 0; i < bus->domain_count; i++) {
        struct jm__domain *d = &bus->domains[i];

        for (size_t k = 0; k < d->count; k++)
            free(d->entries[k].principal);
        free(d->entries);
        free(d->name);
    }
    free(bus->domains);
    bus->domains = NULL;
    bus->domain_count = 0;
}

/* ---- the CURVE self-test ----
 *
 * A throw-away DEALER with a fresh random key, so certainly not listed,
 * connects to the server; a socket monitor on it reports how the handshake
 * ended. Both are ordinary bus sockets (the DEALER's messages, if any, are
 * dropped), so they close like every other socket, and a uv timer bounds
 * the wait. The monitor's PAIR is on the loop like the rest: its events
 * arrive as messages. */

struct jm__selftest {
    jm_bus_t *bus;
    jm_sock_t *dealer;  /* the throw-away client; nothing is read from it */
    jm_sock_t *monitor; /* PAIR connected to the dealer's monitor */
    uv_timer_t timer;
    jm_bus_selftest_cb cb;
    void *arg;
    struct jm__selftest *next;
};

static void
free_selftest(uv_handle_t *handle)
{
    free(handle->data);
}

/* Closes everything, then reports. Runs once per self-test: the test is
 * unlinked first, and its monitor is closed, so no later event or timer
 * can find it. */
static void
selftest_finish(struct jm__selftest *test, int status)
{
    jm_bus_selftest_cb cb = test->cb;
    void *arg = test->arg;
    struct jm__selftest **link = &test->bus->selftests;

    while (*link != test)
        link = &(*link)->next;
    *link = test->next;
    jm__monitor_close(test->dealer, test->monitor);
    jm__sock_close(test->dealer);
    uv_timer_stop(&test->timer);
    uv_close((uv_handle_t *) &test->timer, free_selftest);
    cb(status, arg);
}

static void
on_selftest_timeout(uv_timer_t *timer)
{
    selftest_finish(timer->data, -ETIMEDOUT);
}

static void
on_monitor_event(jm_sock_t *sock, struct jm__frames *event)
{
    uint16_t id;
    uint32_t value;

    if (!jm__monitor_event(event, &id, &value))
        return;
    switch (id) {
    case ZMQ_EVENT_HANDSHAKE_FAILED_AUTH:
        /* The ZAP handler answered and said no (status 300/400/500). */
        selftest_finish(sock->arg, 0);
        break;
    case ZMQ_EVENT_HANDSHAKE_SUCCEEDED:
        selftest_finish(sock->arg, -EACCES);
        break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
        /* Refused before authentication: a wrong server key, or a server
         * that does not speak CURVE at all (which would let any plain
         * client in). Either way nothing about ZAP is proven. */
        selftest_finish(sock->arg, -EPROTO);
        break;
    default:
        break;
    }
}

static void
drop_message(jm_sock_t *sock, struct jm__frames *msg)
{
    (void) sock;
    (void) msg;
}

int
jm_bus_curve_selftest(jm_bus_t *bus, const char *endpoint,
                      const char *server_key, unsigned timeout_ms,
                      jm_bus_selftest_cb cb, void *arg)
{
    char public_key[JM_KEY_Z85_LEN + 1], secret_key[JM_KEY_Z85_LEN + 1];
    int rc;

    JM_ASSERT(endpoint != NULL);
    if (!jm__key_valid(server_key, NULL))
        return -EINVAL;
    if ((rc = jm_keys_generate(public_key, secret_key)) != 0)
        return rc;
    rc = jm_bus_curve_probe(bus, endpoint, server_key, JM_SOCK_DEALER,
                            public_key, secret_key, timeout_ms, cb, arg);
    sodium_memzero(secret_key, sizeof(secret_key));
    return rc;
}

int
jm_bus_curve_probe(jm_bus_t *bus, const char *endpoint, const char *server_key,
                   jm_sock_type client_type, const char *client_public_key,
                   const char *client_secret_key, unsigned timeout_ms,
                   jm_bus_selftest_cb cb, void *arg)
{
    jm_sock_opts opts = {.heartbeat_ivl_ms = -1};
    struct jm__selftest *test;
    int rc;

    JM_ASSERT(bus != NULL);
    JM_ASSERT(endpoint != NULL);
    JM_ASSERT(cb != NULL);
    JM_ASSERT(client_type == JM_SOCK_DEALER || client_type == JM_SOCK_SUB);
    if (!jm__key_valid(server_key, NULL) ||
        !jm__key_valid(client_public_key, NULL) ||
        !jm__key_valid(client_secret_key, NULL))
        return -EINVAL;
    test = jm_xcalloc(1, sizeof(*test));
    test->bus = bus;
    test->cb = cb;
    test->arg = arg;
    opts.curve_server_key = server_key;
    opts.curve_public_key = client_public_key;
    opts.curve_secret_key = client_secret_key;
    /* A SUB for a PUB server: with a pair of socket types that fit,
     * nothing but ZAP's answer decides the handshake. */
    rc = jm__sock_open(&test->dealer, bus,
                       client_type == JM_SOCK_SUB ? ZMQ_SUB : ZMQ_DEALER, &opts,
                       drop_message, test);
    if (rc != 0)
        goto fail;
    if ((rc = jm__monitor_open(&test->monitor, test->dealer,
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                                   ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL,
                               on_monitor_event, test)) != 0)
        goto fail;
    if (zmq_connect(test->dealer->zsock, endpoint) != 0) {
        rc = jm__zmq_err();
        goto fail;
    }
    uv_timer_init(bus->loop, &test->timer);
    test->timer.data = test;
    uv_timer_start(&test->timer, on_selftest_timeout, timeout_ms, 0);
    test->next = bus->selftests;
    bus->selftests = test;
    return 0;

fail:
    if (test->monitor != NULL)
        jm__monitor_close(test->dealer, test->monitor);
    if (test->dealer != NULL)
        jm__sock_close(test->dealer);
    free(test);
    return rc;
}
