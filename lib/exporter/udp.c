/* UDP transport of the exporter: every message is sent at once, templates
 * are resent on a time or message schedule (RFC 7011 section 10.3.6). */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "exporter/exporter_state.h"

int fk__exp_udp_open(exp_dest *d)
{
    int fd = socket(d->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return fk__error_errno(FK_EIO, "exporter: %s: socket", d->uri);
    if (connect(fd, (struct sockaddr *)&d->addr, d->addrlen) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return fk__error_errno(FK_EIO, "exporter: %s: connect", d->uri);
    }
    d->fd = fd;
    d->state = D_UDP;
    return FK_OK;
}

static void udp_send(exp_dest *d, const uint8_t *buf, size_t len, uint32_t records,
                     bool is_template)
{
    ssize_t n;
    do {
        n = send(d->fd, buf, len, MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n == (ssize_t)len) {
        fk__exp_count_sent(d, len, records, is_template);
    } else {
        d->st.send_errors++;
        fk__exp_count_dropped(d, records);
    }
}

static void emit_udp_template(exp_dest *d, const uint8_t *buf, size_t len, msgnode **chain)
{
    (void)chain;
    udp_send(d, buf, len, 0, true);
}

static bool refresh_due(const fk_exporter *h, const exp_dest *d, int64_t now)
{
    if (d->tmpl_sent < h->ntmpls)
        return true;
    if (h->refresh_ns && now - d->last_tmpl_ns >= h->refresh_ns)
        return true;
    return h->refresh_msgs && d->msgs_since_tmpl >= h->refresh_msgs;
}

void fk__exp_udp_deliver(fk_exporter *h, exp_dest *d, int64_t now)
{
    uint8_t *buf = h->msg.buf;
    size_t len = h->msg.len;
    uint32_t records = h->msg.records;
    if (refresh_due(h, d, now)) {
        fk__exp_build_templates(h, d, 0, d->seq, emit_udp_template, NULL);
        d->tmpl_sent = h->ntmpls;
        d->last_tmpl_ns = now;
        d->msgs_since_tmpl = 0;
    }
    fk__exp_msg_header(buf, len, fk__exp_export_time(), d->seq, h->odid);
    d->seq += records;
    udp_send(d, buf, len, records, false);
    d->msgs_since_tmpl++;
}
