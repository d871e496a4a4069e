#!/usr/bin/env python3
"""Asks the local NATS server's JetStream API (127.0.0.1:4222) and prints its JSON answer.

    python3 scripts/bench/js_api.py '$JS.API.STREAM.INFO.NAME'

The benchmark scripts read stream state with it (no NATS CLI needed)."""
import socket
import sys

s = socket.create_connection(("127.0.0.1", 4222))
s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nSUB _INBOX.b 1\r\nPUB ' + sys.argv[1].encode() + b' _INBOX.b 0\r\n\r\n')
s.settimeout(5)
buf = b""
while b"}\r\n" not in buf:
    buf += s.recv(65536)
print(buf.split(b"\r\n", 2)[1].decode())
