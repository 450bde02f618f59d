#!/usr/bin/env python3
"""Import cycles between the modules of a Rust crate.

Builds the graph "module A refers to module B" from every `.rs` file under `src/` (one node per
file: `src/render/mask.rs` is `render::mask`, `src/render/mod.rs` is `render`) and reports every
group of modules that refer to each other in a loop, with one example loop per group.

What counts as a reference:
- `use crate::a::b::{c, d::e}` and `use super::x` / `use self::x` (nested braces, `pub use`);
- paths written inline in code, `crate::a::b::f(..)` and `super::x::y`;
- a path names the longest module it starts with: `crate::render::Param` is the module `render`
  (where `Param` is declared or re-exported), `crate::render::mask::Mask` is `render::mask`.
  So a child that imports a type through its parent's re-export refers to the parent: import it
  from the module that defines it.
- `mod x;` declarations are not references (a parent declaring a child is not an import).

Test code is left out by default (`#[cfg(test)]` items and the files they declare, e.g.
`mod tests;`): tests may use anything. `--tests` puts it back in.

Usage: scripts/module-cycles.py [--src DIR] [--tests] [--edges] [--under PREFIX]
  --src DIR       the crate's source folder (default: src/ beside this script's folder)
  --tests         include test modules and `#[cfg(test)]` items
  --edges         also print every edge (A -> B)
  --under PREFIX  only report modules whose path starts with PREFIX (e.g. `render`)
Exit status: 0 without cycles, 1 with cycles, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path


def module_of(src: Path, file: Path) -> tuple[str, ...]:
    """The module path of a file: src/lib.rs -> (), src/a/mod.rs -> (a,), src/a/b.rs -> (a, b)."""
    rel = file.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib", "main"):
        parts.pop()
    return tuple(parts)


def strip_comments_and_strings(text: str) -> str:
    """Removes comments, string and char literals (keeps line structure)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 10]) and (i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")):
            m = re.match(r'r(#*)"', text[i:])
            end = '"' + m.group(1)
            j = text.find(end, i + len(m.group(0)))
            j = n if j < 0 else j + len(end)
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append("\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:i + 12] if i + 12 <= n else text[i:]):
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            i += len(m.group(0)) if m else 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def matching_brace(text: str, open_at: int) -> int:
    depth = 0
    for j in range(open_at, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j
    return len(text)


def drop_test_items(text: str) -> tuple[str, set[str]]:
    """Removes `#[cfg(test)]` items; returns the text and the names of `#[cfg(test)] mod x;`."""
    test_mods = set()
    out = text
    while True:
        m = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+(\w+)\s*([;{])", out)
        if not m:
            break
        if m.group(4) == ";":
            test_mods.add(m.group(3))
            out = out[: m.start()] + out[m.end():]
        else:
            end = matching_brace(out, m.end() - 1)
            out = out[: m.start()] + "\n" * out.count("\n", m.start(), end) + out[end + 1:]
    # Other `#[cfg(test)]` items (a function, an impl): drop the item up to its closing brace.
    while True:
        m = re.search(r"#\[cfg\(test\)\]", out)
        if not m:
            break
        brace = out.find("{", m.end())
        semi = out.find(";", m.end())
        if brace < 0 or (0 <= semi < brace):
            end = semi if semi >= 0 else len(out)
        else:
            end = matching_brace(out, brace)
        out = out[: m.start()] + "\n" * out.count("\n", m.start(), end) + out[end + 1:]
    return out, test_mods


def expand_use_tree(tree: str) -> list[str]:
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"\bas\w+$", "", tree)] if tree else []
    prefix = tree[:brace]
    inner = tree[brace + 1: tree.rfind("}")]
    parts, depth, cur = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        cur += ch
    parts.append(cur)
    out = []
    for p in parts:
        for sub in expand_use_tree(p):
            if sub == "self":
                out.append(prefix.rstrip(":"))
            elif sub:
                out.append(prefix + sub)
    return out


def references(text: str, children: set[str]) -> list[str]:
    """Every path a file refers to: `crate::...`, `super::...`, `self::...`, and paths that start
    with one of the module's own children (`params::get_num` in `render/mod.rs`), which are
    returned as `self::params::get_num`."""
    paths = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        paths.extend(expand_use_tree(m.group(1)))
    body = re.sub(r"\buse\s+[^;]+;", "", text)
    for m in re.finditer(r"(?<![\w:])((?:crate|super|self|\w+)(?:::(?:super|\w+))+)", body):
        paths.append(m.group(1))
    out = []
    for p in paths:
        head = p.split("::")[0]
        if head in ("crate", "super", "self"):
            out.append(p)
        elif head in children:
            out.append("self::" + p)
    return out


def inline_modules(text: str, here: tuple[str, ...]):
    """Splits a file into (text, module path) regions: the file's own text and each inline
    `mod name { ... }` (nested ones too), so that `super::` inside an inline module resolves
    from that module."""
    out = []
    rest = text
    while True:
        m = re.search(r"\b(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*\{", rest)
        if not m:
            break
        end = matching_brace(rest, m.end() - 1)
        inner = rest[m.end(): end]
        out.extend(inline_modules(inner, here + (m.group(1),)))
        rest = rest[: m.start()] + "\n" * rest.count("\n", m.start(), end) + rest[end + 1:]
    out.append((rest, here))
    return out


def resolve(path: str, here: tuple[str, ...], is_dir_module: bool, modules: set) -> tuple | None:
    segs = path.split("::")
    if segs[0] == "crate":
        base, segs = (), segs[1:]
    else:
        # `self` is this module; `super` is its parent.
        base = here
        while segs and segs[0] in ("self", "super"):
            if segs[0] == "super":
                base = base[:-1]
            segs = segs[1:]
    best = None
    cur = tuple(base)
    if cur in modules:
        best = cur
    for s in segs:
        cur = cur + (s,)
        if cur in modules:
            best = cur
        else:
            break
    return best


def tarjan(nodes, edges):
    index, low, stack, on, out = {}, {}, [], set(), []
    counter = [0]

    def strong(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                strong(w)
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
            out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out


def a_loop(comp, edges):
    """One loop through the first module of a group (breadth-first back to it)."""
    start = comp[0]
    members = set(comp)
    prev = {start: None}
    queue = [start]
    while queue:
        v = queue.pop(0)
        for w in sorted(edges.get(v, ())):
            if w not in members:
                continue
            if w == start:
                path = [v]
                while prev[path[-1]] is not None:
                    path.append(prev[path[-1]])
                return list(reversed(path)) + [start]
            if w not in prev:
                prev[w] = v
                queue.append(w)
    return comp


def name(m):
    return "::".join(m) if m else "crate"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", default=str(Path(__file__).resolve().parent.parent / "src"))
    ap.add_argument("--tests", action="store_true")
    ap.add_argument("--edges", action="store_true")
    ap.add_argument("--under", default="")
    args = ap.parse_args()
    src = Path(args.src)
    if not src.is_dir():
        print(f"module-cycles: {src} is not a folder", file=sys.stderr)
        return 2
    files = sorted(p for p in src.rglob("*.rs"))
    texts, test_files = {}, set()
    for f in files:
        mod = module_of(src, f)
        text = strip_comments_and_strings(f.read_text(encoding="utf-8"))
        if not args.tests:
            text, test_mods = drop_test_items(text)
            for t in test_mods:
                test_files.add(mod + (t,))
        texts[mod] = text
    # Files declared only under #[cfg(test)] (and everything below them) are test code.
    if not args.tests:
        for mod in list(texts):
            if any(mod[: len(t)] == t for t in test_files):
                del texts[mod]
    modules = set(texts)
    edges = {}
    for mod, text in texts.items():
        for region, here in inline_modules(text, mod):
            children = {m[-1] for m in modules if len(m) == len(here) + 1 and m[: len(here)] == here}
            for p in references(region, children):
                target = resolve(p, here, True, modules)
                if target is None or target == mod:
                    continue
                edges.setdefault(mod, set()).add(target)
    under = tuple(args.under.split("::")) if args.under else ()

    def shown(m):
        return m[: len(under)] == under

    if args.edges:
        for a in sorted(edges):
            for b in sorted(edges[a]):
                if shown(a) or shown(b):
                    print(f"{name(a)} -> {name(b)}")
    cycles = [c for c in tarjan(modules, edges) if len(c) > 1 and any(shown(m) for m in c)]
    if not cycles:
        scope = f" under {args.under}" if args.under else ""
        print(f"no import cycles among {sum(1 for m in modules if shown(m))} modules{scope}")
        return 0
    for c in cycles:
        print(f"cycle among {len(c)} modules: {', '.join(name(m) for m in c)}")
        print("  e.g. " + " -> ".join(name(m) for m in a_loop(c, edges)))
    print(f"{len(cycles)} group(s) of modules import each other")
    return 1


if __name__ == "__main__":
    sys.exit(main())
