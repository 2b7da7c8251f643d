/* Internal: capabilities of the library's own threads.
 *
 * A thread the library starts keeps only what its job needs. Today that is
 * the attribution watcher (lib/proc/sockwatch.c), which reads /proc/PID/fd
 * and /proc/PID/exe of other users' processes: CAP_SYS_PTRACE and
 * CAP_DAC_READ_SEARCH. Capabilities are per thread in Linux, and a program
 * that drops root after activate (the tools do, see cli/common/fkprivs.h)
 * changes the uid of every thread at once (glibc), which clears the
 * capabilities of every thread that did not ask to keep them. */
#ifndef FK_CORE_CAPS_H
#define FK_CORE_CAPS_H

#include <stdint.h>

/* The capabilities that reading other users' /proc/PID/fd needs. */
uint64_t fk__caps_proc_read(void);

/* At the start of a thread that needs `keep`: while the process is root,
 * reduce this thread to `keep` plus CAP_SETUID and CAP_SETGID (so that the
 * program may still change its user, which glibc applies in every thread)
 * and keep the permitted set across such a change (PR_SET_KEEPCAPS). Not
 * root: reduce to `keep` now. Failures leave the thread as it was. */
void fk__caps_thread_begin(uint64_t keep);

/* In the thread's loop: once the process is no longer root, reduce this
 * thread to `keep` (one capget when there is nothing to do). */
void fk__caps_thread_settle(uint64_t keep);

#endif
