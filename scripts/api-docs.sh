#!/bin/bash
# docs/api.md's table of routes and privileges is keel-hostd's own route
# table (keel-hostd --routes), between <!-- routes --> and <!-- /routes -->:
#   scripts/api-docs.sh HOSTD DOC            exit 1 when they differ (a test)
#   scripts/api-docs.sh HOSTD DOC --update   rewrite the table in DOC
set -euo pipefail
hostd=$1 doc=$2
table=$("$hostd" --routes)
current=$(sed -n '/^<!-- routes -->$/,/^<!-- \/routes -->$/p' "$doc" | sed '1d;$d')
if [ "${3:-}" = --update ]; then
	awk -v table="$table" '
		/^<!-- routes -->$/ { print; print table; skip = 1; next }
		/^<!-- \/routes -->$/ { skip = 0 }
		!skip' "$doc" >"$doc.tmp" && mv "$doc.tmp" "$doc"
	exit 0
fi
if [ "$table" != "$current" ]; then
	echo "api-docs: $doc's route table differs from keel-hostd's; run" >&2
	echo "  scripts/api-docs.sh $hostd $doc --update" >&2
	diff <(echo "$current") <(echo "$table") >&2 || true
	exit 1
fi
echo "api-docs: $doc lists the $(echo "$table" | tail -n +3 | wc -l) routes of keel-hostd"
