"""Low-level access to libflowkit: loading, C struct layouts, and the
declared signature of every C function the binding calls.

Nothing here is public API: the classes in the other modules wrap it.
Every function is looked up through :data:`DECLS`, so a call can never go
out without ``argtypes``/``restype`` (ctypes would otherwise guess ``int``
for 64-bit values and pointers).
"""

import ctypes
import ctypes.util
import os
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char,
    c_char_p,
    c_double,
    c_int,
    c_int64,
    c_size_t,
    c_uint,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

# ----------------------------------------------------------------- structs
# Each mirrors a public struct field by field, in declaration order; the
# test suite compiles a C program against the headers and compares sizes
# and offsets with these definitions (tests/test_layout.py).

FK_PROCESS_NAME_MAX = 64
FK_RANK_DEV_NAME_MAX = 16
FK_RANK_JSON_CONNS = 0x1
FK_RANK_JSON_CONNS_MAX = 16
FK_RANK_JSON_HISTORY = 0x2


class fk_error(Structure):
    _fields_ = [("code", c_int), ("sys_errno", c_int), ("message", c_char_p)]


class fk_param_info(Structure):
    _fields_ = [
        ("id", c_int),
        ("name", c_char_p),
        ("type", c_int),
        ("flags", c_uint),
        ("min_int", c_int64),
        ("max_int", c_int64),
        ("default_int", c_int64),
        ("min_double", c_double),
        ("max_double", c_double),
        ("default_double", c_double),
        ("default_string", c_char_p),
        ("unit", c_char_p),
        ("help", c_char_p),
    ]


class fk_addr(Structure):
    _fields_ = [("family", c_uint8), ("bytes", c_uint8 * 16)]


class fk_flow(Structure):
    _fields_ = [
        ("src", fk_addr),
        ("dst", fk_addr),
        ("src_port", c_uint16),
        ("dst_port", c_uint16),
        ("proto", c_uint8),
        ("tcp_flags", c_uint8),
        ("rev_tcp_flags", c_uint8),
        ("tos", c_uint8),
        ("vlan", c_uint16),
        ("version", c_uint16),
        ("present", c_uint32),
        ("bytes", c_uint64),
        ("packets", c_uint64),
        ("rev_bytes", c_uint64),
        ("rev_packets", c_uint64),
        ("start_ns", c_int64),
        ("end_ns", c_int64),
        ("in_if", c_uint32),
        ("out_if", c_uint32),
        ("sampling", c_uint32),
        ("end_reason", c_uint8),
        ("odid", c_uint32),
        ("exporter", fk_addr),
        ("pid", c_uint32),
        ("process", c_char * FK_PROCESS_NAME_MAX),
        ("in_if_name", c_char_p),
        ("out_if_name", c_char_p),
        ("user", c_char_p),
        ("exe", c_char_p),
        ("uid", c_uint32),
        ("event", c_uint8),
        ("tunnel", c_uint8),
        ("outer_src", fk_addr),
        ("outer_dst", fk_addr),
        ("next_hop", fk_addr),
        ("bgp_next_hop", fk_addr),
        ("direction", c_uint8),
        ("vni", c_uint32),
        ("rev_icmp", c_uint16),
        ("src_as", c_uint32),
        ("dst_as", c_uint32),
        ("tags", c_char_p),
    ]


class fk_session_event(Structure):
    _fields_ = [
        ("kind", c_uint8),
        ("proto", c_uint8),
        ("vlan", c_uint16),
        ("present", c_uint32),
        ("time_ns", c_int64),
        ("src", fk_addr),
        ("dst", fk_addr),
        ("src_port", c_uint16),
        ("dst_port", c_uint16),
        ("pid", c_uint32),
        ("process", c_char * FK_PROCESS_NAME_MAX),
        ("uid", c_uint32),
        ("user", c_char_p),
        ("exe", c_char_p),
    ]


class fk_rank_dev(Structure):
    _fields_ = [
        ("name", c_char * FK_RANK_DEV_NAME_MAX),
        ("ifindex", c_uint32),
        ("sent_bytes", c_uint64),
        ("recv_bytes", c_uint64),
    ]


