/* The collector's batch hand-over (fk_collector_set_batch_callback):
 * delivered records gather in an array the collector owns, decoded there
 * in place where the codec can (fk__col_flowbuf), and go to the callback
 * together: one call for up to FK_COLLECTOR_BATCH_MAX records. */
#include "collector/collector_state.h"
#include "core/alloc.h"

int fk_collector_set_batch_callback(fk_collector *h, fk_collector_batch_cb cb, void *user)
{
    if (!h)
        return fk__error(FK_EINVAL, "fk_collector_set_batch_callback: NULL handle");
    if (h->active)
        return fk__error(FK_EACTIVATED, "collector: already activated");
    h->batch_cb = cb;
    h->batch_user = user;
    h->callbacks = h->cb || h->batch_cb;
    return FK_OK;
}

int fk__col_batch_alloc(fk_collector *h)
{
    h->fbuf.flows = h->fbuf.next = h->fbuf.end = NULL;
    h->fbuf.ends = false;
    if (!h->batch_cb)
        return FK_OK;
    h->fbuf.flows = fk__calloc(FK_COLLECTOR_BATCH_MAX, sizeof *h->fbuf.flows);
    if (!h->fbuf.flows)
        return fk__error(FK_ENOMEM, "collector: out of memory");
    h->fbuf.next = h->fbuf.flows;
    h->fbuf.end = h->fbuf.flows + FK_COLLECTOR_BATCH_MAX;
    return FK_OK;
}

void fk__col_batch_free(fk_collector *h)
{
    fk__col_batch_flush(h);
    fk__free(h->fbuf.flows);
    h->fbuf.flows = h->fbuf.next = h->fbuf.end = NULL;
}

void fk__col_batch_flush(fk_collector *h)
{
    h->fbuf.ends = false;
    size_t n = (size_t)(h->fbuf.next - h->fbuf.flows);
    if (!n)
        return;
    h->fbuf.next = h->fbuf.flows;
    h->batch_cb(h->fbuf.flows, n, h->batch_user);
}
