#!/usr/bin/env python3
"""Import circles between the files of a Rust crate: `python3 .ci/import_cycles.py [ROOT...]`
(default `src xtask/src`); exits 1 and lists each circle's files and edges if there is one.

Edges: `use`/path references `crate::a::b`, `super::x`, `self::x`, and bare `child::x` in a
module that declares `mod child`. A path resolves to the longest prefix that is a file module.
`#[cfg(test)]` modules are left out (tests may use any layer). Edges between a file and its
ancestors' files (`mod.rs`, `main.rs`, `lib.rs`) are left out too: a parent declares and
re-exports its children, and they use its shared items. `--subtrees` checks each module's
children as wholes instead; `--edges` prints the whole graph.
"""
import os, re, sys
from collections import defaultdict

roots = [a for a in sys.argv[1:] if not a.startswith('--')] or ['src', 'xtask/src']
if len(roots) > 1:
    import subprocess
    flags = [a for a in sys.argv[1:] if a.startswith('--')]
    codes = [subprocess.call([sys.executable, __file__, r, *flags]) for r in roots]
    sys.exit(max(codes))
root = roots[0]
crate_root = 'main.rs' if os.path.exists(os.path.join(root, 'main.rs')) else 'lib.rs'
files = {}
for d, _, fs in os.walk(root):
    for f in fs:
        if not f.endswith('.rs'):
            continue
        rel = os.path.relpath(os.path.join(d, f), root)
        parts = rel[:-3].split(os.sep)
        if parts[-1] in ('mod',) or rel == crate_root:
            parts = parts[:-1]
        if rel in ('main.rs', 'lib.rs') and rel != crate_root:
            continue
        files[tuple(parts)] = rel
mods = set(files)

def strip(src):
    """Blanks comments, strings and char literals (a small lexer, raw strings included)."""
    out = []; i = 0; n = len(src)
    while i < n:
        c = src[i]
        if src.startswith('//', i):
            j = src.find('\n', i); j = n if j < 0 else j
            i = j; continue
        if src.startswith('/*', i):
            depth = 0
            while i < n:
                if src.startswith('/*', i): depth += 1; i += 2; continue
                if src.startswith('*/', i):
                    depth -= 1; i += 2
                    if depth == 0: break
                    continue
                i += 1
            out.append(' '); continue
        m = re.match(r'b?r(#*)"', src[i:i+20]) if c in 'br' and (i == 0 or not (src[i-1].isalnum() or src[i-1] == '_')) else None
        if m:
            end = '"' + m.group(1)
            j = src.find(end, i + m.end()); i = j + len(end); out.append('""'); continue
        if c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == '\\' else 1
            i = j + 1; out.append('""'); continue
        if c == "'":
            m = re.match(r"'(\\.[^']*|[^\\'])'", src[i:i+12])
            if m:
                i += m.end(); out.append("' '"); continue
        out.append(c); i += 1
    return ''.join(out)

def expand(tree):
    """Expand a use tree `a::{b, c::{d, e}}` into paths."""
    tree = re.sub(r'\s+as\s+[A-Za-z_0-9]+', '', tree)
    tree = re.sub(r'\s+', '', tree)
    out = []
    def rec(prefix, t):
        depth = 0; items = []; cur = ''
        for ch in t:
            if ch == ',' and depth == 0:
                items.append(cur); cur = ''; continue
            if ch == '{': depth += 1
            if ch == '}': depth -= 1
            cur += ch
        items.append(cur)
        for it in items:
            if not it: continue
            m = re.match(r'^(.*?)\{(.*)\}$', it)
            if m:
                rec(prefix + [p for p in m.group(1).split('::') if p], m.group(2))
            else:
                out.append(prefix + [p for p in it.split('::') if p])
    rec([], tree)
    return out

