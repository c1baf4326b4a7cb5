#!/usr/bin/python3
"""The structure rules of docs/architecture.md, checked from the sources
(a meson test, `structure`). Exits 1 naming each break:

1. A program's files (src/PROG/) include only their own headers and
   src/common/'s; src/common/ includes only its own. No meson.build under
   src/ compiles another directory's sources.
2. keel-hostd's modules (a module is NAME.c with NAME.h) include each
   other without a cycle.
3. keel-hostd's layers point one way: the domain modules include no
   header of the transport (http.h), of the handlers (api*.h) or of
   libmicrohttpd, and call no reply_*(); the transport (http.c, http.h)
   includes no handler or domain header.
"""
import collections
import pathlib
import re
import sys

SRC = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/([A-Za-z0-9_]+)\.h"', re.M)
# keel-hostd's transport; the modules every layer may use (the audit trail,
# written by the transport, the error convention, and the rule of what a
# client's source is); the program's entry
# point (which wires the layers together and may include them all). Every
# api*.c is a handler, the rest is the domain (with the inventory, db*.c).
TRANSPORT = {"http"}
SHARED = {"audit", "error", "source"}
WIRING = {"main"}
HTTP_USE = re.compile(r'^\s*#\s*include\s+<microhttpd\.h>|\breply_[a-z]+\(', re.M)

errors = []


def includes(path):
    return INCLUDE.findall(path.read_text())


# 1. programs include only themselves and common; meson builds only its own
for prog in sorted(p for p in SRC.iterdir() if p.is_dir()):
    for f in sorted(prog.glob("*.[ch]")):
        for d, _ in includes(f):
            if d not in (prog.name, "common") or (prog.name == "common" and d != "common"):
                errors.append(f"{f}: includes {d}/, another program's header")
    build = prog / "meson.build"
    if build.exists() and "../" in re.sub(r"#.*", "", build.read_text()).replace("../../scripts", ""):
        errors.append(f"{build}: compiles sources outside {prog}/")

# 2. and 3. keel-hostd's module graph
hostd = SRC / "hostd"
graph = collections.defaultdict(set)
for f in hostd.glob("*.[ch]"):
    for d, name in includes(f):
        if d == "hostd" and name != f.stem:
            graph[f.stem].add(name)


def layer(module):
    if module in TRANSPORT:
        return "transport"
    if module in SHARED:
        return "shared"
    if module in WIRING:
        return "wiring"
    return "handler" if module.startswith("api") else "domain"


for module, deps in sorted(graph.items()):
    for dep in sorted(deps):
        mine, theirs = layer(module), layer(dep)
        if mine == "domain" and theirs in ("transport", "handler"):
            errors.append(f"hostd: domain module {module} includes {dep}.h ({theirs})")
        if mine == "transport" and theirs in ("handler", "domain"):
            errors.append(f"hostd: the transport ({module}) includes {dep}.h ({theirs})")

for f in sorted(hostd.glob("*.[ch]")):
    if layer(f.stem) in ("domain", "shared") and HTTP_USE.search(f.read_text()):
        errors.append(f"hostd: {f.name} ({layer(f.stem)}) uses libmicrohttpd or reply_*()")

state = {}  # module: 1 on the path, 2 done


def visit(module, path):
    state[module] = 1
    for dep in sorted(graph.get(module, ())):
        if state.get(dep) == 1:
            cycle = path[path.index(dep):] + [dep]
            errors.append("hostd: include cycle " + " -> ".join(cycle))
        elif dep not in state:
            visit(dep, path + [dep])
    state[module] = 2


for module in sorted(graph):
    if module not in state:
        visit(module, [module])

for e in errors:
    print("structure:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
