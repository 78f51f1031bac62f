#!/usr/bin/env python3
"""Structural checks of the workspace, run by CI (`.ci/run`; `--self-test`
first proves the checks catch what they are for).

1. Imports between source files form no loop, in any crate (a file's
   `#[cfg(test)]` items are not imports of the production code).
2. kalamdb-core is layered: the doc of its `lib.rs` lists its top-level
   modules bottom layer first (`//! 1. `error` — …`), and a module only
   imports modules listed before it. Every top-level module must be listed.
3. No source file under `crates/*/src` is over 800 lines.
4. Every file, Rust path and identifier ARCHITECTURE.md and
   docs/storage-format.md cite in backticks exists (items of dependencies
   are looked up in cargo's registry), so the docs cannot drift from the
   code.

`--graph` prints the import edges and loops instead of failing on them (what
the closing note of a restructuring quotes).
"""

import os
import re
import sys
from collections import defaultdict

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MAX_LINES = 800
LAYERED_CRATE = "kalamdb-core"


# ---------------------------------------------------------------- lexing

def strip_code(text):
    """Replaces comments and string/char literal contents with spaces (keeps
    line structure), so only code is left to scan."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        nxt = text[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c == "/" and nxt == "*":
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif c == "r" and re.match(r'r#*"', text[i:i + 12]) and not (
            i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            m = re.match(r'r(#*)"', text[i:])
            hashes = m.group(1)
            end = text.find('"' + hashes, i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(hashes)
            out.append('""' + re.sub(r"[^\n]", " ", text[i + 2:end]))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('"' + re.sub(r"[^\n]", " ", text[i + 1:j]) + '"')
            i = j + 1
        elif c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'\n])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(code, open_idx):
    depth = 0
    for j in range(open_idx, len(code)):
        if code[j] == "{":
            depth += 1
        elif code[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(code) - 1


def item_end(code, start):
    """End of the item starting at `start`: its `;` or its closing brace."""
    depth_paren = 0
    for j in range(start, len(code)):
        ch = code[j]
        if ch in "([":
            depth_paren += 1
        elif ch in ")]":
            depth_paren -= 1
        elif ch == ";" and depth_paren == 0:
            return j
        elif ch == "{" and depth_paren == 0:
            return matching_brace(code, j)
    return len(code) - 1


def drop_test_items(code):
    """Blanks `#[cfg(test)]` items; returns (code, names of test-only
    `mod x;` declarations)."""
    test_mods = set()
    while True:
        m = re.search(r"#\s*\[\s*cfg\s*\(\s*test\s*\)\s*\]", code)
        if not m:
            return code, test_mods
        start = m.start()
        end = item_end(code, m.end())
        decl = re.match(r"\s*(?:#\s*\[[^\]]*\]\s*)*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code[m.end():end + 1])
        if decl:
            test_mods.add(decl.group(1))
        code = code[:start] + re.sub(r"[^\n]", " ", code[start:end + 1]) + code[end + 1:]


# ---------------------------------------------------------------- modules

def crate_roots(crate_dir):
    src = os.path.join(crate_dir, "src")
    roots = []
    for name in ("lib.rs", "main.rs"):
        if os.path.exists(os.path.join(src, name)):
            roots.append(os.path.join(src, name))
    return src, roots


def module_files(crate_dir):
    """{module path tuple: file} for the files reachable through `mod`
    declarations from the crate roots (a binary root is its own tree only
    when there is no library)."""
    src, roots = crate_roots(crate_dir)
    files = {}
    test_files = set()
    root = roots[0] if roots else None
    if root is None:
        return src, files, test_files
    stack = [((), root, False)]
    while stack:
        path, f, is_test = stack.pop()
        if f in files.values():
            continue
        files[path] = f
        if is_test:
            test_files.add(f)
        with open(f, encoding="utf-8") as fh:
            code = strip_code(fh.read())
        _, test_mods = drop_test_items(code)
        base = os.path.dirname(f)
        if not (f.endswith("/lib.rs") or f.endswith("/main.rs") or f.endswith("/mod.rs")):
            base = f[:-3]
        for m in re.finditer(r"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code):
            name = m.group(1)
            for cand in (os.path.join(base, name + ".rs"), os.path.join(base, name, "mod.rs")):
                if os.path.exists(cand):
                    stack.append((path + (name,), cand, is_test or name in test_mods))
                    break
    return src, files, test_files


def expand_use_tree(text):
    """`a::{b, c::{d, e}}` → [['a','b'], ['a','c','d'], ['a','c','e']]."""
    text = re.sub(r"\s+", "", text)
    text = re.sub(r"\bas\w+", "", text.replace("as", " as ")) if " as " in text else text

    def parse(s):
        paths, depth, cur = [], 0, ""
        parts = []
        for ch in s:
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            if ch == "," and depth == 0:
                parts.append(cur)
                cur = ""
            else:
                cur += ch
        parts.append(cur)
        for p in parts:
            if not p:
                continue
            if "{" in p:
                head, inner = p.split("{", 1)
                inner = inner[: inner.rfind("}")]
                head_segs = [x for x in head.split("::") if x]
                for sub in parse(inner):
                    paths.append(head_segs + sub)
            else:
                paths.append([x for x in p.split("::") if x])
        return paths

    return parse(text)


def file_references(code, modpath, children, top_level):
    """Module paths (tuples, absolute) a file's code refers to."""
    refs = []
    uses = []

    def absolute(segs):
        if not segs:
            return None
        head = segs[0]
        if head == "crate":
            return tuple(segs[1:])
        if head == "super":
            base = list(modpath)
            while segs and segs[0] == "super":
                if not base:
                    return None
                base.pop()
                segs = segs[1:]
            return tuple(base + segs)
        if head == "self":
            return tuple(list(modpath) + segs[1:])
        if head in children:
            return tuple(list(modpath) + segs)
        if not modpath and head in top_level:
            return tuple(segs)
        return None

    for m in re.finditer(r"\buse\s+([^;]+);", code):
        for segs in expand_use_tree(m.group(1)):
            segs = [s for s in segs if s and s != "*"]
            p = absolute(segs)
            if p is not None:
                uses.append(p)
    body = re.sub(r"\buse\s+[^;]+;", lambda m: re.sub(r"[^\n]", " ", m.group(0)), code)
    for m in re.finditer(r"\b((?:\w+\s*::\s*)+\w+)", body):
        segs = [s.strip() for s in m.group(1).split("::")]
        p = absolute(segs)
        if p is not None:
            refs.append(p)
    return uses + refs


