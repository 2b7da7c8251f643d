/* One exporter destination: address resolution, its socket in the
 * handle's epoll set, and its counters. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "exporter/exporter_state.h"

int fk__exp_dest_resolve(exp_dest *d)
{
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = d->tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    char port[8];
    snprintf(port, sizeof port, "%u", d->u.port);
    int rc = getaddrinfo(d->u.host, port, &hints, &res);
    if (rc != 0 || !res)
        return fk__error(FK_ENOTFOUND, "exporter: %s: cannot resolve %s: %s", d->uri, d->u.host,
                         gai_strerror(rc));
    memcpy(&d->addr, res->ai_addr, res->ai_addrlen);
    d->addrlen = res->ai_addrlen;
    freeaddrinfo(res);
    return FK_OK;
}

void fk__exp_dest_close(fk_exporter *h, exp_dest *d)
{
    if (d->fd >= 0) {
        if (d->ev_mask && h->epfd >= 0)
            epoll_ctl(h->epfd, EPOLL_CTL_DEL, d->fd, NULL);
        close(d->fd);
    }
    d->fd = -1;
    d->ev_mask = 0;
}

void fk__exp_dest_set_events(fk_exporter *h, exp_dest *d, uint32_t ev)
{
    if (d->fd < 0 || d->ev_mask == ev)
        return;
    struct epoll_event e = {.events = ev, .data.u64 = (uint64_t)(d - h->dests)};
    if (epoll_ctl(h->epfd, d->ev_mask ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, d->fd, &e) == 0)
        d->ev_mask = ev;
}

void fk__exp_count_sent(exp_dest *d, size_t len, uint32_t records, bool is_template)
{
    d->st.messages_sent++;
    d->st.bytes_sent += len;
    d->st.records_sent += records;
    if (is_template)
        d->st.template_messages++;
}

void fk__exp_count_dropped(exp_dest *d, uint32_t records)
{
    d->st.messages_dropped++;
    d->st.records_dropped += records;
}
