#!/usr/bin/env bash
# Checks that ARCHITECTURE.md names only things that exist, and that the crate graph keeps to the
# one its Invariants section allows. No build: grep and python3 over the sources, a second or so.
#
#   scripts/check-architecture.sh
#
# 1. Every backticked path (`crates/…`, `normalize/mod.rs`, `tests/x.rs`, `migrations/sqlite`,
#    `commands/{a,b}.rs`, `banks/eval-only-*.toml`) is a file or directory of the repository
#    (matched from the root or as a path suffix); the file trees in code blocks likewise.
# 2. Every module named in a module table exists in that table's crate (`pdq::hash` →
#    src/pdq/hash.rs or src/pdq/hash/mod.rs).
# 3. Every Rust name in backticks — CamelCase types, `a::b` paths, `name(…)` calls, `Type.field`
#    — is defined somewhere in crates/ (struct, enum, variant, trait, type, fn, mod, const,
#    static, macro, field) or is in EXTERNAL below.
# 4. The dependencies between samaritan crates in the Cargo.toml files are within ALLOWED (the
#    graph stated in ARCHITECTURE.md's Invariants, which must state the same graph), and
#    samaritan-store uses nothing of the engine but `samaritan_engine::model`.
#
# Exits non-zero with one line per failure: `ARCHITECTURE.md:LINE [section] what is wrong`.
set -euo pipefail
cd "$(dirname "$0")/.."
exec python3 - "$@" <<'PY'
import glob, os, re, subprocess, sys, tomllib

DOC = os.environ.get("ARCH_DOC", "ARCHITECTURE.md")

# The intended graph: crate -> samaritan crates it may depend on ([dependencies]). Keep it equal
# to the code block under "Which crate may depend on which" in ARCHITECTURE.md.
ALLOWED = {
    "samaritan-engine": [],
    "samaritan-synth": ["samaritan-engine"],
    "samaritan-eval": ["samaritan-engine"],
    "samaritan-media": ["samaritan-engine"],
    "samaritan-store": ["samaritan-engine"],
    "samaritan-server": ["samaritan-engine", "samaritan-store", "samaritan-media"],
    "samaritan-testkit": [],
    "samaritan-cli": ["samaritan-engine", "samaritan-synth", "samaritan-eval", "samaritan-media",
                      "samaritan-store", "samaritan-server"],
}
# [dev-dependencies] may add these (tests and benches only).
ALLOWED_DEV = {c: ["samaritan-testkit"] for c in ALLOWED}
ALLOWED_DEV["samaritan-engine"] += ["samaritan-synth"]  # synth corpora in the engine's tests

# Names from std and outside crates that the document uses on purpose.
EXTERNAL = {"LazyLock", "RegexSet", "RawValue", "Box", "Vec", "Result", "Option", "String",
            "HashMap", "Arc", "Mutex", "RwLock", "Instant", "SystemTime", "unwrap"}
# Paths outside this repository (../shared).
OUTSIDE = ("../", "notes/", "DESIGN.md")

failures = []
def fail(line, section, msg):
    failures.append(f"{DOC}:{line} [{section}] {msg}")

files = subprocess.run(["git", "ls-files"], capture_output=True, text=True, check=True).stdout.split()
for top, subdirs, names in os.walk("."):  # untracked files too, without entering build output
    subdirs[:] = [d for d in subdirs if d not in ("target", ".git", "node_modules")]
    files += [os.path.normpath(os.path.join(top, n)) for n in names]
files = sorted(set(files))
dirs = set()
for f in files:
    p = os.path.dirname(f)
    while p:
        dirs.add(p)
        p = os.path.dirname(p)
entries = set(files) | dirs

def path_exists(p):
    p = p.rstrip("/")
    if p in entries:
        return True
    if any(ch in p for ch in "*?["):
        pat = re.compile("(^|/)" + re.escape(p).replace(r"\*", "[^/]*").replace(r"\?", "[^/]") + "$")
        return any(pat.search(e) for e in entries)
    return any(e.endswith("/" + p) for e in entries)

def expand_braces(p):
    m = re.search(r"\{([^{}]*)\}", p)
    if not m:
        return [p]
    return [q for alt in m.group(1).split(",") for q in expand_braces(p[:m.start()] + alt + p[m.end():])]

