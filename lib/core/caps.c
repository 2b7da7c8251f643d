#include "core/caps.h"

#include <linux/capability.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define CAP_BIT(n) (UINT64_C(1) << (n))

static int caps_get(uint64_t *effective, uint64_t *permitted)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    if (syscall(SYS_capget, &hdr, data) != 0)
        return -1;
    *effective = data[0].effective | (uint64_t)data[1].effective << 32;
    *permitted = data[0].permitted | (uint64_t)data[1].permitted << 32;
    return 0;
}

static void caps_set(uint64_t set)
{
    struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    memset(data, 0, sizeof data);
    data[0].effective = data[0].permitted = (uint32_t)set;
    data[1].effective = data[1].permitted = (uint32_t)(set >> 32);
    (void)syscall(SYS_capset, &hdr, data);
}

uint64_t fk__caps_proc_read(void)
{
    return CAP_BIT(CAP_SYS_PTRACE) | CAP_BIT(CAP_DAC_READ_SEARCH);
}

void fk__caps_thread_begin(uint64_t keep)
{
    uint64_t eff, perm;
    if (caps_get(&eff, &perm) != 0)
        return;
    if (geteuid() == 0) {
        caps_set(perm & (keep | CAP_BIT(CAP_SETUID) | CAP_BIT(CAP_SETGID)));
        prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0);
    } else {
        caps_set(perm & keep);
    }
}

void fk__caps_thread_settle(uint64_t keep)
{
    if (geteuid() == 0)
        return;
    uint64_t eff, perm;
    if (caps_get(&eff, &perm) != 0)
        return;
    uint64_t want = perm & keep;
    if (eff != want || perm != want)
        caps_set(want);
}
