/* The senders registry (flowkit/senders.h): exporter address → the
 * prefixes it may report, with per-sender counters. One rwlock guards the
 * map; the counters are atomics, so checks (read lock) run in parallel. */
#include <flowkit/senders.h>
#include <arpa/inet.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "collector/internal.h"
#include "core/alloc.h"
#include "core/error.h"
#include "core/hmap.h"
#include "core/strbuf.h"

typedef struct skey {
    uint8_t family; /* 4 or 6; IPv4-mapped IPv6 is 4 */
    uint8_t pad[3];
    uint8_t bytes[16];
} skey;

typedef struct sender {
    skey key;
    fk__cidr *prefixes;
    size_t n, cap;
    atomic_uint_fast64_t accepted, outside;
} sender;

struct fk_senders {
    pthread_rwlock_t lock;
    fk__hmap map; /* skey → sender * */
};

static void key_of(const fk_addr *a, skey *k)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(k, 0, sizeof *k);
    if (a->family == 6 && memcmp(a->bytes, mapped, 12) == 0) {
        k->family = 4;
        memcpy(k->bytes, a->bytes + 12, 4);
    } else {
        k->family = a->family;
        memcpy(k->bytes, a->bytes, a->family == 6 ? 16 : 4);
    }
}

static int parse_sender(const char *text, skey *k)
{
    fk_addr a;
    memset(&a, 0, sizeof a);
    if (inet_pton(AF_INET, text, a.bytes) == 1)
        a.family = 4;
    else if (inet_pton(AF_INET6, text, a.bytes) == 1)
        a.family = 6;
    else
        return fk__error(FK_EINVAL, "senders: \"%s\" is not an IPv4 or IPv6 address", text);
    key_of(&a, k);
    return FK_OK;
}

static int parse_prefix(const char *text, fk__cidr *out)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return fk__error(FK_EINVAL, "senders: prefix \"%.40s...\" is too long", text);
    snprintf(buf, sizeof buf, "%s", text);
    if (fk__cidr_parse(buf, "senders: prefix", out) != FK_OK)
        return fk__error(FK_EINVAL, "senders: \"%s\" is not a prefix (ADDR or ADDR/LEN)", text);
    return FK_OK;
}

static void sender_free(sender *x)
{
    if (x) {
        fk__free(x->prefixes);
        fk__free(x);
    }
}

static void map_free(fk__hmap *m)
{
    size_t pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(m, &pos, &k, &v))
        sender_free(*(sender **)v);
    fk__hmap_free(m);
}

int fk_senders_create(fk_senders **out)
{
    if (!out)
        return fk__error(FK_EINVAL, "senders: out must not be NULL");
    fk_senders *s = FK__NEW(fk_senders);
    if (!s)
        return fk__error(FK_ENOMEM, "senders: out of memory");
    fk__hmap_init(&s->map, sizeof(skey), sizeof(sender *));
    if (pthread_rwlock_init(&s->lock, NULL) != 0) {
        fk__free(s);
        return fk__error(FK_ENOMEM, "senders: cannot create the lock");
    }
    *out = s;
    return FK_OK;
}

void fk_senders_destroy(fk_senders *s)
{
    if (!s)
        return;
    map_free(&s->map);
    pthread_rwlock_destroy(&s->lock);
    fk__free(s);
}

/* Find or make the sender of k in m (no lock: the caller holds it). */
static int get_sender(fk__hmap *m, const skey *k, sender **out)
{
    sender **slot = fk__hmap_get(m, k);
    if (slot) {
        *out = *slot;
        return FK_OK;
    }
    if (m->count >= FK_SENDERS_MAX)
        return fk__error(FK_ERANGE, "senders: more than %d senders", FK_SENDERS_MAX);
    sender *x = FK__NEW(sender);
    if (!x || fk__hmap_put(m, k, &x, NULL) != FK_OK) {
        fk__free(x);
        return fk__error(FK_ENOMEM, "senders: out of memory");
    }
    x->key = *k;
    *out = x;
    return FK_OK;
}