def crate_graph(crate_dir):
    src, files, test_files = module_files(crate_dir)
    by_file = {f: p for p, f in files.items()}
    top_level = {p[0] for p in files if len(p) == 1}
    edges = defaultdict(set)
    for path, f in files.items():
        if f in test_files:
            continue
        with open(f, encoding="utf-8") as fh:
            code = strip_code(fh.read())
        code, _ = drop_test_items(code)
        children = {p[len(path)] for p in files if len(p) == len(path) + 1 and p[: len(path)] == path}
        for ref in file_references(code, path, children, top_level):
            # The longest prefix that is a module file.
            for k in range(len(ref), -1, -1):
                target = files.get(ref[:k])
                if target is not None:
                    break
            if target and target != f and target not in test_files:
                # A parent module file naming its own child (`pub use
                # child::X`) is an import; a child naming its parent
                # file's items is too.
                edges[f].add(target)
    return src, files, by_file, edges


def sccs(nodes, edges):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in nodes:
        if v not in index:
            visit(v)
    return out


# ---------------------------------------------------------------- checks

def rel(p):
    return os.path.relpath(p, ROOT)


def check_imports(show_graph):
    problems = []
    crates_dir = os.path.join(ROOT, "crates")
    loops_total = 0
    for crate in sorted(os.listdir(crates_dir)):
        crate_dir = os.path.join(crates_dir, crate)
        if not os.path.isdir(os.path.join(crate_dir, "src")):
            continue
        src, files, by_file, edges = crate_graph(crate_dir)
        loops = sccs(list(files.values()), edges)
        loops_total += len(loops)
        for comp in loops:
            problems.append(f"{crate}: import loop between " + ", ".join(rel(f) for f in comp))
        if show_graph:
            print(f"== {crate}: {len(files)} files, {sum(len(v) for v in edges.values())} imports, {len(loops)} loop(s)")
            for comp in loops:
                print("   loop: " + " ".join(os.path.relpath(f, src) for f in comp))
        if crate == LAYERED_CRATE:
            problems += check_layers(src, files, edges, show_graph)
    return problems, loops_total


