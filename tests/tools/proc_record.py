#!/usr/bin/env python3
"""Opens a known set of sockets on loopback, prints their ports, then waits
for stdin to close. Used with proc_record (see tests/data/proc/README.md)."""
import socket, sys
lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM); lst.bind(("127.0.0.1", 0)); lst.listen()
cli = socket.create_connection(lst.getsockname()); srv, _ = lst.accept()
lst6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM); lst6.bind(("::1", 0)); lst6.listen()
cli6 = socket.create_connection(lst6.getsockname()[:2]); srv6, _ = lst6.accept()
u1 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u1.bind(("127.0.0.1", 0))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(("127.0.0.1", 0)); u2.connect(u1.getsockname())
u6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); u6.bind(("::", 0))
print(cli.getsockname()[1], cli.getpeername()[1], u2.getsockname()[1], u1.getsockname()[1],
      lst.getsockname()[1], lst6.getsockname()[1], cli6.getsockname()[1], u6.getsockname()[1], flush=True)
sys.stdin.read()
