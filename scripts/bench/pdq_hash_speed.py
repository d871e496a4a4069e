#!/usr/bin/env python3
"""Decode + PDQ throughput: Samaritan vs the Python `pdqhash` package, same files, same run.

For every image of the `cpp_int64` conformance set, both sides decode from bytes already in
memory and hash, one thread, `--repeat` times; the median per file is kept. Python's side is
Pillow decode + convert('RGB') + pdqhash.compute (what python-threatexchange does). Ours is
`samaritan bench pdq-hash` (image 0.25 decode + our PDQ). Prints a Markdown table.

    cargo build --release -p samaritan-cli
    /tmp/pdqvenv/bin/python scripts/bench/pdq_hash_speed.py ../shared/conformance/pdq --repeat 5
"""
import argparse
import io
import json
import os
import statistics
import subprocess
import time

import numpy as np
import pdqhash
from PIL import Image


def python_ms(data, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        im = Image.open(io.BytesIO(data))
        arr = np.asarray(im.convert("RGB"))
        pdqhash.compute(arr)
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("root", nargs="?", default="../shared/conformance/pdq")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--binary", default="target/release/samaritan")
    a = ap.parse_args()
    rows = [l.split("\t") for l in open(os.path.join(a.root, "expected_hashes.tsv")).read().splitlines()[1:]]
    files = [os.path.join(a.root, r[1]) for r in rows if r[0] == "cpp_int64"]
    ours = subprocess.run([a.binary, "bench", "pdq-hash", "--repeat", str(a.repeat)] + files,
                          capture_output=True, text=True, check=True).stdout
    ours = {j["path"]: j for j in map(json.loads, ours.splitlines())}
    groups = {}
    for f in files:
        data = open(f, "rb").read()
        py = python_ms(data, a.repeat)
        o = ours[f]
        key = "%dx%d" % (o["width"], o["height"])
        g = groups.setdefault(key, {"n": 0, "py": 0.0, "ours": 0.0})
        g["n"] += 1
        g["py"] += py
        g["ours"] += o["median_ms"]
    print("| size | images | pdqhash (Pillow) images/s | Samaritan images/s | ratio |")
    print("|---|---|---|---|---|")
    tot = {"n": 0, "py": 0.0, "ours": 0.0}
    for key, g in sorted(groups.items(), key=lambda kv: -kv[1]["py"]):
        for k in tot:
            tot[k] += g[k]
        print("| %s | %d | %.1f | %.1f | %.2fx |" % (
            key, g["n"], g["n"] / g["py"] * 1e3, g["n"] / g["ours"] * 1e3, g["py"] / g["ours"]))
    print("| all | %d | %.1f | %.1f | %.2fx |" % (
        tot["n"], tot["n"] / tot["py"] * 1e3, tot["n"] / tot["ours"] * 1e3, tot["py"] / tot["ours"]))


if __name__ == "__main__":
    main()