def check_layers(src, files, edges, show_graph):
    """Top-level modules of the layered crate, in the order the `lib.rs`
    doc lists them, bottom first; an import may only go to an earlier one."""
    with open(os.path.join(src, "lib.rs"), encoding="utf-8") as fh:
        text = fh.read()
    order = re.findall(r"(?m)^//!\s*\d+\.\s*`(\w+)`", text)
    rank = {name: i for i, name in enumerate(order)}
    problems = []
    declared = {p[0] for p in files if len(p) == 1}
    for name in sorted(declared - set(order)):
        problems.append(f"{LAYERED_CRATE}: module '{name}' is not in the layer list of lib.rs")
    upward = 0
    for f, targets in edges.items():
        fp = next(p for p, x in files.items() if x == f)
        if not fp:
            continue
        for t in targets:
            tp = next(p for p, x in files.items() if x == t)
            if not tp or fp[0] == tp[0]:
                continue
            if rank.get(tp[0], -1) > rank.get(fp[0], -1):
                upward += 1
                problems.append(
                    f"{LAYERED_CRATE}: {os.path.relpath(f, src)} imports {os.path.relpath(t, src)}, "
                    f"a higher layer ('{tp[0]}' is listed after '{fp[0]}' in lib.rs)"
                )
    if show_graph:
        print(f"   layers (bottom first): {' < '.join(order)}; upward imports: {upward}")
    return problems


def check_sizes():
    problems = []
    over = []
    for crate in sorted(os.listdir(os.path.join(ROOT, "crates"))):
        src = os.path.join(ROOT, "crates", crate, "src")
        for dirpath, _, names in os.walk(src):
            for name in names:
                if name.endswith(".rs"):
                    p = os.path.join(dirpath, name)
                    with open(p, encoding="utf-8") as fh:
                        n = sum(1 for _ in fh)
                    if n > MAX_LINES:
                        over.append((n, rel(p)))
    for n, p in sorted(over, reverse=True):
        problems.append(f"{p}: {n} lines (at most {MAX_LINES})")
    return problems


# ARCHITECTURE.md and docs/storage-format.md: backticked names must exist.
WORD = r"[A-Za-z_][A-Za-z0-9_]*"
DOCS = ["ARCHITECTURE.md", "docs/storage-format.md"]
# Specs outside the repository (../shared/spec), cited by name.
SPEC_FILES = {"wire-protocol.md", "sql.md", "topics.md"}
# Dependencies whose items the docs may name (looked up in cargo's registry).
DEPENDENCY_PREFIXES = (
    "datafusion", "arrow", "parquet", "tokio", "axum", "sqlparser", "object_store",
    "rocksdb", "hyper", "tower",
)


