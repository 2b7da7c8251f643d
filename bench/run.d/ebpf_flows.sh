#!/bin/bash
# ebpf_flows: ebpf.sh with many flows at once (EBPF_BENCH_FLOWS, default
# 4096: four times the eBPF backend's per-CPU flow-cache slots, so most
# packets miss the cache and take the kernel flow map, the cache's worst
# case next to ebpf.sh's one-flow best case). Same method, same figures.
: "${ROOT:?}"
EBPF_BENCH_FLOWS=${EBPF_BENCH_FLOWS:-4096} EBPF_BENCH_MODES=${EBPF_BENCH_MODES:-none pcap ebpf xdp} \
    exec bash "$ROOT/bench/run.d/ebpf.sh"
