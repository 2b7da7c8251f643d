/* export_flows: send flows and TCP session events, with their processes, to
 * an IPFIX collector through fk_exporter, and print what was sent as JSON
 * lines (the ground truth for interop tests).
 *
 *   export_flows URI [COUNT [PEN]]      e.g. export_flows udp://127.0.0.1:4739 100
 *
 * Each of the COUNT conversations gives one flow record (IPv4 and IPv6 in
 * turn, both directions' counters in one record as RFC 5103 reverse
 * elements: FK_EXP_BIFLOW 1, for collectors that read them; the default,
 * 0, sends one record per direction) and one SYN event; process pid, uid,
 * name, user and executable go out as enterprise elements under PEN
 * (default 32473, the RFC 5612 documentation number). */
#include <flowkit/flowkit.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "export_flows: %s: %s\n", what, fk_error_last()->message);
    return 1;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 4) {
        fprintf(stderr, "usage: export_flows URI [COUNT [PEN]]\n");
        return 2;
    }
    long count = argc > 2 ? strtol(argv[2], NULL, 10) : 10;
    long pen = argc > 3 ? strtol(argv[3], NULL, 10) : (long)FK_EXPORTER_DEFAULT_PEN;
    fk_exporter *exp;
    if (fk_exporter_create(&exp) != 0)
        return fail("create");
    if (fk_exporter_add_destination(exp, argv[1]) != 0 ||
        fk_exporter_set_int(exp, FK_EXP_PEN, pen) != 0 ||
        fk_exporter_set_int(exp, FK_EXP_BIFLOW, 1) != 0 || fk_exporter_activate(exp) != 0) {
        fk_exporter_destroy(exp);
        return fail(argv[1]);
    }
    const int64_t t0 = INT64_C(1763900000000) * 1000000; /* 2025-11-23, in ns */
    for (long i = 0; i < count; i++) {
        char src[64], dst[64], name[32], user[32], exe[64];
        int v6 = i % 2;
        snprintf(src, sizeof src, v6 ? "fd00:213::%lx" : "10.213.1.%ld", i % 250 + 1);
        snprintf(dst, sizeof dst, v6 ? "fd00:213::beef" : "10.213.2.1");
        snprintf(name, sizeof name, "worker-%ld", i);
        snprintf(user, sizeof user, "user%ld", i % 7);
        snprintf(exe, sizeof exe, "/usr/bin/worker-%ld", i);
        fk_exporter_process proc = {(uint32_t)(4000 + i), (uint32_t)(1000 + i % 7), name, user,
                                    exe};

        fk_session_event ev;
        memset(&ev, 0, sizeof ev);
        fk_addr_parse(src, &ev.src);
        fk_addr_parse(dst, &ev.dst);
        ev.kind = FK_SESSION_SYN;
        ev.proto = 6;
        ev.src_port = (uint16_t)(20000 + i);
        ev.dst_port = 443;
        ev.time_ns = t0 + i * INT64_C(1000000000);

        fk_flow f;
        memset(&f, 0, sizeof f);
        f.src = ev.src;
        f.dst = ev.dst;
        f.src_port = ev.src_port;
        f.dst_port = ev.dst_port;
        f.proto = 6;
        f.tcp_flags = 0x1b;
        f.rev_tcp_flags = 0x1b;
        f.packets = (uint64_t)(10 + i);
        f.bytes = (uint64_t)(1000 + 37 * i);
        f.rev_packets = (uint64_t)(8 + i);
        f.rev_bytes = (uint64_t)(20000 + 101 * i);
        f.start_ns = ev.time_ns;
        f.end_ns = ev.time_ns + INT64_C(2500000000);
        f.present = FK_FLOW_HAS_REVERSE | FK_FLOW_HAS_END_REASON;
        f.end_reason = FK_END_DETECTED;

        if (fk_exporter_add_event_process(exp, &ev, &proc) != 0 ||
            fk_exporter_add_flow_process(exp, &f, &proc) != 0) {
            fk_exporter_destroy(exp);
            return fail("add");
        }
        printf("{\"type\":\"event\",\"event\":\"syn\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\","
               "\"src_port\":%u,\"dst_port\":%u,\"time_ms\":%lld,\"pid\":%u,\"uid\":%u,"
               "\"process\":\"%s\",\"user\":\"%s\",\"exe\":\"%s\"}\n",
               src, dst, ev.src_port, ev.dst_port, (long long)(ev.time_ns / 1000000), proc.pid,
               proc.uid, name, user, exe);
        printf("{\"type\":\"flow\",\"src_addr\":\"%s\",\"dst_addr\":\"%s\",\"src_port\":%u,"
               "\"dst_port\":%u,\"proto\":6,\"packets\":%llu,\"bytes\":%llu,\"rev_packets\":%llu,"
               "\"rev_bytes\":%llu,\"start_ms\":%lld,\"end_ms\":%lld,\"pid\":%u,\"uid\":%u,"
               "\"process\":\"%s\",\"user\":\"%s\",\"exe\":\"%s\"}\n",
               src, dst, f.src_port, f.dst_port, (unsigned long long)f.packets,
               (unsigned long long)f.bytes, (unsigned long long)f.rev_packets,
               (unsigned long long)f.rev_bytes, (long long)(f.start_ns / 1000000),
               (long long)(f.end_ns / 1000000), proc.pid, proc.uid, name, user, exe);
        /* Let the exporter send what is due (a real program polls its fd). */
        fk_exporter_dispatch(exp);
    }
    int rc = fk_exporter_drain(exp, 5000);
    fk_exporter_stats st;
    fk_exporter_get_stats(exp, &st, sizeof st);
    fprintf(stderr, "export_flows: %llu records, %llu sent, %llu dropped, %llu messages\n",
            (unsigned long long)st.records_in, (unsigned long long)st.records_sent,
            (unsigned long long)st.records_dropped, (unsigned long long)st.messages_sent);
    fk_exporter_destroy(exp);
    return rc == 0 && st.records_dropped == 0 ? 0 : 1;
}