class Index:
    """Every module file, item, method, enum variant and string literal of
    the workspace's crates."""

    def __init__(self):
        self.items = defaultdict(set)  # name -> files defining it
        self.methods = defaultdict(set)  # (type, fn) -> files
        self.variants = defaultdict(set)  # (enum, variant)
        self.literals = set()
        self.modules = []  # (crate_ident, module path tuple, file)
        crates_dir = os.path.join(ROOT, "crates")
        for crate in sorted(os.listdir(crates_dir)):
            crate_dir = os.path.join(crates_dir, crate)
            if not os.path.isdir(os.path.join(crate_dir, "src")):
                continue
            _, files, _ = module_files(crate_dir)
            ident = crate.replace("-", "_")
            for path, f in files.items():
                self.modules.append((ident, path, f))
            # Integration tests: `tests/<name>/main.rs` trees, named by module.
            tests_dir = os.path.join(crate_dir, "tests")
            if os.path.isdir(tests_dir):
                for root in sorted(os.listdir(tests_dir)):
                    main = os.path.join(tests_dir, root, "main.rs")
                    if os.path.exists(main):
                        for name in os.listdir(os.path.dirname(main)):
                            if name.endswith(".rs") and name != "main.rs":
                                f = os.path.join(os.path.dirname(main), name)
                                self.modules.append((ident, (name[:-3],), f))
            for dirpath, _, names in os.walk(crate_dir):
                for name in names:
                    if name.endswith(".rs"):
                        self._read(os.path.join(dirpath, name))

    def _read(self, p):
        with open(p, encoding="utf-8") as fh:
            text = fh.read()
        for m in re.finditer(r'"([^"\\\n]{1,80})"', text):
            self.literals.add(m.group(1))
        code = strip_code(text)
        for m in re.finditer(
            rf"\b(?:fn|struct|enum|trait|type|const|static|mod|macro_rules!)\s+({WORD})", code
        ):
            self.items[m.group(1)].add(p)
        # Struct fields, and types a macro defines (`id_type!(NamespaceId)`).
        for m in re.finditer(rf"(?m)^\s*(?:pub(?:\([^)]*\))?\s+)?({WORD})\s*:[^:]", code):
            self.items[m.group(1)].add(p)
        for m in re.finditer(rf"\b{WORD}!\s*[({{]\s*(?:pub\s+)?([A-Z]{WORD})", code):
            self.items[m.group(1)].add(p)
        for m in re.finditer(rf"\bimpl(?:<[^>]*>)?\s+(?:[\w:]+(?:<[^>]*>)?\s+for\s+)?({WORD})", code):
            start = code.find("{", m.end())
            if start < 0:
                continue
            end = matching_brace(code, start)
            for f in re.finditer(rf"\bfn\s+({WORD})", code[start:end]):
                self.methods[(m.group(1), f.group(1))].add(p)
        for m in re.finditer(rf"\benum\s+({WORD})[^{{;]*\{{", code):
            start = m.end() - 1
            body = code[start + 1:matching_brace(code, start)]
            depth = 0
            for line in body.split("\n"):
                if depth == 0:
                    v = re.match(rf"\s*(?:#\[[^\]]*\]\s*)*({WORD})\b", line)
                    if v:
                        self.variants[(m.group(1), v.group(1))].add(p)
                depth += line.count("{") + line.count("(") - line.count("}") - line.count(")")

    def files_of_module(self, segs):
        """Files of the module named by `segs` (optionally led by a crate
        name) and of its submodules."""
        crate = None
        if segs and any(segs[0] == c for c, _, _ in self.modules):
            crate, segs = segs[0], segs[1:]
        out = set()
        for c, path, f in self.modules:
            if crate and c != crate:
                continue
            for k in range(len(path) - len(segs) + 1):
                if tuple(segs) == path[k:k + len(segs)]:
                    out.add(f)
        return out


def dependency_defines(name):
    """Does a dependency in cargo's registry define `name` (type or fn)?"""
    import glob
    import subprocess
    home = os.environ.get("CARGO_HOME", os.path.expanduser("~/.cargo"))
    dirs = [
        d
        for d in glob.glob(os.path.join(home, "registry/src/*/*"))
        if os.path.basename(d).startswith(DEPENDENCY_PREFIXES)
    ]
    if not dirs:
        return None
    r = subprocess.run(
        ["grep", "-rlw", "-m1", "--include=*.rs", name] + dirs,
        capture_output=True, text=True,
    )
    return bool(r.stdout.strip())


