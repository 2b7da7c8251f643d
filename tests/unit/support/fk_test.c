#include "fk_test.h"

#include <dirent.h>
#include <flowkit/alloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A counting allocator that can fail on demand. Each block carries a header
 * so that live blocks can be counted. */
static unsigned long calls;
static unsigned long fail_at;
static int fail_sticky;
static long live;

static int should_fail(void)
{
    calls++;
    if (fail_at == 0)
        return 0;
    return fail_sticky ? calls >= fail_at : calls == fail_at;
}

static void *t_malloc(size_t size, void *user)
{
    (void)user;
    if (should_fail())
        return NULL;
    void *p = malloc(size);
    if (p)
        live++;
    return p;
}

static void *t_realloc(void *ptr, size_t size, void *user)
{
    (void)user;
    if (should_fail())
        return NULL;
    void *p = realloc(ptr, size);
    if (p && !ptr)
        live++;
    return p;
}

static void t_free(void *ptr, void *user)
{
    (void)user;
    if (ptr)
        live--;
    free(ptr);
}

void fk_test_alloc_fail_at(unsigned long nth, int sticky)
{
    static const fk_allocator a = {t_malloc, t_realloc, t_free, NULL};
    calls = 0;
    fail_at = nth;
    fail_sticky = sticky;
    live = 0;
    fk_set_allocator(&a);
}

void fk_test_alloc_reset(void)
{
    fk_set_allocator(NULL);
}

unsigned long fk_test_alloc_calls(void)
{
    return calls;
}

long fk_test_alloc_live(void)
{
    return live;
}

uint8_t *fk_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc(n > 0 ? (size_t)n : 1);
    if (buf && n > 0 && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf)
        *len = (size_t)n;
    return buf;
}

const char *fk_test_json_find(const char *line, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        fail_msg("truth line lacks \"%s\": %s", key, line);
    return p + strlen(pat);
}

int64_t fk_test_json_int(const char *line, const char *key)
{
    return strtoll(fk_test_json_find(line, key), NULL, 10);
}

void fk_test_json_str(const char *line, const char *key, char *buf, size_t size)
{
    const char *p = fk_test_json_find(line, key);
    assert_int_equal(*p, '"');
    p++;
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < size)
        n++;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

static int by_age(const void *a, const void *b)
{
    const fk_test_rotated *x = a, *y = b;
    int c = strcmp(x->stamp, y->stamp);
    return c ? c : x->n - y->n;
}

size_t fk_test_list_rotated(const char *path, fk_test_rotated *list, size_t cap)
{
    DIR *d = opendir(".");
    assert_non_null(d);
    size_t count = 0, plen = strlen(path);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, path, plen) != 0 || e->d_name[plen] != '.')
            continue;
        assert_true(count < cap);
        fk_test_rotated *r = &list[count++];
        snprintf(r->name, sizeof r->name, "%s", e->d_name);
        snprintf(r->stamp, sizeof r->stamp, "%.16s", e->d_name + plen + 1);
        const char *dot = strchr(e->d_name + plen + 1, '.');
        r->n = dot ? atoi(dot + 1) : 0;
    }
    closedir(d);
    qsort(list, count, sizeof *list, by_age);
    return count;
}
