/* pubconns.c - the subscriber connections of a CURVE PUB socket, kept so
 * that they can be dropped when the allow list loses a key.
 *
 * Why: ZeroMQ authenticates a connection once, at its handshake. A ROUTER
 * looks each message's key up again (bus.c, deliver_public), so a revoked
 * client's requests are refused on the connection it already has; but a
 * PUB receives nothing from its subscribers and cannot tell one pipe from
 * another, so a key taken off its list would go on receiving ticks (with
 * a small commit's events on them) and notifications for as long as its
 * connection lasts. libzmq 4.3 has no call to close one pipe of a socket.
 *
 * What: a socket monitor reports every connection the PUB accepts and
 * every one that ends, with its file descriptor; the loop keeps that set.
 * When a reload of the allow list takes a key off the PUB's domain,
 * every connection in the set is shut down (shutdown(2), never close(2):
 * the fd stays libzmq's, which sees the end of the stream and tidies up
 * as for any peer that went away). Which connection belongs to which key
 * is not known here (ZAP is told the peer's address, not its port), so
 * all are dropped: the listed subscribers reconnect after their reconnect
 * interval and pass ZAP again, the revoked one is refused there. What a
 * listed subscriber misses meanwhile is what a PUB may always drop (a
 * tick is a hint; a follower fetches by sequence number).
 *
 * The monitor's events come in the order libzmq emitted them, and libzmq
 * reports a connection's end before it closes the fd; so once the queue
 * is drained, every fd in the set is still that connection's. Each entry
 * also keeps the socket's inode and is checked before the shutdown, so a
 * stale entry can never touch another file. */
#include "bus_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "jm/err.h"
#include "jm/log.h"
#include "jm/mem.h"

struct pub_conn {
    int fd;
    dev_t dev;
    ino_t ino;
};

struct jm__pubconns {
    jm_sock_t *pub;     /* the watched PUB; borrowed, it owns this */
    jm_sock_t *monitor; /* PAIR connected to pub's socket monitor */
    struct pub_conn *conns;
    size_t count;
    size_t capacity;
    struct jm__pubconns *next; /* bus->pubconns */
};

static void
forget(struct jm__pubconns *pc, size_t i)
{
    pc->conns[i] = pc->conns[--pc->count];
}

static void
forget_fd(struct jm__pubconns *pc, int fd)
{
    for (size_t i = 0; i < pc->count; i++)
        if (pc->conns[i].fd == fd) {
            forget(pc, i);
            return;
        }
}

static void
on_pub_event(jm_sock_t *monitor, struct jm__frames *event)
{
    struct jm__pubconns *pc = monitor->arg;
    struct stat st;
    uint16_t id;
    uint32_t value;
    int fd;

    if (!jm__monitor_event(event, &id, &value))
        return;
    fd = (int) value;
    switch (id) {
    case ZMQ_EVENT_ACCEPTED:
        /* An fd number seen before belongs to a connection that ended
         * (its DISCONNECTED may be on its way): this one replaces it. */
        forget_fd(pc, fd);
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
            return; /* already gone again */
        if (pc->count == pc->capacity) {
            pc->capacity = pc->capacity ? 2 * pc->capacity : 8;
            pc->conns =
                jm_xrealloc(pc->conns, pc->capacity * sizeof(*pc->conns));
        }
        pc->conns[pc->count++] =
            (struct pub_conn){.fd = fd, .dev = st.st_dev, .ino = st.st_ino};
        break;
    case ZMQ_EVENT_DISCONNECTED:
    case ZMQ_EVENT_CLOSED:
        forget_fd(pc, fd);
        break;
    default:
        break;
    }
}

int
jm__pubconns_start(jm_sock_t *pub)
{
    struct jm__pubconns *pc;
    int rc;

    JM_ASSERT(pub->zmq_type == ZMQ_PUB && pub->pubconns == NULL);
    pc = jm_xcalloc(1, sizeof(*pc));
    pc->pub = pub;
    if ((rc = jm__monitor_open(&pc->monitor, pub,
                               ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                                   ZMQ_EVENT_CLOSED,
                               on_pub_event, pc)) != 0) {
        free(pc);
        return rc;
    }
    pub->pubconns = pc;
    pc->next = pub->bus->pubconns;
    pub->bus->pubconns = pc;
    return 0;
}

void
jm__pubconns_stop(jm_sock_t *pub)
{
    struct jm__pubconns *pc = pub->pubconns, **link;

    if (pc == NULL)
        return;
    for (link = &pub->bus->pubconns; *link != pc; link = &(*link)->next)
        ;
    *link = pc->next;
    jm__monitor_close(pub, pc->monitor);
    pub->pubconns = NULL;
    free(pc->conns);
    free(pc);
}

/* Drops every subscriber connection of one PUB; returns how many. */
static unsigned
drop_all(struct jm__pubconns *pc)
{
    struct jm__frames event;
    unsigned dropped = 0;

    /* Everything libzmq has reported so far, so that the set is current. */
    while (jm__sock_recv(pc->monitor, &event)) {
        on_pub_event(pc->monitor, &event);
        jm__frames_release(&event);
    }
    for (size_t i = 0; i < pc->count;) {
        struct pub_conn *c = &pc->conns[i];
        struct stat st;

        if (fstat(c->fd, &st) != 0 || st.st_dev != c->dev ||
            st.st_ino != c->ino) {
            forget(pc, i); /* not the connection recorded: leave it be */
            continue;
        }
        /* The entry stays until libzmq reports the end. */
        if (shutdown(c->fd, SHUT_RDWR) == 0)
            dropped++;
        i++;
    }
    return dropped;
}

void
jm__pubconns_revoked(jm_bus_t *bus, const char *domain)
{
    for (struct jm__pubconns *pc = bus->pubconns; pc != NULL; pc = pc->next) {
        unsigned dropped;

        if (strcmp(pc->pub->curve_domain, domain) != 0)
            continue;
        dropped = drop_all(pc);
        jm_log(JM_LOG_NOTICE, "bus",
               "a key was taken off allow list %s: %u subscriber "
               "connection(s) of %s dropped, to be authenticated again",
               domain, dropped, pc->pub->endpoint);
    }
}