edges = defaultdict(set)
test_files = set()
for mod, rel in files.items():
    src = strip(open(os.path.join(root, rel)).read())
    children = set(re.findall(r'\bmod\s+([a-z_0-9]+)\s*;', src))
    # inline mods: track brace depth for `mod x {` blocks so super:: is resolved right
    # (approximation: lines after an inline `mod tests {` until its closing brace)
    inline_spans = []; test_spans = []
    for m in re.finditer(r'(#\[cfg\(test\)\]\s*)?\bmod\s+([a-z_0-9]+)\s*\{', src):
        depth = 0; i = m.end() - 1
        while i < len(src):
            if src[i] == '{': depth += 1
            elif src[i] == '}':
                depth -= 1
                if depth == 0: break
            i += 1
        inline_spans.append((m.start(), i))
        if m.group(1):
            test_spans.append((m.start(), i))
    for m in re.finditer(r'#\[cfg\(test\)\]\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;', src):
        test_files.add(mod + (m.group(1),))
    def inline_depth(pos):
        return sum(1 for a, b in inline_spans if a <= pos <= b)
    paths = []
    for m in re.finditer(r'\buse\s+([^;]+);', src):
        for p in expand(m.group(1)):
            paths.append((m.start(), p))
    for m in re.finditer(r'\b((?:crate|super|self)(?:::[A-Za-z_0-9]+)+)', src):
        paths.append((m.start(), m.group(1).split('::')))
    for m in re.finditer(r'\b([a-z_0-9]+)::([A-Za-z_0-9]+)', src):
        if m.group(1) in children:
            paths.append((m.start(), [m.group(1), m.group(2)]))
    for pos, p in paths:
        if any(a <= pos <= b for a, b in test_spans):
            continue
        base = list(mod)
        if p[0] == 'crate':
            cur = []; p = p[1:]
        else:
            skip = inline_depth(pos)
            q = p
            if q[0] == 'self':
                q = q[1:]
                cur = base
            elif q[0] == 'super':
                n = 0
                while q and q[0] == 'super':
                    n += 1; q = q[1:]
                n -= skip
                if n < 0:
                    continue  # refers inside the file
                cur = base[:len(base) - n] if n else base
            elif q[0] in children:
                cur = base
            else:
                continue
            p = q
        full = cur + p
        best = None
        for k in range(len(full), -1, -1):
            if tuple(full[:k]) in mods:
                best = tuple(full[:k]); break
        if best is None or best == mod:
            continue
        edges[mod].add(best)

for t in test_files:
    mods.discard(t); edges.pop(t, None)
for m in edges:
    edges[m] -= test_files

def sccs_of(nodes, adj):
    index = {}; low = {}; stack = []; on = set(); out = []; c = [0]
    def strong(v):
        index[v] = low[v] = c[0]; c[0] += 1; stack.append(v); on.add(v)
        for w in sorted(adj.get(v, ())):
            if w not in index:
                strong(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1:
                out.append(sorted(comp))
    for v in sorted(nodes):
        if v not in index:
            strong(v)
    return out

sys.setrecursionlimit(10000)
name = lambda m: files[m]
found = False
if '--subtrees' not in sys.argv:
    # Every file a node. A module's own file (mod.rs, main.rs) and its descendants may use
    # each other (declarations, re-exports, shared items), so edges between a file and its
    # ancestors' files are left out; every other edge counts.
    anc = lambda a, b: len(a) < len(b) and b[:len(a)] == a
    adj = {m: {w for w in edges[m] if not anc(m, w) and not anc(w, m)} for m in mods}
    for comp in sccs_of(mods, adj):
        found = True
        cs = set(comp)
        print('cycle:', ', '.join(name(m) for m in comp))
        for m in comp:
            for w in sorted(adj[m] & cs):
                print(f'   {name(m)} -> {name(w)}')
else:
    # Per parent module, its children's subtrees are the nodes; edges between two siblings'
    # subtrees count, edges to or from the parent's own file (facades, shared items) do not.
    parents = {m[:-1] for m in mods if m}
    for p in sorted(parents):
        kids = {m[len(p)] for m in mods if len(m) > len(p) and m[:len(p)] == p}
        adj = defaultdict(set); why = defaultdict(list)
        for a in mods:
            for b in edges[a]:
                if len(a) > len(p) and len(b) > len(p) and a[:len(p)] == p and b[:len(p)] == p \
                        and a[len(p)] != b[len(p)]:
                    adj[a[len(p)]].add(b[len(p)]); why[(a[len(p)], b[len(p)])].append((a, b))
        for comp in sccs_of(kids, adj):
            found = True
            cs = set(comp)
            print('cycle in', '::'.join(('crate',) + p) + ':', ' <-> '.join(comp))
            for x in comp:
                for y in sorted(adj[x] & cs):
                    for a, b in why[(x, y)]:
                        print(f'   {name(a)} -> {name(b)}')
if not found:
    print('no cycles in', root)
else:
    sys.exit(1)
if '--edges' in sys.argv:
    for m in sorted(mods):
        print(name(m), '->', ' '.join(sorted(name(w) for w in edges[m])))
