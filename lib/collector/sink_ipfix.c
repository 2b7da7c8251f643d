/* IPFIX file output (RFC 5655): the file is a sequence of IPFIX messages;
 * the first message of every file (and of every file after rotation or
 * reopen) carries the templates, so each file can be read on its own.
 *
 * Eight data templates cover the combinations of flow address family,
 * exporter address family and biflow (RFC 5103 reverse counters):
 * id = 256 + (flow is IPv6) + 2 * (exporter is IPv6) + 4 * (biflow). */
#include <flowkit/ipfix.h>
#include <string.h>
#include <time.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/error.h"

#define MSG_MAX 65535
#define NTEMPLATES 8

typedef struct ipfix_priv {
    fk_ipfix_encoder *enc;
    bool open_msg;
    bool need_templates;
    size_t records; /* in the open message */
    uint8_t buf[MSG_MAX];
} ipfix_priv;

static uint16_t template_for(const fk_flow *f)
{
    return (uint16_t)(256 + (f->src.family == 6) + 2 * (f->exporter.family == 6) +
                      4 * ((f->present & FK_FLOW_HAS_REVERSE) != 0));
}

static int add_templates(fk_ipfix_encoder *enc)
{
    for (int v = 0; v < NTEMPLATES; v++) {
        bool v6 = v & 1, exp6 = v & 2, rev = v & 4;
        fk_field_spec f[24];
        uint16_t n = 0;
        f[n++] = (fk_field_spec){0, v6 ? 27 : 8, v6 ? 16 : 4, 0};  /* source address */
        f[n++] = (fk_field_spec){0, v6 ? 28 : 12, v6 ? 16 : 4, 0}; /* destination address */
        f[n++] = (fk_field_spec){0, 7, 2, 0};                      /* sourceTransportPort */
        f[n++] = (fk_field_spec){0, 11, 2, 0};                     /* destinationTransportPort */
        f[n++] = (fk_field_spec){0, 4, 1, 0};                      /* protocolIdentifier */
        f[n++] = (fk_field_spec){0, 6, 2, 0};                      /* tcpControlBits */
        f[n++] = (fk_field_spec){0, 1, 8, 0};                      /* octetDeltaCount */
        f[n++] = (fk_field_spec){0, 2, 8, 0};                      /* packetDeltaCount */
        f[n++] = (fk_field_spec){0, 152, 8, 0};                    /* flowStartMilliseconds */
        f[n++] = (fk_field_spec){0, 153, 8, 0};                    /* flowEndMilliseconds */
        f[n++] = (fk_field_spec){0, 10, 4, 0};                     /* ingressInterface */
        f[n++] = (fk_field_spec){0, 14, 4, 0};                     /* egressInterface */
        f[n++] = (fk_field_spec){0, 305, 4, 0};                    /* samplingPacketInterval */
        f[n++] = (fk_field_spec){0, 136, 1, 0};                    /* flowEndReason */
        f[n++] = (fk_field_spec){0, 149, 4, 0}; /* observationDomainId (of the exporter) */
        f[n++] = (fk_field_spec){0, exp6 ? 131 : 130, exp6 ? 16 : 4, 0}; /* exporter address */
        if (rev) {
            f[n++] = (fk_field_spec){FK_PEN_REVERSE, 1, 8, 0}; /* reverseOctetDeltaCount */
            f[n++] = (fk_field_spec){FK_PEN_REVERSE, 2, 8, 0}; /* reversePacketDeltaCount */
            f[n++] = (fk_field_spec){FK_PEN_REVERSE, 6, 2, 0}; /* reverseTcpControlBits */
        }
        int rc = fk_ipfix_encoder_add_template(enc, (uint16_t)(256 + v), f, n, 0);
        if (rc)
            return rc;
    }
    return FK_OK;
}

int fk__sink_ipfix_priv(fk__sink *k)
{
    ipfix_priv *p = FK__NEW(ipfix_priv);
    if (!p)
        return fk__error(FK_ENOMEM, "ipfix output: out of memory");
    int rc = fk_ipfix_encoder_create(&p->enc, NULL);
    if (rc == FK_OK)
        rc = fk_ipfix_encoder_set_int(p->enc, FK_IPFIX_ENC_MTU, MSG_MAX);
    if (rc == FK_OK)
        rc = add_templates(p->enc);
    if (rc) {
        fk_ipfix_encoder_destroy(p->enc);
        fk__free(p);
        return rc;
    }
    k->priv = p;
    return FK_OK;
}

static void ipfix_free_priv(void *priv)
{
    ipfix_priv *p = priv;
    if (!p)
        return;
    fk_ipfix_encoder_destroy(p->enc);
    fk__free(p);
}

static int ipfix_open(fk__sink *k)
{
    ipfix_priv *p = k->priv;
    /* Whatever was open belonged to the previous file. */
    p->open_msg = false;
    p->records = 0;
    p->need_templates = true;
    return FK_OK;
}

