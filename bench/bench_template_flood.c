/* Template flood (issue 15): S sources x T templates each into one template
 * cache, as a collector meets spoofed exporters that each announce many
 * templates; then each source's templates withdrawn and the sources dropped.
 * Prints the time of each phase. Before the cache kept per-session lists,
 * every new template counted the whole cache and every withdrawal scanned
 * every bucket.
 * Usage: bench_template_flood [sources, default 20] [templates each, default 4096] */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    long sources = argc > 1 ? atol(argv[1]) : 20;
    long per = argc > 2 ? atol(argv[2]) : 4096;
    if (sources < 1 || per < 1 || per > 65280 || sources * per > (1 << 20)) {
        fprintf(stderr, "usage: bench_template_flood [sources] [templates each <= 65280]\n");
        return 2;
    }
    fk_template_cache *c;
    if (fk_template_cache_create(&c, NULL) ||
        fk_template_cache_set_int(c, FK_TCACHE_MAX_TEMPLATES, 1 << 20) ||
        fk_template_cache_set_int(c, FK_TCACHE_MAX_PER_SESSION, per) ||
        fk_template_cache_activate(c))
        return 1;
    fk_field_spec f[2] = {{0, 8, 4, 0}, {0, 2, 8, 0}};
    double t0 = now();
    for (long s = 0; s < sources; s++)
        for (long i = 0; i < per; i++)
            if (fk_template_cache_add(c, (uint64_t)s + 1, 7, (uint16_t)(256 + i), f, 2, 0, NULL))
                return 1;
    double t1 = now();
    long withdrawn = 0;
    for (long s = 0; s < sources; s++)
        withdrawn += fk_template_cache_withdraw(c, (uint64_t)s + 1, 7, FK_IPFIX_SET_TEMPLATE);
    double t2 = now();
    for (long s = 0; s < sources; s++)
        fk_template_cache_drop_session(c, (uint64_t)s + 1);
    double t3 = now();
    printf("template_flood  sources=%ld templates=%ld  add=%.3f s (%.0f templates/s)  "
           "withdraw=%.4f s (%ld)  drop=%.4f s\n",
           sources, sources * per, t1 - t0, (double)(sources * per) / (t1 - t0), t2 - t1, withdrawn,
           t3 - t2);
    fk_template_cache_destroy(c);
    return 0;
}
