#!/usr/bin/env python3
"""Bit-exactness of Samaritan's PDQ against the Python `pdqhash` package (C++ reference core).

Decodes every image with Pillow (convert('RGB')), dumps the pixels, hashes them with
`pdqhash.compute` and with `cargo run --example pdq_raw` (our engine on the same bytes), and
compares hash and quality. Usage (benchmark/test oracle only, not a dependency):

    python3 -m venv /tmp/pdqvenv && /tmp/pdqvenv/bin/pip install pdqhash pillow numpy
    /tmp/pdqvenv/bin/python scripts/bench/pdq_oracle.py ../shared/conformance/pdq
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import pdqhash
from PIL import Image


def bits_to_hex(bits):
    s = "".join("1" if b else "0" for b in bits)
    return "".join("%x" % int(s[i:i + 4], 2) for i in range(0, 256, 4))


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/conformance/pdq"
    images = []
    for d, _, files in os.walk(root):
        for f in sorted(files):
            if f.lower().endswith((".jpg", ".jpeg", ".png", ".webp", ".gif")):
                images.append(os.path.join(d, f))
    images.sort()
    tmp = tempfile.mkdtemp()
    manifest, expected = [], {}
    for i, path in enumerate(images):
        rgb = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
        h, w, _ = rgb.shape
        raw = os.path.join(tmp, "%03d.rgb" % i)
        rgb.tofile(raw)
        bits, q = pdqhash.compute(rgb)
        expected[raw] = (path, bits_to_hex(bits), int(q))
        manifest.append("%s %d %d" % (raw, w, h))
    out = subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "samaritan-engine", "--example", "pdq_raw"],
        input="\n".join(manifest) + "\n", capture_output=True, text=True, check=True,
    ).stdout
    same = 0
    for line in out.splitlines():
        raw, hx, q = line.split()
        path, want_hex, want_q = expected[raw]
        ok = hx == want_hex and int(q) == want_q
        same += ok
        if not ok:
            print("DIFF %s ours %s q%s  pdqhash %s q%d" % (os.path.relpath(path, root), hx, q, want_hex, want_q))
    print("bit-exact: %d/%d images identical in hash and quality (pdqhash %s, Pillow %s)"
          % (same, len(expected), getattr(pdqhash, "__version__", "0.2.8"), Image.__version__))
    sys.exit(0 if same == len(expected) else 1)


if __name__ == "__main__":
    main()