static bool same_prefix(const fk__cidr *a, const fk__cidr *b)
{
    return a->family == b->family && a->bits == b->bits && !memcmp(a->addr, b->addr, 16);
}

static int sender_add(sender *x, const fk__cidr *p)
{
    for (size_t i = 0; i < x->n; i++)
        if (same_prefix(&x->prefixes[i], p))
            return FK_OK;
    if (x->n >= FK_SENDERS_PREFIXES_MAX)
        return fk__error(FK_ERANGE, "senders: more than %d prefixes for one sender",
                         FK_SENDERS_PREFIXES_MAX);
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 4;
        fk__cidr *g = fk__realloc(x->prefixes, cap * sizeof *g);
        if (!g)
            return fk__error(FK_ENOMEM, "senders: out of memory");
        x->prefixes = g;
        x->cap = cap;
    }
    x->prefixes[x->n++] = *p;
    return FK_OK;
}

/* The arguments of add_prefix and forget: a sender, and a prefix or NULL. */
static int parse_request(const fk_senders *s, const char *sender_text, const char *prefix, skey *k,
                         fk__cidr *p)
{
    if (!s || !sender_text)
        return fk__error(FK_EINVAL, "senders: NULL argument");
    int rc = parse_sender(sender_text, k);
    if (rc == FK_OK && prefix)
        rc = parse_prefix(prefix, p);
    return rc;
}

int fk_senders_add_prefix(fk_senders *s, const char *sender_text, const char *prefix)
{
    skey k;
    fk__cidr p;
    int rc = parse_request(s, sender_text, prefix, &k, &p);
    if (rc != FK_OK)
        return rc;
    pthread_rwlock_wrlock(&s->lock);
    sender *x = NULL;
    rc = get_sender(&s->map, &k, &x);
    if (rc == FK_OK && prefix)
        rc = sender_add(x, &p);
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

int fk_senders_forget(fk_senders *s, const char *sender_text, const char *prefix)
{
    skey k;
    fk__cidr p;
    int rc = parse_request(s, sender_text, prefix, &k, &p);
    if (rc != FK_OK)
        return rc;
    pthread_rwlock_wrlock(&s->lock);
    sender **slot = fk__hmap_get(&s->map, &k);
    rc = FK_OK;
    if (!slot) {
        rc = fk__error(FK_ENOTFOUND, "senders: %s is not a sender", sender_text);
    } else if (!prefix) {
        sender_free(*slot);
        fk__hmap_del(&s->map, &k);
    } else {
        sender *x = *slot;
        size_t i = 0;
        while (i < x->n && !same_prefix(&x->prefixes[i], &p))
            i++;
        if (i == x->n)
            rc = fk__error(FK_ENOTFOUND, "senders: %s has no prefix %s", sender_text, prefix);
        else
            x->prefixes[i] = x->prefixes[--x->n];
    }
    pthread_rwlock_unlock(&s->lock);
    return rc;
}

/* Next blank-separated word of a line: [*pos, end) → word; false at the end. */
static bool next_word(const char *line, size_t len, size_t *pos, char *word, size_t size,
                      bool *too_long)
{
    size_t i = *pos;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i >= len || line[i] == '#') {
        *pos = len;
        return false;
    }
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' && line[i] != '#')
        i++;
    size_t n = i - start;
    *too_long = n >= size;
    if (*too_long)
        n = size - 1;
    memcpy(word, line + start, n);
    word[n] = '\0';
    *pos = i;
    return true;
}

/* One line into m: "SENDER [PREFIX...]" or nothing. */
static int parse_line(fk__hmap *m, const char *line, size_t len)
{
    char word[64];
    size_t pos = 0;
    bool too_long = false;
    if (!next_word(line, len, &pos, word, sizeof word, &too_long))
        return FK_OK; /* blank or comment */
    if (too_long)
        return fk__error(FK_EINVAL, "senders: \"%s...\" is not an address", word);
    skey k;
    int rc = parse_sender(word, &k);
    sender *x = NULL;
    if (rc == FK_OK)
        rc = get_sender(m, &k, &x);
    while (rc == FK_OK && next_word(line, len, &pos, word, sizeof word, &too_long)) {
        fk__cidr p;
        if (too_long)
            return fk__error(FK_EINVAL, "senders: \"%s...\" is not a prefix", word);
        rc = parse_prefix(word, &p);
        if (rc == FK_OK)
            rc = sender_add(x, &p);
    }
    return rc;
}

