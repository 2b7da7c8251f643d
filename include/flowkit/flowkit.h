/**
 * @file flowkit.h
 * @brief Umbrella header: includes every public flowkit header.
 *
 * @since 0.1.0
 */
#ifndef FLOWKIT_FLOWKIT_H
#define FLOWKIT_FLOWKIT_H

#include <flowkit/common.h>
#include <flowkit/version.h>
#include <flowkit/errors.h>
#include <flowkit/log.h>
#include <flowkit/alloc.h>
#include <flowkit/params.h>
#include <flowkit/json.h>
#include <flowkit/flow.h>
#include <flowkit/filter.h>
#include <flowkit/capture.h>
#include <flowkit/rank.h>
#include <flowkit/template.h>
#include <flowkit/ipfix.h>
#include <flowkit/session.h>
#include <flowkit/exporter.h>
#include <flowkit/netflow.h>
#include <flowkit/senders.h>
#include <flowkit/prefixstats.h>
#include <flowkit/collector.h>
#include <flowkit/store.h>
#include <flowkit/flowlog.h>

#endif /* FLOWKIT_FLOWKIT_H */