class fk_rank_conn(Structure):
    _fields_ = [
        ("local", fk_addr),
        ("remote", fk_addr),
        ("local_port", c_uint16),
        ("remote_port", c_uint16),
        ("proto", c_uint8),
        ("sent_bytes", c_uint64),
        ("recv_bytes", c_uint64),
        ("sent_packets", c_uint64),
        ("recv_packets", c_uint64),
        ("first_ns", c_int64),
        ("last_ns", c_int64),
        ("ifindex", c_uint32),
        ("dev", c_char * FK_RANK_DEV_NAME_MAX),
        ("tcp_state", c_uint8),
    ]


class fk_rank_second(Structure):
    _fields_ = [
        ("sec", c_int64),
        ("sent_bytes", c_uint64),
        ("recv_bytes", c_uint64),
    ]


class fk_rank_row(Structure):
    _fields_ = [
        ("pid", c_uint32),
        ("uid", c_uint32),
        ("proto", c_uint8),
        ("name", c_char_p),
        ("user", c_char_p),
        ("exe", c_char_p),
        ("cmdline", c_char_p),
        ("cgroup", c_char_p),
        ("sent_bytes", c_uint64),
        ("recv_bytes", c_uint64),
        ("sent_packets", c_uint64),
        ("recv_packets", c_uint64),
        ("sent_rate", c_double),
        ("recv_rate", c_double),
        ("sent_ewma", c_double),
        ("recv_ewma", c_double),
        ("conn_count", c_size_t),
        ("conns", POINTER(fk_rank_conn)),
        ("dev", c_char_p),
        ("dev_count", c_size_t),
        ("devs", POINTER(fk_rank_dev)),
        ("history_count", c_size_t),
        ("history", POINTER(fk_rank_second)),
    ]


class fk_rank_snapshot(Structure):
    _fields_ = [
        ("time_ns", c_int64),
        ("window_sec", c_uint32),
        ("count", c_size_t),
        ("rows", POINTER(fk_rank_row)),
        ("attributed", c_uint64),
        ("unattributed", c_uint64),
    ]


# --- IPFIX (template.h, ipfix.h)


class fk_ie(Structure):
    _fields_ = [
        ("pen", c_uint32),
        ("id", c_uint16),
        ("type", c_uint8),
        ("semantics", c_uint8),
        ("name", c_char_p),
        ("units", c_char_p),
    ]


class fk_field_spec(Structure):
    _fields_ = [
        ("pen", c_uint32),
        ("id", c_uint16),
        ("length", c_uint16),
        ("flags", c_uint32),
    ]


class fk_ipfix_header(Structure):
    _fields_ = [
        ("version", c_uint16),
        ("length", c_uint16),
        ("export_time", c_uint32),
        ("sequence", c_uint32),
        ("domain", c_uint32),
    ]


class fk_ipfix_value(Structure):
    _fields_ = [
        ("ie", POINTER(fk_ie)),
        ("pen", c_uint32),
        ("id", c_uint16),
        ("type", c_uint8),
        ("raw", POINTER(c_uint8)),
        ("len", c_size_t),
        ("u", c_uint64),
        ("i", c_int64),
        ("f", c_double),
        ("addr", fk_addr),
    ]


class fk_ipfix_time_ctx(Structure):
    _fields_ = [("export_time_ns", c_int64), ("sys_init_ns", c_int64)]


class fk_ipfix_record(Structure):
    _fields_ = [
        ("tmpl", c_void_p),
        ("data", POINTER(c_uint8)),
        ("len", c_size_t),
        ("domain", c_uint32),
        ("template_id", c_uint16),
        ("is_options", c_uint8),
        ("version", c_uint8),
        ("time", fk_ipfix_time_ctx),
        ("offsets", POINTER(c_uint32)),
    ]


