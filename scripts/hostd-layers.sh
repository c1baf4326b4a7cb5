#!/bin/bash
# Checks keel-hostd's layering (docs/architecture.md; each header of
# src/hostd says its layer):
#   1. no include cycle among src/hostd's modules (a module is NAME.c with
#      NAME.h: NAME depends on every hostd header NAME.c or NAME.h
#      includes), checked with tsort;
#   2. the transport (http.c, http.h) includes no handler or domain header;
#   3. no domain or inventory file includes http.h or api.h, nor calls a
#      reply_*() function.
#   scripts/hostd-layers.sh [SRCDIR]      exit 1 on a violation (a test)
set -euo pipefail
dir=${1:-$(dirname "$0")/../src/hostd}
cd "$dir"
fail=0

# 1: module graph → tsort
edges=$(for f in *.c *.h; do
	mod=${f%.*}
	sed -n 's|^#include "hostd/\([a-z_]*\)\.h".*|\1|p' "$f" |
		while read -r dep; do
			[ "$dep" != "$mod" ] && echo "$mod $dep"
		done
done | sort -u)
if ! out=$(echo "$edges" | tsort 2>&1 >/dev/null) || [ -n "$out" ]; then
	echo "hostd-layers: include cycle among src/hostd modules:" >&2
	echo "$out" >&2
	fail=1
fi

# 2: the transport knows no handler or domain module
for f in http.c http.h; do
	bad=$(sed -n 's|^#include "hostd/\([a-z_]*\.h\)".*|\1|p' "$f" |
		grep -vx -e http.h -e audit.h -e error.h || true)
	if [ -n "$bad" ]; then
		echo "hostd-layers: $f (transport) includes $bad" >&2
		fail=1
	fi
done

# 3: the domain and the inventory know nothing of HTTP
for f in *.c *.h; do
	case $f in
	http.[ch] | api.[ch] | api_*.c | main.c) continue ;;
	esac
	if grep -q -e '^#include "hostd/http.h"' -e '^#include "hostd/api.h"' \
		-e '^#include <microhttpd.h>' "$f"; then
		echo "hostd-layers: $f (domain) includes an HTTP header" >&2
		fail=1
	fi
	if grep -q -E '\breply_[a-z]+\(' "$f"; then
		echo "hostd-layers: $f (domain) calls reply_*()" >&2
		fail=1
	fi
done
exit $fail
