/* Internal (BPF backend only): owner records for the sockets that existed
 * before the programs were attached (seed.c). */
#ifndef FK_BPF_SEED_H
#define FK_BPF_SEED_H

#include <stdint.h>

/* Walk proc_root ("/proc" when NULL) and give every TCP and UDP socket of
 * every process a record in the socket storage map map_fd, unless it
 * has one. Needs root (pidfd_getfd). Returns how many got one. */
uint64_t fk__bpf_seed_existing(int map_fd, const char *proc_root);

#endif