class fk_ipfix_item(Structure):
    _fields_ = [
        ("kind", c_int),
        ("set_id", c_uint16),
        ("template_id", c_uint16),
        ("tmpl", c_void_p),
        ("record", fk_ipfix_record),
        ("set", POINTER(c_uint8)),
        ("set_len", c_size_t),
    ]


# --- NetFlow (netflow.h)

FK_NETFLOW_FIXED_MAX = 30
FK_NETFLOW_NAME_MAX = 65


class fk_netflow_header(Structure):
    _fields_ = [
        ("version", c_uint16),
        ("count", c_uint16),
        ("sys_uptime_ms", c_uint32),
        ("unix_secs", c_uint32),
        ("unix_nsecs", c_uint32),
        ("sequence", c_uint32),
        ("source_id", c_uint32),
        ("engine_type", c_uint8),
        ("engine_id", c_uint8),
        ("sampling_interval", c_uint16),
        ("sampling_mode", c_uint8),
        ("export_ns", c_int64),
    ]


class fk_netflow_field(Structure):
    _fields_ = [
        ("type", c_uint16),
        ("length", c_uint16),
        ("offset", c_uint16),
        ("scope", c_uint8),
    ]


class fk_netflow_options(Structure):
    _fields_ = [
        ("present", c_uint32),
        ("scope_type", c_uint16),
        ("scope_value", c_uint64),
        ("sampling_interval", c_uint32),
        ("sampling_algorithm", c_uint8),
        ("sampler_id", c_uint64),
        ("ifindex", c_uint32),
        ("if_name", c_char * FK_NETFLOW_NAME_MAX),
        ("if_desc", c_char * FK_NETFLOW_NAME_MAX),
        ("sampler_name", c_char * FK_NETFLOW_NAME_MAX),
    ]


class fk_netflow_record(Structure):
    _fields_ = [
        ("kind", c_int),
        ("header", POINTER(fk_netflow_header)),
        ("exporter", POINTER(fk_addr)),
        ("exporter_port", c_uint16),
        ("template_id", c_uint16),
        ("flow", POINTER(fk_flow)),
        ("options", POINTER(fk_netflow_options)),
        ("fields", POINTER(fk_netflow_field)),
        ("field_count", c_size_t),
        ("data", POINTER(c_uint8)),
        ("length", c_size_t),
        ("ipfix", POINTER(fk_ipfix_record)),  # v9 records; NULL otherwise
    ]


class fk_netflow_stats(Structure):
    _fields_ = [
        (n, c_uint64)
        for n in (
            "packets",
            "flows",
            "options_records",
            "templates",
            "options_templates",
            "malformed",
            "no_template",
            "unsupported",
            "sequence_lost",
            "refused",
        )
    ]


# --- exporter (exporter.h)


class fk_exporter_process(Structure):
    _fields_ = [
        ("pid", c_uint32),
        ("uid", c_uint32),
        ("name", c_char_p),
        ("user", c_char_p),
        ("exe", c_char_p),
    ]


class fk_exporter_stats(Structure):
    _fields_ = [
        (n, c_uint64)
        for n in (
            "records_in",
            "records_sent",
            "records_dropped",
            "messages_sent",
            "messages_dropped",
            "template_messages",
            "bytes_sent",
            "buffered_bytes",
            "connects",
            "connect_failures",
            "send_errors",
            "records_buffered",
            "records_resent",
            "messages_resent",
        )
    ]


# --- capture (capture.h)


class fk_capture_event(Structure):
    _fields_ = [
        ("type", c_int),
        ("session", POINTER(fk_session_event)),
        ("flow", POINTER(fk_flow)),
        ("error", c_int),
        ("message", c_char_p),
        ("device", c_char_p),
    ]


class fk_capture_stats(Structure):
    _fields_ = [
        (n, c_uint64)
        for n in (
            "packets",
            "bytes",
            "kernel_drops",
            "queue_drops",
            "decode_errors",
            "non_ip",
            "event_drops",
            "flows_active",
            "flows_created",
            "flows_evicted",
            "flows_emitted",
            "session_events",
            "store_files",
            "store_packets",
            "store_bytes",
            "store_errors",
            "attrib_hits",
            "attrib_misses",
            "attrib_events",
            "attrib_events_lost",
            "attrib_owners_evicted",
            "kernel_map_full",
            "kernel_events_lost",
            "frags_unmatched",
            "tunnels_undecoded",
            "kernel_cache_orphans",
        )
    ]


