/* flowkit-ipfix's inputs: a file, or a directory whose files are read in
 * name order, subdirectories included (nfdump's -R over nfcapd's trees,
 * flowkit-collect's rotated files). */
#ifndef FLOWKIT_IPFIX_WALK_H
#define FLOWKIT_IPFIX_WALK_H

/* Call read(path, user) for path when it is not a directory, else for every
 * regular file below it, sorted by name at each level (dot files skipped).
 * Returns 1 when any read returned non-zero or a directory could not be
 * listed (after a message on stderr), else 0. stop() is polled between
 * files; non-zero ends the walk. */
int walk_path(const char *path, int (*read)(const char *path, void *user), int (*stop)(void *user),
              void *user);

#endif
