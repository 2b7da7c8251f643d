/* cli/common: the AWS instance metadata provider (IMDSv2) of --imds. A
 * thread of its own gets a session token (PUT /latest/api/token), then
 * reads the instance's account, instance id, availability zone (name and
 * id), region, and its primary interface's VPC, subnet and interface id,
 * every refresh interval, each request bounded by a short timeout. The
 * data path only copies the latest values, without waiting: a slow or
 * absent metadata service never delays a packet. A refresh that fails
 * keeps the last good values and is counted. Public API and libc only. */
#ifndef FKIMDS_H
#define FKIMDS_H

#include <flowkit/flowlog.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The IMDS base URL unless told otherwise. */
#define FKIMDS_DEFAULT_URL "http://169.254.169.254"

/* The values read, by tag key (the vpcflow/flowlog column names). */
enum {
    FKIMDS_ACCOUNT,  /* account-id: instance identity document, accountId */
    FKIMDS_INSTANCE, /* instance-id */
    FKIMDS_AZ,       /* availability-zone: placement/availability-zone */
    FKIMDS_AZ_ID,    /* az-id: placement/availability-zone-id (optional) */
    FKIMDS_REGION,   /* region: placement/region */
    FKIMDS_VPC,      /* vpc-id: network/interfaces/macs/MAC/vpc-id */
    FKIMDS_SUBNET,   /* subnet-id: .../MAC/subnet-id */
    FKIMDS_IFACE,    /* interface-id: .../MAC/interface-id (optional) */
    FKIMDS_NVALUES
};

typedef struct fkimds_values {
    char v[FKIMDS_NVALUES][FK_TAG_VALUE_MAX + 1]; /* "" = not known */
} fkimds_values;

typedef struct fkimds_stats {
    uint64_t refreshes;     /* refreshes that read every value */
    uint64_t failures;      /* refreshes that failed: the last values kept */
    uint64_t tokens;        /* session tokens obtained */
    uint64_t token_refused; /* 401 answers to a token (then a new one, once) */
    char last_error[160];   /* why the last refresh failed; "" */
} fkimds_stats;

typedef struct fkimds fkimds;

/* The tag key of value i (FKIMDS_*). */
const char *fkimds_key(int i);

/* Check a base URL ("http://ADDR[:PORT][/]", ADDR a numeric IPv4 address
 * or a bracketed IPv6 one): 0, or -1 with the reason in err. */
int fkimds_check_url(const char *url, char *err, size_t size);

/* Start the provider's thread: the first refresh at once, then one every
 * refresh_ms; each connection and each answer waits at most timeout_ms.
 * NULL (reason in err) for a bad URL or when no thread can start. */
fkimds *fkimds_start(const char *url, int refresh_ms, int timeout_ms, char *err, size_t size);

/* When the values changed since *generation (start it at 0): copy them to
 * out, update *generation and return true. Never waits for the provider:
 * when it is just storing new values, false, and the next call gets them. */
bool fkimds_poll(fkimds *m, unsigned *generation, fkimds_values *out);

void fkimds_get_stats(fkimds *m, fkimds_stats *out);

/* Stop the thread (at once, also in the middle of a request) and free. */
void fkimds_stop(fkimds *m);

/* The tags a line carries: the fixed (--tag) ones first, then each known
 * value whose key the fixed ones do not have, while fewer than FK_TAG_MAX.
 * out[i] borrows from fixed and from v. Returns the count. */
size_t fkimds_merge(const fk_tag *fixed, size_t nfixed, const fkimds_values *v, fk_tag *out);

#endif
