/**
 * @file flowlog.h
 * @brief Flows as text log lines: AWS VPC Flow Logs (version 5 fields) and
 *        FFFA's `key=value` flow log line, with static metadata tags.
 *
 * The two formats, field by field, are in docs/flowlog.md. Both write one
 * line per direction of a flow that has packets (a VPC flow log record is
 * unidirectional); every line ends in a newline. A ::fk_tag is a static
 * `key=value` pair (the instance's account, VPC, subnet, ...): the columns
 * of the same name take their values from the tags.
 *
 * @since 0.2.0
 */
#ifndef FLOWKIT_FLOWLOG_H
#define FLOWKIT_FLOWLOG_H

#include <flowkit/common.h>
#include <flowkit/flow.h>

FK_BEGIN_DECLS

/**
 * A static metadata tag, `key=value`. Both strings are borrowed from the
 * caller for the duration of the call they are passed to. A valid key is
 * 1 to #FK_TAG_KEY_MAX bytes of `a-z 0-9 - _ .` starting with a letter or
 * digit; a valid value is 1 to #FK_TAG_VALUE_MAX printable ASCII bytes
 * without spaces, `"`, `\`, `=` or `,` (so that every format can carry
 * it unquoted, and a list of tags can be written `k=v,k=v`).
 * @since 0.2.0
 */
typedef struct fk_tag {
    const char *key;   /**< Tag name, e.g. "account-id". */
    const char *value; /**< Tag value, e.g. "123456789012". */
} fk_tag;

/** Most tags a collector, an exporter or a formatter takes. @since 0.2.0 */
#define FK_TAG_MAX 16
/** Longest tag key in bytes. @since 0.2.0 */
#define FK_TAG_KEY_MAX 32
/** Longest tag value in bytes. @since 0.2.0 */
#define FK_TAG_VALUE_MAX 128

/** Buffer size that always holds fk_flow_to_vpcflow() or
 *  fk_flow_to_flowlog() output for at most #FK_TAG_MAX valid tags.
 *  @since 0.2.0 */
#define FK_FLOWLOG_MAX 8192

/**
 * Parse `KEY=VALUE` into a tag whose strings live in @p buf.
 *
 * @param text the text, e.g. "vpc-id=vpc-0abc".
 * @param out the tag; its key and value point into @p buf.
 * @param buf storage for the tag's strings.
 * @param size size of @p buf; `strlen(text) + 1` suffices.
 * @return 0; `FK_EINVAL` with a message naming the rule when the key or
 * the value is not valid (see ::fk_tag) or `=` is missing; `FK_ENOSPACE`
 * when @p buf is too small. Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_tag_parse(const char *text, fk_tag *out, char *buf, size_t size);

/**
 * The header line of the VPC flow log format: the field names separated
 * by single spaces, without a newline. It starts with AWS's 29 version 5
 * fields in AWS's order and ends with flowkit's `tunnel-type
 * outer-srcaddr outer-dstaddr vni`.
 *
 * @return a static string. Thread-safe.
 * @since 0.2.0
 */
FK_API const char *fk_flow_get_vpcflow_header(void);

/**
 * Render a flow as VPC flow log lines (the fields of
 * fk_flow_get_vpcflow_header(), `-` where unknown): one line for the forward
 * direction, and one for the reverse direction of a biflow that has
 * reverse packets (addresses, ports, counters, flags, direction and outer
 * addresses swapped). Columns that a flow cannot fill (account-id,
 * interface-id, vpc-id, subnet-id, instance-id, region, az-id,
 * sublocation-type, sublocation-id, pkt-src-aws-service,
 * pkt-dst-aws-service, traffic-path) take the value of the tag with the
 * same key. A session event record (::fk_flow::event) gives no line.
 *
 * @param flow the flow.
 * @param tags tags, or NULL when @p tag_count is 0.
 * @param tag_count number of @p tags.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_FLOWLOG_MAX always suffices for valid tags.
 * @return bytes written (0 for an event; without the NUL), or
 * `FK_ENOSPACE` / `FK_EINVAL`. Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_flow_to_vpcflow(const fk_flow *flow, const fk_tag *tags, size_t tag_count, char *buf,
                              size_t size);

/**
 * Render a flow as FFFA's flow log lines, one per direction as
 * fk_flow_to_vpcflow(): `flowlog version=2 proto= src=ADDR:PORT
 * dst=ADDR:PORT pkt-src= pkt-dst= direction= encapsulated= account= vpc=
 * subnet= instance= az= region= time=` followed by flowkit's `packets=
 * bytes= start= end= tcp-flags= tunnel= vni=` and every other tag as
 * `tag.KEY=VALUE`. As in FFFA, `src`/`dst` carry the outer (tunnel)
 * addresses of an encapsulated flow and `pkt-src`/`pkt-dst` the inner
 * ones. account, vpc, subnet, instance, az and region come from the tags
 * `account-id`, `vpc-id`, `subnet-id`, `instance-id`, `availability-zone`
 * and `region`. Unknown values are `-`.
 *
 * @param flow the flow.
 * @param tags tags, or NULL when @p tag_count is 0.
 * @param tag_count number of @p tags.
 * @param buf output buffer.
 * @param size size of @p buf; #FK_FLOWLOG_MAX always suffices for valid tags.
 * @return bytes written (0 for an event; without the NUL), or
 * `FK_ENOSPACE` / `FK_EINVAL`. Thread-safe.
 * @since 0.2.0
 */
FK_API int fk_flow_to_flowlog(const fk_flow *flow, const fk_tag *tags, size_t tag_count, char *buf,
                              size_t size);

FK_END_DECLS

#endif /* FLOWKIT_FLOWLOG_H */
