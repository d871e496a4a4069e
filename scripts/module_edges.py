#!/usr/bin/env python3
"""Module import edges among the engine's text modules (extract/, normalize/), and their cycles.

Usage: scripts/module_edges.py [--edges] [SRC_DIR]   (default: crates/samaritan-engine/src)

An edge A -> B means a file of module A names a path into module B (`use super::x::Y`,
`crate::extract::x::f(..)`, `super::{a, b}`, a parent's `use child::Item` …). Declaring a child
(`mod x;`) is not an edge. Items defined in a `mod.rs` belong to that directory's module, so a
child that reads its parent's helpers depends on the parent. Paths inside `#[cfg(test)] mod tests`
count as test edges and are reported separately. Exit status 1 when a cycle exists.
"""

import re
import sys
from pathlib import Path

DIRS = ("extract", "normalize")


def module_of(rel: Path) -> tuple:
    parts = list(rel.with_suffix("").parts)
    if parts[-1] == "mod":
        parts.pop()
    return tuple(parts)


def strip_comments(src: str) -> str:
    src = re.sub(r"/\*.*?\*/", "", src, flags=re.S)
    out = []
    for line in src.splitlines():
        # drop `//` comments that are not inside a string literal (good enough for this code)
        code, in_str, i = [], False, 0
        while i < len(line):
            c = line[i]
            if c == '"' and (i == 0 or line[i - 1] != "\\"):
                in_str = not in_str
            if not in_str and line.startswith("//", i):
                break
            code.append(c)
            i += 1
        out.append("".join(code))
    return "\n".join(out)


def expand_use(tree: str) -> list:
    """`a::{b, c::{d, self}}` -> ["a::b", "a::c::d", "a::c"]."""
    tree = re.sub(r"\s+", "", tree)
    m = re.match(r"^(.*?)\{(.*)\}$", tree)
    if not m:
        return [re.sub(r"::self$", "", tree.split(" as ")[0])]
    prefix, body = m.group(1), m.group(2)
    items, depth, cur = [], 0, ""
    for c in body:
        if c == "," and depth == 0:
            items.append(cur)
            cur = ""
            continue
        depth += c == "{"
        depth -= c == "}"
        cur += c
    if cur:
        items.append(cur)
    res = []
    for it in items:
        res += expand_use(prefix + it) if it != "self" else [prefix.rstrip(":")]
    return res


PATH = re.compile(r"(?<![\w:])((?:[A-Za-z_]\w*)(?:::(?:[A-Za-z_]\w*|\*))+)")


def resolve(path: str, here: tuple, modules: set) -> tuple | None:
    segs = path.split("::")
    if segs[0] == "crate":
        base, rest = (), segs[1:]
    elif segs[0] in ("super", "self"):
        base = here
        while segs and segs[0] in ("super", "self"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
        rest = segs
    elif here + (segs[0],) in modules:
        base, rest = here, segs  # a child module named from its parent
    else:
        return None
    full = base + tuple(s for s in rest if s != "*")
    for n in range(len(full), 0, -1):
        if full[:n] in modules:
            return full[:n]
    return None


def edges(src_dir: Path):
    files = {}
    for d in DIRS:
        for f in sorted((src_dir / d).rglob("*.rs")):
            files[module_of(f.relative_to(src_dir))] = f
    modules = set(files)
    prod, test = set(), set()
    for mod, f in files.items():
        code = strip_comments(f.read_text())
        test_at = None
        m = re.search(r"#\[cfg\(test\)\]\s*mod\s+(\w+)\s*\{", code)
        if m:
            test_at = m.start()
        # `use` trees first (braces), then every other path expression
        spans = []
        for u in re.finditer(r"\buse\s+([^;]+);", code):
            spans.append((u.start(), expand_use(u.group(1))))
        body = re.sub(r"\buse\s+[^;]+;", lambda u: " " * len(u.group(0)), code)
        for p in PATH.finditer(body):
            spans.append((p.start(), [p.group(1)]))
        for pos, paths in spans:
            in_test = test_at is not None and pos > test_at
            here = mod + ("tests",) if in_test else mod
            for p in paths:
                target = resolve(p, here, modules)
                if target is None or target == mod:
                    continue
                (test if in_test else prod).add((mod, target))
    return sorted(modules), prod, test


def cycles(nodes, edge_set, limit=200):
    """Elementary cycles (each listed once, starting at its smallest node)."""
    adj = {n: sorted(b for a, b in edge_set if a == n) for n in nodes}
    found = []
    for start in nodes:
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in adj.get(node, []):
                if nxt == start:
                    found.append(path[:])
                elif nxt not in path and nxt > start:
                    stack.append((nxt, path + [nxt]))
            if len(found) >= limit:
                return found
    return sorted(found, key=lambda c: (len(c), c))


def name(m: tuple) -> str:
    return "::".join(m)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    src = Path(args[0]) if args else Path(__file__).resolve().parent.parent / "crates/samaritan-engine/src"
    nodes, prod, test = edges(src)
    if "--edges" in sys.argv:
        for a, b in sorted(prod):
            print(f"edge  {name(a)} -> {name(b)}")
        for a, b in sorted(test - prod):
            print(f"edge  {name(a)} -> {name(b)}  (tests)")
    bad = False
    for label, es in (("production code", prod), ("including tests", prod | test)):
        cs = cycles(nodes, es)
        print(f"{label}: {len(cs)} cycle(s)")
        for c in cs:
            print("  " + " -> ".join(name(m) for m in c + [c[0]]))
        bad |= bool(cs)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