int fk_senders_parse(fk_senders *s, const char *text, size_t len, size_t *error_line)
{
    if (error_line)
        *error_line = 0;
    if (!s || (!text && len))
        return fk__error(FK_EINVAL, "senders: NULL argument");
    fk__hmap fresh;
    fk__hmap_init(&fresh, sizeof(skey), sizeof(sender *));
    size_t line_no = 0;
    int rc = FK_OK;
    for (size_t at = 0; at < len && rc == FK_OK;) {
        line_no++;
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        if (memchr(text + at, '\0', n)) {
            rc = fk__error(FK_EINVAL, "senders: line %zu: a NUL byte", line_no);
            break;
        }
        rc = parse_line(&fresh, text + at, n);
        if (rc != FK_OK) {
            /* Keep the message, add the line. */
            char why[256];
            snprintf(why, sizeof why, "%s", fk_error_last()->message);
            rc = fk__error(rc, "line %zu: %s", line_no, why);
        }
        at += n + 1;
    }
    if (rc != FK_OK) {
        if (error_line)
            *error_line = line_no;
        map_free(&fresh);
        return rc;
    }
    pthread_rwlock_wrlock(&s->lock);
    fk__hmap old = s->map;
    s->map = fresh;
    pthread_rwlock_unlock(&s->lock);
    map_free(&old);
    return FK_OK;
}

