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
#include <stdio.h>
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

bool
jm__monitor_event(const struct jm__frames *event, uint16_t *id, uint32_t *value)
{
    const uint8_t *data;

    /* libzmq 4.3 events: [u16 event, u32 value][endpoint], host order. */
    if (event->total != 2 || zmq_msg_size((zmq_msg_t *) &event->frame[0]) != 6)
        return false;
    data = zmq_msg_data((zmq_msg_t *) &event->frame[0]);
    memcpy(id, data, sizeof(*id));
    memcpy(value, data + 2, sizeof(*value));
    return true;
}

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
    jm_bus_t *bus = pub->bus;
    struct jm__pubconns *pc;
    char endpoint[96];
    int unlimited = 0;
    int rc;

    JM_ASSERT(pub->zmq_type == ZMQ_PUB && pub->pubconns == NULL);
    pc = jm_xcalloc(1, sizeof(*pc));
    pc->pub = pub;
    snprintf(endpoint, sizeof(endpoint), "inproc://jm-pubconns-%lu",
             ++bus->monitor_sequence);
    if (zmq_socket_monitor(pub->zsock, endpoint,
                           ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                               ZMQ_EVENT_CLOSED) != 0) {
        rc = jm__zmq_err();
        free(pc);
        return rc;
    }
    if ((rc = jm__sock_open(&pc->monitor, bus, ZMQ_PAIR, NULL, on_pub_event,
                            pc)) != 0)
        goto fail;
    /* libzmq's I/O thread sends the events blocking, holding a lock that
     * stopping the monitor takes too: a queue that could fill would let a
     * loop busy elsewhere stall every connection of the process, and the
     * close deadlock. Unlimited on our side makes the inproc pipe
     * unlimited; the loop drains it every turn, so it stays short. */
    if (zmq_setsockopt(pc->monitor->zsock, ZMQ_RCVHWM, &unlimited,
                       sizeof(unlimited)) != 0 ||
        zmq_connect(pc->monitor->zsock, endpoint) != 0) {
        rc = jm__zmq_err();
        goto fail;
    }
    pub->pubconns = pc;
    pc->next = bus->pubconns;
    bus->pubconns = pc;
    return 0;

fail:
    zmq_socket_monitor(pub->zsock, NULL, 0);
    if (pc->monitor != NULL)
        jm__sock_close(pc->monitor);
    free(pc);
    return rc;
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
    /* Stopped before the PAIR closes: an event sent to a PAIR nobody
     * reads any more would block libzmq's I/O thread. */
    zmq_socket_monitor(pub->zsock, NULL, 0);
    jm__sock_close(pc->monitor);
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