# --- collector (collector.h)


class fk_collector_stats(Structure):
    _fields_ = [
        (n, c_uint64)
        for n in (
            "datagrams",
            "messages",
            "bytes",
            "records",
            "socket_drops",
            "queue_drops",
            "malformed",
            "unsupported",
            "allowlist_rejected",
            "pending_sets",
            "pending_decoded",
            "pending_records",
            "pending_expired",
            "pending_overflow",
            "sequence_gaps",
            "sequence_lost",
            "templates",
            "templates_withdrawn",
            "template_limit",
            "exporter_limit",
            "options_records",
            "tcp_connections",
            "tcp_refused",
            "sessions",
            "sink_errors",
            "db_rows_written",
            "db_rows_retried",
            "db_rows_dropped",
            "db_rows_queued",
            "export_time_skewed",
            "records_after_export",
            "exporter_restarts",
            "interface_names",
            "interface_limit",
            "udp_wakeups",
            "sender_unknown",
            "sender_outside",
            "tags_rejected",
            "records_compiled",
            "templates_uncompiled",
        )
    ]


# Which public header declares each struct (used by the layout test).
STRUCT_HEADERS = {
    fk_error: "errors.h",
    fk_param_info: "params.h",
    fk_addr: "flow.h",
    fk_flow: "flow.h",
    fk_session_event: "session.h",
    fk_rank_dev: "rank.h",
    fk_rank_conn: "rank.h",
    fk_rank_second: "rank.h",
    fk_rank_row: "rank.h",
    fk_rank_snapshot: "rank.h",
    fk_ie: "template.h",
    fk_field_spec: "template.h",
    fk_ipfix_header: "ipfix.h",
    fk_ipfix_value: "ipfix.h",
    fk_ipfix_time_ctx: "ipfix.h",
    fk_ipfix_record: "ipfix.h",
    fk_ipfix_item: "ipfix.h",
    fk_netflow_header: "netflow.h",
    fk_netflow_field: "netflow.h",
    fk_netflow_options: "netflow.h",
    fk_netflow_record: "netflow.h",
    fk_netflow_stats: "netflow.h",
    fk_exporter_process: "exporter.h",
    fk_exporter_stats: "exporter.h",
    fk_capture_event: "capture.h",
    fk_capture_stats: "capture.h",
    fk_collector_stats: "collector.h",
}

# ----------------------------------------------------------- callbacks

NETFLOW_RECORD_CB = CFUNCTYPE(c_int, POINTER(fk_netflow_record), c_void_p)
CAPTURE_CB = CFUNCTYPE(None, POINTER(fk_capture_event), c_void_p)
COLLECTOR_CB = CFUNCTYPE(None, POINTER(fk_flow), c_void_p)

# ------------------------------------------------------ declarations

P = POINTER
u8p = P(c_uint8)
vp = c_void_p  # every opaque handle is passed as void *