# --- names defined in the sources -------------------------------------------------------------
defined, fields = set(), set()
item = re.compile(r"\b(?:struct|enum|trait|type|fn|mod|const|static|union)\s+([A-Za-z_][A-Za-z0-9_]*)")
macro = re.compile(r"macro_rules!\s*([A-Za-z_][A-Za-z0-9_]*)")
field = re.compile(r"^\s*(?:pub(?:\([a-z]+\))?\s+)?([a-z_][a-z0-9_]*)\s*:[^:]")
variant = re.compile(r"^\s*([A-Z][A-Za-z0-9]*)\s*(?:[,({=]|$)")
rs_files = [f for f in files if f.startswith("crates/") and f.endswith(".rs")]
for f in rs_files:
    defined.add(os.path.basename(f)[:-3])
    for d in os.path.dirname(f).split("/"):
        defined.add(d)
    for line in open(f, encoding="utf-8"):
        defined.update(item.findall(line))
        defined.update(macro.findall(line))
        m = field.match(line)
        if m:
            fields.add(m.group(1))
        m = variant.match(line)
        if m:
            defined.add(m.group(1))
crate_names = {os.path.basename(d).replace("-", "_") for d in glob.glob("crates/*")}
defined |= crate_names

def name_ok(n):
    return n in defined or n in fields or n in EXTERNAL

# --- the document ------------------------------------------------------------------------------
lines = open(DOC, encoding="utf-8").read().split("\n")
section, crate, in_code, tree_dir, module_table = "top", None, False, "", False
camel = re.compile(r"\b[A-Z][a-z0-9]+[A-Za-z0-9]*\b")
pathlike = re.compile(r"^[A-Za-z0-9_.*{},<>/-]+$")
ext = re.compile(r"\.(rs|toml|md|sh|py|sql|txt|patch|png|jpg|gif|webp)$")

def check_span(n, s, module_cell):
    s = s.strip()
    if not s:
        return
    # paths
    if pathlike.match(s) and ("/" in s or ext.search(s)) and not s.startswith("/"):
        if s.startswith(OUTSIDE) or "<" in s:
            return
        for p in expand_braces(s):
            if not path_exists(p):
                fail(n, section, f"path `{p}` does not exist")
        return
    # modules named in a module table
    if module_cell:
        if crate is None:
            fail(n, section, f"module `{s}` in a table whose crate is unknown")
            return
        for mod in [m.strip() for m in s.split(",")]:
            if mod.endswith("/*"):
                ok = path_exists(f"crates/{crate}/src/{mod[:-2]}")
            else:
                rel = mod.replace("::", "/")
                ok = any(path_exists(f"crates/{crate}/src/{rel}{suf}") for suf in (".rs", "/mod.rs"))
            if not ok:
                fail(n, section, f"module `{mod}` not found in crates/{crate}/src")
        return
    if " " in s and not re.search(r"[(:{]", s):
        return  # prose, SQL, a command line
    if s.startswith(("-", "$", "/", "samaritan ")) or "=" in s and "==" not in s:
        return  # flags, commands, settings
    # Rust names
    for path in re.findall(r"\b([A-Za-z_][A-Za-z0-9_]*(?:::[A-Za-z_][A-Za-z0-9_]*)+)", s):
        for seg in path.split("::"):
            if not name_ok(seg):
                fail(n, section, f"`{seg}` (in `{path}`) is not defined in crates/")
    for call in re.findall(r"(?<![:.\w])([a-z_][a-z0-9_]*)\s*\(", s):
        if not name_ok(call):
            fail(n, section, f"fn `{call}` is not defined in crates/")
    for t in camel.findall(s):
        if not name_ok(t):
            fail(n, section, f"`{t}` is not defined in crates/")
    for ty, fl in re.findall(r"\b([A-Z][A-Za-z0-9]*)\.([a-z_][a-z0-9_]*)", s):
        if fl not in fields:
            fail(n, section, f"field `{ty}.{fl}` is not defined in crates/")
    if s.startswith("trait ") and "{" in s:
        for m in re.findall(r"[a-z_][a-z0-9_]*", s[s.index("{"):]):
            if not name_ok(m):
                fail(n, section, f"fn `{m}` of `{s.split()[1]}` is not defined in crates/")

