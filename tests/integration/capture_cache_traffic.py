#!/usr/bin/python3
"""Traffic for capture_ebpf_cache.sh: UDP flows that exercise the eBPF
backend's per-CPU flow cache, and their ground truth.

  server ADDR SECONDS   (host) drains UDP ports 7000-7003, echoes 7001;
                        prints "listening", exits after SECONDS
  client ADDR           (netns) the scenario below; prints one JSON line
                        per flow phase: sport, dport, count, bytes (IP
                        layer), first/last (CLOCK_REALTIME ns before the
                        first/last send), first_after/last_after (after
                        it: its reply received too), last_coarse
                        (CLOCK_REALTIME_COARSE then), tick_ns (one kernel
                        tick: clock_getres of CLOCK_MONOTONIC_COARSE), role

Every send moves the sender to the next CPU (sched_setaffinity), so each
flow is counted by the programs of every CPU: veth hands a frame to the
receive path on the sending CPU. The server replies from alternating
CPUs too. The scenario, from t = 0:
  coll   16 flows to port 7000, 30 packets each, round robin (with
         ebpf_cache_slots=1 they all want the one slot of their CPU);
  echo   50 packets to port 7001, each answered;
  idle   flow A, 20 packets to 7003; it idle-ends; at t = 5 s flow B (20
         packets to 7003) and then A again (20 packets): a new flow of A's
         key, after A's slots were freed and others claimed;
  active 1 packet every 50 ms to 7002 until t = 7 s (140 packets): ends
         by the active timeout on the way.
"""
import json
import os
import select
import socket
import sys
import time

CPUS = sorted(os.sched_getaffinity(0))
_turn = [0]


def next_cpu():
    _turn[0] += 1
    os.sched_setaffinity(0, {CPUS[_turn[0] % len(CPUS)]})


def server(addr, seconds):
    socks = []
    for port in range(7000, 7004):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, port))
        socks.append(s)
    print("listening", flush=True)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            data, peer = s.recvfrom(2048)
            if s.getsockname()[1] == 7001:
                next_cpu()
                s.sendto(data, peer)


class Flow:
    def __init__(self, addr, sport, dport, payload, role):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("0.0.0.0", sport))
        self.sock.settimeout(2)
        self.dst = (addr, dport)
        self.payload = b"c" * payload
        self.sport, self.dport, self.role = sport, dport, role
        self.phase = None

    def send(self, reply=False):
        next_cpu()
        now = time.clock_gettime_ns(time.CLOCK_REALTIME)
        if self.phase is None:
            self.phase = {"sport": self.sport, "dport": self.dport, "role": self.role,
                          "count": 0, "bytes": 0, "first": now,
                          "tick_ns": int(time.clock_getres(6) * 1e9)}
        self.phase["last_coarse"] = time.clock_gettime_ns(5)  # CLOCK_REALTIME_COARSE
        self.phase["last"] = time.clock_gettime_ns(time.CLOCK_REALTIME)
        self.sock.sendto(self.payload, self.dst)
        self.phase["count"] += 1
        self.phase["bytes"] += 28 + len(self.payload)
        if reply:
            self.sock.recvfrom(2048)
        after = time.clock_gettime_ns(time.CLOCK_REALTIME)
        if self.phase["count"] == 1:
            self.phase["first_after"] = after
        self.phase["last_after"] = after

    def done(self):
        if self.phase:
            print(json.dumps(self.phase), flush=True)
        self.phase = None


def client(addr):
    t0 = time.monotonic()
    coll = [Flow(addr, 41000 + i, 7000, 10 + i, "coll") for i in range(16)]
    for _ in range(30):
        for f in coll:
            f.send()
    echo = Flow(addr, 41100, 7001, 33, "echo")
    for _ in range(50):
        echo.send(reply=True)
    a = Flow(addr, 41300, 7003, 21, "idle")
    for _ in range(20):
        a.send()
    a.done()
    active = Flow(addr, 41200, 7002, 7, "active")
    b = None
    for i in range(140):
        active.send()
        if b is None and time.monotonic() - t0 >= 5:
            b = Flow(addr, 41301, 7003, 19, "idle")
            for _ in range(20):
                b.send()
            for _ in range(20):
                a.send()
        time.sleep(max(0, t0 + 0.05 * (i + 1) + 0.1 - time.monotonic()))
    for f in coll + [echo, a, active] + ([b] if b else []):
        f.done()
    if b is None:
        sys.exit("the scenario did not reach t = 5 s")


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], float(sys.argv[3]))
    else:
        client(sys.argv[2])