DECLS = {
    # version.h, errors.h, params.h
    "fk_version_string": (c_char_p, []),
    "fk_version_number": (c_int, []),
    "fk_strerror": (c_char_p, [c_int]),
    "fk_status_name": (c_char_p, [c_int]),
    "fk_error_last": (P(fk_error), []),
    "fk_error_clear": (None, []),
    "fk_param_type_name": (c_char_p, [c_int]),
    # flow.h, session.h, rank.h
    "fk_addr_format": (c_int, [P(fk_addr), c_char_p, c_size_t]),
    "fk_addr_parse": (c_int, [c_char_p, P(fk_addr)]),
    "fk_time_format": (c_int, [c_int64, c_char_p, c_size_t]),
    "fk_flow_to_json": (c_int, [P(fk_flow), c_char_p, c_size_t]),
    "fk_session_kind_name": (c_char_p, [c_int]),
    "fk_session_event_to_json": (c_int, [P(fk_session_event), c_char_p, c_size_t]),
    "fk_rank_snapshot_destroy": (None, [P(fk_rank_snapshot)]),
    "fk_rank_sort_name": (c_char_p, [c_int]),
    "fk_rank_tcp_state_name": (c_char_p, [c_int]),
    "fk_rank_snapshot_to_json": (c_int, [P(fk_rank_snapshot), c_char_p, c_size_t]),
    "fk_rank_snapshot_to_json_ex": (c_int, [P(fk_rank_snapshot), c_uint, c_char_p, c_size_t]),
    "fk_rank_snapshot_json_size": (c_size_t, [P(fk_rank_snapshot), c_uint]),
    # template.h
    "fk_ie_lookup": (c_int, [vp, c_uint32, c_uint16, P(P(fk_ie))]),
    "fk_ie_lookup_name": (c_int, [vp, c_char_p, P(P(fk_ie))]),
    "fk_ie_get_builtin": (c_int, [c_size_t, P(P(fk_ie))]),
    "fk_ie_type_name": (c_char_p, [c_int]),
    "fk_ie_semantics_name": (c_char_p, [c_int]),
    "fk_template_get_id": (c_uint16, [vp]),
    "fk_template_get_field_count": (c_uint16, [vp]),
    "fk_template_get_scope_count": (c_uint16, [vp]),
    "fk_template_get_field": (P(fk_field_spec), [vp, c_uint16]),
    "fk_template_get_field_ie": (P(fk_ie), [vp, c_uint16]),
    "fk_template_cache_create": (c_int, [P(vp), vp]),
    "fk_template_cache_destroy": (None, [vp]),
    "fk_template_cache_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_template_cache_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_template_cache_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_template_cache_get_count": (c_size_t, [vp]),
    # ipfix.h: decoder
    "fk_ipfix_decoder_create": (c_int, [P(vp), vp]),
    "fk_ipfix_decoder_destroy": (None, [vp]),
    "fk_ipfix_decoder_get_cache": (vp, [vp]),
    "fk_ipfix_parse_header": (c_int, [u8p, c_size_t, P(fk_ipfix_header)]),
    "fk_ipfix_decoder_begin": (c_int, [vp, c_uint64, u8p, c_size_t, P(fk_ipfix_header)]),
    "fk_ipfix_decoder_next": (c_int, [vp, P(fk_ipfix_item)]),
    "fk_ipfix_record_get_field": (c_int, [P(fk_ipfix_record), c_uint16, P(fk_ipfix_value)]),
    "fk_ipfix_record_to_flow": (c_int, [P(fk_ipfix_record), P(fk_flow)]),
    "fk_ipfix_record_to_json": (c_int, [P(fk_ipfix_record), c_char_p, c_size_t]),
    # ipfix.h: encoder
    "fk_ipfix_encoder_create": (c_int, [P(vp), vp]),
    "fk_ipfix_encoder_destroy": (None, [vp]),
    "fk_ipfix_encoder_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_ipfix_encoder_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_ipfix_encoder_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_ipfix_encoder_add_template": (
        c_int,
        [vp, c_uint16, P(fk_field_spec), c_uint16, c_uint16],
    ),
    "fk_ipfix_encoder_begin": (c_int, [vp, c_uint32, c_uint32, u8p, c_size_t]),
    "fk_ipfix_encoder_write_template": (c_int, [vp, c_uint16]),
    "fk_ipfix_encoder_write_withdrawal": (c_int, [vp, c_uint16, c_int]),
    "fk_ipfix_encoder_record_begin": (c_int, [vp, c_uint16]),
    "fk_ipfix_encoder_put_uint": (c_int, [vp, c_uint32, c_uint16, c_uint64]),
    "fk_ipfix_encoder_put_double": (c_int, [vp, c_uint32, c_uint16, c_double]),
    "fk_ipfix_encoder_put_addr": (c_int, [vp, c_uint32, c_uint16, P(fk_addr)]),
    "fk_ipfix_encoder_put_time": (c_int, [vp, c_uint32, c_uint16, c_int64]),
    "fk_ipfix_encoder_put_bytes": (c_int, [vp, c_uint32, c_uint16, c_void_p, c_size_t]),
    "fk_ipfix_encoder_record_end": (c_int, [vp]),
    "fk_ipfix_encoder_add_flow": (c_int, [vp, c_uint16, P(fk_flow)]),
    "fk_ipfix_encoder_finish": (c_int, [vp, P(c_size_t)]),
    "fk_ipfix_encoder_get_sequence": (c_uint32, [vp, c_uint32]),
    # netflow.h
    "fk_netflow_decode_fixed": (
        c_int,
        [c_void_p, c_size_t, P(fk_addr), P(fk_netflow_header), P(fk_flow), c_size_t, P(c_size_t)],
    ),
    "fk_netflow_create": (c_int, [P(vp)]),
    "fk_netflow_destroy": (None, [vp]),
    "fk_netflow_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_netflow_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_netflow_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_netflow_activate": (c_int, [vp]),
    "fk_netflow_decode": (
        c_int,
        [vp, P(fk_addr), c_uint16, c_void_p, c_size_t, NETFLOW_RECORD_CB, c_void_p],
    ),
    "fk_netflow_get_stats": (c_int, [vp, P(fk_netflow_stats), c_size_t]),
    "fk_netflow_options_to_json": (c_int, [P(fk_netflow_record), c_char_p, c_size_t]),
    # exporter.h
    "fk_exporter_create": (c_int, [P(vp)]),
    "fk_exporter_destroy": (None, [vp]),
    "fk_exporter_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_exporter_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_exporter_set_str": (c_int, [vp, c_int, c_char_p]),
    "fk_exporter_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_exporter_add_destination": (c_int, [vp, c_char_p]),
    "fk_exporter_activate": (c_int, [vp]),
    "fk_exporter_add_flow": (c_int, [vp, P(fk_flow)]),
    "fk_exporter_add_flow_process": (c_int, [vp, P(fk_flow), P(fk_exporter_process)]),
    "fk_exporter_add_event": (c_int, [vp, P(fk_session_event)]),
    "fk_exporter_add_event_process": (
        c_int,
        [vp, P(fk_session_event), P(fk_exporter_process)],
    ),
    "fk_exporter_flush": (c_int, [vp]),
    "fk_exporter_get_fd": (c_int, [vp]),
    "fk_exporter_next_timeout_ms": (c_int, [vp]),
    "fk_exporter_dispatch": (c_int, [vp]),
    "fk_exporter_drain": (c_int, [vp, c_int]),
    "fk_exporter_get_stats": (c_int, [vp, P(fk_exporter_stats), c_size_t]),
    # capture.h
    "fk_capture_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_capture_create": (c_int, [P(vp)]),
    "fk_capture_destroy": (None, [vp]),
    "fk_capture_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_capture_set_double": (c_int, [vp, c_int, c_double]),
    "fk_capture_set_str": (c_int, [vp, c_int, c_char_p]),
    "fk_capture_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_capture_get_double": (c_int, [vp, c_int, P(c_double)]),
    "fk_capture_get_str": (c_int, [vp, c_int, P(c_char_p)]),
    "fk_capture_get_attribution_source": (c_int, [vp, P(c_char_p)]),
    "fk_capture_add_device": (c_int, [vp, c_char_p]),
    "fk_capture_add_file": (c_int, [vp, c_char_p]),
    "fk_capture_set_callback": (c_int, [vp, CAPTURE_CB, c_void_p]),
    "fk_capture_activate": (c_int, [vp]),
    "fk_capture_get_fd": (c_int, [vp]),
    "fk_capture_next_timeout_ms": (c_int, [vp]),
    "fk_capture_dispatch": (c_int, [vp, c_int]),
    "fk_capture_break": (None, [vp]),
    "fk_capture_stop": (c_int, [vp]),
    "fk_capture_get_stats": (c_int, [vp, P(fk_capture_stats), c_size_t]),
    "fk_capture_rank": (c_int, [vp, c_size_t, c_uint32, c_int, P(P(fk_rank_snapshot))]),
    # collector.h
    "fk_collector_create": (c_int, [P(vp)]),
    "fk_collector_destroy": (None, [vp]),
    "fk_collector_params": (P(fk_param_info), [P(c_size_t)]),
    "fk_collector_set_int": (c_int, [vp, c_int, c_int64]),
    "fk_collector_set_double": (c_int, [vp, c_int, c_double]),
    "fk_collector_set_str": (c_int, [vp, c_int, c_char_p]),
    "fk_collector_get_int": (c_int, [vp, c_int, P(c_int64)]),
    "fk_collector_add_listener": (c_int, [vp, c_char_p]),
    "fk_collector_add_output": (c_int, [vp, c_char_p]),
    "fk_collector_add_allow": (c_int, [vp, c_char_p]),
    "fk_collector_set_callback": (c_int, [vp, COLLECTOR_CB, c_void_p]),
    "fk_collector_activate": (c_int, [vp]),
    "fk_collector_get_listener_uri": (c_int, [vp, c_size_t, c_char_p, c_size_t]),
    "fk_collector_get_fd": (c_int, [vp]),
    "fk_collector_next_timeout_ms": (c_int, [vp]),
    "fk_collector_dispatch": (c_int, [vp]),
    "fk_collector_break": (None, [vp]),
    "fk_collector_feed": (c_int, [vp, P(fk_addr), c_uint16, u8p, c_size_t]),
    "fk_collector_get_stats": (c_int, [vp, P(fk_collector_stats), c_size_t]),
}