static int begin_message(ipfix_priv *p)
{
    uint32_t now = (uint32_t)(fk__real_ns() / 1000000000);
    int rc = fk_ipfix_encoder_begin(p->enc, p->buf, sizeof p->buf, 0, now);
    if (rc)
        return rc;
    p->open_msg = true;
    p->records = 0;
    if (p->need_templates) {
        for (uint16_t id = 256; id < 256 + NTEMPLATES; id++) {
            rc = fk_ipfix_encoder_write_template(p->enc, id);
            if (rc)
                return rc;
        }
        p->need_templates = false;
    }
    return FK_OK;
}

static int end_message(fk__sink *k)
{
    ipfix_priv *p = k->priv;
    if (!p->open_msg)
        return FK_OK;
    size_t len = 0;
    int rc = fk_ipfix_encoder_finish(p->enc, &len);
    p->open_msg = false;
    if (rc)
        return rc;
    if (fwrite(p->buf, 1, len, k->fp) != len)
        return fk__error_errno(FK_EIO, "ipfix:%s: write failed", k->path);
    k->written += len;
    return FK_OK;
}

static int set_fields(fk_ipfix_encoder *e, const fk_flow *f)
{
    bool v6 = f->src.family == 6;
    int rc = 0;
    rc |= fk_ipfix_encoder_set_addr(e, 0, v6 ? 27 : 8, &f->src);
    rc |= fk_ipfix_encoder_set_addr(e, 0, v6 ? 28 : 12, &f->dst);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 7, f->src_port);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 11, f->dst_port);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 4, f->proto);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 6, f->tcp_flags);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 1, f->bytes);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 2, f->packets);
    rc |= fk_ipfix_encoder_set_time(e, 0, 152, f->start_ns > 0 ? f->start_ns : 0);
    rc |= fk_ipfix_encoder_set_time(e, 0, 153, f->end_ns > 0 ? f->end_ns : 0);
    if (f->present & FK_FLOW_HAS_IFACES) {
        rc |= fk_ipfix_encoder_set_uint(e, 0, 10, f->in_if);
        rc |= fk_ipfix_encoder_set_uint(e, 0, 14, f->out_if);
    }
    if (f->present & FK_FLOW_HAS_SAMPLING)
        rc |= fk_ipfix_encoder_set_uint(e, 0, 305, f->sampling);
    if (f->present & FK_FLOW_HAS_END_REASON)
        rc |= fk_ipfix_encoder_set_uint(e, 0, 136, f->end_reason);
    rc |= fk_ipfix_encoder_set_uint(e, 0, 149, f->odid);
    if (f->exporter.family == 4 || f->exporter.family == 6)
        rc |= fk_ipfix_encoder_set_addr(e, 0, f->exporter.family == 6 ? 131 : 130, &f->exporter);
    if (f->present & FK_FLOW_HAS_REVERSE) {
        rc |= fk_ipfix_encoder_set_uint(e, FK_PEN_REVERSE, 1, f->rev_bytes);
        rc |= fk_ipfix_encoder_set_uint(e, FK_PEN_REVERSE, 2, f->rev_packets);
        rc |= fk_ipfix_encoder_set_uint(e, FK_PEN_REVERSE, 6, f->rev_tcp_flags);
    }
    return rc ? FK_EINVAL : FK_OK;
}

static int ipfix_write(fk__sink *k, const fk_flow *f)
{
    ipfix_priv *p = k->priv;
    if (f->src.family != 4 && f->src.family != 6)
        return fk__error(FK_EINVAL, "ipfix:%s: flow without addresses", k->path);
    if (!p->open_msg) {
        int rc = begin_message(p);
        if (rc)
            return rc;
    }
    int rc = fk_ipfix_encoder_record_begin(p->enc, template_for(f));
    if (rc)
        return rc;
    if (set_fields(p->enc, f) != FK_OK) {
        /* Close the record anyway so the encoder stays usable. */
        fk_ipfix_encoder_record_end(p->enc);
        return fk__error(FK_EINVAL, "ipfix:%s: a field of the flow could not be encoded", k->path);
    }
    rc = fk_ipfix_encoder_record_end(p->enc);
    if (rc == FK_ENOSPACE) {
        /* The message is full: write it and carry the record over. */
        rc = end_message(k);
        if (rc == FK_OK)
            rc = begin_message(p);
        if (rc == FK_OK)
            rc = fk_ipfix_encoder_record_end(p->enc);
    }
    if (rc == FK_OK)
        p->records++;
    return rc;
}

static int ipfix_flush(fk__sink *k)
{
    return end_message(k);
}

static void ipfix_close(fk__sink *k)
{
    end_message(k);
}

const fk__sink_ops fk__sink_ipfix_ops = {"ipfix",     ipfix_open,  ipfix_write,
                                         ipfix_flush, ipfix_close, ipfix_free_priv};
