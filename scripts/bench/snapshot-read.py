#!/usr/bin/env python3
"""How fast a stored linker snapshot's parts come off a cold disk, read one after another or
several at once (the reason `Store::link_snapshot` reads them at once). Needs root (it drops the
page cache before each run).

    python3 scripts/bench/snapshot-read.py DATA_DIR/samaritan.db [READERS ...]
        defaults: 1 4 10 (1 = one part after another)
"""
import os
import sqlite3
import sys
import threading
import time

db = sys.argv[1]
readers = [int(r) for r in sys.argv[2:]] or [1, 4, 10]
c = sqlite3.connect(db)
keys = [k for (k,) in c.execute(
    "SELECT key FROM link_state WHERE kind = 'link_snapshot' AND key LIKE 'part-%' ORDER BY key")]
c.close()
if not keys:
    sys.exit(f"{db}: no linker snapshot")
Q = "SELECT value FROM link_state WHERE kind = 'link_snapshot' AND key = ?"
for n in readers:
    os.system("sync; echo 3 > /proc/sys/vm/drop_caches")
    got = {}

    def read(ks):
        conn = sqlite3.connect(db)
        for k in ks:
            got[k] = len(conn.execute(Q, (k,)).fetchone()[0])

    t = time.time()
    threads = [threading.Thread(target=read, args=(keys[i::n],)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    print(f"{n} reader(s): {len(keys)} parts, {sum(got.values())} bytes, {time.time() - t:.2f} s")