# ------------------------------------------------------------ loading


def _candidates():
    env = os.environ.get("FLOWKIT_LIBRARY")
    if env:
        # An explicit choice is final: do not fall back to another copy.
        return [env]
    here = os.path.dirname(os.path.abspath(__file__))
    out = [
        os.path.join(here, name)
        for name in ("libflowkit.so", "libflowkit.so.1")
        if os.path.exists(os.path.join(here, name))
    ]
    found = ctypes.util.find_library("flowkit")
    if found:
        out.append(found)
    # find_library needs gcc or ldconfig; the soname still loads through
    # the dynamic linker's own search path when the library is installed.
    out.append("libflowkit.so.1")
    return out


class Library:
    """The loaded libflowkit with every declared function bound lazily."""

    def __init__(self):
        errors = []
        self.cdll = None
        for path in _candidates():
            try:
                self.cdll = ctypes.CDLL(path)
                self.path = path
                break
            except OSError as e:
                errors.append(f"{path}: {e}")
        if self.cdll is None:
            raise OSError(
                "flowkit: cannot load libflowkit (set FLOWKIT_LIBRARY to its path): "
                + "; ".join(errors)
            )
        self._bound = {}

    def has(self, *names):
        """True when the library exports every one of ``names``."""
        for n in names:
            if n not in DECLS:
                raise KeyError(f"{n} is not declared in flowkit._native.DECLS")
            try:
                getattr(self.cdll, n)
            except AttributeError:
                return False
        return True

    def __getattr__(self, name):
        if not name.startswith("fk_"):
            raise AttributeError(name)
        fn = self._bound.get(name)
        if fn is not None:
            return fn
        if name not in DECLS:
            # Refuse undeclared calls rather than let ctypes guess the types.
            raise AttributeError(f"{name} is not declared in flowkit._native.DECLS")
        try:
            fn = getattr(self.cdll, name)
        except AttributeError:
            raise NotImplementedError(
                f"{name} is not exported by {self.path} (an older libflowkit?)"
            ) from None
        restype, argtypes = DECLS[name]
        fn.restype = restype
        fn.argtypes = argtypes
        self._bound[name] = fn
        return fn


_lib = None


def lib():
    """The process-wide :class:`Library`, loaded on first use."""
    global _lib
    if _lib is None:
        _lib = Library()
    return _lib
