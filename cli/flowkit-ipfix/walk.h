/* flowkit-ipfix's inputs: a file, or a directory whose files are read in
 * name order, subdirectories included (nfdump's -R over nfcapd's trees,
 * flowkit-collect's rotated files). Rotated files are read in time order:
 * flowkit-collect renames a full file BASE to BASE.YYYYMMDDTHHMMSSZ (UTC,
 * then .1, .2 ... when the second is taken) and goes on writing BASE, so
 * BASE's rotated files come first, by stamp and number, and BASE last. */
#ifndef FLOWKIT_IPFIX_WALK_H
#define FLOWKIT_IPFIX_WALK_H

#include <stddef.h>

/* Call read(path, user) for path when it is not a directory, else for every
 * regular file below it, sorted at each level by walk_name_cmp() (dot files
 * skipped).
 * Returns 1 when any read returned non-zero or a directory could not be
 * listed (after a message on stderr), else 0. stop() is polled between
 * files; non-zero ends the walk. */
int walk_path(const char *path, int (*read)(const char *path, void *user), int (*stop)(void *user),
              void *user);

/* Order of two names in a directory: by name, except that the files of a
 * rotated set (BASE.YYYYMMDDTHHMMSSZ[.N]) come right after any name that
 * sorts before BASE, in time order, and BASE itself after them. */
int walk_name_cmp(const char *a, const char *b);

/* Reorder the paths of a command line: the members of each rotated set
 * (the live BASE and its BASE.YYYYMMDDTHHMMSSZ[.N], e.g. a shell's
 * BASE*) take the place of the first of them, in time order; any other
 * path keeps its place. */
void walk_order_args(char **paths, size_t n);

#endif