graph_block, in_graph = [], False
for n, line in enumerate(lines, 1):
    if line.startswith("```"):
        in_code = not in_code
        tree_dir = ""
        in_graph = in_code and section == "Which crate may depend on which"
        continue
    if in_code:
        if in_graph:
            graph_block.append(line)
            continue
        # file trees: "dir/" lines open a directory, indented names are files or dirs in it
        m = re.match(r"^(\s*)([A-Za-z0-9_.-]+/)\s", line + " ")
        if m and not m.group(1):
            tree_dir = m.group(2)
            if not path_exists(tree_dir):
                fail(n, section, f"directory `{tree_dir}` (file tree) does not exist")
            continue
        if "─►" in line:
            continue
        m = re.match(r"^\s*((?:[A-Za-z0-9_.-]+\.(?:rs|toml|txt)\s+)*[A-Za-z0-9_./-]+\.(?:rs|toml|txt))(?:\s|$)", line)
        if m:
            for name in m.group(1).split():
                p = name if "/" in name and not tree_dir else tree_dir + name
                if not path_exists(p) and not path_exists(name):
                    fail(n, section, f"file `{p}` (file tree) does not exist")
            continue
        m = re.match(r"^\s+([A-Za-z0-9_.-]+/)\s", line)
        if m and tree_dir:
            p = tree_dir + m.group(1)
            if not path_exists(p):
                fail(n, section, f"directory `{p}` (file tree) does not exist")
        continue
    h = re.match(r"^#+\s+(.*)", line)
    if h:
        section = h.group(1).replace("`", "")
    cm = re.findall(r"samaritan-(engine|synth|eval|testkit|cli|store|server|media)\b", line)
    if cm and not line.startswith("|"):
        crate = "samaritan-" + cm[-1]
    cells = line.split("|")
    is_table = line.startswith("|") and not re.match(r"^\|[-| ]+\|$", line)
    for col, cell in enumerate(cells if is_table else [line]):
        # a table's first column names modules when its header says "module"
        module_cell = is_table and col == 1 and module_table
        for span in re.findall(r"`([^`]+)`", cell):
            check_span(n, span, module_cell)
    if line.startswith("| module"):
        module_table = True
    elif not line.startswith("|"):
        module_table = False

# --- the crate graph -------------------------------------------------------------------------
actual, actual_dev = {}, {}
for toml_path in sorted(glob.glob("crates/*/Cargo.toml")):
    t = tomllib.load(open(toml_path, "rb"))
    name = t["package"]["name"]
    deps = lambda sec: sorted(k for k in t.get(sec, {}) if k.startswith("samaritan"))
    actual[name] = deps("dependencies") + deps("build-dependencies")
    actual_dev[name] = deps("dev-dependencies")
    if name not in ALLOWED:
        failures.append(f"{toml_path}: crate {name} is not in ALLOWED (scripts/check-architecture.sh) nor in ARCHITECTURE.md's Invariants")
        continue
    for d in actual[name]:
        if d not in ALLOWED[name]:
            failures.append(f"{toml_path}: {name} depends on {d}, which the Invariants do not allow ({name} → {', '.join(ALLOWED[name]) or 'nothing'})")
    for d in actual_dev[name]:
        if d not in ALLOWED[name] + ALLOWED_DEV[name]:
            failures.append(f"{toml_path}: {name} dev-depends on {d}, which the Invariants do not allow")

stated = {}
for line in graph_block:
    m = re.match(r"^\s*(samaritan-[a-z]+)\s*→\s*(.*?)\s*$", line)
    if m:
        rhs = m.group(2).split("(")[0].strip()
        stated[m.group(1)] = sorted("samaritan-" + x.strip() for x in rhs.split(",") if x.strip() and x.strip() != "nothing")
if not stated:
    failures.append(f"{DOC}: no crate graph found (a code block under the heading \"Which crate may depend on which\")")
elif stated != {k: sorted(v) for k, v in ALLOWED.items()}:
    for k in sorted(set(stated) | set(ALLOWED)):
        if stated.get(k) != sorted(ALLOWED.get(k, [])):
            failures.append(f"{DOC}: the Invariants' graph says {k} → {stated.get(k)}, the script's ALLOWED says {sorted(ALLOWED.get(k, []))}")

def top_level_items(text, i):
    """The items of the `{…}` group opening at text[i], split at top-level commas."""
    depth, items, cur = 0, [], ""
    for ch in text[i:]:
        if ch == "{":
            depth += 1
            if depth == 1:
                continue
        elif ch == "}":
            depth -= 1
            if depth == 0:
                break
        if ch == "," and depth == 1:
            items.append(cur.strip()); cur = ""
        else:
            cur += ch
    return items + [cur.strip()]

use = re.compile(r"samaritan_engine(::\{|::[A-Za-z_]+|\b)")
for f in [f for f in files if f.startswith("crates/samaritan-store/") and f.endswith(".rs")]:
    text = open(f, encoding="utf-8").read()
    for m in use.finditer(text):
        tail = m.group(1)
        items = top_level_items(text, m.end() - 1) if tail == "::{" else [tail[2:]]
        if tail == "" and re.match(r"\s+as\s", text[m.end():]):
            items = ["(the whole crate, renamed)"]
        for x in items:
            if x and x.split("::")[0] != "model":
                line = text.count("\n", 0, m.start()) + 1
                failures.append(f"{f}:{line}: samaritan-store uses samaritan_engine::{x}; only samaritan_engine::model is allowed (the store keeps the engine's contract types, not its logic)")

if failures:
    print("check-architecture: %d problem(s)" % len(failures))
    for x in failures:
        print("  " + x)
    sys.exit(1)
print(f"check-architecture: ok ({DOC} names exist; crate graph within the Invariants; store uses only samaritan_engine::model)")
PY