size_t fk_senders_get_count(fk_senders *s)
{
    if (!s)
        return 0;
    pthread_rwlock_rdlock(&s->lock);
    size_t n = s->map.count;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

int fk_senders_match(fk_senders *s, const fk_addr *from, const fk_flow *flow)
{
    if (!s || !from || !flow)
        return 0;
    skey k;
    key_of(from, &k);
    int verdict = 0;
    pthread_rwlock_rdlock(&s->lock);
    sender **slot = fk__hmap_get(&s->map, &k);
    if (slot) {
        sender *x = *slot;
        if (x->n == 0 || fk__cidr_match(x->prefixes, x->n, &flow->src) ||
            fk__cidr_match(x->prefixes, x->n, &flow->dst)) {
            atomic_fetch_add_explicit(&x->accepted, 1, memory_order_relaxed);
            verdict = 1;
        } else {
            atomic_fetch_add_explicit(&x->outside, 1, memory_order_relaxed);
            verdict = -1;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return verdict;
}

size_t fk__senders_prefixes_of(fk_senders *s, const fk_addr *from, const fk_addr *src,
                               const fk_addr *dst, fk__cidr *out, uint8_t *side, size_t cap,
                               uint64_t *more)
{
    skey k;
    key_of(from, &k);
    size_t n = 0;
    pthread_rwlock_rdlock(&s->lock);
    sender **slot = fk__hmap_get(&s->map, &k);
    if (slot) {
        const sender *x = *slot;
        for (size_t i = 0; i < x->n; i++) {
            uint8_t bits = (uint8_t)((fk__cidr_match(&x->prefixes[i], 1, src) ? 1 : 0) |
                                     (fk__cidr_match(&x->prefixes[i], 1, dst) ? 2 : 0));
            if (!bits)
                continue;
            if (n == cap) {
                (*more)++;
                continue;
            }
            out[n] = x->prefixes[i];
            side[n++] = bits;
        }
    }
    pthread_rwlock_unlock(&s->lock);
    return n;
}

bool fk__senders_has_prefix(fk_senders *s, const fk_addr *from, const fk__cidr *p)
{
    skey k;
    key_of(from, &k);
    bool found = false;
    pthread_rwlock_rdlock(&s->lock);
    sender **slot = fk__hmap_get(&s->map, &k);
    for (size_t i = 0; slot && !found && i < (*slot)->n; i++)
        found = same_prefix(&(*slot)->prefixes[i], p);
    pthread_rwlock_unlock(&s->lock);
    return found;
}

/* ---- JSON ------------------------------------------------------------------ */

/* Per sender: the braces, keys and two counters; per prefix: one object. */
#define SENDER_JSON_MAX 160
#define PREFIX_JSON_MAX 80

static int key_cmp(const void *a, const void *b)
{
    const sender *x = *(sender *const *)a, *y = *(sender *const *)b;
    if (x->key.family != y->key.family)
        return x->key.family < y->key.family ? -1 : 1;
    return memcmp(x->key.bytes, y->key.bytes, 16);
}

static void addr_text(uint8_t family, const uint8_t *bytes, char *out, size_t size)
{
    if (!inet_ntop(family == 6 ? AF_INET6 : AF_INET, bytes, out, (socklen_t)size))
        out[0] = '\0';
}

static void json_sender(fk__strbuf *j, const sender *x, bool first)
{
    char a[64];
    addr_text(x->key.family, x->key.bytes, a, sizeof a);
    fk__strbuf_printf(j, "%s{\"sender\":\"%s\",\"prefixes\":[", first ? "" : ",", a);
    for (size_t i = 0; i < x->n; i++) {
        addr_text(x->prefixes[i].family, x->prefixes[i].addr, a, sizeof a);
        fk__strbuf_printf(j, "%s{\"prefix\":\"%s\",\"prefixLen\":%u}", i ? "," : "", a,
                          (unsigned)x->prefixes[i].bits);
    }
    fk__strbuf_printf(j, "],\"accepted\":%" PRIu64 ",\"outside\":%" PRIu64 "}",
                      (uint64_t)atomic_load(&x->accepted), (uint64_t)atomic_load(&x->outside));
}

size_t fk_senders_json_size(fk_senders *s)
{
    if (!s)
        return 3;
    size_t n = 3;
    pthread_rwlock_rdlock(&s->lock);
    size_t pos = 0;
    const void *k;
    void *v;
    while (fk__hmap_next(&s->map, &pos, &k, &v))
        n += SENDER_JSON_MAX + (*(sender **)v)->n * PREFIX_JSON_MAX;
    pthread_rwlock_unlock(&s->lock);
    return n;
}

int fk_senders_to_json(fk_senders *s, const char *sender_text, char *buf, size_t size)
{
    if (!s || !buf || !size)
        return fk__error(FK_EINVAL, "senders: NULL argument");
    skey one;
    if (sender_text && parse_sender(sender_text, &one) != FK_OK)
        return FK_EINVAL;
    fk__strbuf j = FK__STRBUF(buf, size);
    int rc = FK_OK;
    pthread_rwlock_rdlock(&s->lock);
    if (sender_text) {
        sender **slot = fk__hmap_get(&s->map, &one);
        if (slot)
            json_sender(&j, *slot, true);
        else
            rc = fk__error(FK_ENOTFOUND, "senders: %s is not a sender", sender_text);
    } else {
        sender **all = fk__calloc(s->map.count ? s->map.count : 1, sizeof *all);
        if (!all) {
            rc = fk__error(FK_ENOMEM, "senders: out of memory");
        } else {
            size_t n = 0, pos = 0;
            const void *k;
            void *v;
            while (fk__hmap_next(&s->map, &pos, &k, &v))
                all[n++] = *(sender **)v;
            qsort(all, n, sizeof *all, key_cmp);
            fk__strbuf_printf(&j, "[");
            for (size_t i = 0; i < n; i++)
                json_sender(&j, all[i], i == 0);
            fk__strbuf_printf(&j, "]");
            fk__free(all);
        }
    }
    pthread_rwlock_unlock(&s->lock);
    if (rc != FK_OK)
        return rc;
    if (j.overflow)
        return fk__error(FK_ENOSPACE, "senders: %zu bytes are not enough", size);
    return (int)j.len;
}
