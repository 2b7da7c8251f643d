/* Helpers shared by the unit tests. */
#ifndef FK_TEST_H
#define FK_TEST_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka needs the includes above first. */
#include <cmocka.h>

/* Install an allocator that fails the Nth allocation from now (1-based) and
 * every one after it when `sticky`; 0 = never fail. Counts every call. */
void fk_test_alloc_fail_at(unsigned long nth, int sticky);
/* Restore libc allocation. */
void fk_test_alloc_reset(void);
/* Allocations made since the last fail_at/reset, and live (unfreed) blocks. */
unsigned long fk_test_alloc_calls(void);
long fk_test_alloc_live(void);

/* Read a whole file into a malloc'd buffer; returns NULL if missing. */
uint8_t *fk_test_read_file(const char *path, size_t *len);

/* Field access on one flat JSON object per line (the pcap generator's ground
 * truth): the text after "key":, the integer there, or the string there
 * (copied into buf, cut to size - 1). A missing key fails the test. */
const char *fk_test_json_find(const char *line, const char *key);
int64_t fk_test_json_int(const char *line, const char *key);
void fk_test_json_str(const char *line, const char *key, char *buf, size_t size);

/* A rotated file of an output PATH (PATH.YYYYMMDDTHHMMSSZ[.N]). */
typedef struct fk_test_rotated {
    char name[256];
    char stamp[24];
    int n;
} fk_test_rotated;
/* The rotated files of PATH in the current directory, in the order they
 * were written (PATH itself, the open file, is not listed); at most cap
 * (more fails the test). */
size_t fk_test_list_rotated(const char *path, fk_test_rotated *list, size_t cap);

#endif