def check_doc(doc, index):
    path = os.path.join(ROOT, doc)
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    problems = []
    missing = lambda what: problems.append(f"{doc} cites `{tok}`: {what}")
    for tok in sorted(set(re.findall(r"`([^`\n]+)`", text))):
        t = tok.strip()
        if re.fullmatch(r"[\w./-]+/[\w.-]+\.(rs|md|toml|sh|py|sql)", t):
            # From the repository root, or from a crate's directory or source root.
            candidates = [os.path.join(ROOT, t)] + [
                os.path.join(ROOT, "crates", c, sub, t)
                for c in os.listdir(os.path.join(ROOT, "crates"))
                for sub in ("", "src")
            ]
            if not any(os.path.exists(c) for c in candidates):
                missing("no such file")
            continue
        if re.fullmatch(r"[\w-]+\.(rs|md|toml|sh|py)", t):
            if t not in SPEC_FILES and not any(
                t in names for d, _, names in os.walk(os.path.join(ROOT, "crates"))
            ):
                missing("no such file")
            continue
        m = re.fullmatch(rf"((?:{WORD}::)+{WORD})(\(\))?", t)
        if m:
            segs = [x for x in m.group(1).split("::") if x not in ("crate", "self", "super")]
            last, prefix = segs[-1], segs[:-1]
            if prefix and prefix[-1][:1].isupper():
                owner = prefix[-1]
                if (owner, last) not in index.methods and (owner, last) not in index.variants:
                    if owner not in index.items or not dependency_defines(last):
                        missing(f"no method or variant `{last}` of `{owner}`")
                continue
            files = index.files_of_module(prefix) if prefix else set()
            if not files:
                missing(f"no module `{'::'.join(prefix)}`")
            elif not (index.items.get(last, set()) & files) and not index.files_of_module(segs):
                missing(f"no item `{last}` in module `{'::'.join(prefix)}`")
            continue
        m = re.fullmatch(rf"({WORD})\(\)", t)
        if m:
            name = m.group(1)
            if name not in index.items and name.upper() != name and not dependency_defines(name):
                missing(f"no function `{name}`")
            continue
        if re.fullmatch(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+|[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)+", t):
            if t not in index.items and t not in index.literals and not dependency_defines(t):
                missing("not an item, a string, or a dependency's item")
    return problems


def check_docs():
    index = Index()
    problems = []
    for doc in DOCS:
        problems += check_doc(doc, index)
    return problems


def self_test():
    """The checks catch what they are for, on a made-up crate: a loop
    through a parent's re-export, an upward import, a test-only import
    (ignored), and a doc citing a missing function."""
    import tempfile
    global ROOT
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "crates", LAYERED_CRATE, "src")
        os.makedirs(os.path.join(src, "low"))
        files = {
            "lib.rs": "//! 1. `low`\n//! 2. `high`\nmod high;\nmod low;\n",
            "low.rs": "mod leaf;\npub use leaf::Thing;\n#[cfg(test)]\nmod tests { use crate::high::Up; }\n",
            "low/leaf.rs": "use crate::low::Other;\npub struct Thing;\n",
            "high.rs": "use crate::low::Thing;\npub struct Up;\n",
        }
        for name, text in files.items():
            with open(os.path.join(src, name), "w", encoding="utf-8") as fh:
                fh.write(text)
        _, fset, _, edges = crate_graph(os.path.join(tmp, "crates", LAYERED_CRATE))
        loops = sccs(list(fset.values()), edges)
        assert [sorted(os.path.basename(f) for f in c) for c in loops] == [["leaf.rs", "low.rs"]], loops
        assert check_layers(src, fset, edges, False) == [], "a test-only upward import counted"
        with open(os.path.join(src, "low/leaf.rs"), "w", encoding="utf-8") as fh:
            fh.write("use crate::high::Up;\npub struct Thing;\npub fn shown() {}\n")
        _, fset, _, edges = crate_graph(os.path.join(tmp, "crates", LAYERED_CRATE))
        assert len(check_layers(src, fset, edges, False)) == 1, "an upward import missed"
        with open(os.path.join(tmp, "ARCHITECTURE.md"), "w", encoding="utf-8") as fh:
            fh.write("`leaf::shown` calls `leaf::gone`.\n")
        os.makedirs(os.path.join(tmp, "docs"))
        with open(os.path.join(tmp, "docs", "storage-format.md"), "w", encoding="utf-8") as fh:
            fh.write("")
        saved, ROOT = ROOT, tmp
        try:
            found = check_docs()
        finally:
            ROOT = saved
        assert len(found) == 1 and "leaf::gone" in found[0], found
    print("check-structure: self-test ok")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return
    show_graph = "--graph" in sys.argv
    problems, loops = check_imports(show_graph)
    problems += check_sizes()
    problems += check_docs()
    if show_graph:
        print(f"import loops: {loops}")
    for p in problems:
        print(p)
    if problems and not show_graph:
        print(f"check-structure: {len(problems)} problem(s)", file=sys.stderr)
        sys.exit(1)
    if not problems:
        print("check-structure: ok")


if __name__ == "__main__":
    main()
